//! `PiApiClient` in headless Chromium, against a stand-in `fetch`: the route and body of each
//! operation, faces indexes as lists or strings, Blobs uploaded first, PiAPI's envelope read into
//! `{ taskId, status }`, tasks followed on PiAPI's own routes, and bad input rejected with its
//! camelCase `field` before any request.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use faceswap_wasm::PiApiClient;
use js_sys::Promise;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

mod common;
use common::*;

wasm_bindgen_test_configure!(run_in_browser);

const TARGET: &str = "https://cdn.example/group.jpg";
const SWAP: &str = "https://cdn.example/face.png";
const VIDEO: &str = "https://cdn.example/clip.mp4";

/// PiAPI's answer to Create Task, as the proxy passes it on.
const CREATED: &str = "[200, { code: 200, data: { task_id: 'pi-1', status: 'Pending', model: 'Qubico/image-toolkit' }, message: 'success' }]";
/// The proxy's answer to an upload.
const UPLOADED: &str =
    "[200, { url: 'http://127.0.0.1/uploads/0123.png', size: 70, content_type: 'image/png' }]";

fn client() -> PiApiClient {
    PiApiClient::new(object("{ baseUrl: '/api', timeoutMs: 5000 }")).unwrap()
}

#[wasm_bindgen_test]
async fn face_swap_posts_piapis_body_and_resolves_the_task_id_and_status() {
    let fetch = FakeFetch::install(&format!("(path) => {CREATED}"));
    let request = object(&format!(
        "{{ targetImage: '{TARGET}', swapImage: '{SWAP}' }}"
    ));
    let created = JsFuture::from(client().face_swap(request, JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(prop(&created, "taskId"), "pi-1");
    assert_eq!(prop(&created, "status"), "pending");
    assert_eq!(fetch.paths(), ["/api/piapi/v1/task"]);
    assert_eq!(
        fetch.last_body(),
        json(&format!(
            "{{ model: 'Qubico/image-toolkit', task_type: 'face-swap', input: {{ target_image: '{TARGET}', swap_image: '{SWAP}' }} }}"
        ))
    );
    let request = prop(&fetch.requests()[0], "method");
    assert_eq!(request, "POST");
}

#[wasm_bindgen_test]
async fn multi_face_swap_takes_its_indexes_as_lists_or_strings() {
    for (swap, target) in [
        ("[0, 1]", "[1, 0]"),
        ("'0,1'", "'1,0'"),
        ("[0, 1]", "'1,0'"),
    ] {
        let fetch = FakeFetch::install(&format!("(path) => {CREATED}"));
        let request = object(&format!(
            "{{ targetImage: '{TARGET}', swapImage: '{SWAP}', swapFacesIndex: {swap}, targetFacesIndex: {target} }}"
        ));
        let created = JsFuture::from(client().multi_face_swap(request, JsValue::UNDEFINED))
            .await
            .unwrap();
        assert_eq!(prop(&created, "taskId"), "pi-1");
        assert_eq!(fetch.paths(), ["/api/piapi/v1/task"]);
        assert_eq!(
            fetch.last_body(),
            json(&format!(
                "{{ model: 'Qubico/image-toolkit', task_type: 'multi-face-swap', input: {{ target_image: '{TARGET}', swap_image: '{SWAP}', swap_faces_index: '0,1', target_faces_index: '1,0' }} }}"
            )),
            "{swap} {target}"
        );
    }
}

#[wasm_bindgen_test]
async fn video_face_swap_uses_the_video_toolkit_and_sends_duration_for_the_price() {
    let fetch = FakeFetch::install(&format!("(path) => {CREATED}"));
    let request = object(&format!(
        "{{ targetVideo: '{VIDEO}', swapImage: '{SWAP}', duration: 4.5 }}"
    ));
    JsFuture::from(client().video_face_swap(request, JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(
        fetch.last_body(),
        json(&format!(
            "{{ model: 'Qubico/video-toolkit', task_type: 'face-swap', input: {{ target_video: '{VIDEO}', swap_image: '{SWAP}' }}, duration: 4.5 }}"
        ))
    );

    let fetch = FakeFetch::install(&format!("(path) => {CREATED}"));
    let request = object(&format!(
        "{{ targetVideo: '{VIDEO}', swapImage: '{SWAP}', swapFacesIndex: [0], targetFacesIndex: '1' }}"
    ));
    JsFuture::from(client().video_face_swap(request, JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(
        fetch.last_body(),
        json(&format!(
            "{{ model: 'Qubico/video-toolkit', task_type: 'face-swap', input: {{ target_video: '{VIDEO}', swap_image: '{SWAP}', swap_faces_index: '0', target_faces_index: '1' }} }}"
        ))
    );
}

#[wasm_bindgen_test]
async fn a_blob_is_uploaded_first_and_its_url_is_sent() {
    let fetch = FakeFetch::install(&format!(
        "(path) => path === '/api/uploads' ? {UPLOADED} : {CREATED}"
    ));
    let request = object(&format!(
        "{{ targetImage: {}, swapImage: '{SWAP}' }}",
        png_blob()
    ));
    JsFuture::from(client().face_swap(request, JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(fetch.paths(), ["/api/uploads", "/api/piapi/v1/task"]);
    assert_eq!(prop(&fetch.requests()[0], "type"), "image/png");
    assert_eq!(
        fetch.last_body(),
        json(&format!(
            "{{ model: 'Qubico/image-toolkit', task_type: 'face-swap', input: {{ target_image: 'http://127.0.0.1/uploads/0123.png', swap_image: '{SWAP}' }} }}"
        ))
    );
}

/// A PNG Blob whose header says `width` x `height` (signature and IHDR only: all the check reads).
fn png_header_blob(width: u32, height: u32) -> String {
    format!(
        "new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, \
         0x49, 0x48, 0x44, 0x52, {}, {}, 8, 2, 0, 0, 0, 0, 0, 0, 0])], {{ type: 'image/png' }})",
        width.to_be_bytes().map(|b| b.to_string()).join(", "),
        height.to_be_bytes().map(|b| b.to_string()).join(", ")
    )
}

/// "both swap_image and target_image should be under 2048 x 2048 resolution each": a Blob's size
/// is read from its header, and a larger one is refused before anything is uploaded.
#[wasm_bindgen_test]
async fn a_blob_over_2048_pixels_is_refused_before_any_upload() {
    for (target, swap, field) in [
        (
            png_header_blob(2049, 100),
            format!("'{SWAP}'"),
            "targetImage",
        ),
        (
            format!("'{TARGET}'"),
            png_header_blob(100, 4096),
            "swapImage",
        ),
    ] {
        let fetch = FakeFetch::install(&format!("(path) => {UPLOADED}"));
        let request = object(&format!("{{ targetImage: {target}, swapImage: {swap} }}"));
        let err = rejection(client().face_swap(request, JsValue::UNDEFINED)).await;
        assert_eq!(prop(&err, "code"), "invalid_parameter");
        assert_eq!(prop(&err, "field"), field);
        let message = prop(&err, "message").as_string().unwrap();
        assert!(message.contains("2048"), "{message}");
        assert!(fetch.requests().is_empty(), "nothing uploaded");
    }
    // 2048 x 2048 itself is within the limit.
    let fetch = FakeFetch::install(&format!(
        "(path) => path === '/api/uploads' ? {UPLOADED} : {CREATED}"
    ));
    let request = object(&format!(
        "{{ targetImage: {}, swapImage: '{SWAP}' }}",
        png_header_blob(2048, 2048)
    ));
    JsFuture::from(client().face_swap(request, JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(fetch.paths(), ["/api/uploads", "/api/piapi/v1/task"]);
}

#[wasm_bindgen_test]
async fn tasks_are_followed_on_piapis_task_routes() {
    let fetch = FakeFetch::install(
        "(path) => [200, { provider: 'piapi', task_id: 'pi-1', status: 'succeeded', result_url: 'https://img.example/r.png', created_at: 'a', updated_at: 'b' }]",
    );
    let task = JsFuture::from(client().wait_for_result("pi-1".into(), JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(prop(&task, "provider"), "piapi");
    assert_eq!(prop(&task, "resultUrl"), "https://img.example/r.png");
    // Not an event stream, so the wait polls: both on PiAPI's task route.
    assert_eq!(
        fetch.paths(),
        ["/api/piapi/tasks/pi-1/events", "/api/piapi/tasks/pi-1"]
    );
}

#[wasm_bindgen_test]
async fn a_refusal_inside_piapis_envelope_carries_its_code() {
    let _fetch = FakeFetch::install(
        "(path) => [200, { code: 400, data: null, message: 'no face detected' }]",
    );
    let request = object(&format!(
        "{{ targetImage: '{TARGET}', swapImage: '{SWAP}' }}"
    ));
    let err = rejection(client().face_swap(request, JsValue::UNDEFINED)).await;
    assert_eq!(prop(&err, "code"), "upstream_error");
    assert_eq!(prop(&err, "providerCode"), "400");
    assert!(prop(&err, "message")
        .as_string()
        .unwrap()
        .contains("no face detected"));
}

#[wasm_bindgen_test]
async fn bad_input_is_rejected_with_its_field_before_any_request() {
    let fetch = FakeFetch::install(&format!("(path) => {CREATED}"));
    let c = client();
    let none = JsValue::UNDEFINED;
    let multi = |swap: &str, target: &str| {
        object(&format!(
            "{{ targetImage: '{TARGET}', swapImage: '{SWAP}', swapFacesIndex: {swap}, targetFacesIndex: {target} }}"
        ))
    };
    let gif = "new Blob(['GIF89a not an accepted image'])";
    let webm = "new Blob([Uint8Array.of(0x1a, 0x45, 0xdf, 0xa3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)], { type: 'video/webm' })";
    let cases: Vec<(&str, Promise, &str)> = vec![
        (
            "not an object",
            c.face_swap(JsValue::from_str(TARGET), none.clone()),
            "request",
        ),
        (
            "missing swapImage",
            c.face_swap(
                object(&format!("{{ targetImage: '{TARGET}' }}")),
                none.clone(),
            ),
            "swapImage",
        ),
        (
            "gif URL",
            c.face_swap(
                object(&format!(
                    "{{ targetImage: 'https://cdn.example/a.gif', swapImage: '{SWAP}' }}"
                )),
                none.clone(),
            ),
            "targetImage",
        ),
        (
            "not base64",
            c.face_swap(
                object(&format!(
                    "{{ targetImage: '{TARGET}', swapImage: 'bm90IGFuIGltYWdl' }}"
                )),
                none.clone(),
            ),
            "swapImage",
        ),
        (
            "gif blob",
            c.face_swap(
                object(&format!("{{ targetImage: {gif}, swapImage: '{SWAP}' }}")),
                none.clone(),
            ),
            "targetImage",
        ),
        (
            "negative face",
            c.multi_face_swap(multi("[0, -1]", "[0, 1]"), none.clone()),
            "swapFacesIndex",
        ),
        (
            "fraction",
            c.multi_face_swap(multi("[0.5]", "[0]"), none.clone()),
            "swapFacesIndex",
        ),
        (
            "face twice",
            c.multi_face_swap(multi("'0,1'", "'1,1'"), none.clone()),
            "targetFacesIndex",
        ),
        (
            "lengths differ",
            c.multi_face_swap(multi("[0, 1]", "[0]"), none.clone()),
            "targetFacesIndex",
        ),
        (
            "empty list",
            c.multi_face_swap(multi("[]", "[0]"), none.clone()),
            "swapFacesIndex",
        ),
        (
            "number index",
            c.multi_face_swap(multi("0", "[0]"), none.clone()),
            "swapFacesIndex",
        ),
        (
            "missing index",
            c.multi_face_swap(
                object(&format!(
                    "{{ targetImage: '{TARGET}', swapImage: '{SWAP}', targetFacesIndex: [0] }}"
                )),
                none.clone(),
            ),
            "swapFacesIndex",
        ),
        (
            "webm URL",
            c.video_face_swap(
                object(&format!(
                    "{{ targetVideo: 'https://cdn.example/a.webm', swapImage: '{SWAP}' }}"
                )),
                none.clone(),
            ),
            "targetVideo",
        ),
        (
            "webm blob",
            c.video_face_swap(
                object(&format!("{{ targetVideo: {webm}, swapImage: '{SWAP}' }}")),
                none.clone(),
            ),
            "targetVideo",
        ),
        (
            "image blob as video",
            c.video_face_swap(
                object(&format!(
                    "{{ targetVideo: {}, swapImage: '{SWAP}' }}",
                    png_blob()
                )),
                none.clone(),
            ),
            "targetVideo",
        ),
        (
            "one index only",
            c.video_face_swap(
                object(&format!(
                    "{{ targetVideo: '{VIDEO}', swapImage: '{SWAP}', swapFacesIndex: [0] }}"
                )),
                none.clone(),
            ),
            "targetFacesIndex",
        ),
        (
            "negative duration",
            c.video_face_swap(
                object(&format!(
                    "{{ targetVideo: '{VIDEO}', swapImage: '{SWAP}', duration: -1 }}"
                )),
                none.clone(),
            ),
            "duration",
        ),
        (
            "empty task id",
            c.wait_for_result(JsValue::from_str(""), none.clone()),
            "taskId",
        ),
        (
            "upload of a string",
            c.upload(JsValue::from_str("a.png"), none.clone()),
            "file",
        ),
    ];
    for (name, promise, field) in cases {
        let err = rejection(promise).await;
        assert_eq!(prop(&err, "name"), "FaceSwapError", "{name}");
        assert_eq!(prop(&err, "code"), "invalid_parameter", "{name}: {err:?}");
        assert_eq!(
            prop(&err, "field"),
            field,
            "{name}: {:?}",
            prop(&err, "message")
        );
        let message = prop(&err, "message").as_string().unwrap();
        assert!(
            message.contains(field) && !message.contains("input."),
            "{name}: {message}"
        );
        assert!(fetch.requests().is_empty(), "{name} made a request");
    }
}

#[wasm_bindgen_test]
fn the_constructor_takes_face_swap_clients_options() {
    assert!(PiApiClient::new(JsValue::UNDEFINED).is_ok());
    let err = PiApiClient::new(object("{ timeoutMs: 0 }")).err().unwrap();
    assert_eq!(prop(&err, "field"), "timeoutMs");
}
