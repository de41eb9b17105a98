//! AceData's API in the sandbox over real HTTP on loopback: `POST /face/swap` with a Bearer key,
//! validation from faceswap-core, the synchronous answer, the callback, AceData's error envelope
//! and the fault knobs answered in AceData's words. Every answer and callback is read back with
//! faceswap-core's AceData adapter, as the proxy reads them.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use faceswap_core::acedata::{AceData, ROUTE};
use faceswap_core::provider::{Adapter, FaultKind, SubmitOutcome};
use faceswap_core::TaskStatus;
use faceswap_sandbox::engine::jobs::{self as engine_jobs, Input};
use faceswap_sandbox::{spawn, Faults, RunningSandbox, SandboxConfig};
use serde_json::{json, Value};

const KEY: &str = "acedata-test-key";

async fn sandbox(name: &str) -> RunningSandbox {
    let dir = std::env::temp_dir().join(format!(
        "faceswap-sandbox-acedata-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    spawn(SandboxConfig {
        api_key: KEY.into(),
        data_dir: dir,
        ..SandboxConfig::default()
    })
    .await
    .unwrap()
}

/// POSTs `body` to `/face/swap` with `key` as a Bearer token: status, raw body, headers.
async fn swap(
    base_url: &str,
    key: Option<&str>,
    body: &Value,
) -> (u16, Vec<u8>, reqwest::header::HeaderMap) {
    let mut request = reqwest::Client::new()
        .post(format!("{base_url}/face/swap"))
        .json(body);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, response.bytes().await.unwrap().to_vec(), headers)
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

fn body(origin: &Origin, source: &str, target: &str) -> Value {
    json!({"source_image_url": origin.media_url(source), "target_image_url": origin.media_url(target)})
}

fn prepared(body: &Value) -> faceswap_core::provider::Prepared {
    AceData
        .prepare_json(ROUTE, body.to_string().as_bytes())
        .unwrap()
}

/// Checks AceData's error envelope and answers `error.code`.
fn envelope_code(bytes: &[u8]) -> String {
    let answer = json_of(bytes);
    assert_eq!(answer["success"], false, "{answer}");
    assert!(answer["error"]["message"].is_string(), "{answer}");
    assert!(
        answer["trace_id"].as_str().is_some_and(|t| !t.is_empty()),
        "{answer}"
    );
    answer["error"]["code"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_key_is_a_bearer_token_and_errors_are_acedatas_envelope() {
    let origin = Origin::start().await;
    let sandbox = sandbox("key").await;
    let valid = body(&origin, "astronaut.png", "camera.png");
    for key in [None, Some("wrong")] {
        let (status, answer, _) = swap(&sandbox.base_url, key, &valid).await;
        assert_eq!(status, 401);
        assert_eq!(envelope_code(&answer), "invalid_token");
        let fault = AceData.read_error(status, &answer);
        assert_eq!(fault.kind, FaultKind::Upstream);
        assert_eq!(fault.provider_code.as_deref(), Some("invalid_token"));
    }
    let header_key = reqwest::Client::new()
        .post(format!("{}/face/swap", sandbox.base_url))
        .header("x-api-key", KEY)
        .json(&valid)
        .send()
        .await
        .unwrap();
    assert_eq!(header_key.status().as_u16(), 401);

    // Core's rules, each naming its field.
    for (field, value) in [
        ("source_image_url", json!("ftp://example.com/a.png")),
        ("target_image_url", json!("")),
        ("timeout", json!(0)),
        ("timeout", json!(301)),
        ("callback_url", json!(7)),
        ("callback_url", json!("file:///tmp/hook")),
    ] {
        let mut bad = valid.clone();
        bad[field] = value;
        let (status, answer, _) = swap(&sandbox.base_url, Some(KEY), &bad).await;
        assert_eq!(status, 400, "{field}");
        assert_eq!(envelope_code(&answer), "bad_request");
        let message = json_of(&answer)["error"]["message"].clone();
        assert!(message.as_str().unwrap().contains(field), "{message}");
        assert_eq!(
            AceData.read_error(status, &answer).kind,
            FaultKind::InvalidInput
        );
    }
    // A URL outside the fetch policy is refused before a task starts.
    let mut far = valid.clone();
    far["target_image_url"] = json!("https://example.com/t.png");
    let (status, answer, _) = swap(&sandbox.base_url, Some(KEY), &far).await;
    assert_eq!(status, 400);
    assert!(
        json_of(&answer)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("target_image_url"),
        "{}",
        json_of(&answer)
    );
}

#[tokio::test]
async fn without_a_callback_the_answer_is_the_swapped_image() {
    let mut origin = Origin::start().await;
    let sandbox = sandbox("sync").await;
    let mut request = body(&origin, "astronaut.png", "camera.png");
    request["timeout"] = json!(120);
    let (status, answer, _) = swap(&sandbox.base_url, Some(KEY), &request).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    let value = json_of(&answer);
    let outcome = AceData.read_submit(&prepared(&request), &answer).unwrap();
    let SubmitOutcome::Finished { task_id, update } = outcome else {
        panic!("finished at once: {value}")
    };
    assert_eq!(value["task_id"], task_id.as_str());
    assert_eq!(update.status, TaskStatus::Succeeded);
    let url = update.result_url.unwrap();
    assert_eq!(value["image_url"], url.as_str());

    // The source's face went onto the target, exactly as the engine swaps it.
    let (status, headers, bytes) = get_bytes(&url).await;
    assert_eq!(status, 200);
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert_eq!(value["image_size"], bytes.len());
    let after = image::load_from_memory(&bytes).unwrap().to_rgb8();
    let before = media_rgb("camera.png");
    assert_eq!(value["image_width"], before.width());
    assert_eq!(value["image_height"], before.height());
    let expected = engine_jobs::largest_face_swap(
        &Input::new("target_image_url", media_bytes("camera.png")),
        &Input::new("source_image_url", media_bytes("astronaut.png")),
    )
    .unwrap();
    assert_eq!(after, image::load_from_memory(&expected).unwrap().to_rgb8());
    assert_ne!(after, before);
    assert!(
        origin.no_hook_within(300).await,
        "no callback was asked for"
    );

    // A source without a face: 400 naming the field.
    let faceless = json!({"source_image_url": format!("{}/flat.png", origin.base_url),
        "target_image_url": origin.media_url("camera.png")});
    let (status, answer, _) = swap(&sandbox.base_url, Some(KEY), &faceless).await;
    assert_eq!(status, 400);
    assert_eq!(envelope_code(&answer), "bad_request");
    assert!(json_of(&answer)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("source_image_url"));
}

#[tokio::test]
async fn with_a_callback_the_answer_is_the_task_id_and_the_result_is_posted() {
    let mut origin = Origin::start().await;
    let sandbox = sandbox("callback").await;
    let mut request = body(&origin, "astronaut.png", "camera.png");
    request["callback_url"] = json!(origin.hook_url("c1"));
    let (status, answer, _) = swap(&sandbox.base_url, Some(KEY), &request).await;
    assert_eq!(status, 200);
    let value = json_of(&answer);
    let task_id = value["task_id"].as_str().unwrap().to_owned();
    assert_eq!(value, json!({ "task_id": task_id }), "task_id alone");
    assert_eq!(
        AceData.read_submit(&prepared(&request), &answer).unwrap(),
        SubmitOutcome::Started {
            task_id: task_id.clone(),
            points: None
        }
    );
    let hook = origin.next_hook(120).await;
    assert_eq!(hook.name, "c1");
    // As the page describes it: the answer's fields and task_id, no `success`.
    let mut fields: Vec<&str> = hook
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "image_height",
            "image_size",
            "image_url",
            "image_width",
            "task_id"
        ],
        "{}",
        hook.body
    );
    assert_eq!(hook.body["task_id"], task_id.as_str());
    for field in ["image_width", "image_height", "image_size"] {
        assert!(hook.body[field].as_u64().unwrap() > 0, "{}", hook.body);
    }
    let update = AceData
        .read_callback(hook.body.to_string().as_bytes(), &[])
        .unwrap();
    assert_eq!(update.status, TaskStatus::Succeeded);
    assert_eq!(update.task_id.as_deref(), Some(task_id.as_str()));
    let info = update.result_info.expect("the result's metadata");
    assert_eq!(info.size, hook.body["image_size"].as_u64());
    let (status, _, bytes) = get_bytes(&update.result_url.unwrap()).await;
    assert_eq!(
        (status, bytes.len() as u64),
        (200, hook.body["image_size"].as_u64().unwrap())
    );
    assert!(
        origin.no_hook_within(500).await,
        "one callback, no duplicate"
    );

    // A failed task calls back with AceData's error object (no `success` by default).
    sandbox.state.set_faults(Faults {
        fail_tasks_next: 1,
        ..Faults::default()
    });
    let (status, answer, _) = swap(&sandbox.base_url, Some(KEY), &request).await;
    assert_eq!(status, 200);
    let failed_id = json_of(&answer)["task_id"].as_str().unwrap().to_owned();
    let hook = origin.next_hook(60).await;
    assert!(hook.body.get("success").is_none(), "{}", hook.body);
    assert_eq!(hook.body["task_id"], failed_id.as_str());
    assert_eq!(hook.body["error"]["code"], "api_error");
    let update = AceData
        .read_callback(hook.body.to_string().as_bytes(), &[])
        .unwrap();
    assert_eq!(update.status, TaskStatus::Failed);
    assert!(update.error.unwrap().contains("fail_tasks_next"));

    // The `undocumented_shapes` knob adds a `success` flag, which the adapter reads too.
    sandbox.state.set_faults(Faults {
        undocumented_shapes: true,
        ..Faults::default()
    });
    let (_, answer, _) = swap(&sandbox.base_url, Some(KEY), &request).await;
    let hook = origin.next_hook(120).await;
    assert_eq!(hook.body["task_id"], json_of(&answer)["task_id"]);
    assert_eq!(hook.body["success"], true, "{}", hook.body);
    let update = AceData
        .read_callback(hook.body.to_string().as_bytes(), &[])
        .unwrap();
    assert_eq!(update.status, TaskStatus::Succeeded);

    // Duplicate callbacks under the knob.
    sandbox.state.set_faults(Faults {
        duplicate_webhooks: 1,
        ..Faults::default()
    });
    let (_, answer, _) = swap(&sandbox.base_url, Some(KEY), &request).await;
    let first = origin.next_hook(120).await;
    assert_eq!(first.body["task_id"], json_of(&answer)["task_id"]);
    assert_eq!(origin.next_hook(10).await.body, first.body);
}

#[tokio::test]
async fn fault_knobs_answer_in_acedatas_words() {
    let origin = Origin::start().await;
    let sandbox = sandbox("faults").await;
    let request = body(&origin, "astronaut.png", "camera.png");
    sandbox.state.set_faults(Faults {
        rate_limit_next: 1,
        retry_after_secs: 4,
        error_next: 1,
        refuse_next: 1,
        ..Faults::default()
    });
    let (status, answer, headers) = swap(&sandbox.base_url, Some(KEY), &request).await;
    assert_eq!(status, 429);
    assert_eq!(envelope_code(&answer), "too_many_requests");
    assert_eq!(headers["retry-after"], "4");
    let (status, answer, _) = swap(&sandbox.base_url, Some(KEY), &request).await;
    assert_eq!(status, 500);
    assert_eq!(envelope_code(&answer), "api_error");
    let (status, answer, _) = swap(&sandbox.base_url, Some(KEY), &request).await;
    assert_eq!(status, 403);
    assert_eq!(envelope_code(&answer), "forbidden");
    let fault = AceData.read_error(status, &answer);
    assert_eq!(fault.kind, FaultKind::Refused);
    assert_eq!(fault.provider_code.as_deref(), Some("forbidden"));

    sandbox.state.set_faults(Faults {
        error_next: 1,
        error_status: 504,
        ..Faults::default()
    });
    let (status, answer, _) = swap(&sandbox.base_url, Some(KEY), &request).await;
    assert_eq!(status, 504);
    assert_eq!(envelope_code(&answer), "timeout");

    // A failed task without a callback is AceData's api_error; then calls go through again.
    sandbox.state.set_faults(Faults {
        fail_tasks_next: 1,
        ..Faults::default()
    });
    let (status, answer, _) = swap(&sandbox.base_url, Some(KEY), &request).await;
    assert_eq!(status, 500);
    assert_eq!(envelope_code(&answer), "api_error");
    let (status, _, _) = swap(&sandbox.base_url, Some(KEY), &request).await;
    assert_eq!(status, 200);

    // Latency slows every call.
    sandbox.state.set_faults(Faults {
        latency_ms: 400,
        rate_limit_next: 1,
        ..Faults::default()
    });
    let started = std::time::Instant::now();
    let (status, _, _) = swap(&sandbox.base_url, Some(KEY), &request).await;
    assert_eq!(status, 429);
    assert!(started.elapsed() >= std::time::Duration::from_millis(400));
}
