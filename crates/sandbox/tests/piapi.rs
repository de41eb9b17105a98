//! PiAPI's API in the sandbox over real HTTP on loopback: the key in `x-api-key`, Create Task
//! and Get Task on PiAPI's paths, validation from faceswap-core, the three operations on real
//! photos and videos, webhooks with the secret (processing, terminal, duplicate) and the fault
//! knobs. Every answer and webhook is read back with faceswap-core's PiAPI types, as the proxy
//! reads them.
#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine;
use common::*;
use faceswap_core::base64_image::BASE64;
use faceswap_core::piapi::{TaskEnvelope, WebhookBody};
use faceswap_core::TaskStatus;
use faceswap_sandbox::engine::detect::{Face, FaceDetector};
use faceswap_sandbox::engine::jobs::{self as engine_jobs, FacePair, Input};
use faceswap_sandbox::engine::swap::region_bounds;
use faceswap_sandbox::{spawn, Faults, RunningSandbox, SandboxConfig};
use serde_json::{json, Value};
use std::time::Duration;

const KEY: &str = "piapi-test-key";

async fn sandbox(name: &str) -> RunningSandbox {
    let dir = std::env::temp_dir().join(format!(
        "faceswap-sandbox-piapi-{name}-{}",
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

async fn create(
    base_url: &str,
    key: Option<&str>,
    body: &Value,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut request = reqwest::Client::new()
        .post(format!("{base_url}/api/v1/task"))
        .json(body);
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (
        status,
        response.json().await.unwrap_or(Value::Null),
        headers,
    )
}

async fn get_task(base_url: &str, task_id: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(format!("{base_url}/api/v1/task/{task_id}"))
        .header("x-api-key", KEY)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Polls Get Task until the task ends, as the proxy's poller does.
async fn poll_until_done(base_url: &str, task_id: &str) -> Value {
    for _ in 0..600 {
        let (status, body) = get_task(base_url, task_id).await;
        assert_eq!(status, 200, "{body}");
        let envelope: TaskEnvelope = serde_json::from_value(body.clone()).unwrap();
        let update = envelope.data.unwrap().update().unwrap();
        if update.status != TaskStatus::Pending {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("task {task_id} did not end");
}

fn image_swap(
    origin: &Origin,
    task_type: &str,
    target: &str,
    swap: &str,
    hook: Option<&str>,
) -> Value {
    let mut body = json!({
        "model": "Qubico/image-toolkit",
        "task_type": task_type,
        "input": { "target_image": origin.media_url(target), "swap_image": origin.media_url(swap) },
    });
    if let Some(name) = hook {
        body["config"] = json!({
            "webhook_config": { "endpoint": origin.hook_url(name), "secret": format!("secret-{name}") },
        });
    }
    body
}

fn task_id_of(body: &Value) -> String {
    body["data"]["task_id"].as_str().unwrap().to_owned()
}

async fn result_rgb(url: &str) -> image::RgbImage {
    let (status, headers, bytes) = get_bytes(url).await;
    assert_eq!(status, 200);
    assert_eq!(headers["access-control-allow-origin"], "*");
    image::load_from_memory(&bytes).unwrap().to_rgb8()
}

fn rect(face: &Face) -> (u32, u32, u32, u32) {
    (
        face.x1 as u32,
        face.y1 as u32,
        face.x2 as u32,
        face.y2 as u32,
    )
}

#[tokio::test]
async fn the_key_goes_in_x_api_key_and_errors_are_piapis_shape() {
    let origin = Origin::start().await;
    let sandbox = sandbox("key").await;
    let body = image_swap(&origin, "face-swap", "camera.png", "astronaut.png", None);
    for key in [None, Some("wrong")] {
        let (status, answer, _) = create(&sandbox.base_url, key, &body).await;
        assert_eq!(status, 401, "{answer}");
        assert_eq!(answer["code"], 401);
        assert_eq!(answer["data"], Value::Null);
        assert!(answer["message"].as_str().unwrap().contains("x-api-key"));
    }
    let bearer = reqwest::Client::new()
        .post(format!("{}/api/v1/task", sandbox.base_url))
        .bearer_auth(KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status().as_u16(), 401);
    let unknown = reqwest::Client::new()
        .get(format!("{}/api/v1/task/nope", sandbox.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 401);
    let (status, answer) = get_task(&sandbox.base_url, "0123").await;
    assert_eq!(status, 404, "{answer}");

    // Core's rules, named as on the wire.
    let mut bad = body.clone();
    bad["task_type"] = json!("upscale");
    let (status, answer, _) = create(&sandbox.base_url, Some(KEY), &bad).await;
    assert_eq!(status, 400);
    assert!(
        answer["message"].as_str().unwrap().contains("task_type"),
        "{answer}"
    );
    let mut bad = image_swap(
        &origin,
        "multi-face-swap",
        "two-faces.png",
        "two-faces.png",
        None,
    );
    bad["input"]["swap_faces_index"] = json!("0,1");
    bad["input"]["target_faces_index"] = json!("0");
    let (status, _, _) = create(&sandbox.base_url, Some(KEY), &bad).await;
    assert_eq!(status, 400);
    let mut bad = body.clone();
    bad["config"] = json!({ "service_mode": "fast" });
    let (status, _, _) = create(&sandbox.base_url, Some(KEY), &bad).await;
    assert_eq!(status, 400);
    // A URL outside the fetch policy is refused before a task starts.
    let mut far = body.clone();
    far["input"]["target_image"] = json!("https://example.com/t.png");
    let (status, answer, _) = create(&sandbox.base_url, Some(KEY), &far).await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("input.target_image")
            || answer["message"].as_str().unwrap().contains("origin"),
        "{answer}"
    );
}

#[tokio::test]
async fn face_swap_replaces_the_largest_face_and_webhooks_come_in_order_with_the_secret() {
    let mut origin = Origin::start().await;
    let sandbox = sandbox("largest").await;
    let body = image_swap(
        &origin,
        "face-swap",
        "group29.png",
        "astronaut.png",
        Some("h1"),
    );
    let (status, answer, _) = create(&sandbox.base_url, Some(KEY), &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["code"], 200);
    let task_id = task_id_of(&answer);
    assert_eq!(answer["data"]["model"], "Qubico/image-toolkit");
    assert_eq!(answer["data"]["task_type"], "face-swap");
    assert_eq!(answer["data"]["status"], "pending");
    assert_eq!(
        answer["data"]["config"]["webhook_config"]["secret"],
        "secret-h1"
    );
    assert_eq!(
        answer["data"]["input"]["target_image"],
        origin.media_url("group29.png")
    );

    let mut words = Vec::new();
    let mut url = String::new();
    for _ in 0..3 {
        let hook = origin.next_hook(120).await;
        assert_eq!(hook.name, "h1");
        assert_eq!(hook.secret.as_deref(), Some("secret-h1"));
        assert!(hook.body["timestamp"].is_u64(), "{}", hook.body);
        assert_eq!(
            hook.body["data"]["config"]["webhook_config"]["secret"],
            "secret-h1"
        );
        let parsed = WebhookBody::from_json(hook.body.to_string().as_bytes()).unwrap();
        assert_eq!(parsed.data.task_id, task_id);
        let update = parsed.data.update().unwrap();
        if let Some(result) = update.result_url {
            url = result;
        }
        words.push(hook.body["data"]["status"].as_str().unwrap().to_owned());
    }
    assert_eq!(words, ["processing", "completed", "completed"]);
    assert!(origin.no_hook_within(500).await);

    let (status, got) = get_task(&sandbox.base_url, &task_id).await;
    assert_eq!(status, 200);
    assert_eq!(got["data"]["status"], "Completed");
    assert_eq!(got["data"]["output"]["image_url"], url.as_str());
    assert_eq!(got["data"]["error"]["code"], 0);
    let envelope: TaskEnvelope = serde_json::from_value(got).unwrap();
    assert_eq!(
        envelope.data.unwrap().update().unwrap().status,
        TaskStatus::Succeeded
    );

    // Only the largest face changed, exactly as the engine swaps it.
    let after = result_rgb(&url).await;
    let before = media_rgb("group29.png");
    let faces = FaceDetector::new().unwrap().detect_rgb(&before);
    let largest = engine_jobs::largest(&faces).unwrap();
    let expected = engine_jobs::largest_face_swap(
        &Input::new("t", media_bytes("group29.png")),
        &Input::new("s", media_bytes("astronaut.png")),
    )
    .unwrap();
    assert_eq!(after, image::load_from_memory(&expected).unwrap().to_rgb8());
    assert!(mean_abs_diff(&before, &after, rect(&largest)) > 12.0);
    let (w, h) = before.dimensions();
    let (x0, y0, x1, y1) = region_bounds(&largest, w, h);
    let apart = faces
        .iter()
        .filter(|f| f.x2 < x0 as f32 || f.x1 > x1 as f32 || f.y2 < y0 as f32 || f.y1 > y1 as f32)
        .count();
    assert!(apart > 10);
    for face in faces
        .iter()
        .filter(|f| f.x2 < x0 as f32 || f.x1 > x1 as f32 || f.y2 < y0 as f32 || f.y1 > y1 as f32)
    {
        assert_eq!(mean_abs_diff(&before, &after, rect(face)), 0.0);
    }
}

#[tokio::test]
async fn multi_face_swap_pairs_faces_by_index_and_base64_inputs_work() {
    let origin = Origin::start().await;
    let sandbox = sandbox("multi").await;
    let mut body = image_swap(
        &origin,
        "multi-face-swap",
        "two-faces.png",
        "two-faces.png",
        None,
    );
    body["input"]["swap_image"] = json!(format!(
        "data:image/png;base64,{}",
        BASE64.encode(media_bytes("two-faces.png"))
    ));
    body["input"]["swap_faces_index"] = json!("1");
    body["input"]["target_faces_index"] = json!("0");
    let (status, answer, _) = create(&sandbox.base_url, Some(KEY), &body).await;
    assert_eq!(status, 200, "{answer}");
    let done = poll_until_done(&sandbox.base_url, &task_id_of(&answer)).await;
    assert_eq!(done["data"]["status"], "Completed", "{done}");
    let after = result_rgb(done["data"]["output"]["image_url"].as_str().unwrap()).await;

    let source = Input::new("t", media_bytes("two-faces.png"));
    let pair = |from| FacePair {
        from_label: "s".into(),
        at_label: "t".into(),
        from,
        at: 0,
    };
    let swapped = |from| {
        let png = engine_jobs::paired_face_swap(&source, &source, &[pair(from)]).unwrap();
        image::load_from_memory(&png).unwrap().to_rgb8()
    };
    assert_eq!(
        after,
        swapped(1),
        "face 1 of the swap image went onto face 0"
    );
    assert_ne!(after, swapped(0));
    let before = media_rgb("two-faces.png");
    let faces = FaceDetector::new().unwrap().detect_rgb(&before);
    assert_eq!(faces.len(), 2);
    assert!(mean_abs_diff(&before, &after, rect(&faces[0])) > 5.0);

    // A face the image does not have fails the task, in PiAPI's words.
    body["input"]["swap_faces_index"] = json!("5");
    let (_, answer, _) = create(&sandbox.base_url, Some(KEY), &body).await;
    let failed = poll_until_done(&sandbox.base_url, &task_id_of(&answer)).await;
    assert_eq!(failed["data"]["status"], "failed");
    assert_eq!(failed["data"]["error"]["code"], 10000);
    assert!(failed["data"]["error"]["raw_message"]
        .as_str()
        .unwrap()
        .contains("input.swap_faces_index[0]"));
}

#[tokio::test]
async fn video_face_swap_pairs_faces_in_each_frame_and_answers_a_video_url() {
    let mut origin = Origin::start().await;
    let sandbox = sandbox("video").await;
    let body = json!({
        "model": "Qubico/video-toolkit",
        "task_type": "face-swap",
        "input": {
            "target_video": origin.media_url("two-faces.mp4"),
            "swap_image": origin.media_url("astronaut.png"),
            "swap_faces_index": "0",
            "target_faces_index": "1",
        },
        "config": { "webhook_config": { "endpoint": origin.hook_url("v"), "secret": "vs" } },
    });
    let (status, answer, _) = create(&sandbox.base_url, Some(KEY), &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["model"], "Qubico/video-toolkit");
    let first = origin.next_hook(30).await;
    assert_eq!(first.body["data"]["status"], "processing");
    let terminal = origin.next_hook(300).await;
    assert_eq!(
        terminal.body["data"]["status"], "completed",
        "{}",
        terminal.body
    );
    assert_eq!(terminal.secret.as_deref(), Some("vs"));
    let url = terminal.body["data"]["output"]["video_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(terminal.body["data"]["output"].get("image_url").is_none());
    let (status, headers, bytes) = get_bytes(&url).await;
    assert_eq!(status, 200);
    assert_eq!(headers["access-control-allow-origin"], "*");
    let path = std::env::temp_dir().join(format!("piapi-video-{}.mp4", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    let (_, _, frames, _, _) = probe_video(&path);
    let (_, _, input_frames, _, _) = probe_video(&media("two-faces.mp4"));
    assert_eq!(frames, input_frames);
    // Face 1 (right) changed, face 0 (left) did not, in the first frame.
    let before = video_frame(&media("two-faces.mp4"), 0);
    let after = video_frame(&path, 0);
    let faces = FaceDetector::new().unwrap().detect_rgb(&before);
    assert_eq!(faces.len(), 2);
    let right = mean_abs_diff(&before, &after, rect(&faces[1]));
    let left = mean_abs_diff(&before, &after, rect(&faces[0]));
    assert!(right > left + 5.0, "right {right:.1}, left {left:.1}");
    let _ = std::fs::remove_file(&path);
    let duplicate = origin.next_hook(10).await;
    assert_eq!(duplicate.body, terminal.body);
}

#[tokio::test]
async fn fault_knobs_drop_webhooks_fail_tasks_and_refuse_calls() {
    let mut origin = Origin::start().await;
    let sandbox = sandbox("faults").await;
    let body = image_swap(
        &origin,
        "face-swap",
        "camera.png",
        "astronaut.png",
        Some("f"),
    );

    // No webhook at all: the result is there for Get Task only.
    sandbox.state.set_faults(Faults {
        drop_webhooks: true,
        ..Faults::default()
    });
    let (status, answer, _) = create(&sandbox.base_url, Some(KEY), &body).await;
    assert_eq!(status, 200, "{answer}");
    let done = poll_until_done(&sandbox.base_url, &task_id_of(&answer)).await;
    assert_eq!(done["data"]["status"], "Completed");
    assert!(origin.no_hook_within(1000).await);

    // A failed task: failed webhook with PiAPI's error object, then its duplicate.
    sandbox.state.set_faults(Faults {
        fail_tasks_next: 1,
        ..Faults::default()
    });
    let (_, answer, _) = create(&sandbox.base_url, Some(KEY), &body).await;
    let task_id = task_id_of(&answer);
    assert_eq!(
        origin.next_hook(30).await.body["data"]["status"],
        "processing"
    );
    let failed = origin.next_hook(30).await;
    assert_eq!(failed.body["data"]["status"], "failed");
    assert_eq!(failed.body["data"]["error"]["code"], 10000);
    assert_eq!(failed.body["data"]["output"], Value::Null);
    let update = WebhookBody::from_json(failed.body.to_string().as_bytes())
        .unwrap()
        .data
        .update()
        .unwrap();
    assert_eq!(update.status, TaskStatus::Failed);
    assert!(update.error.unwrap().contains("code 10000"));
    assert_eq!(origin.next_hook(10).await.body, failed.body);
    let (_, got) = get_task(&sandbox.base_url, &task_id).await;
    assert_eq!(got["data"]["status"], "failed");

    // 429 with Retry-After, then a 503, in PiAPI's error shape; then the call goes through.
    sandbox.state.set_faults(Faults {
        rate_limit_next: 1,
        retry_after_secs: 3,
        error_next: 1,
        error_status: 503,
        ..Faults::default()
    });
    let (status, answer, headers) = create(&sandbox.base_url, Some(KEY), &body).await;
    assert_eq!(status, 429);
    assert_eq!(answer["code"], 429);
    assert_eq!(headers["retry-after"], "3");
    let (status, answer) = get_task(&sandbox.base_url, &task_id).await;
    assert_eq!(status, 503);
    assert_eq!(answer["code"], 503);
    let (status, _) = get_task(&sandbox.base_url, &task_id).await;
    assert_eq!(status, 200);
}
