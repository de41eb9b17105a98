//! PiAPI served by the proxy alone (`common::alone`) against a fake PiAPI on loopback: the three
//! accepted (model, task_type) pairs, the index checks and the 2048 px limit, the proxy's own
//! `config` (webhook endpoint, fresh secret, `service_mode` from `PIAPI_SERVICE_MODE` only)
//! never shown to a browser, webhooks with their task's secret, polling when no webhook comes
//! (also after a restart), PiAPI's refusals and the spend cap in dollars. What every provider
//! does (a swap to its end, its stream, a replay, no secret shown or logged) is checked by
//! `every_provider.rs`.

mod common;

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use common::alone::{self, Alone, Running};
use common::client::{Submission, EVENT_TIME};
use common::deliver_with;
use common::recorder::Recorder;
use faceswap_core::piapi::PiApi;
use faceswap_core::provider::Adapter;
use faceswap_proxy::Config;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The operator's PiAPI key in these tests.
const KEY: &str = "piapi-key-5e4d3c2b1a-secret";

static ADAPTERS: [&dyn Adapter; 1] = [&PiApi];

// ---------------------------------------------------------------------------------------------
// The fake PiAPI: Create Task and Get Task, tasks echoing their config (secret included), as
// PiAPI's do; every call it gets is in `upstream`.

#[derive(Clone)]
struct FakePiApi {
    upstream: Recorder,
    tasks: Arc<Mutex<HashMap<String, Value>>>,
    /// The next submits' refusal: HTTP status and body.
    refusal: Arc<Mutex<Option<(u16, Value)>>>,
}

impl FakePiApi {
    async fn start() -> Self {
        Recorder::serve(|upstream| {
            let fake = FakePiApi {
                upstream,
                tasks: Arc::default(),
                refusal: Arc::default(),
            };
            let router = Router::new()
                .route("/api/v1/task", post(create_task))
                .route("/api/v1/task/{id}", get(get_task))
                .with_state(fake.clone());
            (router, fake)
        })
        .await
    }

    /// The body of the `index`-th Create Task.
    fn submitted(&self, index: usize) -> Value {
        self.upstream.sent_with(Method::POST)[index].json()
    }

    fn submit_count(&self) -> usize {
        self.upstream.sent_with(Method::POST).len()
    }

    /// Every Get Task: the task id and the `x-api-key`.
    fn polls(&self) -> Vec<(String, Option<String>)> {
        self.upstream
            .sent_with(Method::GET)
            .iter()
            .map(|sent| {
                let id = sent.path.trim_start_matches("/api/v1/task/").to_owned();
                (id, sent.header("x-api-key"))
            })
            .collect()
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

async fn create_task(State(fake): State<FakePiApi>, Json(body): Json<Value>) -> Response {
    let id = format!("{:08x}-task-{}", 0xfeed_u32, fake.submit_count());
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
) -> Result<Json<Value>, StatusCode> {
    let task = fake.tasks.lock().expect("lock").get(&id).cloned();
    task.map(|task| Json(json!({"code": 200, "data": task, "message": "success"})))
        .ok_or(StatusCode::NOT_FOUND)
}

// ---------------------------------------------------------------------------------------------
// The proxy and PiAPI's documented bodies.

/// A proxy serving PiAPI (with [`KEY`]) at `fake`, its tasks in `db`, with `flags`.
async fn start(fake: &FakePiApi, db: &std::path::Path, flags: &[&str]) -> Running {
    let alone = Alone {
        adapter: &PiApi,
        upstream: &fake.upstream.url,
        key: Some(KEY),
        db,
        defaults: &[],
    };
    alone::serve(alone, flags).await
}

/// Create Task with `body`.
fn create(body: Value) -> Submission {
    Submission::json("v1/task", body)
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

/// PiAPI's webhook `{"timestamp", "data": task}`, with `secret` in `x-webhook-secret`.
async fn webhook(endpoint: &str, secret: Option<&str>, task: &Value) -> u16 {
    let headers: Vec<(&str, &str)> = secret
        .map(|secret| ("x-webhook-secret", secret))
        .into_iter()
        .collect();
    let body = json!({"timestamp": 1_723_018_391, "data": task});
    deliver_with(endpoint, &headers, body).await
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
    let fake = FakePiApi::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start(&fake, &dir.path().join("tasks.db"), &[]).await;
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
        proxy.send_ok("piapi", &create(body)).await;
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
        .upstream
        .sent()
        .iter()
        .all(|sent| sent.header("x-api-key").as_deref() == Some(KEY)));

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
        let (status, answer) = proxy.answer("piapi", &create(body.clone())).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"], "invalid_parameter", "{answer}");
        assert_eq!(answer["field"], field, "{body}: {answer}");
    }
    assert_eq!(fake.submit_count(), 3, "nothing refused went upstream");
}

#[tokio::test]
async fn the_proxy_sets_the_config_and_no_browser_sees_it() {
    let fake = FakePiApi::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start(
        &fake,
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
    let (id, answer) = proxy.send_ok("piapi", &create(body)).await;
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
    proxy.send_ok("piapi", &create(face_swap())).await;
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
    let view = proxy.view("piapi", &id).await;
    assert!(!view.to_string().contains(&secret));
    let mut stream = proxy.stream("piapi", &id).await;
    let (_, first) = stream.next_event(EVENT_TIME).await.expect("event");
    assert!(!first.to_string().contains(&secret));

    // The completed task, delivered with the secret, still shows no config.
    let done = fake.task_with(&id, "completed");
    assert!(done.to_string().contains(&secret), "PiAPI echoes it");
    assert_eq!(webhook(endpoint, Some(&secret), &done).await, 200);
    let (_, last) = stream.next_event(EVENT_TIME).await.expect("event");
    assert_eq!(last["status"], "succeeded");
    assert!(!last.to_string().contains(&secret));
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
    let fake = FakePiApi::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start(
        &fake,
        &dir.path().join("tasks.db"),
        &["--piapi-poll-after-ms", "600000"],
    )
    .await;
    let proxy = &running.proxy;
    let (id, _) = proxy
        .send_ok("piapi", &create(multi_face_swap("0", "2")))
        .await;
    let (other, _) = proxy.send_ok("piapi", &create(face_swap())).await;
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
    let before = proxy.view("piapi", &id).await;

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
    assert_eq!(proxy.view("piapi", &id).await, before, "nothing changed");

    // Non-terminal updates, in either case, change nothing.
    for status in ["processing", "Staged", "PENDING"] {
        assert_eq!(
            webhook(&endpoint, Some(&secret), &fake.task_with(&id, status)).await,
            200
        );
    }
    assert_eq!(proxy.view("piapi", &id).await, before);
    let mut stream = proxy.stream("piapi", &id).await;
    stream.next_event(EVENT_TIME).await.expect("pending");

    assert_eq!(webhook(&endpoint, Some(&secret), &done).await, 200);
    let (_, event) = stream.next_event(EVENT_TIME).await.expect("result");
    assert_eq!(event["status"], "succeeded");
    assert_eq!(
        event["result_url"],
        format!("https://img.theapi.app/{id}.out")
    );
    let after = proxy.view("piapi", &id).await;
    // Duplicates and late failures change nothing.
    assert_eq!(webhook(&endpoint, Some(&secret), &done).await, 200);
    assert_eq!(
        webhook(&endpoint, Some(&secret), &fake.task_with(&id, "failed")).await,
        200
    );
    assert_eq!(proxy.view("piapi", &id).await, after);
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
    assert_eq!(proxy.view("piapi", &other).await["status"], "pending");
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
    let failed = proxy.view("piapi", &other).await;
    assert_eq!(failed["status"], "failed");
    assert!(
        failed["error"]
            .as_str()
            .is_some_and(|e| e.contains("face not found")),
        "{failed}"
    );
    assert!(fake.polls().is_empty(), "webhooks in time: no polls");
}

#[tokio::test]
async fn polling_completes_a_task_whose_webhooks_never_come() {
    let fake = FakePiApi::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start(
        &fake,
        &dir.path().join("tasks.db"),
        &["--piapi-poll-after-ms", "100", "--poll-interval-ms", "50"],
    )
    .await;
    let proxy = &running.proxy;
    let (id, _) = proxy.send_ok("piapi", &create(video_face_swap())).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(proxy.view("piapi", &id).await["status"], "pending");
    fake.set_status(&id, "processing");
    tokio::time::sleep(Duration::from_millis(200)).await;
    fake.set_status(&id, "COMPLETED");
    let view = proxy.follow("piapi", &id).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    assert_eq!(
        view["result_url"],
        format!("https://img.theapi.app/{id}.out")
    );
    let polls = fake.polls();
    assert!(
        polls.len() >= 2,
        "polled while running, then done: {polls:?}"
    );
    assert!(polls
        .iter()
        .all(|(task, key)| *task == id && key.as_deref() == Some(KEY)));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.polls().len(), polls.len(), "no poll after the end");
}

#[tokio::test]
async fn polling_resumes_after_a_restart() {
    let fake = FakePiApi::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("tasks.db");
    let first = start(
        &fake,
        &db,
        &["--piapi-poll-after-ms", "300", "--poll-interval-ms", "50"],
    )
    .await;
    let (id, _) = first.proxy.send_ok("piapi", &create(face_swap())).await;
    drop(first);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        fake.polls().is_empty(),
        "the first proxy stopped before polling"
    );
    fake.set_status(&id, "completed");

    let second = start(
        &fake,
        &db,
        &["--piapi-poll-after-ms", "300", "--poll-interval-ms", "50"],
    )
    .await;
    let view = second.proxy.follow("piapi", &id).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    assert_eq!(
        view["result_url"],
        format!("https://img.theapi.app/{id}.out")
    );
    assert_eq!(view["cost"], json!({"amount": 0.01, "unit": "usd"}));
    assert!(!fake.polls().is_empty());
}

#[tokio::test]
async fn piapis_refusals_keep_their_meaning() {
    let fake = FakePiApi::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start(&fake, &dir.path().join("tasks.db"), &[]).await;
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
        let (got, answer) = proxy.answer("piapi", &create(face_swap())).await;
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
    let fake = FakePiApi::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start(
        &fake,
        &dir.path().join("tasks.db"),
        &["--piapi-spend-cap-per-hour", "0.04"],
    )
    .await;
    let proxy = &running.proxy;
    let (id, _) = proxy
        .send_ok("piapi", &create(multi_face_swap("0", "0")))
        .await;
    assert_eq!(
        proxy.view("piapi", &id).await["cost"],
        json!({"amount": 0.015, "unit": "usd"})
    );
    proxy.send_ok("piapi", &create(face_swap())).await;
    // 0.025 spent: a 4 s video (0.04) is over the cap, another face swap (0.035) is not.
    let (status, answer) = proxy.answer("piapi", &create(video_face_swap())).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (429, Some("spend_cap_exceeded")),
        "{answer}"
    );
    proxy.send_ok("piapi", &create(face_swap())).await;
    let (status, _) = proxy.answer("piapi", &create(face_swap())).await;
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
    let fake = FakePiApi::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start(&fake, &dir.path().join("tasks.db"), &[]).await;
    let proxy = &running.proxy;
    let wide = proxy.upload("image/png", png_header(2049, 1000)).await;
    let tall = proxy.upload("image/png", png_header(1000, 2049)).await;
    let fits = proxy.upload("image/png", png_header(2048, 2048)).await;
    for (field, url) in [("input.target_image", &wide), ("input.swap_image", &tall)] {
        let mut body = face_swap();
        body["input"][field.trim_start_matches("input.")] = json!(url);
        let (status, answer) = proxy.answer("piapi", &create(body)).await;
        assert_eq!(
            (status, answer["error"].as_str(), answer["field"].as_str()),
            (400, Some("invalid_parameter"), Some(field)),
            "{answer}"
        );
    }
    let mut video = video_face_swap();
    video["input"]["swap_image"] = json!(wide);
    let (status, answer) = proxy.answer("piapi", &create(video)).await;
    assert_eq!(
        (status, answer["field"].as_str()),
        (400, Some("input.swap_image")),
        "{answer}"
    );
    assert_eq!(fake.submit_count(), 0, "nothing refused went upstream");
    let mut body = face_swap();
    body["input"]["target_image"] = json!(fits);
    proxy.send_ok("piapi", &create(body)).await;
    assert_eq!(fake.submit_count(), 1);
}
