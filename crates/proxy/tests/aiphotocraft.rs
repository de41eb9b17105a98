//! AIPhotoCraft served by the proxy through the provider seam, with no AIPhotoCraft code in the
//! proxy: against a fake AIPhotoCraft on loopback (it counts every call), the four multipart
//! routes, the key in `X-Api-Key`, validation before anything is sent, polling task-status to
//! the result (also after a restart), the provider's refusals with `provider_code`, the spend cap
//! in requests; and once against the built-in sandbox, end to end.
#![allow(clippy::unwrap_used)]

mod common;

use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use common::logs::log_text;
use common::media::test_media;
use common::{Proxy, JPEG, PNG};
use faceswap_core::aiphotocraft::AiPhotoCraft;
use faceswap_core::provider::Adapter;
use faceswap_proxy::{app, spawn_maintenance, AppState, Config, Providers};
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The operator's AIPhotoCraft key in these tests.
const KEY: &str = "apc-key-0a1b2c3d4e-secret";

static ADAPTERS: [&dyn Adapter; 1] = [&AiPhotoCraft];

// ---------------------------------------------------------------------------------------------
// The fake AIPhotoCraft.

/// One part the fake received: name, file name (for files) and bytes.
type Received = (String, Option<String>, Vec<u8>);

/// One submit the fake received: the operation, the `X-Api-Key` and the parts.
#[derive(Clone, Debug)]
struct Submit {
    op: String,
    key: Option<String>,
    parts: Vec<Received>,
}

impl Submit {
    fn part(&self, name: &str) -> &Received {
        self.parts.iter().find(|p| p.0 == name).unwrap()
    }

    fn names(&self) -> Vec<&str> {
        self.parts.iter().map(|p| p.0.as_str()).collect()
    }
}

/// Task id → (status, result URL).
type Tasks = HashMap<String, (String, Option<String>)>;

#[derive(Clone, Default)]
struct FakeApc {
    submits: Arc<Mutex<Vec<Submit>>>,
    polls: Arc<Mutex<Vec<String>>>,
    /// The tasks it started.
    tasks: Arc<Mutex<Tasks>>,
    /// The next submits' refusal: HTTP status and body.
    refusal: Arc<Mutex<Option<(u16, Value)>>>,
    /// `X-RateLimit-Remaining` and `X-RateLimit-Reset` sent with every answer, when set.
    rate: Arc<Mutex<Option<(u64, u64)>>>,
}

impl FakeApc {
    async fn start(self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let router = Router::new()
            .route("/api/faceswap/{op}", post(fake_submit))
            .route("/api/task-status/{id}", get(fake_status))
            .with_state(self);
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        url
    }

    fn submits(&self) -> Vec<Submit> {
        self.submits.lock().unwrap().clone()
    }

    /// Every call the fake answered, submits and polls.
    fn calls(&self) -> usize {
        self.submits.lock().unwrap().len() + self.polls.lock().unwrap().len()
    }

    fn set_status(&self, id: &str, status: &str, url: Option<&str>) {
        self.tasks
            .lock()
            .unwrap()
            .insert(id.to_owned(), (status.to_owned(), url.map(str::to_owned)));
    }

    fn with_rate(&self, mut response: Response) -> Response {
        if let Some((remaining, reset)) = *self.rate.lock().unwrap() {
            let headers = response.headers_mut();
            headers.insert("x-ratelimit-limit", 100.into());
            headers.insert("x-ratelimit-remaining", remaining.into());
            headers.insert("x-ratelimit-reset", reset.into());
        }
        response
    }
}

async fn fake_submit(
    State(fake): State<FakeApc>,
    Path(op): Path<String>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let mut parts = Vec::new();
    while let Some(field) = multipart.next_field().await.unwrap() {
        let name = field.name().unwrap_or_default().to_owned();
        let file = field.file_name().map(str::to_owned);
        parts.push((name, file, field.bytes().await.unwrap().to_vec()));
    }
    let key = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut submits = fake.submits.lock().unwrap();
    submits.push(Submit { op, key, parts });
    let id = format!("apc-{}", submits.len());
    drop(submits);
    let refusal = fake.refusal.lock().unwrap().clone();
    let response = match refusal {
        Some((status, body)) => (StatusCode::from_u16(status).unwrap(), Json(body)).into_response(),
        None => {
            fake.set_status(&id, "pending", None);
            Json(json!({"success": true, "data": {"task_id": id, "status": "pending"}}))
                .into_response()
        }
    };
    fake.with_rate(response)
}

/// Task-status as the fake answers it: `"page"` is the page's only example, `{"image_url"}`
/// with no status; `"unreadable"` an answer with neither a status nor a URL; any other status
/// word in a wrapped shape the page does not print (which the adapter reads too).
async fn fake_status(State(fake): State<FakeApc>, Path(id): Path<String>) -> Response {
    fake.polls.lock().unwrap().push(id.clone());
    let task = fake.tasks.lock().unwrap().get(&id).cloned();
    let response = match task {
        Some((status, url)) if status == "page" => {
            Json(json!({ "image_url": url })).into_response()
        }
        Some((status, _)) if status == "unreadable" => Json(json!({"queue": 3})).into_response(),
        Some((status, url)) => Json(json!({"success": true,
            "data": {"task_id": id, "status": status, "result_url": url}}))
        .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    };
    fake.with_rate(response)
}

// ---------------------------------------------------------------------------------------------
// The proxy.

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

/// A proxy serving AIPhotoCraft at `upstream` (with `key`), its tasks in `db`.
async fn start_with(
    upstream: &str,
    key: Option<&str>,
    db: &std::path::Path,
    extra: &[&str],
) -> Running {
    log_text();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    // `--public-url` and `--database-url` in `extra` replace the proxy's own.
    let mut defaults: Vec<String> = Vec::new();
    if !extra.contains(&"--public-url") {
        defaults.extend(["--public-url".to_owned(), url.clone()]);
    }
    if !extra.contains(&"--database-url") {
        defaults.extend([
            "--database-url".to_owned(),
            format!("sqlite://{}", db.display()),
        ]);
    }
    let mut args: Vec<String> = [
        "faceswap-proxy",
        "--upload-dir",
        &db.with_extension("uploads").display().to_string(),
        "--aiphotocraft-base-url",
        upstream,
        "--rate-limit-per-min",
        "100000",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    args.extend(defaults);
    if let Some(key) = key {
        args.extend(["--aiphotocraft-api-key".to_owned(), key.to_owned()]);
    }
    if !extra.contains(&"--poll-interval-ms") {
        args.extend(["--poll-interval-ms".to_owned(), "50".to_owned()]);
    }
    // Polled from the poll interval on, unless a test sets a first wait of its own.
    if !extra.contains(&"--aiphotocraft-poll-after-ms") {
        args.extend(["--aiphotocraft-poll-after-ms".to_owned(), "0".to_owned()]);
    }
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let config = Config::try_from_args_for(&ADAPTERS, args).unwrap();
    let providers = Providers::resolve(&config, None).unwrap();
    let state = AppState::new(config, providers).await.unwrap();
    let sweeps = spawn_maintenance(state.clone());
    let router = app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Running {
        proxy: Proxy {
            url,
            state,
            http: reqwest::Client::new(),
            dir: tempfile::tempdir().unwrap(),
        },
        tasks: vec![sweeps, server],
    }
}

async fn start(upstream: &str, db: &std::path::Path, extra: &[&str]) -> Running {
    start_with(upstream, Some(KEY), db, extra).await
}

fn image(bytes: &'static [u8], name: &str) -> Part {
    Part::bytes(bytes).file_name(name.to_owned())
}

fn form(parts: Vec<(&str, Part)>) -> Form {
    parts.into_iter().fold(Form::new(), |form, (name, part)| {
        form.part(name.to_owned(), part)
    })
}

async fn submit(proxy: &Proxy, op: &str, form: Form) -> (u16, HeaderMap, Value) {
    let response = proxy
        .http
        .post(format!("{}/api/aiphotocraft/faceswap/{op}", proxy.url))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (
        status,
        headers,
        response.json().await.unwrap_or(Value::Null),
    )
}

fn same_image() -> Form {
    form(vec![("srcimage", image(PNG, "two.png"))])
}

async fn task(proxy: &Proxy, id: &str) -> Value {
    let response = proxy.get(&format!("/api/aiphotocraft/tasks/{id}")).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn wait_for_status(proxy: &Proxy, id: &str, status: &str) -> Value {
    for _ in 0..200 {
        let view = task(proxy, id).await;
        if view["status"] == status {
            return view;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("task {id} never became {status}: {}", task(proxy, id).await);
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_four_routes_forward_the_providers_form_with_the_key() {
    let fake = FakeApc::default();
    let upstream = fake.clone().start().await;
    let dir = tempfile::tempdir().unwrap();
    let running = start(&upstream, &dir.path().join("tasks.db"), &[]).await;
    let proxy = &running.proxy;

    let config: Value = proxy.get("/api/config").await.json().await.unwrap();
    // The first fields of each entry, a public contract; the demo's own are checked in api.rs.
    let listed: Vec<Value> = config["providers"]
        .as_array()
        .expect("providers")
        .iter()
        .map(|p| json!({"id": p["id"], "mode": p["mode"], "operations": p["operations"]}))
        .collect();
    assert_eq!(
        Value::from(listed),
        json!([{"id": "aiphotocraft", "mode": "live",
            "operations": ["basicSwap", "coupleSwap", "swap1From2", "swapFaceSameImage"]}])
    );

    let forms = [
        (
            "basicswap",
            form(vec![
                ("srcimage", image(PNG, "a.png")),
                ("targetimage", image(JPEG, "b.jpg")),
                ("enhance", Part::text("TRUE")),
                ("webhook", Part::text("https://evil.example/")),
            ]),
        ),
        (
            "faceswap2",
            form(vec![
                ("srcimage", image(PNG, "a.png")),
                ("targetimage", image(PNG, "b.png")),
                ("swap_index", Part::text("0,1")),
            ]),
        ),
        (
            "swap1from2",
            form(vec![
                ("srcimage", image(PNG, "a.png")),
                ("targetimage1", image(JPEG, "b.jpg")),
                ("targetimage2", image(PNG, "c.png")),
            ]),
        ),
        ("swapfacesameimage", same_image()),
    ];
    for (op, form) in forms {
        let (status, _, answer) = submit(proxy, op, form).await;
        assert_eq!(status, 200, "{op}: {answer}");
        assert!(answer["data"]["task_id"].is_string(), "{answer}");
    }
    let sent = fake.submits();
    let ops: Vec<&str> = sent.iter().map(|s| s.op.as_str()).collect();
    assert_eq!(
        ops,
        ["basicswap", "faceswap2", "swap1from2", "swapfacesameimage"]
    );
    assert!(sent.iter().all(|s| s.key.as_deref() == Some(KEY)));
    assert_eq!(sent[0].names(), ["srcimage", "targetimage", "enhance"]);
    assert_eq!(sent[0].part("srcimage").2, PNG);
    assert_eq!(sent[0].part("targetimage").2, JPEG);
    assert!(sent[0].part("targetimage").1.is_some(), "sent as a file");
    assert_eq!(sent[0].part("enhance").2, b"true");
    assert_eq!(
        sent[1].names(),
        ["srcimage", "targetimage", "swap_index"],
        "the page's faceswap2 example: no enhance"
    );
    assert_eq!(sent[1].part("swap_index").2, b"0,1", "as written");
    assert_eq!(
        sent[2].names(),
        ["srcimage", "targetimage1", "targetimage2"]
    );
    assert_eq!(sent[3].names(), ["srcimage"]);
}

#[tokio::test]
async fn bad_forms_name_their_field_and_nothing_is_sent() {
    let fake = FakeApc::default();
    let upstream = fake.clone().start().await;
    let dir = tempfile::tempdir().unwrap();
    let running = start(&upstream, &dir.path().join("tasks.db"), &[]).await;
    let proxy = &running.proxy;
    let cases = [
        (
            "basicswap",
            form(vec![("srcimage", image(PNG, "a.png"))]),
            "targetimage",
        ),
        (
            "basicswap",
            form(vec![
                ("srcimage", image(PNG, "a.png")),
                ("targetimage", image(PNG, "b.png")),
                ("enhance", Part::text("maybe")),
            ]),
            "enhance",
        ),
        (
            "faceswap2",
            form(vec![
                ("srcimage", image(PNG, "a.png")),
                ("targetimage", image(PNG, "b.png")),
                ("swap_index", Part::text("1,1")),
            ]),
            "swap_index",
        ),
        (
            "swap1from2",
            form(vec![
                ("srcimage", image(PNG, "a.png")),
                ("targetimage1", image(PNG, "b.png")),
            ]),
            "targetimage2",
        ),
        (
            "swapfacesameimage",
            form(vec![(
                "srcimage",
                Part::bytes(Vec::new()).file_name("e.png"),
            )]),
            "srcimage",
        ),
    ];
    for (op, form, field) in cases {
        let (status, _, answer) = submit(proxy, op, form).await;
        assert_eq!(status, 400, "{op}: {answer}");
        assert_eq!(answer["error"], "invalid_parameter", "{answer}");
        assert_eq!(answer["field"], field, "{op}: {answer}");
    }
    let json = proxy
        .http
        .post(format!("{}/api/aiphotocraft/faceswap/basicswap", proxy.url))
        .json(&json!({"srcimage": "https://img.example/a.png"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), 415);
    assert_eq!(fake.calls(), 0, "nothing refused went upstream");
}

#[tokio::test]
async fn a_task_is_polled_to_its_result() {
    let fake = FakeApc::default();
    let upstream = fake.clone().start().await;
    let dir = tempfile::tempdir().unwrap();
    let running = start(&upstream, &dir.path().join("tasks.db"), &[]).await;
    let proxy = &running.proxy;
    let (status, _, answer) = submit(proxy, "swapfacesameimage", same_image()).await;
    assert_eq!(status, 200, "{answer}");
    let id = answer["data"]["task_id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(task(proxy, &id).await["status"], "pending");
    assert!(
        !fake.polls.lock().unwrap().is_empty(),
        "polled while pending"
    );
    fake.set_status(&id, "Processing", None);
    tokio::time::sleep(Duration::from_millis(200)).await;
    fake.set_status(
        &id,
        "COMPLETED",
        Some("https://cdn.aiphotocraft.example/r.png"),
    );
    let view = wait_for_status(proxy, &id, "succeeded").await;
    assert_eq!(view["result_url"], "https://cdn.aiphotocraft.example/r.png");
    assert_eq!(
        view["cost"],
        json!({"amount": 3.0, "unit": "requests"}),
        "the submit and a typical task's polls"
    );
    let polls = fake.polls.lock().unwrap().clone();
    assert!(polls.iter().all(|polled| *polled == id));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        fake.polls.lock().unwrap().len(),
        polls.len(),
        "no poll after the end"
    );
}

#[tokio::test]
async fn the_pages_task_status_without_a_status_is_a_success() {
    let fake = FakeApc::default();
    let upstream = fake.clone().start().await;
    let dir = tempfile::tempdir().unwrap();
    let running = start(&upstream, &dir.path().join("tasks.db"), &[]).await;
    let proxy = &running.proxy;
    let (status, _, answer) = submit(proxy, "swapfacesameimage", same_image()).await;
    assert_eq!(status, 200, "{answer}");
    let id = answer["data"]["task_id"].as_str().unwrap().to_owned();
    fake.set_status(
        &id,
        "page",
        Some("https://aiapi.aiphotocraft.com/results/swapped_image.jpg"),
    );
    let view = wait_for_status(proxy, &id, "succeeded").await;
    assert_eq!(
        view["result_url"],
        "https://aiapi.aiphotocraft.com/results/swapped_image.jpg"
    );
}

#[tokio::test]
async fn unreadable_status_answers_fail_the_task_after_three_in_a_row() {
    let fake = FakeApc::default();
    let upstream = fake.clone().start().await;
    let dir = tempfile::tempdir().unwrap();
    let running = start(&upstream, &dir.path().join("tasks.db"), &[]).await;
    let proxy = &running.proxy;
    let (status, _, answer) = submit(proxy, "swapfacesameimage", same_image()).await;
    assert_eq!(status, 200, "{answer}");
    let id = answer["data"]["task_id"].as_str().unwrap().to_owned();
    fake.set_status(&id, "unreadable", None);
    let view = wait_for_status(proxy, &id, "failed").await;
    let error = view["error"].as_str().unwrap();
    assert!(error.contains("3 times in a row"), "{error}");
    assert!(error.contains("queue"), "says what came back: {error}");
    let polls = fake.polls.lock().unwrap().len();
    assert!(
        polls <= 4,
        "failed after a few polls, not at the deadline: {polls}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        fake.polls.lock().unwrap().len(),
        polls,
        "no poll after the end"
    );
}

#[tokio::test]
async fn a_readable_answer_between_unreadable_ones_starts_the_count_again() {
    let fake = FakeApc::default();
    let upstream = fake.clone().start().await;
    let dir = tempfile::tempdir().unwrap();
    let running = start(&upstream, &dir.path().join("tasks.db"), &[]).await;
    let proxy = &running.proxy;
    let (status, _, answer) = submit(proxy, "swapfacesameimage", same_image()).await;
    assert_eq!(status, 200, "{answer}");
    let id = answer["data"]["task_id"].as_str().unwrap().to_owned();
    let polls = || fake.polls.lock().unwrap().len();
    let until = |n: usize| async move {
        // Polls back off (doubling from 50 ms): the fifth comes about 1.5 s after the submit.
        for _ in 0..800 {
            if polls() >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("fewer than {n} polls");
    };
    fake.set_status(&id, "unreadable", None);
    until(2).await;
    fake.set_status(&id, "processing", None);
    until(3).await;
    fake.set_status(&id, "unreadable", None);
    until(5).await;
    assert_eq!(
        task(proxy, &id).await["status"],
        "pending",
        "two in a row, not three"
    );
}

#[tokio::test]
async fn the_first_poll_waits_for_a_typical_tasks_time() {
    let fake = FakeApc::default();
    let upstream = fake.clone().start().await;
    let dir = tempfile::tempdir().unwrap();
    let running = start(
        &upstream,
        &dir.path().join("tasks.db"),
        &["--aiphotocraft-poll-after-ms", "700"],
    )
    .await;
    let proxy = &running.proxy;
    let submitted = std::time::Instant::now();
    let (status, _, answer) = submit(proxy, "swapfacesameimage", same_image()).await;
    assert_eq!(status, 200, "{answer}");
    let id = answer["data"]["task_id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert!(
        fake.polls.lock().unwrap().is_empty(),
        "not polled before 700 ms"
    );
    fake.set_status(&id, "page", Some("https://cdn.aiphotocraft.example/r.png"));
    wait_for_status(proxy, &id, "succeeded").await;
    assert!(
        submitted.elapsed() < Duration::from_secs(3),
        "polled after the operator's 700 ms, not a default typical time"
    );
    assert_eq!(
        fake.polls.lock().unwrap().len(),
        1,
        "one poll found the result"
    );
}

#[tokio::test]
async fn polling_resumes_after_a_restart() {
    let fake = FakeApc::default();
    let upstream = fake.clone().start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tasks.db");
    let slow = ["--poll-interval-ms", "400"];
    let first = start(&upstream, &db, &slow).await;
    let (status, _, answer) = submit(&first.proxy, "swapfacesameimage", same_image()).await;
    assert_eq!(status, 200);
    let id = answer["data"]["task_id"].as_str().unwrap().to_owned();
    drop(first);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        fake.polls.lock().unwrap().is_empty(),
        "the first proxy stopped before polling"
    );
    fake.set_status(
        &id,
        "completed",
        Some("https://cdn.aiphotocraft.example/late.png"),
    );
    let second = start(&upstream, &db, &[]).await;
    let view = wait_for_status(&second.proxy, &id, "succeeded").await;
    assert_eq!(
        view["result_url"],
        "https://cdn.aiphotocraft.example/late.png"
    );
    assert!(!fake.polls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn refusals_reach_the_browser_with_the_providers_code() {
    let fake = FakeApc::default();
    let upstream = fake.clone().start().await;
    let dir = tempfile::tempdir().unwrap();
    let running = start(&upstream, &dir.path().join("tasks.db"), &[]).await;
    let proxy = &running.proxy;
    let envelope = |code: &str, message: &str, details: Value| json!({"success": false, "error": {"code": code, "message": message, "details": details}});
    let cases = [
        // The page's two examples: the field at fault in `details.parameter` and
        // `details.image`.
        (
            400,
            envelope(
                "invalid_parameter",
                "Source image parameter is required",
                json!({"parameter": "srcimage"}),
            ),
            400,
            "invalid_parameter",
            Some("invalid_parameter"),
            Some("srcimage"),
        ),
        (
            400,
            envelope(
                "no_face_detected",
                "No face was detected in the source image.",
                json!({"image": "srcimage"}),
            ),
            400,
            "invalid_parameter",
            Some("no_face_detected"),
            Some("srcimage"),
        ),
        (
            400,
            envelope(
                "no_face_detected",
                "No face detected in srcimage",
                json!({"field": "srcimage"}),
            ),
            400,
            "invalid_parameter",
            Some("no_face_detected"),
            Some("srcimage"),
        ),
        (
            400,
            envelope(
                "face_count_mismatch",
                "srcimage must contain exactly 2 faces",
                json!({}),
            ),
            400,
            "invalid_parameter",
            Some("face_count_mismatch"),
            None,
        ),
        (
            400,
            envelope("invalid_image_format", "bad image", json!({})),
            400,
            "invalid_parameter",
            Some("invalid_image_format"),
            None,
        ),
        (
            401,
            envelope(
                "invalid_api_key",
                &format!("The API key {KEY} is invalid"),
                json!({}),
            ),
            502,
            "upstream_error",
            Some("invalid_api_key"),
            None,
        ),
        (
            401,
            json!({"detail": "Invalid API key"}),
            502,
            "upstream_error",
            None,
            None,
        ),
        (
            422,
            json!({"detail": [{"loc": ["body", "targetimage"], "msg": "field required", "type": "value_error.missing"}]}),
            400,
            "invalid_parameter",
            None,
            Some("targetimage"),
        ),
    ];
    for (status, body, http, error, code, field) in cases {
        *fake.refusal.lock().unwrap() = Some((status, body.clone()));
        let (got, _, answer) = submit(proxy, "swapfacesameimage", same_image()).await;
        assert_eq!(got, http, "{body}: {answer}");
        assert_eq!(answer["error"], error, "{answer}");
        assert_eq!(answer["provider_code"].as_str(), code, "{answer}");
        assert_eq!(answer["field"].as_str(), field, "{answer}");
        assert!(
            !answer.to_string().contains(KEY),
            "the key never shows: {answer}"
        );
    }
    let logs = log_text();
    assert!(logs.contains("submit failed"), "the refusals were logged");
    assert!(!logs.contains(KEY), "the key is never logged");
}

#[tokio::test]
async fn the_spend_cap_counts_requests() {
    let fake = FakeApc::default();
    let upstream = fake.clone().start().await;
    let dir = tempfile::tempdir().unwrap();
    let running = start(
        &upstream,
        &dir.path().join("tasks.db"),
        &["--aiphotocraft-spend-cap-per-hour", "6"],
    )
    .await;
    let proxy = &running.proxy;
    // A swap is priced with its polls: 3 requests each.
    for _ in 0..2 {
        let (status, _, answer) = submit(proxy, "swapfacesameimage", same_image()).await;
        assert_eq!(status, 200, "{answer}");
    }
    let (status, _, answer) = submit(proxy, "swapfacesameimage", same_image()).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (429, Some("spend_cap_exceeded"))
    );
    assert_eq!(
        fake.submits().len(),
        2,
        "the capped submit never went upstream"
    );
}

#[tokio::test]
async fn the_sandbox_swaps_end_to_end_and_its_no_face_reaches_the_browser() {
    let data = tempfile::tempdir().unwrap();
    let sandbox = faceswap_sandbox::spawn(faceswap_sandbox::SandboxConfig {
        api_key: "sandbox-apc-key".into(),
        data_dir: data.path().join("sandbox"),
        ..faceswap_sandbox::SandboxConfig::default()
    })
    .await
    .unwrap();
    let running = start_with(
        &sandbox.base_url,
        Some("sandbox-apc-key"),
        &data.path().join("tasks.db"),
        &[],
    )
    .await;
    let proxy = &running.proxy;
    let two = Part::bytes(test_media("two-faces.png")).file_name("two.png");
    let (status, headers, answer) =
        submit(proxy, "swapfacesameimage", form(vec![("srcimage", two)])).await;
    assert_eq!(status, 200, "{answer}");
    assert!(
        !headers.contains_key("x-ratelimit-remaining"),
        "the provider's budget is the operator's business"
    );
    let id = answer["data"]["task_id"].as_str().unwrap().to_owned();
    let view = wait_for_status(proxy, &id, "succeeded").await;
    let result = view["result_url"].as_str().unwrap();
    assert!(result.starts_with(&sandbox.base_url), "{result}");

    // A photo without a face: the sandbox's no_face_detected, named as the provider names it.
    let (status, _, answer) = submit(
        proxy,
        "basicswap",
        form(vec![
            ("srcimage", image(PNG, "tiny.png")),
            (
                "targetimage",
                Part::bytes(test_media("camera.png")).file_name("camera.png"),
            ),
        ]),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"], "invalid_parameter");
    assert_eq!(answer["provider_code"], "no_face_detected");
    assert_eq!(answer["field"], "srcimage");
}

fn epoch_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn a_spent_provider_budget_is_not_called_until_its_reset() {
    let fake = FakeApc::default();
    let upstream = fake.clone().start().await;
    let dir = tempfile::tempdir().unwrap();
    // Polls at once: a poll made while the budget is spent would show in the fake's count.
    let running = start(&upstream, &dir.path().join("tasks.db"), &[]).await;
    let proxy = &running.proxy;

    // The last request of the budget: accepted, and its answer says none is left for 3 s.
    *fake.rate.lock().unwrap() = Some((0, epoch_now() + 3));
    let (status, _, answer) = submit(proxy, "swapfacesameimage", same_image()).await;
    assert_eq!(status, 200, "{answer}");
    let id = answer["data"]["task_id"].as_str().unwrap().to_owned();
    let calls = fake.calls();
    assert_eq!(calls, 1);

    for _ in 0..3 {
        let (status, headers, answer) = submit(proxy, "swapfacesameimage", same_image()).await;
        assert_eq!(status, 429, "{answer}");
        assert_eq!(answer["error"], "rate_limited");
        let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=3).contains(&retry), "until the reset: {retry}");
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        fake.calls(),
        calls,
        "no submit and no poll reached the provider while spent"
    );
    assert_eq!(task(proxy, &id).await["status"], "pending");

    // After the reset the provider is called again: the submit, and the pending task's polls.
    *fake.rate.lock().unwrap() = Some((99, epoch_now() + 3600));
    fake.set_status(
        &id,
        "completed",
        Some("https://cdn.aiphotocraft.example/r.png"),
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (status, _, answer) = submit(proxy, "swapfacesameimage", same_image()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(fake.submits().len(), 2);
    wait_for_status(proxy, &id, "succeeded").await;
}

#[tokio::test]
async fn the_providers_own_429_is_rate_limited_and_remembered() {
    let fake = FakeApc::default();
    let upstream = fake.clone().start().await;
    let dir = tempfile::tempdir().unwrap();
    let running = start(&upstream, &dir.path().join("tasks.db"), &[]).await;
    let proxy = &running.proxy;
    let reset = epoch_now() + 60;
    *fake.rate.lock().unwrap() = Some((0, reset));
    *fake.refusal.lock().unwrap() = Some((
        429,
        json!({"success": false, "error": {"code": "rate_limit_exceeded",
            "message": "Rate limit exceeded", "details": {"reset_at": reset}}}),
    ));
    let (status, headers, answer) = submit(proxy, "swapfacesameimage", same_image()).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (429, Some("rate_limited")),
        "{answer}"
    );
    assert!(headers.contains_key("retry-after"));
    let (status, headers, _) = submit(proxy, "swapfacesameimage", same_image()).await;
    assert_eq!(status, 429);
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((50..=60).contains(&retry), "{retry}");
    assert_eq!(fake.submits().len(), 1, "the second never went upstream");
}

// ---------------------------------------------------------------------------------------------
// URL inputs: read by the proxy only from its own uploads and FETCH_ALLOWED_ORIGINS.

/// An origin on loopback serving `/a.png`, `/big.png` (2 KiB) and `/redirect` (to a private
/// address); it counts the requests it gets.
async fn origin() -> (String, Arc<Mutex<usize>>) {
    let hits = Arc::new(Mutex::new(0usize));
    let counted = |hits: Arc<Mutex<usize>>, response: Response| {
        *hits.lock().unwrap() += 1;
        response
    };
    let (a, b, c) = (hits.clone(), hits.clone(), hits.clone());
    let router = Router::new()
        .route(
            "/a.png",
            get(move || async move { counted(a, PNG.into_response()) }),
        )
        .route(
            "/big.png",
            get(move || async move {
                let mut big = PNG.to_vec();
                big.resize(2048, 0);
                counted(b, big.into_response())
            }),
        )
        .route(
            "/redirect",
            get(move || async move {
                let to = [("location", "http://10.0.0.1/a.png")];
                counted(c, (StatusCode::FOUND, to).into_response())
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (url, hits)
}

fn by_url(url: &str) -> Form {
    form(vec![("srcimage", Part::text(url.to_owned()))])
}

#[tokio::test]
async fn urls_are_read_only_from_allowed_public_origins() {
    let fake = FakeApc::default();
    let upstream = fake.clone().start().await;
    let (origin, hits) = origin().await;
    let dir = tempfile::tempdir().unwrap();
    let port = origin.rsplit(':').next().unwrap().to_owned();
    let listed = format!(
        "{origin},http://localhost:{port},https://localhost:{port},https://127.0.0.1:{port},\
         https://[::ffff:127.0.0.1]:{port},https://img.example"
    );
    // Listed, but loopback (also by name, after resolution) and plain http: refused by default.
    let running = start(
        &upstream,
        &dir.path().join("tasks.db"),
        &["--fetch-allowed-origins", &listed],
    )
    .await;
    let proxy = &running.proxy;
    for (url, says) in [
        (format!("{origin}/a.png"), "must be an https URL"),
        (
            format!("http://localhost:{port}/a.png"),
            "must be an https URL",
        ),
        // Listed over https: refused by the address, after resolution, before connecting.
        (
            format!("https://localhost:{port}/a.png"),
            "resolves to a loopback or private address",
        ),
        (
            format!("https://127.0.0.1:{port}/a.png"),
            "resolves to a loopback or private address",
        ),
        (
            format!("https://[::ffff:127.0.0.1]:{port}/a.png"),
            "resolves to a link-local, reserved or otherwise non-public address",
        ),
        (
            "https://elsewhere.example/a.png".to_owned(),
            "may not fetch",
        ),
        (
            "http://169.254.169.254/latest/meta-data/".to_owned(),
            "may not fetch",
        ),
    ] {
        let (status, _, answer) = submit(proxy, "swapfacesameimage", by_url(&url)).await;
        assert_eq!(status, 400, "{url}: {answer}");
        assert_eq!(answer["error"], "invalid_parameter");
        assert_eq!(answer["field"], "srcimage", "{answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains(says), "{url}: {message}");
    }
    assert_eq!(*hits.lock().unwrap(), 0, "nothing was fetched");
    assert_eq!(fake.calls(), 0, "nothing was sent upstream");
}

#[tokio::test]
async fn an_explicitly_allowed_private_origin_is_fetched_within_the_rules() {
    let fake = FakeApc::default();
    let upstream = fake.clone().start().await;
    let (origin, hits) = origin().await;
    let dir = tempfile::tempdir().unwrap();
    let listed = format!("{origin},http://169.254.169.254");
    let running = start(
        &upstream,
        &dir.path().join("tasks.db"),
        &[
            "--fetch-allowed-origins",
            &listed,
            "--fetch-allow-private",
            "--upload-max-bytes",
            "1024",
        ],
    )
    .await;
    let proxy = &running.proxy;
    let (status, _, answer) = submit(
        proxy,
        "swapfacesameimage",
        by_url(&format!("{origin}/a.png")),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let sent = fake.submits();
    assert_eq!(sent[0].part("srcimage").2, PNG, "sent upstream as the file");
    assert!(sent[0].part("srcimage").1.is_some(), "as a file part");

    for (url, says) in [
        (
            "http://169.254.169.254/latest/meta-data/".to_owned(),
            "never fetches",
        ),
        (format!("{origin}/redirect"), "redirect"),
        (format!("{origin}/big.png"), "larger than 1024 bytes"),
    ] {
        let (status, _, answer) = submit(proxy, "swapfacesameimage", by_url(&url)).await;
        assert_eq!(status, 400, "{url}: {answer}");
        assert_eq!(answer["field"], "srcimage");
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains(says), "{url}: {message}");
    }
    assert_eq!(
        *hits.lock().unwrap(),
        3,
        "a.png, the redirect (not followed), big.png"
    );
    assert_eq!(
        fake.submits().len(),
        1,
        "only the readable input went upstream"
    );
}

#[tokio::test]
async fn the_proxys_own_uploads_are_read_from_disk() {
    let fake = FakeApc::default();
    let upstream = fake.clone().start().await;
    let dir = tempfile::tempdir().unwrap();
    let running = start(&upstream, &dir.path().join("tasks.db"), &[]).await;
    let proxy = &running.proxy;
    let uploaded: Value = proxy
        .http
        .post(format!("{}/api/uploads", proxy.url))
        .multipart(form(vec![("file", image(JPEG, "me.jpg"))]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = uploaded["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/uploads/", proxy.url)),
        "{uploaded}"
    );
    let (status, _, answer) = submit(proxy, "swapfacesameimage", by_url(url)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(fake.submits()[0].part("srcimage").2, JPEG);

    let missing = format!("{}/uploads/{}.png", proxy.url, "0".repeat(32));
    let (status, _, answer) = submit(proxy, "swapfacesameimage", by_url(&missing)).await;
    assert_eq!((status, answer["field"].as_str()), (400, Some("srcimage")));
    let escape = format!("{}/uploads/../tasks.db", proxy.url);
    let (status, _, answer) = submit(proxy, "swapfacesameimage", by_url(&escape)).await;
    assert_eq!((status, answer["field"].as_str()), (400, Some("srcimage")));
    assert_eq!(fake.submits().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_stored_in_postgresql_is_read_by_another_proxy() {
    let Some(server) = common::pg::server() else {
        return;
    };
    let database = server.database().await;
    let fake = FakeApc::default();
    let upstream = fake.clone().start().await;
    let dir = tempfile::tempdir().unwrap();
    let a = start(
        &upstream,
        &dir.path().join("a.db"),
        &["--database-url", &database],
    )
    .await;
    // B shares A's database and public address (as behind a balancer), not its disk.
    let b = start(
        &upstream,
        &dir.path().join("b.db"),
        &["--database-url", &database, "--public-url", &a.proxy.url],
    )
    .await;
    let uploaded: Value = a
        .proxy
        .http
        .post(format!("{}/api/uploads", a.proxy.url))
        .multipart(form(vec![("file", image(JPEG, "me.jpg"))]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = uploaded["url"].as_str().unwrap();
    let (status, _, answer) = submit(&b.proxy, "swapfacesameimage", by_url(url)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(fake.submits()[0].part("srcimage").2, JPEG);
    let missing = format!("{}/uploads/{}.jpg", a.proxy.url, "0".repeat(32));
    let (status, _, answer) = submit(&b.proxy, "swapfacesameimage", by_url(&missing)).await;
    assert_eq!((status, answer["field"].as_str()), (400, Some("srcimage")));
    assert_eq!(fake.submits().len(), 1);
}

#[tokio::test]
async fn a_client_over_its_spend_cap_makes_the_proxy_fetch_nothing() {
    let fake = FakeApc::default();
    let upstream = fake.clone().start().await;
    let (origin, hits) = origin().await;
    let dir = tempfile::tempdir().unwrap();
    let running = start(
        &upstream,
        &dir.path().join("tasks.db"),
        &[
            "--fetch-allowed-origins",
            &origin,
            "--fetch-allow-private",
            // One swap: its submit and the two polls it is priced with.
            "--aiphotocraft-spend-cap-per-hour",
            "3",
        ],
    )
    .await;
    let proxy = &running.proxy;
    let url = format!("{origin}/a.png");
    let (status, _, answer) = submit(proxy, "swapfacesameimage", by_url(&url)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(*hits.lock().unwrap(), 1);
    // The one swap of the hour is spent: the next is refused before any URL is read.
    let (status, _, answer) = submit(proxy, "swapfacesameimage", by_url(&url)).await;
    assert_eq!(status, 429, "{answer}");
    assert_eq!(answer["error"], "spend_cap_exceeded");
    assert_eq!(
        *hits.lock().unwrap(),
        1,
        "nothing fetched for a refused client"
    );
    assert_eq!(fake.submits().len(), 1);
}
