//! PiAPI served by the proxy (alone here, with `Config::try_from_args_for(&[&PiApi], ...)`)
//! against a fake PiAPI on loopback: the three
//! accepted (model, task_type) pairs, the index checks, the proxy's own `config` (webhook
//! endpoint, fresh secret, `service_mode` from `PIAPI_SERVICE_MODE` only) never shown to a
//! browser nor logged, webhooks with their task's secret, polling when no webhook comes (also
//! after a restart), provider refusals and the spend cap in dollars.

mod common;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use common::{Proxy, SseReader};
use faceswap_core::piapi::PiApi;
use faceswap_core::provider::Adapter;
use faceswap_proxy::{app, spawn_maintenance, AppState, Config, Providers};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// The operator's PiAPI key in these tests.
const KEY: &str = "piapi-key-5e4d3c2b1a-secret";

static ADAPTERS: [&dyn Adapter; 1] = [&PiApi];

// ---------------------------------------------------------------------------------------------
// Every log line of this test binary, at trace level.

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logs() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        captured
    })
}

fn log_text() -> String {
    String::from_utf8_lossy(&logs().0.lock().expect("lock")).into_owned()
}

// ---------------------------------------------------------------------------------------------
// The fake PiAPI: Create Task and Get Task, tasks echoing their config (secret included), as
// PiAPI's do.

/// A Get Task the fake saw: the task id and the `x-api-key`.
type Poll = (String, Option<String>);

#[derive(Clone, Default)]
struct FakePiApi {
    tasks: Arc<Mutex<HashMap<String, Value>>>,
    submits: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
    polls: Arc<Mutex<Vec<Poll>>>,
    /// The next submits' refusal: HTTP status and body.
    refusal: Arc<Mutex<Option<(u16, Value)>>>,
}

impl FakePiApi {
    async fn start(self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let router = Router::new()
            .route("/api/v1/task", post(create_task))
            .route("/api/v1/task/{id}", get(get_task))
            .with_state(self);
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        url
    }

    fn submitted(&self, index: usize) -> Value {
        self.submits.lock().expect("lock")[index].1.clone()
    }

    fn submit_count(&self) -> usize {
        self.submits.lock().expect("lock").len()
    }

    /// The task with this status (and its result when completed).
    fn task_with(&self, id: &str, status: &str) -> Value {
        let mut task = self.tasks.lock().expect("lock")[id].clone();
        task["status"] = json!(status);
        if status.eq_ignore_ascii_case("completed") {
            let key = if task["model"] == "Qubico/video-toolkit" {
                "video_url"
            } else {
                "image_url"
            };
            task["output"] = json!({ key: format!("https://img.theapi.app/{id}.out") });
        }
        if status.eq_ignore_ascii_case("failed") {
            task["error"] =
                json!({"code": 10000, "raw_message": "no face", "message": "face not found"});
        }
        task
    }

    fn set_status(&self, id: &str, status: &str) {
        let task = self.task_with(id, status);
        self.tasks.lock().expect("lock").insert(id.to_owned(), task);
    }
}

async fn create_task(
    State(fake): State<FakePiApi>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let id = format!("{:08x}-task-{}", 0xfeed_u32, fake.submit_count() + 1);
    fake.submits
        .lock()
        .expect("lock")
        .push((headers, body.clone()));
    if let Some((status, answer)) = fake.refusal.lock().expect("lock").clone() {
        return (StatusCode::from_u16(status).expect("status"), Json(answer)).into_response();
    }
    let task = json!({
        "task_id": id, "model": body["model"], "task_type": body["task_type"], "status": "Pending",
        "config": body["config"], "input": body["input"], "output": null, "meta": {},
        "detail": null, "logs": [], "error": {"code": 0, "raw_message": "", "message": ""}
    });
    fake.tasks.lock().expect("lock").insert(id, task.clone());
    Json(json!({"code": 200, "data": task, "message": "success"})).into_response()
}

async fn get_task(
    State(fake): State<FakePiApi>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, StatusCode> {
    let key = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    fake.polls.lock().expect("lock").push((id.clone(), key));
    let task = fake.tasks.lock().expect("lock").get(&id).cloned();
    task.map(|task| Json(json!({"code": 200, "data": task, "message": "success"})))
        .ok_or(StatusCode::NOT_FOUND)
}

// ---------------------------------------------------------------------------------------------
// The proxy.

/// A proxy serving PiAPI at `upstream`, its tasks in `db` (a SQLite file), with `extra` flags.
fn piapi_config(url: &str, upstream: &str, db: &std::path::Path, extra: &[&str]) -> Config {
    let uploads = db.with_extension("uploads");
    let mut args = vec![
        "faceswap-proxy".to_owned(),
        "--public-url".into(),
        url.to_owned(),
        "--database-url".into(),
        format!("sqlite://{}", db.display()),
        "--upload-dir".into(),
        uploads.display().to_string(),
        "--piapi-base-url".into(),
        upstream.to_owned(),
        "--piapi-api-key".into(),
        KEY.to_owned(),
        "--rate-limit-per-min".into(),
        "100000".into(),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    Config::try_from_args_for(&ADAPTERS, args).expect("flags")
}

/// A proxy that can be stopped: its server and its sweeps are aborted on drop.
struct Running {
    proxy: Proxy,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

async fn start(upstream: &str, db: &std::path::Path, extra: &[&str]) -> Running {
    logs();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let config = piapi_config(&url, upstream, db, extra);
    let providers = Providers::resolve(&config, None).expect("providers");
    let state = AppState::new(config, providers).await.expect("state");
    let sweeps = spawn_maintenance(state.clone());
    let router = app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Running {
        proxy: Proxy {
            url,
            state,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            dir: tempfile::tempdir().expect("tempdir"),
        },
        tasks: vec![sweeps, server],
    }
}

fn face_swap() -> Value {
    json!({"model": "Qubico/image-toolkit", "task_type": "face-swap",
        "input": {"target_image": "https://img.example/target.jpg", "swap_image": "https://img.example/face.png"}})
}

fn multi_face_swap(swap: &str, target: &str) -> Value {
    json!({"model": "Qubico/image-toolkit", "task_type": "multi-face-swap",
        "input": {"target_image": "https://img.example/group.webp", "swap_image": "https://img.example/faces.jpeg",
            "swap_faces_index": swap, "target_faces_index": target}})
}

fn video_face_swap() -> Value {
    json!({"model": "Qubico/video-toolkit", "task_type": "face-swap", "duration": 4,
        "input": {"target_video": "https://img.example/clip.mp4", "swap_image": "https://img.example/face.png",
            "swap_faces_index": "0", "target_faces_index": "1"}})
}

async fn submit(proxy: &Proxy, body: &Value) -> (u16, Value) {
    let response = proxy
        .http
        .post(format!("{}/api/piapi/v1/task", proxy.url))
        .json(body)
        .send()
        .await
        .expect("submit");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

async fn submit_ok(proxy: &Proxy, body: &Value) -> (String, Value) {
    let (status, answer) = submit(proxy, body).await;
    assert_eq!(status, 200, "{answer}");
    let id = answer["data"]["task_id"]
        .as_str()
        .expect("task_id")
        .to_owned();
    (id, answer)
}

async fn task(proxy: &Proxy, id: &str) -> Value {
    let response = proxy.get(&format!("/api/piapi/tasks/{id}")).await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("task")
}

/// POSTs a webhook `{"timestamp", "data": task}` with `secret` in `x-webhook-secret`.
async fn webhook(endpoint: &str, secret: Option<&str>, task: &Value) -> u16 {
    let mut request = reqwest::Client::new()
        .post(endpoint)
        .json(&json!({"timestamp": 1_723_018_391, "data": task}));
    if let Some(secret) = secret {
        request = request.header("x-webhook-secret", secret);
    }
    request.send().await.expect("webhook").status().as_u16()
}

async fn wait_for_status(proxy: &Proxy, id: &str, status: &str) -> Value {
    for _ in 0..100 {
        let view = task(proxy, id).await;
        if view["status"] == status {
            return view;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("task {id} never became {status}: {}", task(proxy, id).await);
}

// ---------------------------------------------------------------------------------------------

/// Base64 of a PNG's header (signature and IHDR) saying `width` x `height`.
fn png_header_base64(width: u32, height: u32) -> String {
    use base64::Engine;
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend_from_slice(&width.to_be_bytes());
    png.extend_from_slice(&height.to_be_bytes());
    png.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    faceswap_core::base64_image::BASE64.encode(png)
}

#[tokio::test]
async fn only_the_three_pairs_go_upstream_and_indexes_name_their_field() {
    let fake = FakePiApi::default();
    let upstream = fake.clone().start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start(&upstream, &dir.path().join("tasks.db"), &[]).await;
    let proxy = &running.proxy;

    let config: Value = proxy.get("/api/config").await.json().await.expect("config");
    // The first fields of each entry, a public contract; the demo's own are checked in api.rs.
    let listed: Vec<Value> = config["providers"]
        .as_array()
        .expect("providers")
        .iter()
        .map(|p| json!({"id": p["id"], "mode": p["mode"], "operations": p["operations"]}))
        .collect();
    assert_eq!(
        Value::from(listed),
        json!([{"id": "piapi", "mode": "live", "operations": ["faceSwap", "multiFaceSwap", "videoFaceSwap"]}])
    );

    for body in [
        face_swap(),
        multi_face_swap("0,1", "1, 0"),
        video_face_swap(),
    ] {
        submit_ok(proxy, &body).await;
    }
    assert_eq!(fake.submit_count(), 3);
    let sent: Vec<(Value, Value)> = (0..3)
        .map(|i| {
            let body = fake.submitted(i);
            (body["model"].clone(), body["task_type"].clone())
        })
        .collect();
    assert_eq!(
        sent,
        [
            (json!("Qubico/image-toolkit"), json!("face-swap")),
            (json!("Qubico/image-toolkit"), json!("multi-face-swap")),
            (json!("Qubico/video-toolkit"), json!("face-swap")),
        ]
    );
    assert!(
        fake.submitted(2).get("duration").is_none(),
        "duration prices, is not sent"
    );
    assert!(fake
        .submits
        .lock()
        .expect("lock")
        .iter()
        .all(|(headers, _)| headers.get("x-api-key").and_then(|v| v.to_str().ok()) == Some(KEY)));

    let refused = |model: &str, task_type: &str| {
        let mut body = face_swap();
        body["model"] = json!(model);
        body["task_type"] = json!(task_type);
        body
    };
    let mut cases = vec![
        (
            refused("Qubico/video-toolkit", "multi-face-swap"),
            "task_type",
        ),
        (refused("Qubico/image-toolkit", "upscale"), "task_type"),
        (refused("Qubico/flux1-dev", "face-swap"), "model"),
        (multi_face_swap("0,1", "0"), "input.target_faces_index"),
        (multi_face_swap("0,-1", "0,1"), "input.swap_faces_index"),
        (multi_face_swap("1,1", "0,1"), "input.swap_faces_index"),
        (multi_face_swap("0,1", "2,2"), "input.target_faces_index"),
        (multi_face_swap("x", "0"), "input.swap_faces_index"),
    ];
    let mut video = video_face_swap();
    video["input"]["target_faces_index"] = json!("0,1");
    cases.push((video, "input.target_faces_index"));
    let mut video = video_face_swap();
    video["input"]["swap_faces_index"] = json!("-2");
    cases.push((video, "input.swap_faces_index"));
    let mut video = video_face_swap();
    video["input"]["target_video"] = json!("https://img.example/clip.mov");
    cases.push((video, "input.target_video"));
    let mut image = face_swap();
    image["input"]["swap_image"] = json!("https://img.example/face.gif");
    cases.push((image, "input.swap_image"));
    // "both swap_image and target_image should be under 2048 x 2048 resolution each": a base64
    // image's size is read from its header, before anything is spent.
    let mut large = face_swap();
    large["input"]["target_image"] = json!(png_header_base64(2049, 1000));
    cases.push((large, "input.target_image"));
    let mut large = face_swap();
    large["input"]["swap_image"] = json!(format!(
        "data:image/png;base64,{}",
        png_header_base64(1000, 4096)
    ));
    cases.push((large, "input.swap_image"));
    for (body, field) in cases {
        let (status, answer) = submit(proxy, &body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"], "invalid_parameter", "{answer}");
        assert_eq!(answer["field"], field, "{body}: {answer}");
    }
    assert_eq!(fake.submit_count(), 3, "nothing refused went upstream");
}

#[tokio::test]
async fn the_proxy_sets_the_config_and_no_browser_or_log_sees_it() {
    let fake = FakePiApi::default();
    let upstream = fake.clone().start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start(
        &upstream,
        &dir.path().join("tasks.db"),
        &[
            "--piapi-service-mode",
            "public",
            "--piapi-poll-after-ms",
            "600000",
        ],
    )
    .await;
    let proxy = &running.proxy;

    let mut body = face_swap();
    body["config"] = json!({"service_mode": "private",
        "webhook_config": {"endpoint": "https://evil.example/hook", "secret": "browser-chosen"}});
    let (id, answer) = submit_ok(proxy, &body).await;
    let sent = fake.submitted(0);
    let endpoint = sent["config"]["webhook_config"]["endpoint"]
        .as_str()
        .expect("endpoint");
    let secret = sent["config"]["webhook_config"]["secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    assert!(
        endpoint.starts_with(&format!("{}/hooks/piapi/", proxy.url)),
        "{endpoint}"
    );
    assert!(
        secret.len() >= 32 && secret.bytes().all(|b| b.is_ascii_hexdigit()),
        "at least 128 random bits: {secret}"
    );
    assert_eq!(
        sent["config"]["service_mode"], "public",
        "the operator's, not the browser's"
    );
    assert!(
        !sent.to_string().contains("evil.example") && !sent.to_string().contains("browser-chosen")
    );

    // A second task gets its own secret.
    submit_ok(proxy, &face_swap()).await;
    let second = fake.submitted(1)["config"]["webhook_config"]["secret"].clone();
    assert_ne!(second, json!(secret));

    // Neither the submit's answer, nor the task, nor its events, show the config.
    let shown = answer.to_string();
    assert!(answer["data"].get("config").is_none(), "{shown}");
    assert!(
        !shown.contains(&secret) && !shown.contains("webhook_config"),
        "{shown}"
    );
    assert_eq!(answer["data"]["task_id"], id.as_str());
    let view = task(proxy, &id).await;
    assert!(!view.to_string().contains(&secret));
    let mut stream = SseReader::new(proxy.get(&format!("/api/piapi/tasks/{id}/events")).await);
    let (_, first) = stream
        .next_event(Duration::from_secs(5))
        .await
        .expect("event");
    assert!(!first.to_string().contains(&secret));

    // The completed task, delivered with the secret, still shows no config.
    let done = fake.task_with(&id, "completed");
    assert!(done.to_string().contains(&secret), "PiAPI echoes it");
    assert_eq!(webhook(endpoint, Some(&secret), &done).await, 200);
    let (_, last) = stream
        .next_event(Duration::from_secs(5))
        .await
        .expect("event");
    assert_eq!(last["status"], "succeeded");
    assert!(!last.to_string().contains(&secret));

    // An idempotent replay is the same cleaned answer.
    let replay = |key: &'static str| {
        proxy
            .http
            .post(format!("{}/api/piapi/v1/task", proxy.url))
            .header("idempotency-key", key)
            .json(&face_swap())
            .send()
    };
    let first_text = replay("piapi-replay-1")
        .await
        .expect("submit")
        .text()
        .await
        .expect("text");
    let again_text = replay("piapi-replay-1")
        .await
        .expect("submit")
        .text()
        .await
        .expect("text");
    assert_eq!(first_text, again_text);
    assert!(!first_text.contains("webhook_config"), "{first_text}");

    // Nothing logged holds a secret or the key.
    let logs = log_text();
    assert!(
        logs.len() > 1000,
        "trace logging was on ({} bytes)",
        logs.len()
    );
    assert!(
        logs.contains("task submitted") && logs.contains("callback"),
        "the proxy's own lines are captured"
    );
    for (i, (_, sent)) in fake.submits.lock().expect("lock").iter().enumerate() {
        let secret = sent["config"]["webhook_config"]["secret"]
            .as_str()
            .expect("secret");
        assert!(
            !logs.contains(secret),
            "the secret of task {i} is in the log"
        );
    }
    assert!(!logs.contains(KEY), "the key is in the log");
}

#[test]
fn service_mode_is_the_operators_setting_only() {
    let command = Config::command(&ADAPTERS);
    let arg = command
        .get_arguments()
        .find(|arg| arg.get_id() == "piapi-service-mode")
        .expect("--piapi-service-mode");
    assert_eq!(
        arg.get_env().and_then(|env| env.to_str()),
        Some("PIAPI_SERVICE_MODE")
    );
    let parse = |extra: &[&str]| {
        let mut args = vec!["faceswap-proxy", "--piapi-api-key", "k"];
        args.extend_from_slice(extra);
        Config::try_from_args_for(&ADAPTERS, args)
    };
    let config = parse(&["--piapi-service-mode", "private"]).expect("private");
    assert_eq!(
        config
            .provider("piapi")
            .expect("served")
            .adapter_settings
            .get("service_mode"),
        Some("private")
    );
    let unset = parse(&[]).expect("unset");
    assert_eq!(
        unset
            .provider("piapi")
            .expect("served")
            .adapter_settings
            .get("service_mode"),
        None
    );
    let err = parse(&["--piapi-service-mode", "premium"]).expect_err("refused");
    assert!(err.to_string().contains("premium"), "{err}");
}

#[tokio::test]
async fn webhooks_need_their_tasks_secret_and_only_completed_or_failed_end_a_task() {
    let fake = FakePiApi::default();
    let upstream = fake.clone().start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start(
        &upstream,
        &dir.path().join("tasks.db"),
        &["--piapi-poll-after-ms", "600000"],
    )
    .await;
    let proxy = &running.proxy;
    let (id, _) = submit_ok(proxy, &multi_face_swap("0", "2")).await;
    let (other, _) = submit_ok(proxy, &face_swap()).await;
    let hook = |i: usize| {
        let sent = fake.submitted(i);
        (
            sent["config"]["webhook_config"]["endpoint"]
                .as_str()
                .expect("endpoint")
                .to_owned(),
            sent["config"]["webhook_config"]["secret"]
                .as_str()
                .expect("secret")
                .to_owned(),
        )
    };
    let (endpoint, secret) = hook(0);
    let (_, other_secret) = hook(1);
    let before = task(proxy, &id).await;

    let done = fake.task_with(&id, "Completed");
    assert_eq!(webhook(&endpoint, None, &done).await, 401);
    assert_eq!(
        webhook(&endpoint, Some("0123456789abcdef0123456789abcdef"), &done).await,
        401
    );
    assert_eq!(
        webhook(&endpoint, Some(&other_secret), &done).await,
        401,
        "another task's secret"
    );
    assert_eq!(task(proxy, &id).await, before, "nothing changed");

    // Non-terminal updates, in either case, change nothing.
    for status in ["processing", "Staged", "PENDING"] {
        assert_eq!(
            webhook(&endpoint, Some(&secret), &fake.task_with(&id, status)).await,
            200
        );
    }
    assert_eq!(task(proxy, &id).await, before);
    let mut stream = SseReader::new(proxy.get(&format!("/api/piapi/tasks/{id}/events")).await);
    stream
        .next_event(Duration::from_secs(5))
        .await
        .expect("pending");

    assert_eq!(webhook(&endpoint, Some(&secret), &done).await, 200);
    let (_, event) = stream
        .next_event(Duration::from_secs(5))
        .await
        .expect("result");
    assert_eq!(event["status"], "succeeded");
    assert_eq!(
        event["result_url"],
        format!("https://img.theapi.app/{id}.out")
    );
    let after = task(proxy, &id).await;
    // Duplicates and late failures change nothing.
    assert_eq!(webhook(&endpoint, Some(&secret), &done).await, 200);
    assert_eq!(
        webhook(&endpoint, Some(&secret), &fake.task_with(&id, "failed")).await,
        200
    );
    assert_eq!(task(proxy, &id).await, after);
    // A webhook about another task on this token is refused.
    assert_eq!(
        webhook(
            &endpoint,
            Some(&secret),
            &fake.task_with(&other, "completed")
        )
        .await,
        404
    );
    assert_eq!(task(proxy, &other).await["status"], "pending");
    // A failure keeps PiAPI's words.
    let (other_endpoint, _) = hook(1);
    assert_eq!(
        webhook(
            &other_endpoint,
            Some(&other_secret),
            &fake.task_with(&other, "FAILED")
        )
        .await,
        200
    );
    let failed = task(proxy, &other).await;
    assert_eq!(failed["status"], "failed");
    assert!(
        failed["error"]
            .as_str()
            .is_some_and(|e| e.contains("face not found")),
        "{failed}"
    );
    assert!(
        fake.polls.lock().expect("lock").is_empty(),
        "webhooks in time: no polls"
    );
}

#[tokio::test]
async fn polling_completes_a_task_whose_webhooks_never_come() {
    let fake = FakePiApi::default();
    let upstream = fake.clone().start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start(
        &upstream,
        &dir.path().join("tasks.db"),
        &["--piapi-poll-after-ms", "100", "--poll-interval-ms", "50"],
    )
    .await;
    let proxy = &running.proxy;
    let (id, _) = submit_ok(proxy, &video_face_swap()).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(task(proxy, &id).await["status"], "pending");
    fake.set_status(&id, "processing");
    tokio::time::sleep(Duration::from_millis(200)).await;
    fake.set_status(&id, "COMPLETED");
    let view = wait_for_status(proxy, &id, "succeeded").await;
    assert_eq!(
        view["result_url"],
        format!("https://img.theapi.app/{id}.out")
    );
    let polls = fake.polls.lock().expect("lock").clone();
    assert!(
        polls.len() >= 2,
        "polled while running, then done: {polls:?}"
    );
    assert!(polls
        .iter()
        .all(|(task, key)| *task == id && key.as_deref() == Some(KEY)));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        fake.polls.lock().expect("lock").len(),
        polls.len(),
        "no poll after the end"
    );
}

#[tokio::test]
async fn polling_resumes_after_a_restart() {
    let fake = FakePiApi::default();
    let upstream = fake.clone().start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("tasks.db");
    let first = start(
        &upstream,
        &db,
        &["--piapi-poll-after-ms", "300", "--poll-interval-ms", "50"],
    )
    .await;
    let (id, _) = submit_ok(&first.proxy, &face_swap()).await;
    drop(first);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        fake.polls.lock().expect("lock").is_empty(),
        "the first proxy stopped before polling"
    );
    fake.set_status(&id, "completed");

    let second = start(
        &upstream,
        &db,
        &["--piapi-poll-after-ms", "300", "--poll-interval-ms", "50"],
    )
    .await;
    let view = wait_for_status(&second.proxy, &id, "succeeded").await;
    assert_eq!(
        view["result_url"],
        format!("https://img.theapi.app/{id}.out")
    );
    assert_eq!(view["cost"], json!({"amount": 0.01, "unit": "usd"}));
    assert!(!fake.polls.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn piapis_refusals_keep_their_meaning() {
    let fake = FakePiApi::default();
    let upstream = fake.clone().start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start(&upstream, &dir.path().join("tasks.db"), &[]).await;
    let proxy = &running.proxy;
    let refuse = |status: u16, code: i64, message: &str| {
        *fake.refusal.lock().expect("lock") = Some((
            status,
            json!({"code": status, "data": {"task_id": "", "status": "failed",
                "error": {"code": code, "raw_message": message, "message": message}}, "message": message}),
        ));
    };
    for (status, code, message, error, http) in [
        (
            400,
            10000,
            "no face detected in target_image",
            "invalid_parameter",
            400,
        ),
        (400, 10003, "content flagged as NSFW", "forbidden", 403),
        (401, 401, "Invalid API key", "upstream_error", 502),
        (402, 402, "insufficient balance", "upstream_error", 502),
    ] {
        refuse(status, code, message);
        let (got, answer) = submit(proxy, &face_swap()).await;
        assert_eq!(
            (got, answer["error"].as_str()),
            (http, Some(error)),
            "{message}: {answer}"
        );
        assert_eq!(answer["provider_code"], code.to_string(), "{answer}");
        assert!(!answer.to_string().contains(KEY));
    }
}

#[tokio::test]
async fn the_spend_cap_is_in_dollars() {
    let fake = FakePiApi::default();
    let upstream = fake.clone().start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start(
        &upstream,
        &dir.path().join("tasks.db"),
        &["--piapi-spend-cap-per-hour", "0.04"],
    )
    .await;
    let proxy = &running.proxy;
    let (id, _) = submit_ok(proxy, &multi_face_swap("0", "0")).await;
    assert_eq!(
        task(proxy, &id).await["cost"],
        json!({"amount": 0.015, "unit": "usd"})
    );
    submit_ok(proxy, &face_swap()).await;
    // 0.025 spent: a 4 s video (0.04) is over the cap, another face swap (0.035) is not.
    let (status, answer) = submit(proxy, &video_face_swap()).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (429, Some("spend_cap_exceeded")),
        "{answer}"
    );
    submit_ok(proxy, &face_swap()).await;
    let (status, _) = submit(proxy, &face_swap()).await;
    assert_eq!(status, 429, "0.045 is over 0.04");
    assert_eq!(fake.submit_count(), 3);
}

/// A PNG's signature and IHDR saying `width` x `height`.
fn png_header(width: u32, height: u32) -> Vec<u8> {
    use base64::Engine;
    faceswap_core::base64_image::BASE64
        .decode(png_header_base64(width, height))
        .expect("base64")
}

/// "under 2048 x 2048 resolution each": an image the proxy stored itself is measured from its
/// header before anything is spent; a remote URL cannot be, and goes to PiAPI.
#[tokio::test]
async fn an_uploaded_image_over_2048_pixels_is_refused_before_anything_is_spent() {
    let fake = FakePiApi::default();
    let upstream = fake.clone().start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start(&upstream, &dir.path().join("tasks.db"), &[]).await;
    let proxy = &running.proxy;
    let upload = |bytes: Vec<u8>| async move {
        let answer: Value = proxy
            .http
            .post(format!("{}/api/uploads", proxy.url))
            .header("content-type", "image/png")
            .body(bytes)
            .send()
            .await
            .expect("upload")
            .json()
            .await
            .expect("json");
        answer["url"].as_str().expect("an upload URL").to_owned()
    };
    let wide = upload(png_header(2049, 1000)).await;
    let tall = upload(png_header(1000, 2049)).await;
    let fits = upload(png_header(2048, 2048)).await;
    for (field, url) in [("input.target_image", &wide), ("input.swap_image", &tall)] {
        let mut body = face_swap();
        body["input"][field.trim_start_matches("input.")] = json!(url);
        let (status, answer) = submit(proxy, &body).await;
        assert_eq!(
            (status, answer["error"].as_str(), answer["field"].as_str()),
            (400, Some("invalid_parameter"), Some(field)),
            "{answer}"
        );
    }
    let mut video = video_face_swap();
    video["input"]["swap_image"] = json!(wide);
    let (status, answer) = submit(proxy, &video).await;
    assert_eq!(
        (status, answer["field"].as_str()),
        (400, Some("input.swap_image")),
        "{answer}"
    );
    assert_eq!(fake.submit_count(), 0, "nothing refused went upstream");
    let mut body = face_swap();
    body["input"]["target_image"] = json!(fits);
    submit_ok(proxy, &body).await;
    assert_eq!(fake.submit_count(), 1);
}
