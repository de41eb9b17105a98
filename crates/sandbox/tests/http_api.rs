//! The provider's API over real HTTP on loopback: auth, validation from faceswap-core, envelopes,
//! webhooks, results served like a CDN, and the fetch policy.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use faceswap_core::aifaceswap::WebhookCallback;
use faceswap_sandbox::engine::detect::FaceDetector;
use faceswap_sandbox::{spawn, RunningSandbox, SandboxConfig};
use serde_json::json;

async fn sandbox(name: &str) -> RunningSandbox {
    let dir = std::env::temp_dir().join(format!(
        "faceswap-sandbox-http-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    spawn(SandboxConfig {
        api_key: "test-key".into(),
        data_dir: dir,
        ..SandboxConfig::default()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn faceswap_delivers_a_webhook_and_serves_the_result_like_a_cdn() {
    let mut origin = Origin::start().await;
    let sandbox = sandbox("faceswap").await;
    let (status, body, _) = post_json(
        &sandbox.base_url,
        "test-key",
        "faceswap",
        json!({
            "source_image": origin.media_url("camera.png"),
            "face_image": origin.media_url("astronaut.png"),
            "webhook": origin.hook_url("t1"),
        }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["code"], 200);
    assert_eq!(body["data"]["points"], 2);
    let task_id = body["data"]["task_id"].as_str().unwrap().to_owned();
    assert_eq!(task_id.len(), 32);
    assert!(task_id.chars().all(|c| c.is_ascii_hexdigit()));

    let hook = origin.next_hook(60).await;
    assert_eq!(hook.name, "t1");
    let callback = WebhookCallback::from_json(hook.body.to_string().as_bytes()).unwrap();
    assert!(callback.success, "{}", hook.body);
    assert_eq!(callback.task_id, task_id);
    assert_eq!(callback.kind, Some(1));
    assert_eq!(hook.body["success"], 1);
    let url = callback.result_image.unwrap();
    assert!(
        url.starts_with(&format!("{}/results/", sandbox.base_url)),
        "{url}"
    );

    let (status, headers, bytes) = get_bytes(&url).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(headers["access-control-allow-origin"], "*");
    let result = image::load_from_memory(&bytes).unwrap().to_rgb8();
    assert_eq!(result.dimensions(), (512, 512));
    assert_ne!(result, media_rgb("camera.png"));
    assert_eq!(FaceDetector::new().unwrap().detect_rgb(&result).len(), 1);

    // Range requests, as a video element or a CDN client makes them.
    let ranged = reqwest::Client::new()
        .get(&url)
        .header("range", "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status().as_u16(), 206);
    assert_eq!(
        ranged.headers()["content-range"],
        format!("bytes 0-99/{}", bytes.len())
    );
    assert_eq!(ranged.headers()["access-control-allow-origin"], "*");
    assert_eq!(&ranged.bytes().await.unwrap()[..], &bytes[..100]);

    let (status, _, _) = get_bytes(&format!("{}/results/nope.png", sandbox.base_url)).await;
    assert_eq!(status, 404);

    let record: serde_json::Value =
        reqwest::get(format!("{}/__sandbox/tasks/{task_id}", sandbox.base_url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(record["status"], "succeeded");
    assert_eq!(record["result_image"], url.as_str());
}

#[tokio::test]
async fn multipart_faceswap_and_extract_face_take_file_parts() {
    let mut origin = Origin::start().await;
    let sandbox = sandbox("multipart").await;
    let client = reqwest::Client::new();
    let boundary = "sandboxboundary";
    let mut body = Vec::new();
    for (name, file) in [
        ("source_image", "camera.png"),
        ("face_image", "astronaut.png"),
    ] {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: image/png\r\n\r\n").into_bytes());
        body.extend(media_bytes(file));
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"webhook\"\r\n\r\n{}\r\n--{boundary}--\r\n", origin.hook_url("mp")).into_bytes());
    let response = client
        .post(format!("{}/api/aifaceswap/v1/faceswap", sandbox.base_url))
        .bearer_auth("test-key")
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let answer: serde_json::Value = response.json().await.unwrap();
    let hook = origin.next_hook(60).await;
    assert_eq!(hook.body["task_id"], answer["data"]["task_id"]);
    assert_eq!(hook.body["success"], 1, "{}", hook.body);

    let mut body = Vec::new();
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"img\"; filename=\"g.png\"\r\nContent-Type: image/png\r\n\r\n").into_bytes());
    body.extend(media_bytes("two-faces.png"));
    body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    let answer: serde_json::Value = client
        .post(format!(
            "{}/api/aifaceswap/v1/extract_face",
            sandbox.base_url
        ))
        .bearer_auth("test-key")
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        answer["data"]["faces"].as_array().unwrap().len(),
        2,
        "{answer}"
    );

    // A file part that is not an image.
    let body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"img\"; filename=\"x.gif\"\r\n\r\nGIF89a......\r\n--{boundary}--\r\n");
    let response = client
        .post(format!(
            "{}/api/aifaceswap/v1/extract_face",
            sandbox.base_url
        ))
        .bearer_auth("test-key")
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 415);
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(answer["extra_data"]["field"], "img");
}

/// The first page's "Method2" of multi_faceswap: files `source_image` and one `face_image` per
/// face, `index` one text part per entry, `webhook` as text.
#[tokio::test]
async fn multipart_multi_faceswap_takes_one_file_per_face() {
    let mut origin = Origin::start().await;
    let sandbox = sandbox("multipart-multi").await;
    let boundary = "sandboxboundary";
    let mut body = Vec::new();
    for (name, file) in [
        ("source_image", "two-faces.png"),
        ("face_image", "camera.png"),
        ("face_image", "astronaut.png"),
    ] {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: image/png\r\n\r\n").into_bytes());
        body.extend(media_bytes(file));
        body.extend(b"\r\n");
    }
    for (name, value) in [
        ("index", "0".to_owned()),
        ("index", "1".to_owned()),
        ("webhook", origin.hook_url("multi")),
    ] {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").into_bytes());
    }
    body.extend(format!("--{boundary}--\r\n").into_bytes());
    let response = reqwest::Client::new()
        .post(format!(
            "{}/api/aifaceswap/v1/multi_faceswap",
            sandbox.base_url
        ))
        .bearer_auth("test-key")
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(answer["data"]["points"], 5, "{answer}");
    let hook = origin.next_hook(120).await;
    assert_eq!(hook.body["task_id"], answer["data"]["task_id"]);
    assert_eq!(hook.body["success"], 1, "{}", hook.body);
    assert_eq!(hook.body["type"], 2, "a multiple person face swap");
}

#[tokio::test]
async fn wrong_key_unknown_operation_and_invalid_bodies_are_refused_in_the_envelope() {
    let origin = Origin::start().await;
    let sandbox = sandbox("refusals").await;
    let valid = json!({ "img": origin.media_url("astronaut.png") });
    let (status, body, _) =
        post_json(&sandbox.base_url, "wrong", "extract_face", valid.clone()).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], 401);
    assert!(body["message"].as_str().unwrap().contains("Bearer"));
    assert!(body.get("data").is_none());
    let no_auth = reqwest::Client::new()
        .post(format!(
            "{}/api/aifaceswap/v1/extract_face",
            sandbox.base_url
        ))
        .json(&valid)
        .send()
        .await
        .unwrap();
    assert_eq!(no_auth.status().as_u16(), 401);

    let (status, body, _) =
        post_json(&sandbox.base_url, "test-key", "swap_everything", valid).await;
    assert_eq!((status, body["code"].as_i64()), (404, Some(404)));

    // The rules are faceswap-core's: same field, same message.
    let cases = [
        (
            "multi_faceswap",
            json!({"source_image": origin.media_url("two-faces.png"), "face_image": [origin.media_url("astronaut.png")], "index": [0, 1]}),
            "index",
        ),
        (
            "faceswap",
            json!({"face_image": origin.media_url("astronaut.png")}),
            "source_image",
        ),
        (
            "video_faceswap",
            json!({"source_video": origin.media_url("two-faces.mp4"), "face_image": origin.media_url("astronaut.png"), "duration": 3, "enhance": 5}),
            "enhance",
        ),
        (
            "multi_video_faceswap",
            json!({"source_video": origin.media_url("two-faces.mp4"), "ref_info": [], "duration": 3}),
            "ref_info",
        ),
        (
            "extract_base64_face",
            json!({"base64_img": "R0lGODlhAQABAAAAACw="}),
            "base64_img",
        ),
        (
            "faceswap",
            json!({"source_image": "file:///etc/passwd", "face_image": origin.media_url("astronaut.png")}),
            "source_image",
        ),
    ];
    for (op, request, field) in cases {
        let expected = faceswap_core::aifaceswap::Request::from_json(
            faceswap_core::provider::ProviderOperation::from_name(op).unwrap(),
            request.to_string().as_bytes(),
        )
        .unwrap_err();
        let (status, body, _) = post_json(&sandbox.base_url, "test-key", op, request).await;
        assert_eq!(status, 400, "{op}: {body}");
        assert_eq!(body["code"], 400);
        assert_eq!(body["extra_data"]["field"], field, "{op}: {body}");
        assert_eq!(body["message"], expected.message.as_str());
    }
}

#[tokio::test]
async fn inputs_come_only_from_allowed_origins_without_redirects_and_within_limits() {
    let mut origin = Origin::start().await;
    let dir = std::env::temp_dir().join(format!(
        "faceswap-sandbox-http-policy-{}",
        std::process::id()
    ));
    let sandbox = spawn(SandboxConfig {
        api_key: "test-key".into(),
        data_dir: dir,
        max_image_bytes: 2 * 1024 * 1024,
        allowed_fetch_origins: vec!["http://proxy.example:8080".into()],
        ..SandboxConfig::default()
    })
    .await
    .unwrap();

    for url in [
        "http://example.com/a.png",
        "http://10.1.2.3/a.png",
        "http://proxy.example:9999/a.png",
    ] {
        let (status, body, _) = post_json(
            &sandbox.base_url,
            "test-key",
            "extract_face",
            json!({ "img": url }),
        )
        .await;
        assert_eq!(status, 400, "{url}: {body}");
        assert_eq!(body["extra_data"]["field"], "img");
        assert!(
            body["message"].as_str().unwrap().contains("may not fetch"),
            "{body}"
        );
    }
    // A webhook elsewhere is refused before any work is done.
    let (status, body, _) = post_json(
        &sandbox.base_url,
        "test-key",
        "faceswap",
        json!({"source_image": origin.media_url("camera.png"), "face_image": origin.media_url("astronaut.png"), "webhook": "http://example.com/hook"}),
    )
    .await;
    assert_eq!(
        (status, body["extra_data"]["field"].as_str()),
        (400, Some("webhook"))
    );

    let (status, body, _) = post_json(
        &sandbox.base_url,
        "test-key",
        "extract_face",
        json!({ "img": format!("{}/redirect", origin.base_url) }),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("redirects are not followed"),
        "{body}"
    );

    let (status, body, _) = post_json(
        &sandbox.base_url,
        "test-key",
        "extract_face",
        json!({ "img": format!("{}/big", origin.base_url) }),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["message"].as_str().unwrap().contains("larger than"),
        "{body}"
    );

    // In a task, a fetch failure ends the task with success 0 and no result.
    let (status, body, _) = post_json(
        &sandbox.base_url,
        "test-key",
        "faceswap",
        json!({"source_image": format!("{}/redirect", origin.base_url), "face_image": origin.media_url("astronaut.png"), "webhook": origin.hook_url("r")}),
    )
    .await;
    assert_eq!(status, 200);
    let hook = origin.next_hook(30).await;
    assert_eq!(
        hook.body,
        json!({"success": 0, "type": 1, "task_id": body["data"]["task_id"]})
    );
}

#[tokio::test]
async fn a_task_with_no_face_fails_with_success_zero_and_no_result() {
    let mut origin = Origin::start().await;
    let sandbox = sandbox("noface").await;
    let (status, body, _) = post_json(
        &sandbox.base_url,
        "test-key",
        "multi_faceswap",
        json!({"source_image": origin.media_url("two-faces.png"), "face_image": [format!("{}/flat.png", origin.base_url)], "index": [0], "webhook": origin.hook_url("nf")}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["points"], 5);
    let hook = origin.next_hook(30).await;
    assert_eq!(hook.body["success"], 0);
    assert_eq!(hook.body["type"], 2);
    assert!(hook.body.get("result_image").is_none(), "{}", hook.body);
    let record: serde_json::Value = reqwest::get(format!(
        "{}/__sandbox/tasks/{}",
        sandbox.base_url,
        body["data"]["task_id"].as_str().unwrap()
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(record["status"], "failed");
    assert_eq!(record["error"], "no face found in face_image[0]");
}

#[tokio::test]
async fn video_faceswap_over_http_serves_an_mp4_with_ranges() {
    let mut origin = Origin::start().await;
    let sandbox = sandbox("video").await;
    let (status, body, _) = post_json(
        &sandbox.base_url,
        "test-key",
        "video_faceswap",
        json!({"source_video": origin.media_url("one-face.mp4"), "face_image": origin.media_url("camera.png"), "duration": 2, "enhance": 1, "webhook": origin.hook_url("v")}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["points"], 8);
    let hook = origin.next_hook(120).await;
    assert_eq!(hook.body["success"], 1, "{}", hook.body);
    assert_eq!(hook.body["type"], 3);
    let url = hook.body["result_image"].as_str().unwrap();
    assert!(url.ends_with(".mp4"), "{url}");
    let (status, headers, bytes) = get_bytes(url).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "video/mp4");
    assert_eq!(headers["access-control-allow-origin"], "*");
    let ranged = reqwest::Client::new()
        .get(url)
        .header("range", "bytes=100-")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status().as_u16(), 206);
    assert_eq!(ranged.bytes().await.unwrap().len(), bytes.len() - 100);
    let saved = std::env::temp_dir().join(format!("sandbox-http-video-{}.mp4", std::process::id()));
    std::fs::write(&saved, &bytes).unwrap();
    let (w, h, frames, duration, _) = probe_video(&saved);
    assert_eq!((w, h, frames), (512, 512, 50));
    assert!((duration - 2.0).abs() < 0.1);
}

#[tokio::test]
async fn multi_video_faceswap_over_http_matches_by_base64_reference() {
    use base64::Engine;
    let mut origin = Origin::start().await;
    let sandbox = sandbox("multivideo").await;
    let still = media_rgb("astronaut.png");
    let face = FaceDetector::new().unwrap().detect_rgb(&still)[0];
    let crop = image::imageops::crop_imm(
        &still,
        face.x1 as u32,
        face.y1 as u32,
        face.width() as u32,
        face.height() as u32,
    )
    .to_image();
    let face_ref = faceswap_core::base64_image::BASE64.encode(jobs::encode_png(&crop).unwrap());
    let (status, body, _) = post_json(
        &sandbox.base_url,
        "test-key",
        "multi_video_faceswap",
        json!({"source_video": origin.media_url("one-face.mp4"), "ref_info": [{"face_ref": face_ref, "face_url": origin.media_url("camera.png")}], "duration": 2, "webhook": origin.hook_url("mv")}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // (faces 1 + 1 + enhance 0) x 2 per second x 2 s.
    assert_eq!(body["data"]["points"], 8);
    let hook = origin.next_hook(120).await;
    assert_eq!(hook.body["success"], 1, "{}", hook.body);
    assert_eq!(hook.body["type"], 4);
    let (_, _, bytes) = get_bytes(hook.body["result_image"].as_str().unwrap()).await;
    let saved = std::env::temp_dir().join(format!("sandbox-http-mv-{}.mp4", std::process::id()));
    std::fs::write(&saved, &bytes).unwrap();
    let before = video_frame(&media("one-face.mp4"), 10);
    let after = video_frame(&saved, 10);
    let now = FaceDetector::new().unwrap().detect_rgb(&before)[0];
    let rect = (now.x1 as u32, now.y1 as u32, now.x2 as u32, now.y2 as u32);
    let change = mean_abs_diff(&before, &after, rect);
    assert!(
        change > 10.0,
        "the matched face changed by only {change:.1}"
    );
}
