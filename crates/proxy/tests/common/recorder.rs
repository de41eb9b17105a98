//! The one upstream recorder: every request the proxy sends upstream, kept in order, so a test
//! can count the proxy's upstream calls and read what it sent (its key, its callback tokens).
//! Either a relay on loopback that forwards every request unchanged to the real upstream (the
//! built-in sandbox), or a layer in front of a provider's fake ([`Recorder::serve`]).

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::sync::{Arc, Mutex};

/// One request the proxy sent upstream.
#[derive(Debug, Clone)]
pub struct Sent {
    /// Its method.
    pub method: Method,
    /// Its path and query.
    pub path: String,
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body.
    pub body: Bytes,
}

impl Sent {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    /// The value of header `name`, as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    }
}

/// The recorder: its base URL and what went through it.
#[derive(Clone)]
pub struct Recorder {
    /// Base URL the proxy calls instead of the upstream.
    pub url: String,
    /// Where a relay forwards to; `None` in front of a fake.
    target: Option<String>,
    sent: Arc<Mutex<Vec<Sent>>>,
    http: reqwest::Client,
}

impl Recorder {
    /// Starts a relay to `target` (a base URL without a trailing slash) on loopback.
    pub async fn start(target: &str) -> Self {
        let (listener, recorder) = Self::bind(Some(target)).await;
        let router = Router::new().fallback(relay).with_state(recorder.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        recorder
    }

    /// Serves a provider's fake on loopback behind a recorder: `make` gets the recorder (the
    /// fake's URL and record) and gives the fake's router and the fake.
    pub async fn serve<T>(make: impl FnOnce(Recorder) -> (Router, T)) -> T {
        let (listener, recorder) = Self::bind(None).await;
        let (router, fake) = make(recorder.clone());
        let router = router.layer(axum::middleware::from_fn_with_state(recorder, record));
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        fake
    }

    async fn bind(target: Option<&str>) -> (tokio::net::TcpListener, Self) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the recorder");
        let recorder = Recorder {
            url: format!("http://{}", listener.local_addr().expect("addr")),
            target: target.map(str::to_owned),
            sent: Arc::default(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
        };
        (listener, recorder)
    }

    /// Every request so far with this method.
    pub fn sent_with(&self, method: Method) -> Vec<Sent> {
        self.sent()
            .into_iter()
            .filter(|sent| sent.method == method)
            .collect()
    }

    /// Every request so far, in order.
    pub fn sent(&self) -> Vec<Sent> {
        self.sent.lock().expect("lock").clone()
    }

    /// How many requests went upstream so far.
    pub fn count(&self) -> usize {
        self.sent.lock().expect("lock").len()
    }

    /// Every token-shaped value (64 lowercase hex characters: callback tokens, per-task secrets,
    /// the sandbox's key) the proxy put in a header or body of a request so far.
    pub fn tokens(&self) -> Vec<String> {
        let mut found = Vec::new();
        for sent in self.sent() {
            let headers = sent
                .headers
                .values()
                .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
            for text in headers.chain([
                sent.path.clone(),
                String::from_utf8_lossy(&sent.body).into_owned(),
            ]) {
                for token in hex_runs(&text) {
                    if !found.contains(&token) {
                        found.push(token);
                    }
                }
            }
        }
        found
    }
}

/// The maximal runs of exactly 64 lowercase hex characters in `text`.
fn hex_runs(text: &str) -> Vec<String> {
    text.split(|c: char| !matches!(c, '0'..='9' | 'a'..='f'))
        .filter(|run| faceswap_proxy::tokens::looks_like_token(run))
        .map(str::to_owned)
        .collect()
}

/// The path and query of `uri`.
fn path_of(uri: &Uri) -> String {
    uri.path_and_query()
        .map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned())
}

/// Records the request, then lets the fake answer it.
async fn record(State(recorder): State<Recorder>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .expect("the whole body");
    recorder.sent.lock().expect("lock").push(Sent {
        method: parts.method.clone(),
        path: path_of(&parts.uri),
        headers: parts.headers.clone(),
        body: body.clone(),
    });
    next.run(Request::from_parts(parts, Body::from(body))).await
}

/// Records the request, forwards it to the target and answers what the target answered.
async fn relay(
    State(recorder): State<Recorder>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = path_of(&uri);
    let target = recorder.target.clone().expect("a relay");
    recorder.sent.lock().expect("lock").push(Sent {
        method: method.clone(),
        path: path.clone(),
        headers: headers.clone(),
        body: body.clone(),
    });
    let mut forwarded = headers;
    forwarded.remove("host");
    let answer = recorder
        .http
        .request(method, format!("{target}{path}"))
        .headers(forwarded)
        .body(body)
        .send()
        .await;
    let answer = match answer {
        Ok(answer) => answer,
        Err(err) => return (StatusCode::BAD_GATEWAY, err.to_string()).into_response(),
    };
    let status = answer.status();
    let mut headers = answer.headers().clone();
    for hop in ["transfer-encoding", "content-length", "connection"] {
        headers.remove(hop);
    }
    let body = answer.bytes().await.unwrap_or_default();
    (status, headers, body).into_response()
}
