//! `FaceSwapClient` in headless Chromium: bad input is rejected with `invalid_parameter` and a
//! camelCase `field` before any request is made; network failures, aborts and HTTP errors become
//! errors with the right `code`.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use faceswap_wasm::FaceSwapClient;
use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const URL: &str = "https://cdn.example/face.jpg";
const VIDEO: &str = "https://cdn.example/clip.mp4";
const PNG_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

/// Replaces the global `fetch` with one that counts calls and then calls the real one.
struct FetchCounter {
    original: JsValue,
}

impl FetchCounter {
    fn install() -> Self {
        let global = js_sys::global();
        let original = Reflect::get(&global, &"fetch".into()).unwrap();
        Reflect::set(&global, &"__fetchCalls".into(), &0.into()).unwrap();
        let wrapper = Function::new_with_args(
            "original",
            "return function(...args) { globalThis.__fetchCalls += 1; return original.apply(globalThis, args); };",
        )
        .call1(&JsValue::NULL, &original)
        .unwrap();
        Reflect::set(&global, &"fetch".into(), &wrapper).unwrap();
        Self { original }
    }

    fn calls(&self) -> f64 {
        Reflect::get(&js_sys::global(), &"__fetchCalls".into())
            .unwrap()
            .as_f64()
            .unwrap()
    }
}

impl Drop for FetchCounter {
    fn drop(&mut self) {
        Reflect::set(&js_sys::global(), &"fetch".into(), &self.original).unwrap();
    }
}

fn object(source: &str) -> JsValue {
    js_sys::eval(&format!("({source})")).unwrap()
}

fn client(base_url: &str) -> FaceSwapClient {
    let options = Object::new();
    Reflect::set(&options, &"baseUrl".into(), &base_url.into()).unwrap();
    Reflect::set(&options, &"timeoutMs".into(), &5000.into()).unwrap();
    FaceSwapClient::new(options.into()).unwrap()
}

async fn rejection(promise: Promise) -> JsValue {
    match JsFuture::from(promise).await {
        Ok(value) => panic!("expected a rejection, got {value:?}"),
        Err(err) => err,
    }
}

fn prop(value: &JsValue, name: &str) -> JsValue {
    Reflect::get(value, &name.into()).unwrap()
}

fn assert_invalid(err: &JsValue, field: &str) {
    assert!(
        err.is_instance_of::<js_sys::Error>(),
        "not an Error: {err:?}"
    );
    assert_eq!(prop(err, "name"), "FaceSwapError");
    assert_eq!(prop(err, "code"), "invalid_parameter", "{err:?}");
    assert_eq!(prop(err, "field"), field, "{:?}", prop(err, "message"));
    let message = prop(err, "message").as_string().unwrap();
    assert!(
        message.contains(field),
        "message {message:?} should name {field}"
    );
}

#[wasm_bindgen_test]
async fn invalid_input_is_rejected_before_any_request() {
    let counter = FetchCounter::install();
    let c = client("/api");
    let undefined = JsValue::UNDEFINED;

    let cases: Vec<(&str, Promise, &str)> = vec![
        ("missing faceImage", c.face_swap(object(&format!("{{ sourceImage: '{URL}' }}")), undefined.clone()), "faceImage"),
        ("relative URL", c.face_swap(object(&format!("{{ sourceImage: '/a.png', faceImage: '{URL}' }}")), undefined.clone()), "sourceImage"),
        ("number as image", c.extract_face(object("{ img: 42 }"), undefined.clone()), "img"),
        ("not an object", c.extract_face(JsValue::from_str("https://x"), undefined.clone()), "request"),
        (
            "index length",
            c.multi_face_swap(object(&format!("{{ sourceImage: '{URL}', faceImage: ['{URL}', '{URL}'], index: [0] }}")), undefined.clone()),
            "index",
        ),
        (
            "fractional index",
            c.multi_face_swap(object(&format!("{{ sourceImage: '{URL}', faceImage: ['{URL}'], index: [0.5] }}")), undefined.clone()),
            "index",
        ),
        (
            "bad face url in list",
            c.multi_face_swap(object(&format!("{{ sourceImage: '{URL}', faceImage: ['{URL}', 'ftp://x/y.png'], index: [0, 1] }}")), undefined.clone()),
            "faceImage[1]",
        ),
        (
            "negative duration",
            c.video_face_swap(object(&format!("{{ sourceVideo: '{VIDEO}', faceImage: '{URL}', duration: -2 }}")), undefined.clone()),
            "duration",
        ),
        (
            "enhance 3",
            c.video_face_swap(object(&format!("{{ sourceVideo: '{VIDEO}', faceImage: '{URL}', duration: 2, enhance: 3 }}")), undefined.clone()),
            "enhance",
        ),
        ("not base64", c.extract_base64_face(object("{ base64Img: '%%%' }"), undefined.clone()), "base64Img"),
        (
            "too many refs",
            c.multi_video_face_swap(
                object(&format!(
                    "{{ sourceVideo: '{VIDEO}', duration: 1, refInfo: [1,2,3,4].map(() => ({{ faceRef: '{PNG_BASE64}', faceUrl: '{URL}' }})) }}"
                )),
                undefined.clone(),
            ),
            "refInfo",
        ),
        (
            "bad faceRef",
            c.multi_video_face_swap(
                object(&format!("{{ sourceVideo: '{VIDEO}', duration: 1, refInfo: [{{ faceRef: 'R0lGODlh', faceUrl: '{URL}' }}] }}")),
                undefined.clone(),
            ),
            "refInfo[0].faceRef",
        ),
        (
            "missing faceUrl",
            c.multi_video_face_swap(object(&format!("{{ sourceVideo: '{VIDEO}', duration: 1, refInfo: [{{ faceRef: '{PNG_BASE64}' }}] }}")), undefined.clone()),
            "refInfo[0].faceUrl",
        ),
        (
            "blob that is not an image",
            c.face_swap(
                object(&format!("{{ sourceImage: new Blob(['GIF89a not allowed']), faceImage: '{URL}' }}")),
                undefined.clone(),
            ),
            "sourceImage",
        ),
        (
            "image blob as video",
            c.video_face_swap(
                object(&format!(
                    "{{ sourceVideo: new Blob([Uint8Array.from(atob('{PNG_BASE64}'), c => c.charCodeAt(0))], {{ type: 'image/png' }}), faceImage: '{URL}', duration: 1 }}"
                )),
                undefined.clone(),
            ),
            "sourceVideo",
        ),
        ("empty idempotency key", c.extract_face(object(&format!("{{ img: '{URL}' }}")), object("{ idempotencyKey: '' }")), "idempotencyKey"),
        ("empty task id", c.wait_for_result(JsValue::from_str(" "), undefined.clone()), "taskId"),
        ("upload of a string", c.upload(JsValue::from_str("file.png"), undefined.clone()), "file"),
    ];
    for (name, promise, field) in cases {
        let err = rejection(promise).await;
        assert_invalid(&err, field);
        assert_eq!(counter.calls(), 0.0, "{name} made a request");
    }
}

#[wasm_bindgen_test]
fn constructor_checks_its_options() {
    let err = FaceSwapClient::new(object("{ timeoutMs: -1 }"))
        .err()
        .unwrap();
    assert_invalid(&err, "timeoutMs");
    let err = FaceSwapClient::new(object("{ baseUrl: '' }"))
        .err()
        .unwrap();
    assert_invalid(&err, "baseUrl");
    assert!(FaceSwapClient::new(JsValue::UNDEFINED).is_ok());
}

#[wasm_bindgen_test]
async fn unreachable_proxy_is_a_network_error() {
    let c = client("http://127.0.0.1:9/api");
    let err =
        rejection(c.extract_face(object(&format!("{{ img: '{URL}' }}")), JsValue::UNDEFINED)).await;
    assert_eq!(prop(&err, "code"), "network_error");
    assert!(prop(&err, "status").is_undefined());
}

#[wasm_bindgen_test]
async fn an_aborted_signal_rejects_with_aborted() {
    let counter = FetchCounter::install();
    let c = client("/api");
    let options = object("{ signal: AbortSignal.abort() }");
    let err =
        rejection(c.extract_face(object(&format!("{{ img: '{URL}' }}")), options.clone())).await;
    assert_eq!(prop(&err, "code"), "aborted");
    let err = rejection(c.wait_for_result("task-1".into(), options)).await;
    assert_eq!(prop(&err, "code"), "aborted");
    assert_eq!(counter.calls(), 0.0);
}

#[wasm_bindgen_test]
async fn http_errors_keep_their_status() {
    // The test runner's own server answers 404 for paths it does not know.
    let c = client("/no-such-proxy");
    let err =
        rejection(c.extract_face(object(&format!("{{ img: '{URL}' }}")), JsValue::UNDEFINED)).await;
    assert_eq!(prop(&err, "status"), 404);
    assert_eq!(prop(&err, "code"), "not_found");
    let err = rejection(c.wait_for_result("task-1".into(), JsValue::UNDEFINED)).await;
    assert_eq!(prop(&err, "code"), "not_found");
}

#[wasm_bindgen_test]
fn errors_are_error_instances_with_a_stack() {
    let err =
        faceswap_wasm::estimate_credits("videoFaceSwap", object("{ duration: 0 }")).unwrap_err();
    let error: &js_sys::Error = err.dyn_ref().unwrap();
    assert_eq!(error.name(), "FaceSwapError");
    assert!(prop(&err, "stack").as_string().is_some());
}
