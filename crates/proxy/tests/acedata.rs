//! AceData served by the proxy alone (`common::alone`) against a fake AceData on loopback: the
//! proxy's `callback_url` in place of the browser's, callbacks that end a task once and only on
//! their token, the synchronous answer stored as succeeded at once with its `result_info` (with
//! a call allowed to take longer than the proxy's upstream timeout), AceData's refusals with
//! their code, the upstream timeout, bad input kept from upstream, and the spend cap in
//! requests. What every provider does (a swap to its end, its stream, a replay, no secret shown
//! or logged) is checked by `every_provider.rs`.

mod common;

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use common::alone::{self, Alone, Running};
use common::client::{Submission, EVENT_TIME};
use common::deliver;
use common::recorder::{Recorder, Sent};
use faceswap_core::acedata::AceData;
use faceswap_core::provider::Adapter;
use faceswap_proxy::Config;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The operator's AceData key in these tests.
const KEY: &str = "acedata-key-0a9b8c7d6e-secret";

static ADAPTERS: [&dyn Adapter; 1] = [&AceData];

// ---------------------------------------------------------------------------------------------
// The fake AceData: `POST /face/swap` answers `{task_id}` when a `callback_url` came, else the
// finished image, as AceData does; every call it gets is in `upstream`.

#[derive(Clone)]
struct FakeAceData {
    upstream: Recorder,
    /// The next submits' refusal: HTTP status and body.
    refusal: Arc<Mutex<Option<(u16, Value)>>>,
    /// How long each answer takes.
    delay: Arc<Mutex<Duration>>,
    /// Answer the finished image even when a callback URL came.
    always_finished: Arc<Mutex<bool>>,
}

impl FakeAceData {
    async fn start() -> Self {
        Recorder::serve(|upstream| {
            let fake = FakeAceData {
                upstream,
                refusal: Arc::default(),
                delay: Arc::default(),
                always_finished: Arc::default(),
            };
            let router = Router::new()
                .route("/face/swap", post(face_swap))
                .with_state(fake.clone());
            (router, fake)
        })
        .await
    }

    /// The `index`-th submit.
    fn submitted(&self, index: usize) -> Sent {
        self.upstream.sent_with(Method::POST)[index].clone()
    }

    fn submit_count(&self) -> usize {
        self.upstream.sent_with(Method::POST).len()
    }

    fn refuse(&self, status: u16, code: &str, message: &str) {
        *self.refusal.lock().expect("lock") = Some((
            status,
            json!({"success": false, "error": {"code": code, "message": message}, "trace_id": "tr-42"}),
        ));
    }
}

async fn face_swap(State(fake): State<FakeAceData>, Json(body): Json<Value>) -> Response {
    let task_id = format!("ace-{}", fake.submit_count());
    let delay = *fake.delay.lock().expect("lock");
    tokio::time::sleep(delay).await;
    if let Some((status, answer)) = fake.refusal.lock().expect("lock").clone() {
        let mut response =
            (StatusCode::from_u16(status).expect("status"), Json(answer)).into_response();
        if status == 429 {
            response
                .headers_mut()
                .insert("retry-after", "17".parse().expect("header"));
        }
        return response;
    }
    let finished =
        *fake.always_finished.lock().expect("lock") || body.get("callback_url").is_none();
    if finished {
        Json(
            json!({"image_url": format!("https://cdn.acedata.example/{task_id}.png"),
            "image_width": 512, "image_height": 640, "image_size": 70_000, "task_id": task_id}),
        )
        .into_response()
    } else {
        Json(json!({ "task_id": task_id })).into_response()
    }
}

// ---------------------------------------------------------------------------------------------
// The proxy and AceData's documented bodies.

/// A proxy serving AceData (with [`KEY`]) at `fake`, with `flags`; its folder is `dir`.
async fn start(fake: &FakeAceData, dir: &tempfile::TempDir, flags: &[&str]) -> Running {
    let alone = Alone {
        adapter: &AceData,
        upstream: &fake.upstream.url,
        key: Some(KEY),
        db: &dir.path().join("tasks.db"),
        defaults: &[],
    };
    alone::serve(alone, flags).await
}

/// `POST /face/swap` with `body`.
fn swap(body: Value) -> Submission {
    Submission::json("face/swap", body)
}

fn swap_body() -> Value {
    json!({"source_image_url": "https://img.example/face.jpg",
        "target_image_url": "https://img.example/picture.png"})
}

/// AceData's callback of a finished swap.
fn succeeded(task_id: &str) -> Value {
    json!({"success": true, "task_id": task_id,
        "image_url": format!("https://cdn.acedata.example/{task_id}.png"),
        "image_width": 512, "image_height": 640, "image_size": 70_000})
}

/// The callback URL the proxy sent with the `index`-th submit.
fn hook_of(fake: &FakeAceData, index: usize) -> String {
    fake.submitted(index).json()["callback_url"]
        .as_str()
        .expect("callback_url")
        .to_owned()
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn callbacks_end_a_task_once_and_only_on_its_token() {
    let fake = FakeAceData::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start(&fake, &dir, &[]).await;
    let proxy = &running.proxy;

    let config: Value = proxy.get("/api/config").await.json().await.expect("config");
    let providers = config["providers"].as_array().expect("providers");
    assert_eq!(providers.len(), 1);
    let acedata = &providers[0];
    assert_eq!(
        (&acedata["id"], &acedata["mode"], &acedata["operations"]),
        (&json!("acedata"), &json!("live"), &json!(["faceSwap"]))
    );
    assert_eq!(acedata["client"], "AceDataClient");

    let mut body = swap_body();
    body["callback_url"] = json!("https://evil.example/hook");
    body["timeout"] = json!(90);
    let (id, answer) = proxy.send_ok("acedata", &swap(body.clone())).await;
    assert_eq!(answer, json!({ "task_id": id }));

    // The proxy's callback URL and key went upstream; the browser's callback URL did not.
    let submitted = fake.submitted(0);
    assert_eq!(
        submitted.header("authorization"),
        Some(format!("Bearer {KEY}"))
    );
    let sent = submitted.json();
    let hook = hook_of(&fake, 0);
    assert!(
        hook.starts_with(&format!("{}/hooks/acedata/", proxy.url)),
        "{hook}"
    );
    assert!(!sent.to_string().contains("evil.example"), "{sent}");
    assert_eq!(
        (
            &sent["source_image_url"],
            &sent["target_image_url"],
            &sent["timeout"]
        ),
        (
            &body["source_image_url"],
            &body["target_image_url"],
            &json!(90)
        )
    );

    let view = proxy.view("acedata", &id).await;
    assert_eq!(view["status"], "pending");
    assert_eq!(view["cost"], json!({"amount": 1.0, "unit": "requests"}));

    // Forged callbacks change nothing: another token, or this token about another task.
    let forged = format!("{}/hooks/acedata/{}", proxy.url, "ab".repeat(32));
    assert_eq!(deliver(&forged, succeeded(&id)).await, 404);
    let other_provider = hook.replace("/hooks/acedata/", "/hooks/piapi/");
    assert_eq!(deliver(&other_provider, succeeded(&id)).await, 404);
    assert_eq!(deliver(&hook, succeeded("ace-other")).await, 404);
    assert_eq!(proxy.view("acedata", &id).await, view, "nothing changed");

    // The real callback ends the task (its stream's end is every_provider.rs's).
    assert_eq!(deliver(&hook, succeeded(&id)).await, 200);
    let done = proxy.view("acedata", &id).await;
    assert_eq!(done["status"], "succeeded");
    assert_eq!(
        done["result_url"],
        format!("https://cdn.acedata.example/{id}.png")
    );

    // A duplicate, or a later failure, changes nothing.
    assert_eq!(deliver(&hook, succeeded(&id)).await, 200);
    let failure = json!({"success": false, "task_id": id,
        "error": {"code": "api_error", "message": "late"}});
    assert_eq!(deliver(&hook, failure).await, 200);
    assert_eq!(proxy.view("acedata", &id).await, done);

    // A failed task keeps AceData's reason.
    let (second, _) = proxy.send_ok("acedata", &swap(swap_body())).await;
    let second_hook = hook_of(&fake, 1);
    assert_ne!(second_hook, hook, "a token per task");
    let failure = json!({"success": false, "task_id": second,
        "error": {"code": "api_error", "message": "no face found in source_image_url"}});
    assert_eq!(deliver(&second_hook, failure).await, 200);
    let failed = proxy.view("acedata", &second).await;
    assert_eq!(failed["status"], "failed");
    assert!(failed["error"]
        .as_str()
        .expect("error")
        .contains("no face found"));

    // An answer that already carries the image finishes the task at once.
    *fake.always_finished.lock().expect("lock") = true;
    let (third, answer) = proxy.send_ok("acedata", &swap(swap_body())).await;
    assert!(answer["image_url"].is_string(), "{answer}");
    let view = proxy.view("acedata", &third).await;
    assert_eq!(view["status"], "succeeded");
    assert_eq!(
        view["result_url"],
        format!("https://cdn.acedata.example/{third}.png")
    );
}

#[tokio::test]
async fn a_synchronous_answer_is_stored_as_succeeded_at_once() {
    let fake = FakeAceData::start().await;
    *fake.delay.lock().expect("lock") = Duration::from_millis(2500);
    let dir = tempfile::tempdir().expect("tempdir");
    // AceData's answer takes longer than the proxy's upstream timeout: a synchronous call may.
    let running = start(
        &fake,
        &dir,
        &[
            "--acedata-delivery",
            "synchronous",
            "--upstream-timeout-secs",
            "1",
        ],
    )
    .await;
    let proxy = &running.proxy;

    let mut body = swap_body();
    body["callback_url"] = json!("https://evil.example/hook");
    body["timeout"] = json!(30);
    let started = Instant::now();
    let (id, answer) = proxy.send_ok("acedata", &swap(body.clone())).await;
    assert!(started.elapsed() >= Duration::from_millis(2500));
    assert_eq!(
        answer["image_url"],
        format!("https://cdn.acedata.example/{id}.png")
    );
    assert_eq!(answer["image_width"], 512);
    let sent = fake.submitted(0).json();
    assert!(sent.get("callback_url").is_none(), "{sent}");
    assert_eq!(sent["timeout"], 30);

    let view = proxy.view("acedata", &id).await;
    assert_eq!(view["status"], "succeeded");
    assert_eq!(view["result_url"], answer["image_url"]);
    assert_eq!(
        view["result_info"],
        json!({"width": 512, "height": 640, "size": 70_000}),
        "the answer's metadata reaches the task view"
    );
    let mut stream = proxy.stream("acedata", &id).await;
    let (_, first) = stream.next_event(EVENT_TIME).await.expect("event");
    assert_eq!(first["status"], "succeeded");
    assert_eq!(first["result_url"], answer["image_url"]);
    assert!(stream.next_event(EVENT_TIME).await.is_none());
}

#[tokio::test]
async fn the_documented_callback_without_success_ends_the_task_with_its_metadata() {
    let fake = FakeAceData::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start(&fake, &dir, &[]).await;
    let proxy = &running.proxy;
    let (id, _) = proxy.send_ok("acedata", &swap(swap_body())).await;
    let hook = hook_of(&fake, 0);
    // "POST JSON, which also includes the task_id field, and the other fields are similar":
    // the answer's fields, no `success`.
    let documented = json!({"image_url": format!("https://cdn.acedata.example/{id}.png"),
        "image_width": 1024, "image_height": 768, "image_size": 183_552, "task_id": id});
    assert_eq!(deliver(&hook, documented.clone()).await, 200);
    let view = proxy.view("acedata", &id).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    assert_eq!(view["result_url"], documented["image_url"]);
    assert_eq!(
        view["result_info"],
        json!({"width": 1024, "height": 768, "size": 183_552})
    );

    // An error object, without `success`, fails the task with AceData's code.
    let (second, _) = proxy.send_ok("acedata", &swap(swap_body())).await;
    let hook = hook_of(&fake, 1);
    let failure = json!({"task_id": second,
        "error": {"code": "api_error", "message": "no face in source_image_url"}});
    assert_eq!(deliver(&hook, failure).await, 200);
    let view = proxy.view("acedata", &second).await;
    assert_eq!(view["status"], "failed", "{view}");
    assert_eq!(view["result_info"], Value::Null);
    let error = view["error"].as_str().expect("error");
    assert!(error.starts_with("api_error"), "{error}");
}

#[tokio::test]
async fn a_slow_answer_with_a_callback_is_an_upstream_timeout() {
    let fake = FakeAceData::start().await;
    *fake.delay.lock().expect("lock") = Duration::from_secs(3);
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start(&fake, &dir, &["--upstream-timeout-secs", "1"]).await;
    let started = Instant::now();
    let (status, answer) = running.proxy.answer("acedata", &swap(swap_body())).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (504, Some("upstream_timeout")),
        "{answer}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(2900),
        "the proxy's timeout, not AceData's answer"
    );
    assert_eq!(fake.submit_count(), 1);
}

#[tokio::test]
async fn acedatas_refusals_keep_their_meaning_and_code() {
    let fake = FakeAceData::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start(&fake, &dir, &[]).await;
    let proxy = &running.proxy;
    for (status, code, error, http) in [
        (403, "forbidden", "forbidden", 403),
        (401, "invalid_token", "upstream_error", 502),
        // The page: "Bad request, possibly due to missing or invalid parameters".
        (400, "token_mismatched", "invalid_parameter", 400),
        (400, "api_not_implemented", "invalid_parameter", 400),
        (400, "bad_request", "invalid_parameter", 400),
    ] {
        fake.refuse(status, code, &format!("{code}: token {KEY} refused"));
        let (got, answer) = proxy.answer("acedata", &swap(swap_body())).await;
        assert_eq!(
            (got, answer["error"].as_str()),
            (http, Some(error)),
            "{code}: {answer}"
        );
        assert_eq!(answer["provider_code"], code, "{answer}");
        assert!(!answer.to_string().contains(KEY), "{answer}");
    }
    fake.refuse(429, "too_many_requests", "slow down");
    let answer = proxy.send("acedata", &swap(swap_body()), None).await;
    let (got, headers, answer) = (answer.status, answer.headers.clone(), answer.json());
    assert_eq!((got, answer["error"].as_str()), (429, Some("rate_limited")));
    assert_eq!(headers["retry-after"], "17");
    assert_eq!(answer["provider_code"], "too_many_requests", "{answer}");
    fake.refuse(500, "api_error", "internal");
    let (got, answer) = proxy.answer("acedata", &swap(swap_body())).await;
    assert_eq!(
        (got, answer["error"].as_str()),
        (502, Some("upstream_error"))
    );
    assert_eq!(answer["provider_code"], "api_error", "{answer}");
    // AceData's own time-out (its 504 with the word) is the provider being unavailable, and
    // keeps the word.
    fake.refuse(504, "timeout", "the image took too long");
    let (got, answer) = proxy.answer("acedata", &swap(swap_body())).await;
    assert_eq!(
        (got, answer["error"].as_str()),
        (503, Some("upstream_unavailable"))
    );
    assert_eq!(answer["provider_code"], "timeout", "{answer}");
    let sent = fake.submit_count();
    assert_eq!(sent, 8);
    // No refused submit left a task behind.
    for i in 1..=sent {
        let response = proxy.get(&format!("/api/acedata/tasks/ace-{i}")).await;
        assert_eq!(response.status(), 404);
    }
}

#[tokio::test]
async fn bad_input_never_reaches_acedata() {
    let fake = FakeAceData::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start(&fake, &dir, &[]).await;
    let proxy = &running.proxy;
    let with = |field: &str, value: Value| {
        let mut body = swap_body();
        body[field] = value;
        body
    };
    let mut missing = swap_body();
    missing
        .as_object_mut()
        .expect("object")
        .remove("source_image_url");
    for (body, field) in [
        (
            with("source_image_url", json!("file:///etc/passwd")),
            "source_image_url",
        ),
        (
            with("target_image_url", json!("data:image/png;base64,AAAA")),
            "target_image_url",
        ),
        (
            with("target_image_url", json!("https://img.example/a b.png")),
            "target_image_url",
        ),
        (with("timeout", json!(0)), "timeout"),
        (with("timeout", json!(100_000)), "timeout"),
        (with("timeout", json!("60")), "timeout"),
        (with("face_index", json!(0)), "face_index"),
        (missing, "source_image_url"),
    ] {
        let (status, answer) = proxy.answer("acedata", &swap(body.clone())).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"], "invalid_parameter", "{answer}");
        assert_eq!(answer["field"], field, "{body}: {answer}");
    }
    let form =
        reqwest::multipart::Form::new().text("source_image_url", "https://img.example/a.jpg");
    let response = proxy
        .http
        .post(format!("{}/api/acedata/face/swap", proxy.url))
        .multipart(form)
        .send()
        .await
        .expect("submit");
    assert_eq!(response.status(), 415);
    assert_eq!(fake.submit_count(), 0, "nothing refused went upstream");
}

#[tokio::test]
async fn the_spend_cap_is_in_requests() {
    let fake = FakeAceData::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start(&fake, &dir, &["--acedata-spend-cap-per-hour", "2"]).await;
    let proxy = &running.proxy;
    proxy.send_ok("acedata", &swap(swap_body())).await;
    // A refused call is not spent.
    fake.refuse(403, "forbidden", "no");
    let (status, _) = proxy.answer("acedata", &swap(swap_body())).await;
    assert_eq!(status, 403);
    *fake.refusal.lock().expect("lock") = None;
    proxy.send_ok("acedata", &swap(swap_body())).await;
    let (status, answer) = proxy.answer("acedata", &swap(swap_body())).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (429, Some("spend_cap_exceeded")),
        "{answer}"
    );
    assert_eq!(
        fake.submit_count(),
        3,
        "the capped submit never went upstream"
    );
}

#[test]
fn the_delivery_setting_is_checked_when_the_proxy_starts() {
    let args = |value: &str| {
        vec![
            "faceswap-proxy".to_owned(),
            "--acedata-base-url".into(),
            "http://127.0.0.1:9".into(),
            "--acedata-delivery".into(),
            value.to_owned(),
        ]
    };
    assert!(Config::try_from_args_for(&ADAPTERS, args("synchronous")).is_ok());
    assert!(Config::try_from_args_for(&ADAPTERS, args("callback")).is_ok());
    assert!(Config::try_from_args_for(&ADAPTERS, args("sometimes")).is_err());
}
