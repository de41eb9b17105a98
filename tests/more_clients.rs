//! `AiPhotoCraftClient`, `AceDataClient` and `swapFace` in headless Chromium, against a
//! stand-in `fetch`: each operation's route and body (multipart for AIPhotoCraft, JSON for
//! AceData), Blobs as file parts or uploaded first, the task id read from either provider's
//! answer, and bad input rejected with its camelCase `field` before any request; aifaceswap's
//! `multiFaceSwap` with Blobs as its file form, and a task's `resultInfo`; the default time
//! limits of a submit (longer for AceData, which may answer only when the image is made) and of
//! `waitForResult` (the proxy's task deadline and a minute), and the wait resuming its event
//! stream with `Last-Event-ID`.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use faceswap_wasm::{swap_face, AceDataClient, AiPhotoCraftClient, FaceSwapClient};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

mod common;
use common::*;

wasm_bindgen_test_configure!(run_in_browser);

const FACE: &str = "https://cdn.example/face.png";
const PHOTO: &str = "https://cdn.example/photo.jpg";
/// AIPhotoCraft's answer to a submit, as the proxy passes it on.
const CRAFT_CREATED: &str =
    "[200, { success: true, data: { task_id: 'craft-1', status: 'pending' } }]";
/// AceData's answer to a swap with a callback URL.
const ACEDATA_CREATED: &str = "[200, { task_id: 'ace-1' }]";
/// The proxy's answer to an upload.
const UPLOADED: &str =
    "[200, { url: 'http://127.0.0.1/uploads/0123.png', size: 70, content_type: 'image/png' }]";

fn options() -> JsValue {
    object("{ baseUrl: '/api', timeoutMs: 5000 }")
}

fn craft() -> AiPhotoCraftClient {
    AiPhotoCraftClient::new(options()).unwrap()
}

fn acedata() -> AceDataClient {
    AceDataClient::new(options()).unwrap()
}

#[wasm_bindgen_test]
async fn basic_swap_sends_a_blob_as_a_file_and_a_url_as_text() {
    let fetch = FakeFetch::install(&format!("(path) => {CRAFT_CREATED}"));
    let request = object(&format!(
        "{{ srcImage: {}, targetImage: '{PHOTO}', enhance: true }}",
        png_blob()
    ));
    let created = JsFuture::from(craft().basic_swap(request, JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(prop(&created, "taskId"), "craft-1");
    assert_eq!(fetch.paths(), ["/api/aiphotocraft/faceswap/basicswap"]);
    assert_eq!(
        fetch.last_form(),
        format!(
            r#"[["srcimage","file:srcimage.png"],["targetimage","{PHOTO}"],["enhance","true"]]"#
        )
    );
}

#[wasm_bindgen_test]
async fn couple_swap_takes_swap_index_as_a_list_or_a_string() {
    // Forwarded as written: the page's example `0,1` counts from 0.
    for (given, sent) in [("[1, 0]", "1,0"), ("'0,1'", "0,1"), ("' 2 , 1 '", "2,1")] {
        let fetch = FakeFetch::install(&format!("(path) => {CRAFT_CREATED}"));
        let request = object(&format!(
            "{{ srcImage: '{PHOTO}', targetImage: '{PHOTO}', swapIndex: {given} }}"
        ));
        JsFuture::from(craft().couple_swap(request, JsValue::UNDEFINED))
            .await
            .unwrap();
        assert_eq!(fetch.paths(), ["/api/aiphotocraft/faceswap/faceswap2"]);
        assert_eq!(
            fetch.last_form(),
            format!(
                r#"[["srcimage","{PHOTO}"],["targetimage","{PHOTO}"],["swap_index","{sent}"]]"#
            ),
            "{given}"
        );
    }
}

#[wasm_bindgen_test]
async fn couple_swap_sends_swap_index_and_enhance_only_when_given() {
    let fetch = FakeFetch::install(&format!("(path) => {CRAFT_CREATED}"));
    let request = object(&format!(
        "{{ srcImage: '{PHOTO}', targetImage: '{PHOTO}' }}"
    ));
    JsFuture::from(craft().couple_swap(request, JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(
        fetch.last_form(),
        format!(r#"[["srcimage","{PHOTO}"],["targetimage","{PHOTO}"]]"#)
    );
}

#[wasm_bindgen_test]
async fn swap_1_from_2_and_same_image_swap_send_their_own_fields() {
    let fetch = FakeFetch::install(&format!("(path) => {CRAFT_CREATED}"));
    let request = object(&format!(
        "{{ srcImage: '{PHOTO}', targetImage1: '{FACE}', targetImage2: {} }}",
        png_blob()
    ));
    JsFuture::from(craft().swap_1_from_2(request, JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(
        fetch.last_form(),
        format!(
            r#"[["srcimage","{PHOTO}"],["targetimage1","{FACE}"],["targetimage2","file:targetimage2.png"]]"#
        )
    );

    let fetch = FakeFetch::install(&format!("(path) => {CRAFT_CREATED}"));
    let request = object(&format!("{{ srcImage: '{PHOTO}' }}"));
    JsFuture::from(craft().swap_face_same_image(request, JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(
        fetch.paths(),
        ["/api/aiphotocraft/faceswap/swapfacesameimage"]
    );
    assert_eq!(fetch.last_form(), format!(r#"[["srcimage","{PHOTO}"]]"#));
}

#[wasm_bindgen_test]
async fn aiphotocraft_refuses_bad_input_naming_the_field_before_any_request() {
    let cases = [
        (
            format!("{{ srcImage: '{PHOTO}', targetImage: '{PHOTO}', swapIndex: [1, 1] }}"),
            "coupleSwap",
            "swapIndex",
        ),
        (
            format!("{{ srcImage: '{PHOTO}', targetImage: '{PHOTO}', swapIndex: '0,3' }}"),
            "coupleSwap",
            "swapIndex",
        ),
        (
            format!("{{ srcImage: '{PHOTO}', targetImage: '{PHOTO}', enhance: 'yes' }}"),
            "basicSwap",
            "enhance",
        ),
        (
            format!("{{ srcImage: '{PHOTO}', targetImage1: '{FACE}' }}"),
            "swap1From2",
            "targetImage2",
        ),
        (
            "{ srcImage: 'ftp://cdn.example/a.png' }".to_owned(),
            "swapFaceSameImage",
            "srcImage",
        ),
        (
            format!("{{ srcImage: new Blob(['not an image']), targetImage: '{PHOTO}' }}"),
            "basicSwap",
            "srcImage",
        ),
    ];
    for (request, method, field) in cases {
        let fetch = FakeFetch::install(&format!("(path) => {CRAFT_CREATED}"));
        let request = object(&request);
        let promise = match method {
            "coupleSwap" => craft().couple_swap(request, JsValue::UNDEFINED),
            "basicSwap" => craft().basic_swap(request, JsValue::UNDEFINED),
            "swap1From2" => craft().swap_1_from_2(request, JsValue::UNDEFINED),
            _ => craft().swap_face_same_image(request, JsValue::UNDEFINED),
        };
        let err = rejection(promise).await;
        assert_eq!(prop(&err, "code"), "invalid_parameter", "{method} {field}");
        assert_eq!(prop(&err, "field"), field, "{method}");
        let message = prop(&err, "message").as_string().unwrap();
        assert!(message.contains(field), "{message}");
        assert!(fetch.requests().is_empty(), "{method} sent a request");
    }
}

#[wasm_bindgen_test]
async fn acedata_uploads_a_blob_first_and_posts_both_urls() {
    let fetch = FakeFetch::install(&format!(
        "(path) => path === '/api/uploads' ? {UPLOADED} : {ACEDATA_CREATED}"
    ));
    let request = object(&format!(
        "{{ sourceImageUrl: {}, targetImageUrl: '{PHOTO}', timeout: 120 }}",
        png_blob()
    ));
    let created = JsFuture::from(acedata().face_swap(request, JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(prop(&created, "taskId"), "ace-1");
    assert_eq!(fetch.paths(), ["/api/uploads", "/api/acedata/face/swap"]);
    assert_eq!(
        fetch.last_body(),
        json(&format!(
            "{{ source_image_url: 'http://127.0.0.1/uploads/0123.png', target_image_url: '{PHOTO}', timeout: 120 }}"
        ))
    );
}

#[wasm_bindgen_test]
async fn acedata_refuses_a_timeout_beyond_the_proxys_bound_before_uploading() {
    for timeout in ["301", "0", "1.5", "'60'"] {
        let fetch = FakeFetch::install(&format!("(path) => {UPLOADED}"));
        let request = object(&format!(
            "{{ sourceImageUrl: {}, targetImageUrl: '{PHOTO}', timeout: {timeout} }}",
            png_blob()
        ));
        let err = rejection(acedata().face_swap(request, JsValue::UNDEFINED)).await;
        assert_eq!(prop(&err, "field"), "timeout", "{timeout}");
        let message = prop(&err, "message").as_string().unwrap();
        assert!(message.contains("the proxy's own bound"), "{message}");
        assert!(
            fetch.requests().is_empty(),
            "nothing uploaded for {timeout}"
        );
    }
}

#[wasm_bindgen_test]
async fn acedata_reads_a_synchronous_answer_and_refuses_a_bad_url_without_uploading() {
    let fetch = FakeFetch::install(
        "(path) => [200, { task_id: 'ace-2', image_url: 'https://cdn.example/out.png', image_width: 512 }]",
    );
    let request = object(&format!(
        "{{ sourceImageUrl: '{FACE}', targetImageUrl: '{PHOTO}' }}"
    ));
    let created = JsFuture::from(acedata().face_swap(request, JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(prop(&created, "taskId"), "ace-2");
    assert_eq!(
        fetch.last_body(),
        json(&format!(
            "{{ source_image_url: '{FACE}', target_image_url: '{PHOTO}' }}"
        ))
    );

    let fetch = FakeFetch::install(&format!("(path) => {UPLOADED}"));
    let request = object(&format!(
        "{{ sourceImageUrl: {}, targetImageUrl: 'not a url' }}",
        png_blob()
    ));
    let err = rejection(acedata().face_swap(request, JsValue::UNDEFINED)).await;
    assert_eq!(prop(&err, "field"), "targetImageUrl");
    assert!(fetch.requests().is_empty());
}

#[wasm_bindgen_test]
async fn swap_face_uses_each_providers_own_face_swap() {
    let answers = "(path) => path.startsWith('/api/aifaceswap') ? [200, { code: 200, data: { task_id: 'ai-1', points: 2 } }]
        : path.startsWith('/api/piapi') ? [200, { code: 200, data: { task_id: 'pi-1', status: 'pending' } }]
        : path.startsWith('/api/aiphotocraft') ? [200, { data: { task_id: 'craft-1' } }]
        : [200, { task_id: 'ace-1' }]";
    let cases = [
        (
            "aifaceswap",
            "/api/aifaceswap/v1/faceswap",
            "ai-1",
            json(&format!("{{ source_image: '{PHOTO}', face_image: '{FACE}' }}")),
        ),
        (
            "piapi",
            "/api/piapi/v1/task",
            "pi-1",
            json(&format!(
                "{{ model: 'Qubico/image-toolkit', task_type: 'face-swap', input: {{ target_image: '{PHOTO}', swap_image: '{FACE}' }} }}"
            )),
        ),
        (
            "aiphotocraft",
            "/api/aiphotocraft/faceswap/basicswap",
            "craft-1",
            format!(r#"[["srcimage","{FACE}"],["targetimage","{PHOTO}"]]"#),
        ),
        (
            "acedata",
            "/api/acedata/face/swap",
            "ace-1",
            json(&format!(
                "{{ source_image_url: '{FACE}', target_image_url: '{PHOTO}' }}"
            )),
        ),
    ];
    for (provider, path, task_id, body) in cases {
        let fetch = FakeFetch::install(answers);
        let request = object(&format!("{{ target: '{PHOTO}', face: '{FACE}' }}"));
        let created = JsFuture::from(swap_face(provider.to_owned(), request, options()))
            .await
            .unwrap();
        assert_eq!(prop(&created, "provider"), provider);
        assert_eq!(prop(&created, "taskId"), task_id, "{provider}");
        assert_eq!(fetch.paths(), [path]);
        let sent = if provider == "aiphotocraft" {
            fetch.last_form()
        } else {
            fetch.last_body()
        };
        assert_eq!(sent, body, "{provider}");
    }
}

#[wasm_bindgen_test]
async fn swap_face_names_its_own_fields_and_refuses_an_unknown_provider() {
    for provider in ["aifaceswap", "piapi", "aiphotocraft", "acedata"] {
        let fetch = FakeFetch::install(&format!("(path) => {UPLOADED}"));
        let request = object(&format!("{{ target: 'nope', face: '{FACE}' }}"));
        let err = rejection(swap_face(provider.to_owned(), request, options())).await;
        assert_eq!(prop(&err, "field"), "target", "{provider}");
        let message = prop(&err, "message").as_string().unwrap();
        assert!(message.starts_with("target "), "{provider}: {message}");
        assert!(fetch.requests().is_empty(), "{provider}");
    }
    let err = rejection(swap_face(
        "fal".to_owned(),
        object(&format!("{{ target: '{PHOTO}', face: '{FACE}' }}")),
        options(),
    ))
    .await;
    assert_eq!(prop(&err, "field"), "provider");
    let message = prop(&err, "message").as_string().unwrap();
    assert!(
        message.contains("aifaceswap, piapi, aiphotocraft, acedata"),
        "{message}"
    );
}

/// The first page's "Method2" of multi_faceswap: Blobs go as files, one `face_image` per face,
/// `index` one part per entry; nothing is uploaded first.
#[wasm_bindgen_test]
async fn multi_face_swap_sends_blobs_as_its_file_form() {
    let fetch = FakeFetch::install(
        "(path) => [200, { code: 200, data: { task_id: 'multi-1', points: 5 }, message: 'OK' }]",
    );
    let client = FaceSwapClient::new(options()).unwrap();
    let request = object(&format!(
        "{{ sourceImage: {blob}, faceImage: [{blob}, '{FACE}'], index: [0, 2] }}",
        blob = png_blob()
    ));
    let created = JsFuture::from(client.multi_face_swap(request, JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(prop(&created, "taskId"), "multi-1");
    assert_eq!(fetch.paths(), ["/api/aifaceswap/v1/multi_faceswap"]);
    assert_eq!(
        fetch.last_form(),
        format!(
            r#"[["source_image","file:source_image.png"],["face_image","file:face_image.png"],["face_image","{FACE}"],["index","0"],["index","2"]]"#
        )
    );
}

/// The provider's report of the result file reaches the task as `resultInfo`, and the provider's
/// own URL of a result the proxy keeps as `providerResultUrl`.
#[wasm_bindgen_test]
async fn a_task_carries_the_results_metadata() {
    let _fetch = FakeFetch::install(
        "(path) => [200, { provider: 'acedata', task_id: 'ace-1', status: 'succeeded', result_url: '/results/acedata/ace-1', provider_result_url: 'https://cdn.example/r.png', result_info: { width: 1024, height: 768, size: 183552 }, created_at: 'a', updated_at: 'b' }]",
    );
    let task = JsFuture::from(acedata().wait_for_result("ace-1".into(), JsValue::UNDEFINED))
        .await
        .unwrap();
    let info = prop(&task, "resultInfo");
    assert_eq!(prop(&info, "width"), 1024);
    assert_eq!(prop(&info, "height"), 768);
    assert_eq!(prop(&info, "size"), 183_552);
    assert_eq!(prop(&task, "resultUrl"), "/results/acedata/ace-1");
    assert_eq!(
        prop(&task, "providerResultUrl"),
        "https://cdn.example/r.png"
    );
}

/// A task that ended, as the proxy answers `GET /api/{provider}/tasks/{id}`.
const SUCCEEDED: &str = "[200, { task_id: 't1', status: 'succeeded', result_url: 'https://r.example/a.jpg', created_at: 'a', updated_at: 'b' }]";

#[wasm_bindgen_test]
async fn an_acedata_submit_without_timeout_ms_waits_for_acedatas_longest_answer() {
    let longest = faceswap_core::acedata::CATALOG
        .info
        .longest_submit_wait
        .unwrap();
    let expected = 60_000.0 + longest.as_millis() as f64;
    assert_eq!(expected, 390_000.0, "the number the docs give");
    let request = || {
        object(&format!(
            "{{ sourceImageUrl: '{FACE}', targetImageUrl: '{PHOTO}' }}"
        ))
    };

    let _fetch = FakeFetch::install(&format!("(path) => {ACEDATA_CREATED}"));
    let timeouts = RecordedTimeouts::install();
    let client = AceDataClient::new(object("{ baseUrl: '/api' }")).unwrap();
    JsFuture::from(client.face_swap(request(), JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(timeouts.millis(), [expected]);
    drop(timeouts);

    // swapFace with AceData: the same default.
    let timeouts = RecordedTimeouts::install();
    let swap = object(&format!("{{ target: '{PHOTO}', face: '{FACE}' }}"));
    JsFuture::from(swap_face("acedata".into(), swap, JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(timeouts.millis(), [expected]);
    drop(timeouts);

    // An explicit timeoutMs wins.
    let timeouts = RecordedTimeouts::install();
    JsFuture::from(acedata().face_swap(request(), JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(timeouts.millis(), [5000.0]);
    drop(timeouts);

    // A provider that answers a submit at once keeps the usual 60 s.
    let _fetch = FakeFetch::install(&format!("(path) => {CRAFT_CREATED}"));
    let timeouts = RecordedTimeouts::install();
    let client = AiPhotoCraftClient::new(JsValue::UNDEFINED).unwrap();
    let basic = object(&format!("{{ srcImage: '{FACE}', targetImage: '{PHOTO}' }}"));
    JsFuture::from(client.basic_swap(basic, JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(timeouts.millis(), [60_000.0]);
}

#[wasm_bindgen_test]
async fn wait_for_result_gives_up_after_the_proxys_task_deadline_and_a_minute_by_default() {
    let limit = faceswap_core::task::DEFAULT_WAIT_LIMIT;
    assert!(limit > faceswap_core::task::DEFAULT_TASK_DEADLINE);
    let expected = limit.as_millis() as f64;
    assert_eq!(expected, 7_260_000.0, "the number the docs give");
    let _fetch = FakeFetch::install(&format!("(path) => {SUCCEEDED}"));
    let client = FaceSwapClient::new(JsValue::UNDEFINED).unwrap();
    for (options, limits) in [
        ("undefined", vec![expected]),
        ("{ onStatus: () => {} }", vec![expected]),
        ("{ timeoutMs: 1500 }", vec![1500.0]),
        ("{ timeoutMs: Infinity }", vec![]),
    ] {
        let timeouts = RecordedTimeouts::install();
        let task = JsFuture::from(client.wait_for_result("t1".into(), object(options)))
            .await
            .unwrap();
        assert_eq!(prop(&task, "status"), "succeeded");
        assert_eq!(timeouts.millis(), limits, "{options}");
    }
}

/// `waitForResult` follows the task's event stream: when the stream ends with the task still
/// pending, it reconnects with `Last-Event-ID` set to the last event's id and resolves on the
/// succeeded event; `onStatus` sees each status once.
#[wasm_bindgen_test]
async fn the_wait_resumes_its_event_stream_after_the_last_event_id() {
    // Installed for its restore on drop; the stream stand-in below replaces it.
    let _fetch = FakeFetch::install("(path) => [404, {}]");
    js_sys::eval(
        r#"globalThis.__streams = [];
        globalThis.__statuses = [];
        globalThis.fetch = async (url, init) => {
          const request = new Request(url, init);
          __streams.push({
            path: new URL(request.url).pathname,
            accept: request.headers.get('Accept'),
            lastEventId: request.headers.get('Last-Event-ID'),
          });
          const task = (status) => JSON.stringify({ provider: 'acedata', task_id: 'ace-1', status, created_at: 'a', updated_at: 'b' });
          const body = __streams.length === 1
            ? `: connected\r\n\r\nevent: status\r\nid: 5\r\ndata: ${task('pending')}\r\n\r\n`
            : `event: status\nid: 6\ndata: ${task('succeeded')}\n\n`;
          return new Response(body, { headers: { 'Content-Type': 'text/event-stream' } });
        };"#,
    )
    .unwrap();
    let options = object("{ onStatus: (task) => globalThis.__statuses.push(task.status) }");
    let task = JsFuture::from(acedata().wait_for_result("ace-1".into(), options))
        .await
        .unwrap();
    assert_eq!(prop(&task, "status"), "succeeded");
    let streams = js_sys::Array::from(&js_sys::eval("globalThis.__streams").unwrap()).to_vec();
    assert_eq!(streams.len(), 2, "one reconnection");
    for stream in &streams {
        assert_eq!(prop(stream, "path"), "/api/acedata/tasks/ace-1/events");
        assert_eq!(prop(stream, "accept"), "text/event-stream");
    }
    assert!(prop(&streams[0], "lastEventId").is_null());
    assert_eq!(prop(&streams[1], "lastEventId"), "5");
    let statuses = js_sys::eval("globalThis.__statuses.join(',')").unwrap();
    assert_eq!(statuses, "pending,succeeded");
}
