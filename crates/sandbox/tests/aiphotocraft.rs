//! AIPhotoCraft's API in the sandbox over real HTTP on loopback: the key in `X-Api-Key`, the
//! four multipart operations on their real paths, the face counts worded as the provider words
//! them, the request budget in `X-RateLimit-*` headers, and task-status polled to the result.
//! Answers are read back with faceswap-core's AIPhotoCraft readers, as the proxy reads them.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use faceswap_core::aiphotocraft::{read_error, read_status, read_task_id};
use faceswap_core::provider::FaultKind;
use faceswap_core::TaskStatus;
use faceswap_sandbox::engine::detect::{Face, FaceDetector};
use faceswap_sandbox::faults::Faults;
use faceswap_sandbox::{spawn, RateBudget, RunningSandbox, SandboxConfig};
use image::RgbImage;
use reqwest::header::HeaderMap;
use serde_json::Value;
use std::time::Duration;

const KEY: &str = "aiphotocraft-test-key";

async fn sandbox(name: &str, rate_budget: RateBudget) -> RunningSandbox {
    let dir = std::env::temp_dir().join(format!(
        "faceswap-sandbox-aiphotocraft-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    spawn(SandboxConfig {
        api_key: KEY.into(),
        data_dir: dir,
        rate_budget,
        ..SandboxConfig::default()
    })
    .await
    .unwrap()
}

fn plenty() -> RateBudget {
    RateBudget {
        per_hour: 1000,
        per_day: 1000,
    }
}

const BOUNDARY: &str = "aiphotocraftboundary";

/// One part of a hand-written multipart body (the sandbox's reqwest has no multipart feature).
enum Part {
    File(Vec<u8>),
    Text(&'static str),
}

impl Part {
    fn text(text: &'static str) -> Self {
        Part::Text(text)
    }
}

fn file(bytes: Vec<u8>) -> Part {
    Part::File(bytes)
}

/// A multipart body.
struct Form(Vec<u8>);

fn form(parts: Vec<(&str, Part)>) -> Form {
    let mut body = Vec::new();
    for (name, part) in parts {
        let head = match &part {
            Part::File(_) => format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}.png\"\r\nContent-Type: image/png\r\n\r\n"),
            Part::Text(_) => format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"),
        };
        body.extend(head.into_bytes());
        match part {
            Part::File(bytes) => body.extend(bytes),
            Part::Text(text) => body.extend(text.as_bytes()),
        }
        body.extend(b"\r\n");
    }
    body.extend(format!("--{BOUNDARY}--\r\n").into_bytes());
    Form(body)
}

async fn submit(base: &str, op: &str, key: Option<&str>, form: Form) -> (u16, HeaderMap, Vec<u8>) {
    let mut request = reqwest::Client::new()
        .post(format!("{base}/api/faceswap/{op}"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(form.0);
    if let Some(key) = key {
        request = request.header("X-Api-Key", key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.unwrap().to_vec())
}

fn error_code(body: &[u8]) -> (String, Value) {
    let value: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(value["success"], false, "{value}");
    (
        value["error"]["code"].as_str().unwrap().to_owned(),
        value["error"]["details"].clone(),
    )
}

/// Polls task-status until the task ends, as the proxy's poller does; the result's image.
async fn poll_to_result(base: &str, task_id: &str) -> RgbImage {
    for _ in 0..600 {
        let response = reqwest::Client::new()
            .get(format!("{base}/api/task-status/{task_id}"))
            .header("X-Api-Key", KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers().contains_key("x-ratelimit-remaining"));
        let body = response.bytes().await.unwrap();
        let update = read_status(task_id, &body).unwrap();
        match update.status {
            TaskStatus::Pending => tokio::time::sleep(Duration::from_millis(100)).await,
            TaskStatus::Succeeded => {
                let (status, _, bytes) = get_bytes(&update.result_url.unwrap()).await;
                assert_eq!(status, 200);
                return image::load_from_memory(&bytes).unwrap().to_rgb8();
            }
            other => panic!("task ended {other:?}: {update:?}"),
        }
    }
    panic!("task {task_id} did not end")
}

/// The boxes of the two faces of `two-faces.png`, left then right.
fn face_boxes() -> [(u32, u32, u32, u32); 2] {
    let faces = FaceDetector::new()
        .unwrap()
        .detect_rgb(&media_rgb("two-faces.png"));
    assert_eq!(faces.len(), 2);
    let rect = |f: &Face| (f.x1 as u32, f.y1 as u32, f.x2 as u32, f.y2 as u32);
    [rect(&faces[0]), rect(&faces[1])]
}

#[tokio::test]
async fn the_key_is_required_and_checked() {
    let sandbox = sandbox("key", plenty()).await;
    let two = || form(vec![("srcimage", file(media_bytes("two-faces.png")))]);
    let (status, _, body) = submit(&sandbox.base_url, "swapfacesameimage", None, two()).await;
    assert_eq!(
        (status, error_code(&body).0.as_str()),
        (401, "api_key_required")
    );
    let (status, _, body) =
        submit(&sandbox.base_url, "swapfacesameimage", Some("wrong"), two()).await;
    assert_eq!(
        (status, error_code(&body).0.as_str()),
        (401, "invalid_api_key")
    );
    assert_eq!(read_error(status, &body).kind, FaultKind::Upstream);
    let response = reqwest::Client::new()
        .get(format!("{}/api/task-status/nope", sandbox.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn same_image_and_couple_swaps_exchange_faces() {
    let sandbox = sandbox("swaps", plenty()).await;
    let base = &sandbox.base_url;
    let original = media_rgb("two-faces.png");
    let [left, right] = face_boxes();
    let (status, headers, body) = submit(
        base,
        "swapfacesameimage",
        Some(KEY),
        form(vec![("srcimage", file(media_bytes("two-faces.png")))]),
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(headers["x-ratelimit-limit"], "1000");
    assert_eq!(headers["x-ratelimit-remaining"], "999");
    let reset: u64 = headers["x-ratelimit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(reset > 1_700_000_000, "epoch seconds: {reset}");
    let swapped = poll_to_result(base, &read_task_id(&body).unwrap()).await;
    assert_eq!(swapped.dimensions(), original.dimensions());
    assert!(mean_abs_diff(&original, &swapped, left) > 1.0);
    assert!(mean_abs_diff(&original, &swapped, right) > 1.0);

    // A couple swap of the image onto itself: "0,1" (the page's example) keeps every face where
    // it was, "1,0" crosses them as the same-image swap does (the sandbox's reading of the
    // pair: ascending keeps, descending crosses).
    let couple = |index: &'static str| {
        form(vec![
            ("srcimage", file(media_bytes("two-faces.png"))),
            ("targetimage", file(media_bytes("two-faces.png"))),
            ("swap_index", Part::text(index)),
        ])
    };
    let (status, _, body) = submit(base, "faceswap2", Some(KEY), couple("1,0")).await;
    assert_eq!(status, 200);
    let crossed = poll_to_result(base, &read_task_id(&body).unwrap()).await;
    assert!(mean_abs_diff(&original, &crossed, left) > 1.0);
    let (status, _, body) = submit(base, "faceswap2", Some(KEY), couple("0,1")).await;
    assert_eq!(status, 200);
    let kept = poll_to_result(base, &read_task_id(&body).unwrap()).await;
    assert!(
        mean_abs_diff(&original, &kept, left) < mean_abs_diff(&original, &crossed, left),
        "a face pasted onto itself changes less than the other face pasted there"
    );

    let (status, _, body) = submit(base, "faceswap2", Some(KEY), couple("1,1")).await;
    assert_eq!(status, 400);
    let (code, details) = error_code(&body);
    assert_eq!(
        (code.as_str(), details["parameter"].as_str()),
        ("invalid_parameter", Some("swap_index"))
    );
}

/// One raw task-status answer: status, remaining budget, JSON body.
async fn status_of(base: &str, task_id: &str) -> (u16, String, serde_json::Value) {
    let response = reqwest::Client::new()
        .get(format!("{base}/api/task-status/{task_id}"))
        .header("X-Api-Key", KEY)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let remaining = response.headers()["x-ratelimit-remaining"]
        .to_str()
        .unwrap()
        .to_owned();
    (status, remaining, response.json().await.unwrap())
}

#[tokio::test]
async fn task_status_answers_as_the_page_prints_and_every_poll_spends_a_request() {
    let sandbox = sandbox("status", plenty()).await;
    let base = &sandbox.base_url;
    let (status, headers, body) = submit(
        base,
        "swapfacesameimage",
        Some(KEY),
        form(vec![("srcimage", file(media_bytes("two-faces.png")))]),
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let task_id = read_task_id(&body).unwrap();
    let mut remaining: u64 = headers["x-ratelimit-remaining"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let done = loop {
        let (status, left, body) = status_of(base, &task_id).await;
        assert_eq!(status, 200);
        // "Rate limits are applied on a per-API-key basis, not per-endpoint."
        let left: u64 = left.parse().unwrap();
        assert_eq!(left, remaining - 1, "a poll spends a request");
        remaining = left;
        if body.get("image_url").is_some() {
            break body;
        }
        assert_eq!(body["status"], "pending", "{body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // The page's example: `{"image_url": "..."}` and nothing else.
    assert_eq!(done.as_object().unwrap().len(), 1, "{done}");
    let update = read_status(&task_id, done.to_string().as_bytes()).unwrap();
    assert_eq!(update.status, TaskStatus::Succeeded);

    // The knob's wrapped shape, which the adapter reads too.
    sandbox.state.set_faults(Faults {
        undocumented_shapes: true,
        unreadable_status_next: 1,
        ..Faults::default()
    });
    let (_, _, unreadable) = status_of(base, &task_id).await;
    assert_eq!(unreadable, serde_json::json!({}));
    assert!(read_status(&task_id, b"{}").is_err());
    let (_, _, wrapped) = status_of(base, &task_id).await;
    assert_eq!(wrapped["success"], true, "{wrapped}");
    assert_eq!(wrapped["data"]["status"], "completed", "{wrapped}");
    let update = read_status(&task_id, wrapped.to_string().as_bytes()).unwrap();
    assert_eq!(update.status, TaskStatus::Succeeded);
}

#[tokio::test]
async fn basic_and_one_from_two_swaps_put_single_faces_on() {
    let sandbox = sandbox("single", plenty()).await;
    let base = &sandbox.base_url;
    let (status, _, body) = submit(
        base,
        "basicswap",
        Some(KEY),
        form(vec![
            ("srcimage", file(media_bytes("astronaut.png"))),
            ("targetimage", file(media_bytes("camera.png"))),
            ("enhance", Part::text("true")),
        ]),
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let camera = media_rgb("camera.png");
    let swapped = poll_to_result(base, &read_task_id(&body).unwrap()).await;
    assert_eq!(swapped.dimensions(), camera.dimensions());
    assert!(mean_abs_diff(&camera, &swapped, (0, 0, camera.width(), camera.height())) > 0.1);

    let original = media_rgb("two-faces.png");
    let [left, right] = face_boxes();
    let (status, _, body) = submit(
        base,
        "swap1from2",
        Some(KEY),
        form(vec![
            ("srcimage", file(media_bytes("two-faces.png"))),
            // two-faces.png is the astronaut (left) and the cameraman (right): crossed here.
            ("targetimage1", file(media_bytes("camera.png"))),
            ("targetimage2", file(media_bytes("astronaut.png"))),
        ]),
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let swapped = poll_to_result(base, &read_task_id(&body).unwrap()).await;
    assert!(mean_abs_diff(&original, &swapped, left) > 1.0);
    assert!(mean_abs_diff(&original, &swapped, right) > 1.0);
}

#[tokio::test]
async fn face_counts_formats_and_fields_are_refused_as_the_provider_words_them() {
    let sandbox = sandbox("refusals", plenty()).await;
    let base = &sandbox.base_url;
    let (status, _, body) = submit(
        base,
        "basicswap",
        Some(KEY),
        form(vec![
            ("srcimage", file(flat_png())),
            ("targetimage", file(media_bytes("camera.png"))),
        ]),
    )
    .await;
    assert_eq!(status, 400);
    let (code, details) = error_code(&body);
    assert_eq!(
        (code.as_str(), details["image"].as_str()),
        ("no_face_detected", Some("srcimage")),
        "the page's details.image"
    );
    let fault = read_error(status, &body);
    assert_eq!(fault.kind, FaultKind::InvalidInput);
    assert_eq!(fault.provider_code.as_deref(), Some("no_face_detected"));

    let (status, _, body) = submit(
        base,
        "faceswap2",
        Some(KEY),
        form(vec![
            ("srcimage", file(media_bytes("two-faces.png"))),
            ("targetimage", file(media_bytes("astronaut.png"))),
        ]),
    )
    .await;
    assert_eq!(status, 400);
    let (code, details) = error_code(&body);
    assert_eq!(
        (code.as_str(), details["image"].as_str()),
        ("face_count_mismatch", Some("targetimage"))
    );

    let (status, _, body) = submit(
        base,
        "basicswap",
        Some(KEY),
        form(vec![
            ("srcimage", file(media_bytes("astronaut.png"))),
            ("targetimage", file(media_bytes("two-faces.png"))),
            ("enhance", Part::text("false")),
        ]),
    )
    .await;
    assert_eq!(status, 400);
    let (code, details) = error_code(&body);
    assert_eq!(
        (code.as_str(), details["image"].as_str()),
        ("face_count_mismatch", Some("targetimage")),
        "one face each"
    );

    let (status, _, body) = submit(
        base,
        "swapfacesameimage",
        Some(KEY),
        form(vec![("srcimage", file(b"not an image at all".to_vec()))]),
    )
    .await;
    assert_eq!(
        (status, error_code(&body).0.as_str()),
        (400, "invalid_image_format")
    );

    // Files only: a URL under a file field is not fetched by the provider.
    let (status, _, body) = submit(
        base,
        "swapfacesameimage",
        Some(KEY),
        form(vec![("srcimage", Part::text("https://img.example/a.png"))]),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(error_code(&body).1["parameter"], "srcimage");

    let (status, _, body) = submit(
        base,
        "swap1from2",
        Some(KEY),
        form(vec![("srcimage", file(media_bytes("two-faces.png")))]),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(error_code(&body).1["parameter"], "targetimage1");

    let response = reqwest::Client::new()
        .post(format!("{base}/api/faceswap/basicswap"))
        .header("X-Api-Key", KEY)
        .json(&serde_json::json!({"srcimage": "https://img.example/a.png"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body = response.bytes().await.unwrap();
    assert_eq!(
        error_code(&body).0,
        "invalid_parameter",
        "in the provider's shape"
    );
}

#[tokio::test]
async fn a_spent_budget_answers_429_until_the_reset() {
    let sandbox = sandbox(
        "budget",
        RateBudget {
            per_hour: 2,
            per_day: 10,
        },
    )
    .await;
    let base = &sandbox.base_url;
    let one = || form(vec![("srcimage", file(flat_png()))]);
    for remaining in ["1", "0"] {
        // Refused input still spends a request.
        let (status, headers, _) = submit(base, "swapfacesameimage", Some(KEY), one()).await;
        assert_eq!(status, 400);
        assert_eq!(headers["x-ratelimit-remaining"], remaining);
    }
    let (status, headers, body) = submit(base, "swapfacesameimage", Some(KEY), one()).await;
    assert_eq!(status, 429);
    let (code, details) = error_code(&body);
    assert_eq!(code, "rate_limit_exceeded");
    let reset: u64 = headers["x-ratelimit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(details["reset_at"], reset);
    assert_eq!(headers["x-ratelimit-remaining"], "0");
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry), "{retry}");
    assert_eq!(read_error(status, &body).kind, FaultKind::RateLimited);
}
