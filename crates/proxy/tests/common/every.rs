//! One harness for every registered provider: a proxy whose providers all have neither a key nor
//! a base URL, so the built-in sandbox answers each of them in-process (started by the proxy's own
//! [`faceswap_proxy::sandbox::start`], as the binary does), reached through a [`Recorder`] that
//! counts the upstream calls. Helpers upload the test photos, submit a provider's request, follow
//! a task to its end and read its event stream.

use super::media::test_media;
use super::recorder::Recorder;
use super::{serve_with_sandbox, Proxy, Sse, SseReader};
use faceswap_proxy::providers::SandboxEndpoint;
use faceswap_proxy::Config;
use faceswap_sandbox::RunningSandbox;
use secrecy::ExposeSecret;
use serde_json::Value;
use std::time::{Duration, Instant};

/// How long a swap may take through the sandbox before a test gives up.
pub const SWAP_TIME: Duration = Duration::from_secs(60);

/// A proxy serving every registered provider through the built-in sandbox.
pub struct Sandboxed {
    /// The proxy.
    pub proxy: Proxy,
    /// The relay in front of the sandbox: every upstream call.
    pub upstream: Recorder,
    /// The sandbox's key (the operator's key of every provider here).
    pub api_key: String,
    _sandbox: RunningSandbox,
}

/// A test photo uploaded to the proxy.
#[derive(Debug, Clone)]
pub struct Image {
    /// Its file name.
    pub name: &'static str,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Its URL on the proxy (`PUBLIC_URL/uploads/...`).
    pub url: String,
}

/// The two photos of a swap: the face to put in, and the photo it goes into.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// The photo whose face is taken.
    pub face: Image,
    /// The photo whose face is replaced.
    pub target: Image,
}

impl Inputs {
    /// The same photos, each in the other's role: another request of the same operation.
    pub fn swapped(&self) -> Self {
        Self {
            face: self.target.clone(),
            target: self.face.clone(),
        }
    }
}

/// One field of a multipart form.
#[derive(Debug, Clone)]
pub enum Field {
    /// A text field.
    Text(String),
    /// A file: its name and bytes.
    File(String, Vec<u8>),
}

impl Image {
    /// This photo as a form's file field.
    pub fn file(&self) -> Field {
        Field::File(self.name.to_owned(), self.bytes.clone())
    }
}

/// A request body as a browser sends it.
#[derive(Debug, Clone)]
pub enum Body {
    /// JSON.
    Json(Value),
    /// A multipart form, fields in order.
    Form(Vec<(&'static str, Field)>),
}

/// A submit: the provider's route under `/api/{id}/` and its body.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The route, e.g. `v1/faceswap`.
    pub route: &'static str,
    /// The body.
    pub body: Body,
}

impl Submission {
    /// A JSON submit to `route`.
    pub fn json(route: &'static str, body: Value) -> Self {
        Self {
            route,
            body: Body::Json(body),
        }
    }

    /// A multipart submit to `route`.
    pub fn form(route: &'static str, fields: Vec<(&'static str, Field)>) -> Self {
        Self {
            route,
            body: Body::Form(fields),
        }
    }
}

/// An answer: its status and body as sent.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The body's bytes.
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Starts the sandbox and a proxy (SQLite in a temporary folder, polls every 50 ms) whose
/// providers all go to it through a [`Recorder`].
pub async fn start() -> Sandboxed {
    start_with(&[]).await
}

/// Like [`start`], with `extra` flags after the harness's own.
pub async fn start_with(extra: &[String]) -> Sandboxed {
    let dir = tempfile::tempdir().expect("tempdir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind proxy");
    let addr = listener.local_addr().expect("addr");
    let url = format!("http://{addr}");
    let args: Vec<String> = [
        "faceswap-proxy",
        "--port",
        &addr.port().to_string(),
        "--public-url",
        &url,
        "--upload-dir",
        &dir.path().join("uploads").display().to_string(),
        "--database-url",
        &format!("sqlite://{}", dir.path().join("tasks.db").display()),
        "--rate-limit-per-min",
        "100000",
        "--spend-cap-credits-per-hour",
        "1000000",
        "--poll-interval-ms",
        "50",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .chain(extra.iter().cloned())
    .collect();
    let mut config = Config::try_from_args(args).expect("flags");
    // Whatever the environment says, every provider is answered by the sandbox.
    for provider in &mut config.providers {
        provider.api_key = None;
        provider.base_url = None;
    }
    let (endpoint, sandbox) = faceswap_proxy::sandbox::start(&config)
        .await
        .expect("the built-in sandbox starts");
    let upstream = Recorder::start(&endpoint.base_url).await;
    let api_key = endpoint.api_key.expose_secret().to_owned();
    let relayed = SandboxEndpoint {
        base_url: upstream.url.clone(),
        api_key: endpoint.api_key.clone(),
    };
    let proxy = serve_with_sandbox(config, listener, dir, Some(&relayed)).await;
    Sandboxed {
        proxy,
        upstream,
        api_key,
        _sandbox: sandbox,
    }
}

impl Sandboxed {
    /// Uploads `camera.png` (the face) and `astronaut.png` (the target), two photos the
    /// sandbox finds one face in.
    pub async fn inputs(&self) -> Inputs {
        Inputs {
            face: self.upload("camera.png").await,
            target: self.upload("astronaut.png").await,
        }
    }

    /// Uploads the test photo `name` to the proxy.
    pub async fn upload(&self, name: &'static str) -> Image {
        let bytes = test_media(name);
        let answer: Value = self
            .proxy
            .http
            .post(format!("{}/api/uploads", self.proxy.url))
            .header("content-type", "image/png")
            .body(bytes.clone())
            .send()
            .await
            .expect("upload")
            .json()
            .await
            .expect("upload JSON");
        let url = answer["url"].as_str().expect("upload url").to_owned();
        Image { name, bytes, url }
    }

    /// Sends `submission` to provider `id`, with an `Idempotency-Key` when `key` is given.
    pub async fn submit(&self, id: &str, submission: &Submission, key: Option<&str>) -> Answer {
        let mut request = self
            .proxy
            .http
            .post(format!("{}/api/{id}/{}", self.proxy.url, submission.route));
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        request = match &submission.body {
            Body::Json(value) => request.json(value),
            Body::Form(fields) => request.multipart(form(fields)),
        };
        let response = request.send().await.expect("submit");
        Answer {
            status: response.status().as_u16(),
            body: response.bytes().await.expect("answer").to_vec(),
        }
    }

    /// The view of provider `id`'s task.
    pub async fn task(&self, id: &str, task_id: &str) -> Value {
        let response = self.proxy.get(&format!("/api/{id}/tasks/{task_id}")).await;
        assert_eq!(response.status(), 200, "{id} task {task_id}");
        response.json().await.expect("task JSON")
    }

    /// The view of provider `id`'s task once it is no longer pending (within [`SWAP_TIME`]).
    pub async fn follow(&self, id: &str, task_id: &str) -> Value {
        let deadline = Instant::now() + SWAP_TIME;
        loop {
            let view = self.task(id, task_id).await;
            if view["status"] != "pending" {
                return view;
            }
            assert!(
                Instant::now() < deadline,
                "{id}: the task never ended: {view}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every event of provider `id`'s task stream, `(event name, data)`, until the proxy ends
    /// the stream (after a terminal status).
    pub async fn events(&self, id: &str, task_id: &str) -> Vec<(String, Value)> {
        let response = self
            .proxy
            .get(&format!("/api/{id}/tasks/{task_id}/events"))
            .await;
        assert_eq!(response.status(), 200, "{id}: events of {task_id}");
        let mut stream = SseReader::new(response);
        let mut events = Vec::new();
        while let Some(item) = stream.next(SWAP_TIME).await {
            if let Sse::Event { event, data, .. } = item {
                events.push((event, data));
            }
        }
        events
    }
}

/// The task id of a submit's answer: the first string field named `task_id`, at any depth (each
/// provider's answer names it so, at its own place), else a top-level `id`.
pub fn task_id_in(answer: &Value) -> Option<String> {
    match answer {
        Value::Object(map) => map
            .get("task_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| map.values().find_map(task_id_in))
            // An answer of only `{"id"}` (the browser library reads that too).
            .or_else(|| map.get("id").and_then(Value::as_str).map(str::to_owned)),
        Value::Array(items) => items.iter().find_map(task_id_in),
        _ => None,
    }
}

/// A reqwest form of `fields`.
fn form(fields: &[(&'static str, Field)]) -> reqwest::multipart::Form {
    fields.iter().fold(
        reqwest::multipart::Form::new(),
        |form, (name, field)| match field {
            Field::Text(text) => form.text(*name, text.clone()),
            Field::File(file, bytes) => form.part(
                *name,
                reqwest::multipart::Part::bytes(bytes.clone()).file_name(file.clone()),
            ),
        },
    )
}
