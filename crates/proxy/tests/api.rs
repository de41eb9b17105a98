//! The proxy over real HTTP on loopback, against a fake provider.

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::Duration;

async fn error_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "error bodies are JSON"
    );
    let body: Value = response.json().await.expect("error JSON");
    assert_eq!(body["code"], status);
    (status, body)
}

fn token_of(webhook: &str) -> String {
    webhook.rsplit('/').next().expect("token").to_owned()
}

#[tokio::test]
async fn each_operation_is_forwarded_with_the_bearer_key_and_answered_unchanged() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &[]).await;
    let mut tokens = Vec::new();
    for op in OPS {
        let response = proxy.submit(op, valid_body(op)).await;
        assert_eq!(response.status(), 200, "{op}");
        let body = response.bytes().await.expect("body");
        let call = fake.last();
        assert_eq!(call.path, format!("/api/aifaceswap/v1/{op}"));
        assert_eq!(call.headers["authorization"], format!("Bearer {KEY}"));
        assert_eq!(call.headers["content-type"], "application/json");
        // The upstream JSON comes back byte for byte.
        let upstream: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(upstream["code"], 200);
        let task_op = matches!(
            op,
            "faceswap" | "multi_faceswap" | "video_faceswap" | "multi_video_faceswap"
        );
        match call.webhook() {
            Some(hook) => {
                assert!(task_op, "{op} has no webhook");
                let prefix = format!("{}/hooks/aifaceswap/", proxy.url);
                assert!(hook.starts_with(&prefix), "{hook}");
                let token = token_of(&hook);
                assert_eq!(token.len(), 64, "256-bit token");
                tokens.push(token);
                let task_id = upstream["data"]["task_id"].as_str().expect("task id");
                let task = proxy.task(task_id).await;
                assert_eq!(task["status"], "pending");
                // The provider's own figure is stored (the fake's, from the price table).
                assert_eq!(task["points"], upstream["data"]["points"]);
                assert!(task["points"].as_u64().is_some_and(|points| points >= 2));
            }
            None => assert!(!task_op, "{op} needs a webhook"),
        }
    }
    tokens.sort();
    tokens.dedup();
    assert_eq!(tokens.len(), 4, "a fresh token per task");
}

#[tokio::test]
async fn upstream_json_is_returned_byte_for_byte() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &[]).await;
    let body = proxy
        .submit("extract_face", valid_body("extract_face"))
        .await
        .text()
        .await
        .expect("text");
    assert_eq!(
        body,
        r#"{"code":200,"data":{"faces":[[146,256,240,381]],"points":2},"message":"OK"}"#
    );
}

#[tokio::test]
async fn browser_headers_and_webhook_are_not_forwarded() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &[]).await;
    let mut body = valid_body("faceswap");
    body["webhook"] = json!("https://evil.example/steal");
    let response = proxy
        .http
        .post(format!("{}/api/aifaceswap/v1/faceswap", proxy.url))
        .header("cookie", "session=browser-cookie")
        .header("authorization", "Bearer browser-token")
        .header("x-custom", "browser-header")
        .header("x-forwarded-for", "10.1.2.3")
        .header("referer", "https://page.example/")
        .json(&body)
        .send()
        .await
        .expect("submit");
    assert_eq!(response.status(), 200);
    let call = fake.last();
    assert_eq!(call.headers["authorization"], format!("Bearer {KEY}"));
    for name in ["cookie", "x-custom", "x-forwarded-for", "referer", "origin"] {
        assert!(call.headers.get(name).is_none(), "{name} forwarded");
    }
    let hook = call.webhook().expect("webhook");
    assert!(hook.starts_with(&format!("{}/hooks/aifaceswap/", proxy.url)));
    assert!(!String::from_utf8_lossy(&call.body).contains("evil.example"));
}

#[tokio::test]
async fn without_a_key_no_authorization_goes_upstream() {
    let fake = Fake::start().await;
    let proxy = proxy_with_key(&fake, None, &[]).await;
    let response = proxy
        .http
        .post(format!("{}/api/aifaceswap/v1/faceswap", proxy.url))
        .header("authorization", "Bearer browser-token")
        .json(&valid_body("faceswap"))
        .send()
        .await
        .expect("submit");
    assert_eq!(response.status(), 200);
    assert!(fake.last().headers.get("authorization").is_none());
    let config: Value = proxy.get("/api/config").await.json().await.expect("json");
    assert_eq!(
        (&config["mode"], &config["provider"]),
        (&json!("sandbox"), &json!("aifaceswap"))
    );
    assert_eq!(config["providers"][0]["mode"], "sandbox");
}

#[tokio::test]
async fn config_endpoint_names_the_mode_and_never_the_key() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &[]).await;
    let text = proxy.get("/api/config").await.text().await.expect("text");
    assert!(!text.contains(KEY));
    let config: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        (&config["mode"], &config["provider"]),
        (&json!("provider"), &json!("aifaceswap"))
    );
    let aifaceswap = config["providers"]
        .as_array()
        .expect("providers")
        .iter()
        .find(|p| p["id"] == "aifaceswap")
        .expect("aifaceswap listed");
    assert_eq!(aifaceswap["mode"], "live");
    assert_eq!(
        aifaceswap["operations"],
        json!([
            "faceSwap",
            "extractFace",
            "multiFaceSwap",
            "videoFaceSwap",
            "extractBase64Face",
            "multiVideoFaceSwap"
        ])
    );
    assert_eq!(proxy.get("/healthz").await.status(), 200);
}

/// What the demo page reads of each provider (`www/app.js`, `www/backends.js`): its client
/// class, cost unit, one-face swap and each operation's details, for every provider listed.
#[tokio::test]
async fn config_tells_the_demo_each_providers_class_unit_swap_and_operations() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &[]).await;
    let config: Value = proxy.get("/api/config").await.json().await.expect("json");
    let providers = config["providers"].as_array().expect("providers");
    assert!(!providers.is_empty());
    for provider in providers {
        let id = &provider["id"];
        assert!(
            provider["client"]
                .as_str()
                .is_some_and(|c| c.ends_with("Client")),
            "{id}"
        );
        assert!(
            ["credits", "usd", "requests"].contains(&provider["costUnit"].as_str().unwrap_or("")),
            "{id}"
        );
        let swap = &provider["swapFace"];
        let operations = provider["operations"].as_array().expect("operations");
        assert!(operations.contains(&swap["operation"]), "{id}");
        assert!(
            swap["target"].is_string() && swap["face"].is_string(),
            "{id}"
        );
        let details = provider["operationDetails"].as_array().expect("details");
        assert_eq!(details.len(), operations.len(), "{id}");
        for (detail, name) in details.iter().zip(operations) {
            assert_eq!(&detail["jsName"], name, "{id}");
            assert!(
                detail["wireName"].is_string() && detail["route"].is_string(),
                "{id}"
            );
            assert!(detail["fileFields"].is_array() && detail["repeatedFields"].is_array());
            assert!(detail["startsTask"].is_boolean(), "{id}");
        }
    }
    assert_eq!(providers[0]["client"], "FaceSwapClient");
    assert_eq!(providers[0]["costUnit"], "credits");
}

#[tokio::test]
async fn unknown_operations_are_404_and_reach_no_other_upstream_path() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &[]).await;
    for path in [
        "/api/aifaceswap/v1/nope",
        "/api/aifaceswap/v1/FaceSwap",
        "/api/aifaceswap/v1/..%2Fv2%2Ffaceswap",
        "/api/aifaceswap/v1/%2e%2e",
        "/api/aifaceswap/v1/faceswap/extra",
        "/api/aifaceswap/v2/faceswap",
        "/api/aifaceswap/v1/",
        "/api/other",
    ] {
        let response = proxy
            .http
            .post(format!("{}{path}", proxy.url))
            .json(&valid_body("faceswap"))
            .send()
            .await
            .expect("post");
        let (status, body) = error_of(response).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(body["error"], "not_found", "{path}");
    }
    assert_eq!(fake.count(), 0, "no upstream call");
}

#[tokio::test]
async fn every_bad_input_is_400_with_its_field_and_costs_no_upstream_call() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &[]).await;
    let png = base64_png();
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "faceswap",
            json!({"face_image": "https://a.example/b.jpg"}),
            "source_image",
        ),
        (
            "faceswap",
            json!({"source_image": "ftp://a.example/a.jpg", "face_image": "https://a.example/b.jpg"}),
            "source_image",
        ),
        (
            "faceswap",
            json!({"source_image": "https://a.example/a.jpg", "face_image": "javascript:alert(1)"}),
            "face_image",
        ),
        (
            "faceswap",
            json!({"source_image": "https://a.example/a.jpg", "face_image": "https://a.example/b c.jpg"}),
            "face_image",
        ),
        (
            "faceswap",
            json!({"source_image": 5, "face_image": "https://a.example/b.jpg"}),
            "source_image",
        ),
        ("extract_face", json!({}), "img"),
        ("extract_face", json!({"img": "file:///etc/passwd"}), "img"),
        (
            "multi_faceswap",
            json!({"source_image": "https://a.example/a.jpg", "face_image": ["https://a.example/b.jpg"], "index": [0, 1]}),
            "index",
        ),
        (
            "multi_faceswap",
            json!({"source_image": "https://a.example/a.jpg", "face_image": ["https://a.example/b.jpg", "https://a.example/c.jpg"], "index": [1, 1]}),
            "index",
        ),
        (
            "multi_faceswap",
            json!({"source_image": "https://a.example/a.jpg", "face_image": ["https://a.example/b.jpg"], "index": [-1]}),
            "index",
        ),
        (
            "multi_faceswap",
            json!({"source_image": "https://a.example/a.jpg", "face_image": [], "index": []}),
            "face_image",
        ),
        (
            "multi_faceswap",
            json!({"source_image": "https://a.example/a.jpg", "face_image": ["nope"], "index": [0]}),
            "face_image[0]",
        ),
        (
            "video_faceswap",
            json!({"source_video": "https://a.example/v.mp4", "face_image": "https://a.example/b.jpg", "duration": 0}),
            "duration",
        ),
        (
            "video_faceswap",
            json!({"source_video": "https://a.example/v.mp4", "face_image": "https://a.example/b.jpg", "duration": 5, "enhance": 3}),
            "enhance",
        ),
        (
            "video_faceswap",
            json!({"source_video": "https://a.example/v.mp4", "face_image": "https://a.example/b.jpg"}),
            "duration",
        ),
        (
            "extract_base64_face",
            json!({"base64_img": ""}),
            "base64_img",
        ),
        (
            "extract_base64_face",
            json!({"base64_img": "not base64 !!"}),
            "base64_img",
        ),
        (
            "multi_video_faceswap",
            json!({"source_video": "https://a.example/v.mp4", "ref_info": [], "duration": 5}),
            "ref_info",
        ),
        (
            "multi_video_faceswap",
            json!({"source_video": "https://a.example/v.mp4", "ref_info": [
            {"face_ref": png, "face_url": "https://a.example/1.jpg"}, {"face_ref": png, "face_url": "https://a.example/2.jpg"},
            {"face_ref": png, "face_url": "https://a.example/3.jpg"}, {"face_ref": png, "face_url": "https://a.example/4.jpg"}], "duration": 5}),
            "ref_info",
        ),
        (
            "multi_video_faceswap",
            json!({"source_video": "https://a.example/v.mp4", "ref_info": [{"face_ref": "%%%", "face_url": "https://a.example/1.jpg"}], "duration": 5}),
            "ref_info[0].face_ref",
        ),
        (
            "multi_video_faceswap",
            json!({"source_video": "https://a.example/v.mp4", "ref_info": [{"face_ref": png, "face_url": "x"}], "duration": 5}),
            "ref_info[0].face_url",
        ),
        (
            "faceswap",
            json!({"source_image": "https://a.example/a.jpg", "face_image": "https://a.example/b.jpg", "webhook": "not a url"}),
            "webhook",
        ),
    ];
    for (op, body, field) in cases {
        let (status, error) = error_of(proxy.submit(op, body.clone()).await).await;
        assert_eq!(status, 400, "{op} {body}");
        assert_eq!(error["error"], "invalid_parameter", "{op} {body}");
        assert_eq!(error["field"], field, "{op} {body}: {error}");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // Not JSON at all.
    let response = proxy
        .http
        .post(format!("{}/api/aifaceswap/v1/faceswap", proxy.url))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("post");
    let (status, error) = error_of(response).await;
    assert_eq!((status, error["field"].as_str()), (400, Some("body")));
    assert_eq!(fake.count(), 0, "bad input never reaches the provider");
}

fn form_with_file(
    field: &str,
    bytes: &'static [u8],
    name: &str,
    mime: &str,
) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new().part(
        field.to_owned(),
        reqwest::multipart::Part::bytes(bytes)
            .file_name(name.to_owned())
            .mime_str(mime)
            .expect("mime"),
    )
}

#[tokio::test]
async fn multipart_faceswap_and_extract_face_stream_files_upstream() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &[]).await;
    let post = |op: &'static str, form: reqwest::multipart::Form| {
        let http = proxy.http.clone();
        let url = format!("{}/api/aifaceswap/v1/{op}", proxy.url);
        async move { http.post(url).multipart(form).send().await.expect("post") }
    };

    let form = form_with_file("source_image", PNG, "me.png", "image/png")
        .text("face_image", "https://img.example/face.jpg")
        .text("webhook", "https://evil.example/steal")
        .text("unknown", "dropped");
    let response = post("faceswap", form).await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.expect("json");
    let call = fake.last();
    assert_eq!(call.path, "/api/aifaceswap/v1/faceswap");
    assert_eq!(call.headers["authorization"], format!("Bearer {KEY}"));
    let content_type = call.headers["content-type"]
        .to_str()
        .expect("ct")
        .to_owned();
    assert!(
        content_type.starts_with("multipart/form-data"),
        "{content_type}"
    );
    let raw = &call.body;
    assert!(
        raw.windows(PNG.len()).any(|w| w == PNG),
        "the file goes upstream"
    );
    let text = String::from_utf8_lossy(raw);
    assert!(text.contains("https://img.example/face.jpg"));
    assert!(!text.contains("evil.example") && !text.contains("dropped"));
    let hook = call.webhook().expect("our webhook");
    assert!(hook.starts_with(&format!("{}/hooks/aifaceswap/", proxy.url)));
    let task_id = answer["data"]["task_id"].as_str().expect("task");
    assert_eq!(proxy.task(task_id).await["status"], "pending");

    let response = post(
        "extract_face",
        form_with_file("img", JPEG, "g.jpg", "image/jpeg"),
    )
    .await;
    assert_eq!(response.status(), 200);
    let call = fake.last();
    assert_eq!(call.path, "/api/aifaceswap/v1/extract_face");
    assert!(call.webhook().is_none());
    assert!(call.body.windows(JPEG.len()).any(|w| w == JPEG));
    let calls = fake.count();

    // A GIF is refused by its magic bytes, whatever it claims to be.
    let form = form_with_file("source_image", GIF, "me.png", "image/png")
        .text("face_image", "https://img.example/f.jpg");
    let (status, error) = error_of(post("faceswap", form).await).await;
    assert_eq!(
        (status, error["field"].as_str()),
        (415, Some("source_image"))
    );
    assert_eq!(error["error"], "unsupported_media_type");
    // A video where an image belongs.
    let (status, _) = error_of(
        post(
            "extract_face",
            form_with_file("img", MP4, "v.mp4", "video/mp4"),
        )
        .await,
    )
    .await;
    assert_eq!(status, 415);
    // A missing field.
    let form = form_with_file("source_image", PNG, "me.png", "image/png");
    let (status, error) = error_of(post("faceswap", form).await).await;
    assert_eq!((status, error["field"].as_str()), (400, Some("face_image")));
    // A bad URL in a text field.
    let form =
        form_with_file("source_image", PNG, "me.png", "image/png").text("face_image", "ftp://x/y");
    let (status, error) = error_of(post("faceswap", form).await).await;
    assert_eq!((status, error["field"].as_str()), (400, Some("face_image")));
    // Multipart where only JSON is accepted.
    let (status, _) = error_of(
        post(
            "video_faceswap",
            form_with_file("face_image", PNG, "a.png", "image/png"),
        )
        .await,
    )
    .await;
    assert_eq!(status, 415);
    assert_eq!(fake.count(), calls, "refused forms cost nothing");
}

/// The first page's "Method2" of multi_faceswap: files `source_image` and one `face_image` per
/// face, `index` one text part per entry.
#[tokio::test]
async fn multipart_multi_faceswap_sends_each_face_file_upstream() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &[]).await;
    let url = format!("{}/api/aifaceswap/v1/multi_faceswap", proxy.url);
    let file = |bytes: &'static [u8], name: &str, mime: &str| {
        reqwest::multipart::Part::bytes(bytes)
            .file_name(name.to_owned())
            .mime_str(mime)
            .expect("mime")
    };
    let form = reqwest::multipart::Form::new()
        .part("source_image", file(JPEG, "source.jpg", "image/jpeg"))
        .part("face_image", file(PNG, "face1.png", "image/png"))
        .part("face_image", file(JPEG, "face2.jpeg", "image/jpeg"))
        .text("webhook", "http://evil.example/api/task_callback")
        .text("index", "0")
        .text("index", "2");
    let response = proxy
        .http
        .post(&url)
        .multipart(form)
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.expect("json");
    let call = fake.last();
    assert_eq!(call.path, "/api/aifaceswap/v1/multi_faceswap");
    let text = String::from_utf8_lossy(&call.body).into_owned();
    assert_eq!(
        text.matches("name=\"face_image\"").count(),
        2,
        "one part per face: {text}"
    );
    assert_eq!(text.matches("name=\"index\"").count(), 2);
    assert!(call.body.windows(PNG.len()).any(|w| w == PNG));
    assert!(!text.contains("evil.example"));
    assert!(call.webhook().is_some(), "the proxy's own webhook");
    let task_id = answer["data"]["task_id"].as_str().expect("task");
    let view = proxy.task(task_id).await;
    assert_eq!(view["status"], "pending");
    let calls = fake.count();

    // One index per face image, as for JSON.
    let form = reqwest::multipart::Form::new()
        .part("source_image", file(JPEG, "source.jpg", "image/jpeg"))
        .part("face_image", file(PNG, "face1.png", "image/png"))
        .part("face_image", file(PNG, "face2.png", "image/png"))
        .text("index", "0");
    let (status, error) = error_of(
        proxy
            .http
            .post(&url)
            .multipart(form)
            .send()
            .await
            .expect("post"),
    )
    .await;
    assert_eq!((status, error["field"].as_str()), (400, Some("index")));
    // A field the operation takes once is still refused twice.
    let form = reqwest::multipart::Form::new()
        .part("source_image", file(JPEG, "a.jpg", "image/jpeg"))
        .part("source_image", file(JPEG, "b.jpg", "image/jpeg"));
    let (status, error) = error_of(
        proxy
            .http
            .post(&url)
            .multipart(form)
            .send()
            .await
            .expect("post"),
    )
    .await;
    assert_eq!(
        (status, error["field"].as_str()),
        (400, Some("source_image"))
    );
    assert_eq!(fake.count(), calls, "refused forms cost nothing");
}

#[tokio::test]
async fn multipart_files_over_the_limit_are_413() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &["--upload-max-bytes", "1000"]).await;
    let big: &'static [u8] = Box::leak({
        let mut v = PNG.to_vec();
        v.resize(5000, 0);
        v.into_boxed_slice()
    });
    let form = form_with_file("img", big, "big.png", "image/png");
    let response = proxy
        .http
        .post(format!("{}/api/aifaceswap/v1/extract_face", proxy.url))
        .multipart(form)
        .send()
        .await
        .expect("post");
    let (status, error) = error_of(response).await;
    assert_eq!(status, 413);
    assert_eq!(error["error"], "payload_too_large");
    assert_eq!(fake.count(), 0);
}

#[tokio::test]
async fn a_webhook_that_arrives_before_the_submit_answer_is_held_and_applied() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &[]).await;
    fake.set(Behaviour::WebhookFirst);
    let answer: Value = proxy
        .submit("faceswap", valid_body("faceswap"))
        .await
        .json()
        .await
        .expect("json");
    let task_id = answer["data"]["task_id"].as_str().expect("task id");
    let task = proxy.task(task_id).await;
    assert_eq!(task["status"], "succeeded");
    assert_eq!(task["result_url"], "https://cdn.example/result.jpg");
    assert_eq!(task["type"], 1);
}

#[tokio::test]
async fn webhooks_duplicate_late_forged_and_unknown_change_nothing() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &[]).await;
    let a: Value = proxy
        .submit("faceswap", valid_body("faceswap"))
        .await
        .json()
        .await
        .expect("json");
    let hook_a = fake.last().webhook().expect("hook");
    let b: Value = proxy
        .submit("faceswap", valid_body("faceswap"))
        .await
        .json()
        .await
        .expect("json");
    let hook_b = fake.last().webhook().expect("hook");
    let task_a = a["data"]["task_id"].as_str().expect("id").to_owned();
    let task_b = b["data"]["task_id"].as_str().expect("id").to_owned();

    // A token cannot change another task.
    assert_eq!(deliver(&hook_a, success(&task_b)).await, 404);
    assert_eq!(proxy.task(&task_b).await["status"], "pending");
    // Unknown and malformed tokens.
    let unknown = format!("{}/hooks/aifaceswap/{}", proxy.url, "ab".repeat(32));
    assert_eq!(deliver(&unknown, success(&task_a)).await, 404);
    assert_eq!(
        deliver(
            &format!("{}/hooks/aifaceswap/short", proxy.url),
            success(&task_a)
        )
        .await,
        404
    );
    assert_eq!(deliver(&unknown, json!({"garbage": true})).await, 404);
    // A malformed body on a real token.
    assert_eq!(
        deliver(&hook_a, json!({"success": 1, "task_id": task_a})).await,
        400
    );
    assert_eq!(proxy.task(&task_a).await["status"], "pending");

    assert_eq!(deliver(&hook_a, success(&task_a)).await, 200);
    let done = proxy.task(&task_a).await;
    assert_eq!(done["status"], "succeeded");
    // Duplicate delivery: nothing changes, not even updated_at.
    assert_eq!(deliver(&hook_a, success(&task_a)).await, 200);
    assert_eq!(proxy.task(&task_a).await, done);
    // Late failure never moves a terminal task back.
    assert_eq!(
        deliver(&hook_a, json!({"success": 0, "task_id": task_a})).await,
        200
    );
    assert_eq!(proxy.task(&task_a).await, done);

    // Failure of the other task is stored; a late success does not undo it.
    assert_eq!(
        deliver(&hook_b, json!({"success": 0, "type": 1, "task_id": task_b})).await,
        200
    );
    let failed = proxy.task(&task_b).await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["result_url"], Value::Null);
    assert_eq!(deliver(&hook_b, success(&task_b)).await, 200);
    assert_eq!(proxy.task(&task_b).await["status"], "failed");

    // A token of a submit the provider refused (a 4xx: no task was made) is discarded.
    fake.set(Behaviour::Status(400, None));
    assert_eq!(
        proxy
            .submit("faceswap", valid_body("faceswap"))
            .await
            .status(),
        502
    );
    let dead_hook = fake.last().webhook().expect("hook");
    assert_eq!(deliver(&dead_hook, success("anything")).await, 404);
}

#[tokio::test]
async fn unknown_tasks_are_404() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &[]).await;
    let (status, error) = error_of(proxy.get("/api/tasks/nope").await).await;
    assert_eq!((status, error["error"].as_str()), (404, Some("not_found")));
    let (status, _) = error_of(proxy.get("/api/tasks/nope/events").await).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn tasks_without_a_callback_time_out_and_stay_timed_out() {
    let fake = Fake::start().await;
    let proxy = proxy(
        &fake,
        &[
            "--task-deadline-ms",
            "300",
            "--maintenance-interval-ms",
            "50",
        ],
    )
    .await;
    let answer: Value = proxy
        .submit("video_faceswap", valid_body("video_faceswap"))
        .await
        .json()
        .await
        .expect("json");
    let hook = fake.last().webhook().expect("hook");
    let task_id = answer["data"]["task_id"].as_str().expect("id").to_owned();
    assert_eq!(proxy.task(&task_id).await["status"], "pending");
    let mut status = Value::Null;
    for _ in 0..200 {
        status = proxy.task(&task_id).await["status"].clone();
        if status == "timed_out" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, "timed_out");
    assert_eq!(deliver(&hook, success(&task_id)).await, 200);
    assert_eq!(proxy.task(&task_id).await["status"], "timed_out");
}

#[tokio::test]
async fn sse_sends_state_at_connect_on_change_keepalives_and_ends_after_terminal() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &["--sse-keepalive-ms", "100"]).await;
    let answer: Value = proxy
        .submit("faceswap", valid_body("faceswap"))
        .await
        .json()
        .await
        .expect("json");
    let hook = fake.last().webhook().expect("hook");
    let task_id = answer["data"]["task_id"].as_str().expect("id").to_owned();
    let path = format!("/api/tasks/{task_id}/events");

    let response = proxy.get(&path).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .expect("ct")
        .starts_with("text/event-stream"));
    let mut stream = SseReader::new(response);
    let wait = Duration::from_secs(5);
    match stream.next(wait).await {
        Some(Sse::Event { event, id, data }) => {
            assert_eq!((event.as_str(), id.as_str()), ("status", "1"));
            assert_eq!(data["status"], "pending");
            assert_eq!(data["task_id"], task_id.as_str());
        }
        other => panic!("expected the state at connect, got {other:?}"),
    }
    assert_eq!(stream.next(wait).await, Some(Sse::Comment), "keep-alive");
    assert_eq!(deliver(&hook, success(&task_id)).await, 200);
    let (id, data) = stream.next_event(wait).await.expect("change");
    assert_eq!(id, "2");
    assert_eq!(data["status"], "succeeded");
    assert_eq!(data["result_url"], "https://cdn.example/r.jpg");
    assert_eq!(
        stream.next_event(wait).await,
        None,
        "the stream ends after a terminal state"
    );

    // Resuming after event 1 gets the terminal state, then the end.
    let resumed = proxy
        .http
        .get(format!("{}{path}", proxy.url))
        .header("last-event-id", "1")
        .send()
        .await
        .expect("get");
    let mut stream = SseReader::new(resumed);
    let (id, data) = stream.next_event(wait).await.expect("terminal state");
    assert_eq!(
        (id.as_str(), data["status"].as_str()),
        ("2", Some("succeeded"))
    );
    assert_eq!(stream.next_event(wait).await, None);
    // Resuming after the terminal event: nothing more.
    let resumed = proxy
        .http
        .get(format!("{}{path}", proxy.url))
        .header("last-event-id", "2")
        .send()
        .await
        .expect("get");
    assert_eq!(SseReader::new(resumed).next_event(wait).await, None);
}

#[tokio::test]
async fn many_streams_of_one_task_are_all_woken() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &[]).await;
    let answer: Value = proxy
        .submit("faceswap", valid_body("faceswap"))
        .await
        .json()
        .await
        .expect("json");
    let hook = fake.last().webhook().expect("hook");
    let task_id = answer["data"]["task_id"].as_str().expect("id").to_owned();
    let mut streams = Vec::new();
    for _ in 0..20 {
        let mut s = SseReader::new(proxy.get(&format!("/api/tasks/{task_id}/events")).await);
        assert!(s.next_event(Duration::from_secs(5)).await.is_some());
        streams.push(s);
    }
    assert_eq!(deliver(&hook, success(&task_id)).await, 200);
    for s in &mut streams {
        let (_, data) = s.next_event(Duration::from_secs(5)).await.expect("woken");
        assert_eq!(data["status"], "succeeded");
    }
}

#[tokio::test]
async fn uploads_are_checked_by_magic_bytes_and_served_with_ranges() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &["--upload-max-bytes", "4096"]).await;
    let url = format!("{}/api/uploads", proxy.url);
    // Raw body.
    let response = proxy
        .http
        .post(&url)
        .header("content-type", "image/png")
        .body(PNG)
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 200);
    let uploaded: Value = response.json().await.expect("json");
    assert_eq!(uploaded["size"], PNG.len());
    assert_eq!(uploaded["content_type"], "image/png");
    let file_url = uploaded["url"].as_str().expect("url").to_owned();
    assert!(
        file_url.starts_with(&format!("{}/uploads/", proxy.url)),
        "{file_url}"
    );
    let got = proxy.http.get(&file_url).send().await.expect("get");
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["content-type"], "image/png");
    assert_eq!(&got.bytes().await.expect("bytes")[..], PNG);
    let ranged = proxy
        .http
        .get(&file_url)
        .header("range", "bytes=1-3")
        .send()
        .await
        .expect("range");
    assert_eq!(ranged.status(), 206);
    assert_eq!(
        ranged.headers()["content-range"],
        format!("bytes 1-3/{}", PNG.len())
    );
    assert_eq!(&ranged.bytes().await.expect("bytes")[..], &PNG[1..4]);

    // Multipart field `file`; the type comes from the bytes, not the claim.
    let movie: &'static [u8] = Box::leak(mp4_movie(2_000).into_boxed_slice());
    let form = form_with_file("file", movie, "clip.bin", "application/octet-stream");
    let uploaded: Value = proxy
        .http
        .post(&url)
        .multipart(form)
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(uploaded["content_type"], "video/mp4");
    let video_url = uploaded["url"].as_str().expect("url");
    assert!(video_url.ends_with(".mp4"));
    let got = proxy
        .http
        .get(video_url)
        .header("range", "bytes=4-7")
        .send()
        .await
        .expect("get");
    assert_eq!(
        (
            got.status().as_u16(),
            got.headers()["content-type"].to_str().ok()
        ),
        (206, Some("video/mp4"))
    );
    assert_eq!(&got.bytes().await.expect("bytes")[..], b"ftyp");

    // Refused types.
    for (bytes, ct) in [
        (GIF, "image/gif"),
        (&b"hello world, plain text"[..], "image/png"),
    ] {
        let response = proxy
            .http
            .post(&url)
            .header("content-type", ct)
            .body(bytes)
            .send()
            .await
            .expect("post");
        let (status, error) = error_of(response).await;
        assert_eq!(
            (status, error["error"].as_str()),
            (415, Some("unsupported_media_type"))
        );
    }
    let (status, _) = error_of(
        proxy
            .http
            .post(&url)
            .multipart(form_with_file("file", GIF, "a.gif", "image/gif"))
            .send()
            .await
            .expect("post"),
    )
    .await;
    assert_eq!(status, 415);
    // Too large, raw and multipart.
    let big = vec![0xFFu8; 10_000];
    let (status, error) = error_of(
        proxy
            .http
            .post(&url)
            .header("content-type", "image/jpeg")
            .body(big.clone())
            .send()
            .await
            .expect("post"),
    )
    .await;
    assert_eq!(
        (status, error["error"].as_str()),
        (413, Some("payload_too_large"))
    );
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(big).file_name("a.jpg"),
    );
    let (status, _) = error_of(
        proxy
            .http
            .post(&url)
            .multipart(form)
            .send()
            .await
            .expect("post"),
    )
    .await;
    assert_eq!(status, 413);
    // Missing field.
    let form = reqwest::multipart::Form::new().text("other", "x");
    let (status, error) = error_of(
        proxy
            .http
            .post(&url)
            .multipart(form)
            .send()
            .await
            .expect("post"),
    )
    .await;
    assert_eq!((status, error["field"].as_str()), (400, Some("file")));
    // Nothing else is reachable under /uploads.
    for path in [
        "/uploads/..%2Ftasks.db",
        "/uploads/nope.png",
        "/uploads/.spool",
        "/uploads/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    ] {
        assert_eq!(proxy.get(path).await.status(), 404, "{path}");
    }
    // Only the two accepted files remain in the folder (and the video's sidecar).
    let stored: Vec<String> = std::fs::read_dir(proxy.dir.path().join("uploads"))
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(stored.len(), 3, "{stored:?}");
    assert_eq!(
        stored
            .iter()
            .filter(|name| name.ends_with(".mp4.json"))
            .count(),
        1,
        "{stored:?}"
    );
    let spool_left = std::fs::read_dir(proxy.dir.path().join("uploads/.spool"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(spool_left, 0, "refused uploads leave nothing behind");
}

#[tokio::test]
async fn old_uploads_are_removed() {
    let fake = Fake::start().await;
    let proxy = proxy(
        &fake,
        &[
            "--upload-max-age-ms",
            "200",
            "--maintenance-interval-ms",
            "50",
        ],
    )
    .await;
    let uploaded: Value = proxy
        .http
        .post(format!("{}/api/uploads", proxy.url))
        .header("content-type", "image/png")
        .body(PNG)
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    let file_url = uploaded["url"].as_str().expect("url").to_owned();
    assert_eq!(
        proxy
            .http
            .get(&file_url)
            .send()
            .await
            .expect("get")
            .status(),
        200
    );
    let mut status = 200;
    for _ in 0..200 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        status = proxy
            .http
            .get(&file_url)
            .send()
            .await
            .expect("get")
            .status()
            .as_u16();
        if status == 404 {
            break;
        }
    }
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_rate_limit_answers_429_with_retry_after() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &["--rate-limit-per-min", "3"]).await;
    for _ in 0..3 {
        assert_eq!(
            proxy
                .submit("extract_face", valid_body("extract_face"))
                .await
                .status(),
            200
        );
    }
    let response = proxy
        .submit("extract_face", valid_body("extract_face"))
        .await;
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    let (status, error) = error_of(response).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (429, Some("rate_limited"))
    );
    assert_eq!(fake.count(), 3);
}

#[tokio::test]
async fn the_spend_cap_refuses_what_the_hour_cannot_pay() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &["--spend-cap-credits-per-hour", "15"]).await;
    // video_faceswap, 5 s, enhance 1: 20 credits (faceswap-core's price) > 15.
    let response = proxy
        .submit("video_faceswap", valid_body("video_faceswap"))
        .await;
    assert!(response.headers().contains_key("retry-after"));
    let (status, error) = error_of(response).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (429, Some("spend_cap_exceeded"))
    );
    assert_eq!(fake.count(), 0);
    // A refused upstream call (a 4xx: no task was made) refunds its credits.
    fake.set(Behaviour::Status(400, None));
    for _ in 0..5 {
        assert_eq!(
            proxy
                .submit("multi_faceswap", valid_body("multi_faceswap"))
                .await
                .status(),
            502
        );
    }
    fake.set(Behaviour::Normal);
    // 5 + 5 + 2 + 2 = 14 credits fit; the next 2 do not.
    assert_eq!(
        proxy
            .submit("multi_faceswap", valid_body("multi_faceswap"))
            .await
            .status(),
        200
    );
    assert_eq!(
        proxy
            .submit("multi_faceswap", valid_body("multi_faceswap"))
            .await
            .status(),
        200
    );
    assert_eq!(
        proxy
            .submit("faceswap", valid_body("faceswap"))
            .await
            .status(),
        200
    );
    assert_eq!(
        proxy
            .submit("extract_face", valid_body("extract_face"))
            .await
            .status(),
        200
    );
    let (status, error) = error_of(proxy.submit("faceswap", valid_body("faceswap")).await).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (429, Some("spend_cap_exceeded"))
    );
    assert_eq!(fake.count(), 5 + 4);
}

#[tokio::test]
async fn cors_allows_only_the_listed_origins() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &["--allowed-origins", "https://app.example"]).await;
    let preflight = |origin: &'static str| {
        let http = proxy.http.clone();
        let url = format!("{}/api/aifaceswap/v1/faceswap", proxy.url);
        async move {
            http.request(reqwest::Method::OPTIONS, url)
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .header(
                    "access-control-request-headers",
                    "content-type,idempotency-key",
                )
                .send()
                .await
                .expect("preflight")
        }
    };
    let allowed = preflight("https://app.example").await;
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    let allowed_headers = allowed.headers()["access-control-allow-headers"]
        .to_str()
        .expect("ascii")
        .to_ascii_lowercase();
    assert!(allowed_headers.contains("idempotency-key"));
    // A page of the app sends its user's token (AUTH_*): the preflight allows it.
    assert!(allowed_headers.contains("authorization"));
    let refused = preflight("https://evil.example").await;
    assert!(refused
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    let response = proxy
        .http
        .post(format!("{}/api/aifaceswap/v1/extract_face", proxy.url))
        .header("origin", "https://app.example")
        .json(&valid_body("extract_face"))
        .send()
        .await
        .expect("post");
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    // Answers depend on the origin: caches must keep them apart, preflights included.
    for headers in [response.headers(), allowed.headers(), refused.headers()] {
        let vary = headers["vary"].to_str().expect("ascii");
        assert_eq!(
            vary,
            "origin, access-control-request-method, access-control-request-headers"
        );
    }
    // Same origin only by default.
    let plain = common::proxy(&fake, &[]).await;
    let response = plain
        .http
        .get(format!("{}/api/config", plain.url))
        .header("origin", "https://app.example")
        .send()
        .await
        .expect("get");
    assert!(response
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

#[tokio::test]
async fn upstream_faults_are_mapped_and_never_retried() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &["--upstream-timeout-secs", "1"]).await;
    let cases: Vec<(Behaviour, u16, &str)> = vec![
        (Behaviour::Status(429, Some("7")), 429, "rate_limited"),
        (Behaviour::Status(500, None), 502, "upstream_error"),
        (Behaviour::Status(502, None), 503, "upstream_unavailable"),
        (Behaviour::Status(503, None), 503, "upstream_unavailable"),
        (Behaviour::Status(401, None), 502, "upstream_error"),
        (Behaviour::Status(400, None), 502, "upstream_error"),
        (
            Behaviour::Delay(Duration::from_millis(2500)),
            504,
            "upstream_timeout",
        ),
        (Behaviour::Redirect, 502, "upstream_error"),
        (
            Behaviour::EnvelopeError(401, format!("invalid key {KEY}")),
            502,
            "upstream_error",
        ),
        (
            Behaviour::EnvelopeError(429, "slow down".into()),
            429,
            "rate_limited",
        ),
    ];
    for (behaviour, expected, word) in cases {
        fake.set(behaviour.clone());
        let before = fake.count();
        let response = proxy.submit("faceswap", valid_body("faceswap")).await;
        if expected == 429 {
            assert!(
                response.headers().contains_key("retry-after"),
                "{behaviour:?}"
            );
        }
        if matches!(behaviour, Behaviour::Status(429, _)) {
            assert_eq!(response.headers()["retry-after"], "7");
        }
        for value in response.headers().values() {
            assert!(!value.to_str().unwrap_or_default().contains(KEY));
        }
        let text = response.text().await.expect("text");
        assert!(!text.contains(KEY), "the key leaked: {text}");
        let error: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(error["code"], expected, "{behaviour:?}: {text}");
        assert_eq!(error["error"], word, "{behaviour:?}");
        assert_eq!(
            fake.count(),
            before + 1,
            "exactly one upstream call: {behaviour:?}"
        );
        assert!(
            fake.calls
                .lock()
                .expect("lock")
                .iter()
                .all(|c| c.path != "/redirected"),
            "redirects are not followed"
        );
    }
    // Nobody listening.
    let dead = Fake {
        url: "http://127.0.0.1:9".into(),
        ..fake.clone()
    };
    let proxy = common::proxy(&dead, &[]).await;
    let (status, error) = error_of(proxy.submit("faceswap", valid_body("faceswap")).await).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (503, Some("upstream_unavailable"))
    );
}

#[tokio::test]
async fn oversized_json_bodies_are_413() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &["--json-max-bytes", "1000"]).await;
    let body = json!({"base64_img": "A".repeat(5000)});
    let (status, error) = error_of(proxy.submit("extract_base64_face", body).await).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (413, Some("payload_too_large"))
    );
    assert_eq!(fake.count(), 0);
}

/// A submit that reached the provider and got no answer in time keeps that answer under its
/// Idempotency-Key: the provider may have started a task, so a retry with the key is answered
/// 504 again without a second call. A refusal that says no task was made (a 4xx) frees the key,
/// and a retry then calls the provider.
#[tokio::test]
async fn a_submit_that_may_have_started_a_task_is_never_sent_twice_under_one_key() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &["--upstream-timeout-secs", "1"]).await;
    let submit = |key: &'static str| {
        proxy
            .http
            .post(format!("{}/api/aifaceswap/v1/faceswap", proxy.url))
            .header("idempotency-key", key)
            .json(&valid_body("faceswap"))
            .send()
    };
    fake.set(Behaviour::Delay(Duration::from_millis(2500)));
    let before = fake.count();
    let first = submit("slow-1").await.expect("submit");
    assert_eq!(first.status(), 504);
    assert_eq!(fake.count(), before + 1);
    fake.set(Behaviour::Normal);
    for _ in 0..2 {
        let again = submit("slow-1").await.expect("retry");
        assert_eq!(again.status(), 504);
        let body: Value = again.json().await.expect("json");
        assert_eq!(body["error"], "upstream_timeout");
    }
    assert_eq!(
        fake.count(),
        before + 1,
        "the retries never reached the provider"
    );

    // A new key is a new request.
    let fresh = submit("slow-2").await.expect("submit");
    assert_eq!(fresh.status(), 200);
    assert_eq!(fake.count(), before + 2);

    // Refused (the provider answers 400, then accepts): the key is free again.
    fake.set(Behaviour::Status(400, None));
    let refused = submit("down-1").await.expect("submit");
    assert_eq!(refused.status(), 502);
    fake.set(Behaviour::Normal);
    let retried = submit("down-1").await.expect("retry");
    assert_eq!(retried.status(), 200);
}
