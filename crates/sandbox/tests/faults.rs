//! The fault knobs: latency, 429 with Retry-After, 5xx, failed tasks, duplicate, early and
//! out-of-order webhooks; set through the loopback-only route or directly.
#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::http::Request;
use common::*;
use faceswap_sandbox::{app, spawn, Faults, RunningSandbox, SandboxConfig, SandboxState};
use serde_json::json;
use std::time::{Duration, Instant};
use tower::ServiceExt;

async fn sandbox(name: &str) -> RunningSandbox {
    let dir = std::env::temp_dir().join(format!(
        "faceswap-sandbox-faults-{name}-{}",
        std::process::id()
    ));
    spawn(SandboxConfig {
        api_key: "k".into(),
        data_dir: dir,
        faults: Faults::default(),
        ..SandboxConfig::default()
    })
    .await
    .unwrap()
}

async fn put_faults(sandbox: &RunningSandbox, faults: serde_json::Value) -> u16 {
    reqwest::Client::new()
        .put(format!("{}/__sandbox/faults", sandbox.base_url))
        .json(&faults)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn swap_body(origin: &Origin, hook: &str) -> serde_json::Value {
    json!({
        "source_image": origin.media_url("camera.png"),
        "face_image": origin.media_url("astronaut.png"),
        "webhook": origin.hook_url(hook),
    })
}

#[tokio::test]
async fn rate_limits_server_errors_and_latency_come_and_go() {
    let origin = Origin::start().await;
    let sandbox = sandbox("http").await;
    assert_eq!(
        put_faults(&sandbox, json!({"rate_limit_next": 1, "retry_after_secs": 7, "error_next": 1, "error_status": 503, "latency_ms": 300})).await,
        200
    );
    let body = json!({ "img": origin.media_url("astronaut.png") });
    let started = Instant::now();
    let (status, answer, headers) =
        post_json(&sandbox.base_url, "k", "extract_face", body.clone()).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(status, 429);
    assert_eq!(answer["code"], 429);
    assert_eq!(headers["retry-after"], "7");
    let (status, answer, _) = post_json(&sandbox.base_url, "k", "extract_face", body.clone()).await;
    assert_eq!((status, answer["code"].as_i64()), (503, Some(503)));
    let (status, answer, _) = post_json(&sandbox.base_url, "k", "extract_face", body.clone()).await;
    assert_eq!(status, 200, "{answer}");

    let faults: serde_json::Value = reqwest::get(format!("{}/__sandbox/faults", sandbox.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(faults["rate_limit_next"], 0);
    assert_eq!(faults["latency_ms"], 300);
    let reset = reqwest::Client::new()
        .delete(format!("{}/__sandbox/faults", sandbox.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status().as_u16(), 200);
    assert_eq!(sandbox.state.faults(), Faults::default());
    // Unknown knobs are refused by name.
    assert_eq!(put_faults(&sandbox, json!({"latency": 5})).await, 400);
}

#[tokio::test]
async fn duplicate_webhooks_arrive_the_asked_number_of_times() {
    let mut origin = Origin::start().await;
    let sandbox = sandbox("dup").await;
    sandbox.state.set_faults(Faults {
        duplicate_webhooks: 2,
        ..Faults::default()
    });
    let (_, answer, _) =
        post_json(&sandbox.base_url, "k", "faceswap", swap_body(&origin, "d")).await;
    let task_id = answer["data"]["task_id"].clone();
    for _ in 0..3 {
        let hook = origin.next_hook(60).await;
        assert_eq!(hook.body["task_id"], task_id);
        assert_eq!(hook.body["success"], 1);
    }
    assert!(origin.no_hook_within(500).await);
}

#[tokio::test]
async fn the_webhook_can_arrive_before_the_submit_is_answered() {
    let mut origin = Origin::start().await;
    let sandbox = sandbox("early").await;
    sandbox.state.set_faults(Faults {
        webhook_before_response: true,
        ..Faults::default()
    });
    let (status, answer, _) =
        post_json(&sandbox.base_url, "k", "faceswap", swap_body(&origin, "e")).await;
    assert_eq!(status, 200);
    // Already delivered: it is waiting in the channel.
    let hook = origin
        .hooks
        .try_recv()
        .expect("the webhook came before the answer");
    assert_eq!(hook.body["task_id"], answer["data"]["task_id"]);
}

#[tokio::test]
async fn out_of_order_webhooks_and_forced_failures() {
    let mut origin = Origin::start().await;
    let sandbox = sandbox("order").await;
    sandbox.state.set_faults(Faults {
        reorder_webhooks: true,
        fail_tasks_next: 1,
        ..Faults::default()
    });
    let (_, first, _) = post_json(
        &sandbox.base_url,
        "k",
        "faceswap",
        swap_body(&origin, "first"),
    )
    .await;
    // Wait until the first task has finished (its webhook is held back), then start the second.
    let first_id = first["data"]["task_id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let record = sandbox.state.task(&first_id).unwrap();
        if record.status != faceswap_sandbox::TaskState::Pending {
            break;
        }
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_, second, _) = post_json(
        &sandbox.base_url,
        "k",
        "faceswap",
        swap_body(&origin, "second"),
    )
    .await;
    let a = origin.next_hook(60).await;
    let b = origin.next_hook(60).await;
    assert_eq!(a.name, "second");
    assert_eq!(a.body["task_id"], second["data"]["task_id"]);
    assert_eq!(a.body["success"], 1);
    assert_eq!(b.name, "first");
    // The first task was failed on purpose.
    assert_eq!(
        b.body,
        json!({"success": 0, "type": 1, "task_id": first_id})
    );

    // A lone held webhook still goes out after the hold time.
    let (_, third, _) = post_json(
        &sandbox.base_url,
        "k",
        "faceswap",
        swap_body(&origin, "third"),
    )
    .await;
    let c = origin.next_hook(60).await;
    assert_eq!(c.body["task_id"], third["data"]["task_id"]);
}

#[tokio::test]
async fn test_routes_answer_loopback_callers_only() {
    let dir = std::env::temp_dir().join(format!(
        "faceswap-sandbox-faults-oneshot-{}",
        std::process::id()
    ));
    let state = SandboxState::new(
        SandboxConfig {
            data_dir: dir,
            ..SandboxConfig::default()
        },
        "http://127.0.0.1:1",
    )
    .unwrap();
    // Without a known peer address (as behind another server), the route refuses.
    let response = app(state.clone())
        .oneshot(
            Request::put("/__sandbox/faults")
                .body(Body::from(r#"{"latency_ms":1}"#))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
    // A remote peer is refused too.
    let mut request = Request::get("/__sandbox/faults")
        .body(Body::empty())
        .unwrap();
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            [192, 0, 2, 1],
            5000,
        ))));
    let response = app(state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status().as_u16(), 403);
    let mut request = Request::get("/__sandbox/faults")
        .body(Body::empty())
        .unwrap();
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            [127, 0, 0, 1],
            5000,
        ))));
    let response = app(state).oneshot(request).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
}
