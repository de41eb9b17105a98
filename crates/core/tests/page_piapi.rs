//! PiAPI's Image Faceswap page, replayed: its request example, its answer example, its header
//! and its format constraints are cases of the adapter.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use faceswap_core::base64_image::BASE64;
use faceswap_core::media::image_dimensions;
use faceswap_core::piapi::{PiApi, PROVIDER};
use faceswap_core::provider::{
    Adapter, AdapterSettings, AuthScheme, CallbackTarget, Prepared, SubmitOutcome, UpstreamBody,
    UpstreamMethod,
};
use serde_json::{json, Value};

/// The page's request example:
/// ```text
/// {
///   "model": "Qubico/image-toolkit",
///   "task_type": "face-swap",
///   "input": {
///     "target_image": "https://i.ibb.co/LnLYwhR/66f41e64b1922.jpg",
///     "swap_image": "https://i.ibb.co/m9BFL9J/ad61a39afd9079e57a5908c0bd9dd995.jpg"
///   }
/// }
/// ```
const REQUEST: &str = r#"{
  "model": "Qubico/image-toolkit",
  "task_type": "face-swap",
  "input": {
    "target_image": "https://i.ibb.co/LnLYwhR/66f41e64b1922.jpg",
    "swap_image": "https://i.ibb.co/m9BFL9J/ad61a39afd9079e57a5908c0bd9dd995.jpg"
  }
}"#;

/// The page's answer example, as printed.
const ANSWER: &str = r#"{
  "code": 200,
  "data": {
    "task_id": "90efd2db-bcfc-413f-a0be-c893850c9d68",
    "model": "Qubico/image-toolkit",
    "task_type": "face-swap",
    "status": "pending",
    "config": {
      "webhook_config": {
        "endpoint": "",
        "secret": ""
      }
    },
    "input": {},
    "output": null,
    "meta": {},
    "detail": null,
    "logs": [],
    "error": {
      "code": 0,
      "raw_message": "",
      "message": "",
      "detail": null
    }
  },
  "message": "success"
}"#;

/// The browser-facing route of every PiAPI task.
const ROUTE: &str = "v1/task";

fn prepare(body: &[u8]) -> Prepared {
    PiApi.prepare_json(ROUTE, body).unwrap()
}

/// "x-api-key string required Your API Key used for request authorization"; "POST /api/v1/task".
#[test]
fn key_header_and_route_are_the_pages() {
    assert_eq!(PROVIDER.auth, AuthScheme::Header("x-api-key"));
    assert_eq!(PROVIDER.default_base_url, "https://api.piapi.ai");
}

/// `curl --location --request POST 'https://api.piapi.ai/api/v1/task' ... --data-raw` the
/// example: sent as printed, with the proxy's webhook config added.
#[test]
fn the_request_example_is_sent_as_printed() {
    let prepared = prepare(REQUEST.as_bytes());
    let request = PiApi
        .upstream_request(&prepared, None, &AdapterSettings::new())
        .unwrap();
    assert_eq!(request.method, UpstreamMethod::Post);
    assert_eq!(request.path, "api/v1/task");
    let UpstreamBody::Json(json) = &request.body else {
        panic!("JSON")
    };
    let sent: Value = serde_json::from_slice(json).unwrap();
    assert_eq!(sent, serde_json::from_str::<Value>(REQUEST).unwrap());

    let hook = CallbackTarget {
        url: "https://proxy.example/hooks/piapi/tok".into(),
        secret: Some("s3cret".into()),
    };
    let request = PiApi
        .upstream_request(&prepared, Some(&hook), &AdapterSettings::new())
        .unwrap();
    let UpstreamBody::Json(json) = &request.body else {
        panic!("JSON")
    };
    let sent: Value = serde_json::from_slice(json).unwrap();
    assert_eq!(
        sent["input"],
        serde_json::from_str::<Value>(REQUEST).unwrap()["input"]
    );
    assert_eq!(
        sent["config"]["webhook_config"],
        json!({"endpoint": "https://proxy.example/hooks/piapi/tok", "secret": "s3cret"})
    );
}

/// The answer example: a pending task, whose echoed config never reaches the browser.
#[test]
fn the_answer_example_starts_a_task() {
    let prepared = prepare(REQUEST.as_bytes());
    assert_eq!(
        PiApi.read_submit(&prepared, ANSWER.as_bytes()).unwrap(),
        SubmitOutcome::Started {
            task_id: "90efd2db-bcfc-413f-a0be-c893850c9d68".into(),
            points: None
        }
    );
    let shown: Value = serde_json::from_slice(&PiApi.browser_answer(ANSWER.as_bytes())).unwrap();
    assert!(shown["data"].get("config").is_none());
    assert_eq!(shown["data"]["status"], "pending");
    // The same envelope, polled (Get Task), is a pending update of that task.
    let update = PiApi
        .read_poll("90efd2db-bcfc-413f-a0be-c893850c9d68", ANSWER.as_bytes())
        .unwrap();
    assert!(!update.is_terminal());
}

/// The smallest PNG header of `width` x `height` (signature and IHDR): all a header reader needs.
fn png(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.extend_from_slice(&width.to_be_bytes());
    bytes.extend_from_slice(&height.to_be_bytes());
    bytes.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    bytes
}

fn with_images(target: &str, swap: &str) -> Vec<u8> {
    serde_json::to_vec(
        &json!({"model": "Qubico/image-toolkit", "task_type": "face-swap",
        "input": {"target_image": target, "swap_image": swap}}),
    )
    .unwrap()
}

/// "Size & Resolution: both swap_image and target_image should be under 2048 x 2048 resolution
/// each.": a base64 image larger than that is refused before anything is spent.
#[test]
fn base64_images_over_2048_are_refused() {
    assert_eq!(image_dimensions(&png(2048, 2048)), Some((2048, 2048)));
    let ok = BASE64.encode(png(2048, 2048));
    let wide = BASE64.encode(png(2049, 100));
    let tall = BASE64.encode(png(100, 4096));
    assert!(PiApi.prepare_json(ROUTE, &with_images(&ok, &ok)).is_ok());
    let err = PiApi
        .prepare_json(ROUTE, &with_images(&wide, &ok))
        .unwrap_err();
    assert_eq!(err.field, "input.target_image");
    assert!(err.message.contains("2049"), "{}", err.message);
    assert!(err.message.contains("2048"), "{}", err.message);
    let err = PiApi
        .prepare_json(
            ROUTE,
            &with_images(&ok, &format!("data:image/png;base64,{tall}")),
        )
        .unwrap_err();
    assert_eq!(err.field, "input.swap_image");
}

/// "Input Format: both swap_image and target_image should be passed in as urls (ending in
/// jpg/jpeg/png/webp) or in base64 string."
#[test]
fn inputs_are_urls_with_image_extensions_or_base64() {
    for ext in ["jpg", "jpeg", "png", "webp"] {
        let url = format!("https://cdn.example/face.{ext}");
        assert!(
            PiApi.prepare_json(ROUTE, &with_images(&url, &url)).is_ok(),
            "{ext}"
        );
    }
    let err = PiApi
        .prepare_json(
            ROUTE,
            &with_images("https://cdn.example/face.gif", "https://cdn.example/a.jpg"),
        )
        .unwrap_err();
    assert_eq!(err.field, "input.target_image");
}
