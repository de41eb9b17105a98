//! AIPhotoCraft served by the proxy alone (`common::alone`) through the provider seam, with no
//! AIPhotoCraft code in the proxy: against a fake AIPhotoCraft on loopback (every call it gets
//! is recorded), the four multipart routes, the key in `X-Api-Key`, validation before anything
//! is sent, polling task-status to the result (the page's status-less answer, unreadable
//! answers, also after a restart), the provider's refusals with `provider_code`, its rate-limit
//! budget, the spend cap in requests, URL inputs read only from the proxy's own uploads and
//! allowed origins (files-only upstream); and the built-in sandbox's one-image swap and its
//! no-face refusal. What every provider does (a swap to its end, its stream, a replay, no secret
//! shown or logged) is checked by `every_provider.rs`.
#![allow(clippy::unwrap_used)]

mod common;

use axum::extract::{FromRequest, Multipart, Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use common::alone::{self, Alone, Running};
use common::client::{Field, Submission};
use common::every;
use common::logs::log_text;
use common::media::test_media;
use common::recorder::{Recorder, Sent};
use common::{Proxy, JPEG, PNG};
use faceswap_core::aiphotocraft::AiPhotoCraft;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The operator's AIPhotoCraft key in these tests.
const KEY: &str = "apc-key-0a1b2c3d4e-secret";

/// The provider's id.
const ID: &str = "aiphotocraft";

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
    /// The submit `sent`, its form read back.
    async fn read(sent: &Sent) -> Self {
        let request = axum::http::Request::builder()
            .header("content-type", sent.header("content-type").unwrap())
            .body(axum::body::Body::from(sent.body.clone()))
            .unwrap();
        let mut multipart = Multipart::from_request(request, &()).await.unwrap();
        let mut parts = Vec::new();
        while let Some(field) = multipart.next_field().await.unwrap() {
            let name = field.name().unwrap_or_default().to_owned();
            let file = field.file_name().map(str::to_owned);
            parts.push((name, file, field.bytes().await.unwrap().to_vec()));
        }
        let op = sent.path.trim_start_matches("/api/faceswap/").to_owned();
        Submit {
            op,
            key: sent.header("x-api-key"),
            parts,
        }
    }

    fn part(&self, name: &str) -> &Received {
        self.parts.iter().find(|p| p.0 == name).unwrap()
    }

    fn names(&self) -> Vec<&str> {
        self.parts.iter().map(|p| p.0.as_str()).collect()
    }
}

/// Task id → (status, result URL).
type Tasks = HashMap<String, (String, Option<String>)>;

#[derive(Clone)]
struct FakeApc {
    upstream: Recorder,
    /// The tasks it started.
    tasks: Arc<Mutex<Tasks>>,
    /// The next submits' refusal: HTTP status and body.
    refusal: Arc<Mutex<Option<(u16, Value)>>>,
    /// `X-RateLimit-Remaining` and `X-RateLimit-Reset` sent with every answer, when set.
    rate: Arc<Mutex<Option<(u64, u64)>>>,
}

impl FakeApc {
    async fn start() -> Self {
        Recorder::serve(|upstream| {
            let fake = FakeApc {
                upstream,
                tasks: Arc::default(),
                refusal: Arc::default(),
                rate: Arc::default(),
            };
            let router = Router::new()
                .route("/api/faceswap/{op}", post(fake_submit))
                .route("/api/task-status/{id}", get(fake_status))
                .with_state(fake.clone());
            (router, fake)
        })
        .await
    }

    /// Every submit, its form read back.
    async fn submits(&self) -> Vec<Submit> {
        let mut submits = Vec::new();
        for sent in self.upstream.sent_with(Method::POST) {
            submits.push(Submit::read(&sent).await);
        }
        submits
    }

    fn submit_count(&self) -> usize {
        self.upstream.sent_with(Method::POST).len()
    }

    /// The task id of every task-status call.
    fn polls(&self) -> Vec<String> {
        self.upstream
            .sent_with(Method::GET)
            .iter()
            .map(|sent| sent.path.trim_start_matches("/api/task-status/").to_owned())
            .collect()
    }

    /// Every call the fake answered, submits and polls.
    fn calls(&self) -> usize {
        self.upstream.count()
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

async fn fake_submit(State(fake): State<FakeApc>) -> Response {
    let id = format!("apc-{}", fake.submit_count());
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
// The proxy and AIPhotoCraft's documented forms.

/// A proxy serving AIPhotoCraft (with [`KEY`]) at `fake`, its tasks in `db`, with `flags`;
/// polled every 50 ms from the submit on unless `flags` say otherwise.
async fn start(fake: &FakeApc, db: &std::path::Path, flags: &[&str]) -> Running {
    let alone = Alone {
        adapter: &AiPhotoCraft,
        upstream: &fake.upstream.url,
        key: Some(KEY),
        db,
        defaults: &[
            ("--poll-interval-ms", "50"),
            ("--aiphotocraft-poll-after-ms", "0"),
        ],
    };
    alone::serve(alone, flags).await
}

/// A form's fields.
type Form = Vec<(&'static str, Field)>;

/// The form of operation `op` (`basicswap`, ...) sent: status, headers, JSON body.
async fn submit(proxy: &Proxy, op: &str, form: Form) -> (u16, HeaderMap, Value) {
    let route = format!("faceswap/{op}");
    let answer = proxy.send(ID, &Submission::form(route, form), None).await;
    (answer.status, answer.headers.clone(), answer.json())
}

/// An upload's form: a JPEG in `file`.
fn upload_form() -> reqwest::multipart::Form {
    let part = reqwest::multipart::Part::bytes(JPEG).file_name("me.jpg");
    reqwest::multipart::Form::new().part("file", part)
}

fn same_image() -> Form {
    vec![("srcimage", Field::file("two.png", PNG))]
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_four_routes_forward_the_providers_form_with_the_key() {
    let fake = FakeApc::start().await;
    let dir = tempfile::tempdir().unwrap();
    let running = start(&fake, &dir.path().join("tasks.db"), &[]).await;
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
            vec![
                ("srcimage", Field::file("a.png", PNG)),
                ("targetimage", Field::file("b.jpg", JPEG)),
                ("enhance", Field::text("TRUE")),
                ("webhook", Field::text("https://evil.example/")),
            ],
        ),
        (
            "faceswap2",
            vec![
                ("srcimage", Field::file("a.png", PNG)),
                ("targetimage", Field::file("b.png", PNG)),
                ("swap_index", Field::text("0,1")),
            ],
        ),
        (
            "swap1from2",
            vec![
                ("srcimage", Field::file("a.png", PNG)),
                ("targetimage1", Field::file("b.jpg", JPEG)),
                ("targetimage2", Field::file("c.png", PNG)),
            ],
        ),
        ("swapfacesameimage", same_image()),
    ];
    for (op, form) in forms {
        let (status, _, answer) = submit(proxy, op, form).await;
        assert_eq!(status, 200, "{op}: {answer}");
        assert!(answer["data"]["task_id"].is_string(), "{answer}");
    }
    let sent = fake.submits().await;
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
    let fake = FakeApc::start().await;
    let dir = tempfile::tempdir().unwrap();
    let running = start(&fake, &dir.path().join("tasks.db"), &[]).await;
    let proxy = &running.proxy;
    let cases = [
        (
            "basicswap",
            vec![("srcimage", Field::file("a.png", PNG))],
            "targetimage",
        ),
        (
            "basicswap",
            vec![
                ("srcimage", Field::file("a.png", PNG)),
                ("targetimage", Field::file("b.png", PNG)),
                ("enhance", Field::text("maybe")),
            ],
            "enhance",
        ),
        (
            "faceswap2",
            vec![
                ("srcimage", Field::file("a.png", PNG)),
                ("targetimage", Field::file("b.png", PNG)),
                ("swap_index", Field::text("1,1")),
            ],
            "swap_index",
        ),
        (
            "swap1from2",
            vec![
                ("srcimage", Field::file("a.png", PNG)),
                ("targetimage1", Field::file("b.png", PNG)),
            ],
            "targetimage2",
        ),
        (
            "swapfacesameimage",
            vec![("srcimage", Field::file("e.png", Vec::new()))],
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
    let fake = FakeApc::start().await;
    let dir = tempfile::tempdir().unwrap();
    let running = start(&fake, &dir.path().join("tasks.db"), &[]).await;
    let proxy = &running.proxy;
    let (status, _, answer) = submit(proxy, "swapfacesameimage", same_image()).await;
    assert_eq!(status, 200, "{answer}");
    let id = answer["data"]["task_id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(proxy.view(ID, &id).await["status"], "pending");
    assert!(!fake.polls().is_empty(), "polled while pending");
    fake.set_status(&id, "Processing", None);
    tokio::time::sleep(Duration::from_millis(200)).await;
    fake.set_status(
        &id,
        "COMPLETED",
        Some("https://cdn.aiphotocraft.example/r.png"),
    );
    let view = proxy.follow(ID, &id).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    assert_eq!(view["result_url"], "https://cdn.aiphotocraft.example/r.png");
    assert_eq!(
        view["cost"],
        json!({"amount": 3.0, "unit": "requests"}),
        "the submit and a typical task's polls"
    );
    let polls = fake.polls();
    assert!(polls.iter().all(|polled| *polled == id));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.polls().len(), polls.len(), "no poll after the end");
}

#[tokio::test]
async fn the_pages_task_status_without_a_status_is_a_success() {
    let fake = FakeApc::start().await;
    let dir = tempfile::tempdir().unwrap();
    let running = start(&fake, &dir.path().join("tasks.db"), &[]).await;
    let proxy = &running.proxy;
    let (status, _, answer) = submit(proxy, "swapfacesameimage", same_image()).await;
    assert_eq!(status, 200, "{answer}");
    let id = answer["data"]["task_id"].as_str().unwrap().to_owned();
    fake.set_status(
        &id,
        "page",
        Some("https://aiapi.aiphotocraft.com/results/swapped_image.jpg"),
    );
    let view = proxy.follow(ID, &id).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    assert_eq!(
        view["result_url"],
        "https://aiapi.aiphotocraft.com/results/swapped_image.jpg"
    );
}

#[tokio::test]
async fn unreadable_status_answers_fail_the_task_after_three_in_a_row() {
    let fake = FakeApc::start().await;
    let dir = tempfile::tempdir().unwrap();
    let running = start(&fake, &dir.path().join("tasks.db"), &[]).await;
    let proxy = &running.proxy;
    let (status, _, answer) = submit(proxy, "swapfacesameimage", same_image()).await;
    assert_eq!(status, 200, "{answer}");
    let id = answer["data"]["task_id"].as_str().unwrap().to_owned();
    fake.set_status(&id, "unreadable", None);
    let view = proxy.follow(ID, &id).await;
    assert_eq!(view["status"], "failed", "{view}");
    let error = view["error"].as_str().unwrap();
    assert!(error.contains("3 times in a row"), "{error}");
    assert!(error.contains("queue"), "says what came back: {error}");
    let polls = fake.polls().len();
    assert!(
        polls <= 4,
        "failed after a few polls, not at the deadline: {polls}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.polls().len(), polls, "no poll after the end");
}

#[tokio::test]
async fn a_readable_answer_between_unreadable_ones_starts_the_count_again() {
    let fake = FakeApc::start().await;
    let dir = tempfile::tempdir().unwrap();
    let running = start(&fake, &dir.path().join("tasks.db"), &[]).await;
    let proxy = &running.proxy;
    let (status, _, answer) = submit(proxy, "swapfacesameimage", same_image()).await;
    assert_eq!(status, 200, "{answer}");
    let id = answer["data"]["task_id"].as_str().unwrap().to_owned();
    let polls = || fake.polls().len();
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
        proxy.view(ID, &id).await["status"],
        "pending",
        "two in a row, not three"
    );
}

#[tokio::test]
async fn the_first_poll_waits_for_a_typical_tasks_time() {
    let fake = FakeApc::start().await;
    let dir = tempfile::tempdir().unwrap();
    let running = start(
        &fake,
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
    assert!(fake.polls().is_empty(), "not polled before 700 ms");
    fake.set_status(&id, "page", Some("https://cdn.aiphotocraft.example/r.png"));
    let view = proxy.follow(ID, &id).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    assert!(
        submitted.elapsed() < Duration::from_secs(3),
        "polled after the operator's 700 ms, not a default typical time"
    );
    assert_eq!(fake.polls().len(), 1, "one poll found the result");
}

#[tokio::test]
async fn polling_resumes_after_a_restart() {
    let fake = FakeApc::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tasks.db");
    let slow = ["--poll-interval-ms", "400"];
    let first = start(&fake, &db, &slow).await;
    let (status, _, answer) = submit(&first.proxy, "swapfacesameimage", same_image()).await;
    assert_eq!(status, 200);
    let id = answer["data"]["task_id"].as_str().unwrap().to_owned();
    drop(first);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        fake.polls().is_empty(),
        "the first proxy stopped before polling"
    );
    fake.set_status(
        &id,
        "completed",
        Some("https://cdn.aiphotocraft.example/late.png"),
    );
    let second = start(&fake, &db, &[]).await;
    let view = &second.proxy.follow(ID, &id).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    assert_eq!(
        view["result_url"],
        "https://cdn.aiphotocraft.example/late.png"
    );
    assert!(!fake.polls().is_empty());
}

#[tokio::test]
async fn refusals_reach_the_browser_with_the_providers_code() {
    let fake = FakeApc::start().await;
    let dir = tempfile::tempdir().unwrap();
    let running = start(&fake, &dir.path().join("tasks.db"), &[]).await;
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
    let fake = FakeApc::start().await;
    let dir = tempfile::tempdir().unwrap();
    let running = start(
        &fake,
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
        fake.submit_count(),
        2,
        "the capped submit never went upstream"
    );
}

#[tokio::test]
async fn the_sandbox_swaps_end_to_end_and_its_no_face_reaches_the_browser() {
    let sandboxed = every::start().await;
    let proxy = &sandboxed.proxy;
    let two = Field::file("two.png", test_media("two-faces.png"));
    let (status, headers, answer) =
        submit(proxy, "swapfacesameimage", vec![("srcimage", two)]).await;
    assert_eq!(status, 200, "{answer}");
    assert!(
        !headers.contains_key("x-ratelimit-remaining"),
        "the provider's budget is the operator's business"
    );
    let id = answer["data"]["task_id"].as_str().unwrap().to_owned();
    let view = proxy.follow(ID, &id).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    let result = view["result_url"].as_str().unwrap();
    assert!(result.starts_with(&sandboxed.sandbox_url), "{result}");

    // A photo without a face: the sandbox's no_face_detected, named as the provider names it.
    let (status, _, answer) = submit(
        proxy,
        "basicswap",
        vec![
            ("srcimage", Field::file("tiny.png", PNG)),
            (
                "targetimage",
                Field::file("camera.png", test_media("camera.png")),
            ),
        ],
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
    let fake = FakeApc::start().await;
    let dir = tempfile::tempdir().unwrap();
    // Polls at once: a poll made while the budget is spent would show in the fake's count.
    let running = start(&fake, &dir.path().join("tasks.db"), &[]).await;
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
    assert_eq!(proxy.view(ID, &id).await["status"], "pending");

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
    assert_eq!(fake.submit_count(), 2);
    let view = proxy.follow(ID, &id).await;
    assert_eq!(view["status"], "succeeded", "{view}");
}

#[tokio::test]
async fn the_providers_own_429_is_rate_limited_and_remembered() {
    let fake = FakeApc::start().await;
    let dir = tempfile::tempdir().unwrap();
    let running = start(&fake, &dir.path().join("tasks.db"), &[]).await;
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
    assert_eq!(fake.submit_count(), 1, "the second never went upstream");
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
    vec![("srcimage", Field::text(url.to_owned()))]
}

#[tokio::test]
async fn urls_are_read_only_from_allowed_public_origins() {
    let fake = FakeApc::start().await;
    let (origin, hits) = origin().await;
    let dir = tempfile::tempdir().unwrap();
    let port = origin.rsplit(':').next().unwrap().to_owned();
    let listed = format!(
        "{origin},http://localhost:{port},https://localhost:{port},https://127.0.0.1:{port},\
         https://[::ffff:127.0.0.1]:{port},https://img.example"
    );
    // Listed, but loopback (also by name, after resolution) and plain http: refused by default.
    let running = start(
        &fake,
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
    let fake = FakeApc::start().await;
    let (origin, hits) = origin().await;
    let dir = tempfile::tempdir().unwrap();
    let listed = format!("{origin},http://169.254.169.254");
    let running = start(
        &fake,
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
    let sent = fake.submits().await;
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
        fake.submit_count(),
        1,
        "only the readable input went upstream"
    );
}

#[tokio::test]
async fn the_proxys_own_uploads_are_read_from_disk() {
    let fake = FakeApc::start().await;
    let dir = tempfile::tempdir().unwrap();
    let running = start(&fake, &dir.path().join("tasks.db"), &[]).await;
    let proxy = &running.proxy;
    let uploaded: Value = proxy
        .http
        .post(format!("{}/api/uploads", proxy.url))
        .multipart(upload_form())
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
    assert_eq!(fake.submits().await[0].part("srcimage").2, JPEG);

    let missing = format!("{}/uploads/{}.png", proxy.url, "0".repeat(32));
    let (status, _, answer) = submit(proxy, "swapfacesameimage", by_url(&missing)).await;
    assert_eq!((status, answer["field"].as_str()), (400, Some("srcimage")));
    let escape = format!("{}/uploads/../tasks.db", proxy.url);
    let (status, _, answer) = submit(proxy, "swapfacesameimage", by_url(&escape)).await;
    assert_eq!((status, answer["field"].as_str()), (400, Some("srcimage")));
    assert_eq!(fake.submit_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_stored_in_postgresql_is_read_by_another_proxy() {
    let Some(server) = common::pg::server() else {
        return;
    };
    let database = server.database().await;
    let fake = FakeApc::start().await;
    let dir = tempfile::tempdir().unwrap();
    let a = start(
        &fake,
        &dir.path().join("a.db"),
        &["--database-url", &database],
    )
    .await;
    // B shares A's database and public address (as behind a balancer), not its disk.
    let b = start(
        &fake,
        &dir.path().join("b.db"),
        &["--database-url", &database, "--public-url", &a.proxy.url],
    )
    .await;
    let uploaded: Value = a
        .proxy
        .http
        .post(format!("{}/api/uploads", a.proxy.url))
        .multipart(upload_form())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = uploaded["url"].as_str().unwrap();
    let (status, _, answer) = submit(&b.proxy, "swapfacesameimage", by_url(url)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(fake.submits().await[0].part("srcimage").2, JPEG);
    let missing = format!("{}/uploads/{}.jpg", a.proxy.url, "0".repeat(32));
    let (status, _, answer) = submit(&b.proxy, "swapfacesameimage", by_url(&missing)).await;
    assert_eq!((status, answer["field"].as_str()), (400, Some("srcimage")));
    assert_eq!(fake.submit_count(), 1);
}

#[tokio::test]
async fn a_client_over_its_spend_cap_makes_the_proxy_fetch_nothing() {
    let fake = FakeApc::start().await;
    let (origin, hits) = origin().await;
    let dir = tempfile::tempdir().unwrap();
    let running = start(
        &fake,
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
    assert_eq!(fake.submit_count(), 1);
}
