//! Test helpers: a fake provider (an axum app on 127.0.0.1:0 that records every call), the proxy
//! served in-process on loopback, and a small SSE reader.
#![allow(dead_code)]

pub mod alone;
pub mod balancer;
pub mod client;
pub mod every;
pub mod logs;
pub mod media;
pub mod pg;
pub mod recorder;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use faceswap_proxy::serve::serve as serve_router;
use faceswap_proxy::{app, spawn_maintenance, AppState, Config, ConnectionLimits, Providers};
use secrecy::SecretString;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The key the tests give the proxy.
pub const KEY: &str = "sk-test-9f8e7d6c5b4a-secret-key";

/// A 1x1 PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

/// The start of a JPEG.
pub const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1,
];

/// The start of an MP4.
pub const MP4: &[u8] = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2mp41\x00\x00\x00\x08free";

/// An MP4 of `duration_ms`: `ftyp`, a `moov` with its movie header, and an `mdat`.
pub fn mp4_movie(duration_ms: u32) -> Vec<u8> {
    fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = u32::try_from(8 + body.len())
            .expect("small")
            .to_be_bytes()
            .to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }
    let mut mvhd = vec![0u8; 4]; // version 0, flags
    mvhd.extend_from_slice(&[0; 8]); // creation, modification
    mvhd.extend_from_slice(&1000u32.to_be_bytes()); // timescale: ms
    mvhd.extend_from_slice(&duration_ms.to_be_bytes());
    mvhd.extend_from_slice(&0x0001_0000u32.to_be_bytes()); // rate 1.0
    mvhd.extend_from_slice(&0x0100u16.to_be_bytes()); // volume 1.0
    mvhd.extend_from_slice(&[0; 10]); // reserved
    for value in [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] {
        mvhd.extend_from_slice(&value.to_be_bytes()); // unity matrix
    }
    mvhd.extend_from_slice(&[0; 24]); // pre_defined
    mvhd.extend_from_slice(&2u32.to_be_bytes()); // next track id
    let mut file = boxed(b"ftyp", b"isom\0\0\x02\0isomiso2mp41");
    file.extend(boxed(b"moov", &boxed(b"mvhd", &mvhd)));
    file.extend(boxed(b"mdat", &[0x42; 512]));
    file
}

/// A WebM of `duration_ms`: an EBML header (doctype `webm`) and a Segment with its Info.
pub fn webm_movie(duration_ms: f64) -> Vec<u8> {
    let mut file = vec![0x1A, 0x45, 0xDF, 0xA3, 0x87, 0x42, 0x82, 0x84];
    file.extend_from_slice(b"webm");
    let mut info = vec![0x2A, 0xD7, 0xB1, 0x83, 0x0F, 0x42, 0x40]; // TimestampScale 1 ms
    info.extend_from_slice(&[0x44, 0x89, 0x88]); // Duration, 8-byte float
    info.extend_from_slice(&duration_ms.to_be_bytes());
    let mut segment = vec![0x15, 0x49, 0xA9, 0x66, 0x80 | info.len() as u8];
    segment.extend(info);
    file.extend_from_slice(&[0x18, 0x53, 0x80, 0x67, 0x80 | segment.len() as u8]);
    file.extend(segment);
    file
}

/// A GIF header (not accepted).
pub const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x00\x00\x00";

/// One call the fake provider received.
#[derive(Debug, Clone)]
pub struct Call {
    /// Request path.
    pub path: String,
    /// Request headers.
    pub headers: HeaderMap,
    /// Raw body.
    pub body: Bytes,
}

impl Call {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }

    /// The webhook URL the proxy sent (JSON or multipart).
    pub fn webhook(&self) -> Option<String> {
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(&self.body) {
            return value
                .get("webhook")
                .and_then(|v| v.as_str())
                .map(str::to_owned);
        }
        let text = String::from_utf8_lossy(&self.body);
        let start = text.find("name=\"webhook\"")?;
        let rest = &text[start..];
        let value_start = rest.find("\r\n\r\n")? + 4;
        let value = &rest[value_start..];
        Some(value[..value.find("\r\n")?].to_owned())
    }
}

/// How the fake provider answers.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// Like the provider: 200 with the operation's data.
    Normal,
    /// This HTTP status, with an optional Retry-After and a message.
    Status(u16, Option<&'static str>),
    /// Answer normally after a pause.
    Delay(Duration),
    /// A 302 to another path of the fake.
    Redirect,
    /// HTTP 200 with this envelope code and message.
    EnvelopeError(i64, String),
    /// Calls the webhook (success) before answering the submit.
    WebhookFirst,
    /// Like the provider, but saying the task costs this many points.
    Points(u64),
    /// This HTTP status with this body, as it is (an unreadable answer).
    Raw(u16, &'static str),
    /// 200, then the connection breaks in the middle of the body (a dropped answer).
    BrokenBody,
}

/// The fake provider.
#[derive(Clone)]
pub struct Fake {
    /// Base URL.
    pub url: String,
    /// Every call, in order.
    pub calls: Arc<Mutex<Vec<Call>>>,
    /// Current behaviour.
    pub behaviour: Arc<Mutex<Behaviour>>,
    /// Task id counter.
    pub counter: Arc<Mutex<u64>>,
}

impl Fake {
    /// Starts a fake provider on loopback.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let fake = Fake {
            url,
            calls: Arc::default(),
            behaviour: Arc::new(Mutex::new(Behaviour::Normal)),
            counter: Arc::default(),
        };
        let router = Router::new()
            .route("/api/aifaceswap/v1/{op}", post(handle))
            .route("/redirected", post(handle))
            .route("/api/aifaceswap/v2/{op}", post(handle))
            .with_state(fake.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        fake
    }

    /// Sets the behaviour.
    pub fn set(&self, behaviour: Behaviour) {
        *self.behaviour.lock().expect("lock") = behaviour;
    }

    /// Number of calls so far.
    pub fn count(&self) -> usize {
        self.calls.lock().expect("lock").len()
    }

    /// The last call.
    pub fn last(&self) -> Call {
        self.calls
            .lock()
            .expect("lock")
            .last()
            .cloned()
            .expect("a call")
    }

    /// Every webhook URL received so far.
    pub fn webhooks(&self) -> Vec<String> {
        self.calls
            .lock()
            .expect("lock")
            .iter()
            .filter_map(Call::webhook)
            .collect()
    }
}

fn answer_for(op: &str, task_id: &str) -> String {
    answer_with_points(op, task_id, 2)
}

fn answer_with_points(op: &str, task_id: &str, points: u64) -> String {
    match op {
        "extract_face" => {
            r#"{"code":200,"data":{"faces":[[146,256,240,381]],"points":2},"message":"OK"}"#
                .to_owned()
        }
        "extract_base64_face" => {
            r#"{"code":200,"data":{"pos":[[1,2,3,4]]},"message":"OK"}"#.to_owned()
        }
        _ => format!(
            r#"{{"code":200,"data":{{"points":{points},"task_id":"{task_id}"}},"extra_data":{{}},"message":"OK"}}"#
        ),
    }
}

async fn handle(
    State(fake): State<Fake>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let call = Call {
        path: path.clone(),
        headers,
        body,
    };
    fake.calls.lock().expect("lock").push(call.clone());
    let op = path.rsplit('/').next().unwrap_or_default().to_owned();
    let task_id = {
        let mut counter = fake.counter.lock().expect("lock");
        *counter += 1;
        format!("task-{}-{}", *counter, rand_suffix())
    };
    let behaviour = fake.behaviour.lock().expect("lock").clone();
    let json = |status: StatusCode, body: String| {
        (status, [("content-type", "application/json")], body).into_response()
    };
    // What the provider charges, as its price table says (the proxy corrects its spend to it).
    let points = {
        use faceswap_core::provider::Adapter;
        faceswap_core::aifaceswap::Aifaceswap
            .prepare_json(&format!("v1/{op}"), &call.body)
            .map_or(2, |prepared| prepared.cost.amount as u64)
    };
    match behaviour {
        Behaviour::Normal => json(StatusCode::OK, answer_with_points(&op, &task_id, points)),
        Behaviour::Delay(pause) => {
            tokio::time::sleep(pause).await;
            json(StatusCode::OK, answer_for(&op, &task_id))
        }
        Behaviour::Status(code, retry_after) => {
            let mut response = json(
                StatusCode::from_u16(code).expect("status"),
                format!(r#"{{"code":{code},"message":"failure {code}"}}"#),
            );
            if let Some(value) = retry_after {
                response
                    .headers_mut()
                    .insert("retry-after", value.parse().expect("header"));
            }
            response
        }
        Behaviour::Redirect => (
            StatusCode::FOUND,
            [("location", format!("{}/redirected", fake.url))],
        )
            .into_response(),
        Behaviour::EnvelopeError(code, message) => json(
            StatusCode::OK,
            serde_json::json!({"code": code, "message": message}).to_string(),
        ),
        Behaviour::Points(points) => {
            json(StatusCode::OK, answer_with_points(&op, &task_id, points))
        }
        Behaviour::BrokenBody => {
            let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
                Ok(Bytes::from_static(br#"{"code":200,"data":{"#)),
                Err(std::io::Error::other("the connection breaks")),
            ];
            let body = axum::body::Body::from_stream(futures_util::stream::iter(chunks));
            (StatusCode::OK, [("content-type", "application/json")], body).into_response()
        }
        Behaviour::Raw(code, body) => {
            json(StatusCode::from_u16(code).expect("status"), body.to_owned())
        }
        Behaviour::WebhookFirst => {
            let hook = call.webhook().expect("webhook in the request");
            let status = reqwest::Client::new()
                .post(&hook)
                .json(&serde_json::json!({
                    "success": 1, "type": 1, "task_id": task_id,
                    "result_image": "https://cdn.example/result.jpg"
                }))
                .send()
                .await
                .expect("webhook delivered")
                .status();
            assert_eq!(status, 200, "early webhook accepted");
            json(StatusCode::OK, answer_for(&op, &task_id))
        }
    }
}

fn rand_suffix() -> String {
    faceswap_proxy::tokens::new_upload_stem().expect("random")[..8].to_owned()
}

/// The proxy, served in-process on loopback.
pub struct Proxy {
    /// Base URL (also its PUBLIC_URL).
    pub url: String,
    /// Its state.
    pub state: AppState,
    /// HTTP client for the tests.
    pub http: reqwest::Client,
    /// Data folder.
    pub dir: tempfile::TempDir,
}

/// Flags every test proxy gets; `extra` flags come after and win.
pub async fn proxy(fake: &Fake, extra: &[&str]) -> Proxy {
    proxy_with_key(fake, Some(KEY), extra).await
}

/// A proxy with the given key (or none).
pub async fn proxy_with_key(fake: &Fake, key: Option<&str>, extra: &[&str]) -> Proxy {
    let dir = tempfile::tempdir().expect("tempdir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind proxy");
    let addr = listener.local_addr().expect("addr");
    let url = format!("http://{addr}");
    // `--database-url` in `extra` (a PostgreSQL database) replaces the proxy's own SQLite file.
    let db = format!("sqlite://{}", dir.path().join("tasks.db").display());
    let uploads = dir.path().join("uploads").display().to_string();
    let mut args: Vec<String> = vec![
        "faceswap-proxy".into(),
        "--port".into(),
        addr.port().to_string(),
        "--public-url".into(),
        url.clone(),
        "--upload-dir".into(),
        uploads,
        "--aifaceswap-base-url".into(),
        fake.url.clone(),
        // Every registered provider needs an upstream without a sandbox; the fake answers as
        // aifaceswap, and these tests call no other provider (the others have their own tests).
        "--piapi-base-url".into(),
        fake.url.clone(),
        "--aiphotocraft-base-url".into(),
        fake.url.clone(),
        "--acedata-base-url".into(),
        fake.url.clone(),
    ];
    for (flag, value) in [
        ("--database-url", db.as_str()),
        ("--rate-limit-per-min", "100000"),
        ("--spend-cap-credits-per-hour", "1000000"),
    ] {
        if !extra.contains(&flag) {
            args.extend([flag.to_owned(), value.to_owned()]);
        }
    }
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let mut config = Config::try_from_args(args).expect("flags");
    config
        .provider_mut("aifaceswap")
        .expect("registered")
        .api_key = key.map(|k| SecretString::from(k.to_owned()));
    serve(config, listener, dir).await
}

/// Serves `config` on `listener` in-process, with the maintenance sweeps.
pub async fn serve(
    config: Config,
    listener: tokio::net::TcpListener,
    dir: tempfile::TempDir,
) -> Proxy {
    serve_with_sandbox(config, listener, dir, None).await
}

/// Serves `config` like [`serve`]; providers in sandbox mode go to `sandbox`.
pub async fn serve_with_sandbox(
    config: Config,
    listener: tokio::net::TcpListener,
    dir: tempfile::TempDir,
    sandbox: Option<&faceswap_proxy::providers::SandboxEndpoint>,
) -> Proxy {
    spawn_proxy(config, listener, dir, sandbox).await.0
}

/// Serves `config` like [`serve_with_sandbox`]; also gives the server's and the sweeps' tasks,
/// to stop them (see [`alone::Running`]).
pub async fn spawn_proxy(
    config: Config,
    listener: tokio::net::TcpListener,
    dir: tempfile::TempDir,
    sandbox: Option<&faceswap_proxy::providers::SandboxEndpoint>,
) -> (Proxy, Vec<tokio::task::JoinHandle<()>>) {
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let providers = Providers::resolve(&config, sandbox).expect("providers");
    let state = AppState::new(config, providers).await.expect("state");
    let sweeps = spawn_maintenance(state.clone());
    let limits = ConnectionLimits::from_config(&state.config);
    let router = app(state.clone());
    let server = tokio::spawn(serve_router(
        listener,
        router,
        limits,
        std::future::pending(),
    ));
    let proxy = Proxy {
        url,
        state,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        dir,
    };
    (proxy, vec![sweeps, server])
}

impl Proxy {
    /// POSTs JSON to an operation.
    pub async fn submit(&self, op: &str, body: serde_json::Value) -> reqwest::Response {
        self.http
            .post(format!("{}/api/aifaceswap/v1/{op}", self.url))
            .json(&body)
            .send()
            .await
            .expect("submit")
    }

    /// GETs a path.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .expect("get")
    }

    /// The stored task as JSON.
    pub async fn task(&self, task_id: &str) -> serde_json::Value {
        let response = self.get(&format!("/api/tasks/{task_id}")).await;
        assert_eq!(response.status(), 200);
        response.json().await.expect("task json")
    }
}

/// POSTs a webhook (or callback) body to a URL; returns the status.
pub async fn deliver(url: &str, body: serde_json::Value) -> u16 {
    deliver_with(url, &[], body).await
}

/// POSTs a webhook body to a URL with these headers; returns the status.
pub async fn deliver_with(url: &str, headers: &[(&str, &str)], body: serde_json::Value) -> u16 {
    let request = headers.iter().fold(
        reqwest::Client::new().post(url),
        |request, (name, value)| request.header(*name, *value),
    );
    request
        .json(&body)
        .send()
        .await
        .expect("webhook")
        .status()
        .as_u16()
}

/// A successful callback for `task_id`.
pub fn success(task_id: &str) -> serde_json::Value {
    serde_json::json!({"success": 1, "type": 1, "task_id": task_id, "result_image": "https://cdn.example/r.jpg"})
}

/// A valid body for each operation.
pub fn valid_body(op: &str) -> serde_json::Value {
    use serde_json::json;
    match op {
        "faceswap" => {
            json!({"source_image": "https://img.example/a.jpg", "face_image": "https://img.example/b.jpg"})
        }
        "extract_face" => json!({"img": "https://img.example/group.jpg"}),
        "multi_faceswap" => json!({"source_image": "https://img.example/group.jpg",
            "face_image": ["https://img.example/b.jpg", "https://img.example/c.jpg"], "index": [0, 2]}),
        "video_faceswap" => json!({"source_video": "https://img.example/v.mp4",
            "face_image": "https://img.example/b.jpg", "duration": 5, "enhance": 1}),
        "extract_base64_face" => json!({"base64_img": base64_png()}),
        "multi_video_faceswap" => json!({"source_video": "https://img.example/v.mp4",
            "ref_info": [{"face_ref": base64_png(), "face_url": "https://img.example/b.jpg"}], "duration": 5}),
        _ => json!({}),
    }
}

/// The PNG as base64.
pub fn base64_png() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(PNG)
}

/// The six operations.
pub const OPS: [&str; 6] = [
    "faceswap",
    "extract_face",
    "multi_faceswap",
    "video_faceswap",
    "extract_base64_face",
    "multi_video_faceswap",
];

/// One item of an SSE stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Sse {
    /// An event.
    Event {
        /// `event:` name.
        event: String,
        /// `id:`.
        id: String,
        /// `data:` parsed as JSON.
        data: serde_json::Value,
    },
    /// A comment line (keep-alive).
    Comment,
}

/// Reads an SSE response item by item.
pub struct SseReader {
    response: reqwest::Response,
    buffer: String,
}

impl SseReader {
    /// Wraps a response.
    pub fn new(response: reqwest::Response) -> Self {
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next item, or `None` at the end of the stream; panics after `within`.
    pub async fn next(&mut self, within: Duration) -> Option<Sse> {
        tokio::time::timeout(within, self.next_inner())
            .await
            .expect("SSE item in time")
    }

    async fn next_inner(&mut self) -> Option<Sse> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut event, mut id, mut data, mut comment) =
                    (String::new(), String::new(), String::new(), false);
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    } else if line.starts_with(':') {
                        comment = true;
                    }
                }
                if !data.is_empty() {
                    return Some(Sse::Event {
                        event,
                        id,
                        data: serde_json::from_str(&data).expect("event JSON"),
                    });
                }
                if comment {
                    return Some(Sse::Comment);
                }
                continue;
            }
            match self.response.chunk().await {
                Ok(Some(chunk)) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                _ => return None,
            }
        }
    }

    /// The next event, skipping keep-alive comments.
    pub async fn next_event(&mut self, within: Duration) -> Option<(String, serde_json::Value)> {
        loop {
            match self.next(within).await? {
                Sse::Event { id, data, .. } => return Some((id, data)),
                Sse::Comment => continue,
            }
        }
    }
}
