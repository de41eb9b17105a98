//! The shared client core in headless Chromium, against a stand-in `fetch`: which task routes a
//! client uses, the `provider` of its tasks, the proxy's `provider_code` on errors, and
//! `estimateCost`.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use faceswap_wasm::{estimate_cost, FaceSwapClient};
use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Replaces the global `fetch` with `answer(url)` (a function returning `[status, body]`) and
/// records every URL asked for in `globalThis.__urls`; the real `fetch` comes back on drop.
struct FakeFetch {
    original: JsValue,
}

impl FakeFetch {
    fn install(answer: &str) -> Self {
        let global = js_sys::global();
        let original = Reflect::get(&global, &"fetch".into()).unwrap();
        Reflect::set(&global, &"__urls".into(), &Array::new()).unwrap();
        let fake = Function::new_with_args(
            "answer",
            "return async function(request) {
                const url = new URL(request.url ?? request, location.href).pathname;
                globalThis.__urls.push(url);
                const [status, body] = answer(url);
                return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
            };",
        )
        .call1(&JsValue::NULL, &js_sys::eval(answer).unwrap())
        .unwrap();
        Reflect::set(&global, &"fetch".into(), &fake).unwrap();
        Self { original }
    }

    fn urls(&self) -> Vec<String> {
        Array::from(&Reflect::get(&js_sys::global(), &"__urls".into()).unwrap())
            .iter()
            .map(|url| url.as_string().unwrap())
            .collect()
    }
}

impl Drop for FakeFetch {
    fn drop(&mut self) {
        Reflect::set(&js_sys::global(), &"fetch".into(), &self.original).unwrap();
    }
}

fn object(source: &str) -> JsValue {
    js_sys::eval(&format!("({source})")).unwrap()
}

fn prop(value: &JsValue, name: &str) -> JsValue {
    Reflect::get(value, &name.into()).unwrap()
}

fn client() -> FaceSwapClient {
    FaceSwapClient::new(object("{ baseUrl: '/api', timeoutMs: 5000 }")).unwrap()
}

/// The rejection of an `extractFace` of a URL.
async fn extract_face_error() -> JsValue {
    let request = object("{ img: 'https://cdn.example/a.jpg' }");
    JsFuture::from(client().extract_face(request, JsValue::UNDEFINED))
        .await
        .unwrap_err()
}

const TASK: &str = "{ task_id: 't/1', status: 'succeeded', result_url: 'https://r.example/a.jpg', created_at: 'a', updated_at: 'b' }";

#[wasm_bindgen_test]
async fn face_swap_tasks_are_read_on_aifaceswaps_own_routes_and_name_their_provider() {
    let fetch = FakeFetch::install(&format!("(url) => [200, {TASK}]"));
    let task = JsFuture::from(client().wait_for_result("t/1".into(), JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(prop(&task, "provider"), "aifaceswap");
    assert_eq!(prop(&task, "taskId"), "t/1");
    assert_eq!(prop(&task, "resultUrl"), "https://r.example/a.jpg");
    // Not an event stream, so the wait polls; both on the provider's task route, the id
    // percent-encoded.
    assert_eq!(
        fetch.urls(),
        [
            "/api/aifaceswap/tasks/t%2F1/events",
            "/api/aifaceswap/tasks/t%2F1"
        ]
    );
}

#[wasm_bindgen_test]
async fn a_task_keeps_the_provider_and_cost_the_proxy_names() {
    let _fetch = FakeFetch::install(
        "(url) => [200, { provider: 'other', task_id: 't1', status: 'succeeded', cost: { amount: 2, unit: 'credits' }, created_at: 'a', updated_at: 'b' }]",
    );
    let task = JsFuture::from(client().wait_for_result("t1".into(), JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(prop(&task, "provider"), "other");
    assert_eq!(prop(&prop(&task, "cost"), "unit"), "credits");
}

#[wasm_bindgen_test]
async fn submits_go_to_the_providers_route_and_errors_carry_the_provider_code() {
    let fetch = FakeFetch::install(
        "(url) => [502, { error: 'upstream_error', message: 'the provider rejected the request', provider_code: '10012' }]",
    );
    let err = extract_face_error().await;
    assert_eq!(prop(&err, "code"), "upstream_error");
    assert_eq!(prop(&err, "status"), 502);
    assert_eq!(prop(&err, "providerCode"), "10012");
    // A 502 is tried again twice (the default `retries`), on the same route.
    assert_eq!(fetch.urls(), ["/api/aifaceswap/v1/extract_face"; 3]);
}

#[wasm_bindgen_test]
async fn a_refusal_inside_aifaceswaps_envelope_carries_its_code() {
    let _fetch = FakeFetch::install("(url) => [200, { code: 10012, message: 'no face found' }]");
    let err = extract_face_error().await;
    assert_eq!(prop(&err, "code"), "upstream_error");
    assert_eq!(prop(&err, "providerCode"), "10012");
    assert!(prop(&err, "message")
        .as_string()
        .unwrap()
        .contains("no face found"));
}

#[wasm_bindgen_test]
async fn an_unknown_error_word_becomes_the_code_of_its_status() {
    let _fetch = FakeFetch::install("(url) => [429, { error: 'slow_down', message: 'wait' }]");
    let err = extract_face_error().await;
    assert_eq!(prop(&err, "code"), "rate_limited");
    assert!(prop(&err, "providerCode").is_undefined());
}

#[wasm_bindgen_test]
fn estimate_cost_prices_in_the_providers_unit() {
    let cost = estimate_cost("aifaceswap", "videoFaceSwap", object("{ duration: 5 }")).unwrap();
    assert_eq!(prop(&cost, "amount"), 10);
    assert_eq!(prop(&cost, "unit"), "credits");
    let multi = object("{ duration: 5, refInfo: [{}] }");
    let cost = estimate_cost("aifaceswap", "multi_video_faceswap", multi).unwrap();
    assert_eq!(prop(&cost, "amount"), 20);
    let faces = estimate_cost(
        "aifaceswap",
        "multiVideoFaceSwap",
        object("{ duration: 5, faces: 1 }"),
    )
    .unwrap();
    assert_eq!(prop(&faces, "amount"), 20);
    let photo = estimate_cost("aifaceswap", "faceSwap", JsValue::UNDEFINED).unwrap();
    assert_eq!(prop(&photo, "amount"), 2);
    assert_eq!(Object::keys(photo.unchecked_ref::<Object>()).length(), 2);
}

#[wasm_bindgen_test]
fn estimate_cost_names_the_field_at_fault() {
    for (provider, operation, params, field) in [
        ("nope", "faceSwap", "undefined", "provider"),
        ("aifaceswap", "swap", "undefined", "operation"),
        (
            "aifaceswap",
            "videoFaceSwap",
            "{ duration: -1 }",
            "duration",
        ),
        (
            "aifaceswap",
            "videoFaceSwap",
            "{ duration: 5, enhance: 1.5 }",
            "enhance",
        ),
        (
            "aifaceswap",
            "multiVideoFaceSwap",
            "{ refInfo: 3 }",
            "refInfo",
        ),
        ("aifaceswap", "videoFaceSwap", "{ frames: -3 }", "frames"),
    ] {
        let err = estimate_cost(provider, operation, object(params)).unwrap_err();
        assert_eq!(prop(&err, "name"), "FaceSwapError");
        assert_eq!(prop(&err, "code"), "invalid_parameter", "{field}");
        assert_eq!(prop(&err, "field"), field);
    }
}
