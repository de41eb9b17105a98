//! AceData's documentation page for its face swap, replayed. The page's pictures (its JSON
//! examples) were lost in the capture; what it prints are the fields of the request, the answer
//! and the callback, and the error codes. Each is quoted as printed and is a case of the adapter.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use faceswap_core::acedata::{AceData, MAX_TIMEOUT_SECS, PROVIDER, ROUTE};
use faceswap_core::provider::{
    Adapter, AdapterSettings, AuthScheme, CallbackTarget, FaultKind, Prepared, ResultInfo,
    SubmitOutcome, UpstreamBody, UpstreamMethod,
};
use faceswap_core::TaskStatus;
use serde_json::{json, Value};

const SOURCE: &str = "https://cdn.example/source.jpg";
const TARGET: &str = "https://cdn.example/target.jpg";
const RESULT: &str = "https://cdn.acedata.cloud/swapped.png";

fn prepare(body: Value) -> Prepared {
    AceData
        .prepare_json(ROUTE, &serde_json::to_vec(&body).unwrap())
        .unwrap()
}

fn sent(prepared: &Prepared, callback: Option<&CallbackTarget>) -> Value {
    let request = AceData
        .upstream_request(prepared, callback, &AdapterSettings::new())
        .unwrap();
    assert_eq!(request.method, UpstreamMethod::Post);
    assert_eq!(request.path, "face/swap");
    let UpstreamBody::Json(json) = request.body else {
        panic!("JSON")
    };
    serde_json::from_slice(&json).unwrap()
}

/// "authorization: The key to call the API"; "accept: ... set to application/json" (the proxy
/// sends `accept: application/json` on every call).
#[test]
fn the_key_is_the_authorization_header() {
    assert_eq!(PROVIDER.auth, AuthScheme::Bearer);
    assert_eq!(PROVIDER.default_base_url, "https://api.acedata.cloud");
}

/// "source_image_url: The link to the uploaded source image.target_image_url: The link to the
/// uploaded target image.timeout: Optional, the processing timeout (in seconds), will return
/// directly on timeout."
#[test]
fn the_request_fields_are_sent_as_printed() {
    let prepared = prepare(json!({"source_image_url": SOURCE, "target_image_url": TARGET}));
    assert_eq!(
        sent(&prepared, None),
        json!({"source_image_url": SOURCE, "target_image_url": TARGET})
    );
    let timed = prepare(
        json!({"source_image_url": SOURCE, "target_image_url": TARGET,
        "timeout": 60}),
    );
    assert_eq!(
        sent(&timed, None),
        json!({"source_image_url": SOURCE, "target_image_url": TARGET, "timeout": 60})
    );
}

/// The bound on `timeout` is the project's choice, not AceData's: the message says so.
#[test]
fn the_projects_timeout_bound_says_it_is_the_projects() {
    let body = json!({"source_image_url": SOURCE, "target_image_url": TARGET,
        "timeout": MAX_TIMEOUT_SECS + 1});
    let err = AceData
        .prepare_json(ROUTE, &serde_json::to_vec(&body).unwrap())
        .unwrap_err();
    assert_eq!(err.field, "timeout");
    assert!(err.message.contains("proxy"), "{}", err.message);
    assert!(err.message.contains("AceData"), "{}", err.message);
}

/// "an additionalcallback_url field is specified. After the client initiates the API request,
/// the API will immediately return a result containing a task_id field"
#[test]
fn the_callback_url_is_the_proxys_and_the_answer_is_a_task_id() {
    let prepared = prepare(
        json!({"source_image_url": SOURCE, "target_image_url": TARGET,
        "callback_url": "https://webhook.site/3b76eba5-4573-432a-b607-3000b87afc06"}),
    );
    let hook = CallbackTarget {
        url: "https://proxy.example/hooks/acedata/tok".into(),
        secret: None,
    };
    assert_eq!(
        sent(&prepared, Some(&hook)),
        json!({"source_image_url": SOURCE, "target_image_url": TARGET,
            "callback_url": "https://proxy.example/hooks/acedata/tok"})
    );
    assert_eq!(
        AceData
            .read_submit(
                &prepared,
                br#"{"task_id":"6e1c9a2d-7b1e-4c55-9a0e-2a1f3b4c5d6e"}"#
            )
            .unwrap(),
        SubmitOutcome::Started {
            task_id: "6e1c9a2d-7b1e-4c55-9a0e-2a1f3b4c5d6e".into(),
            points: None
        }
    );
}

/// "image_url, the link to the generated image.image_width, the width of the generated
/// image.image_height, the height of the generated image.image_size, the size of the generated
/// image.task_id, the ID of the current generation task."
#[test]
fn the_synchronous_answer_is_a_finished_task_with_its_metadata() {
    let prepared = prepare(json!({"source_image_url": SOURCE, "target_image_url": TARGET}));
    let answer = json!({"image_url": RESULT, "image_width": 1024, "image_height": 768,
        "image_size": 183_552, "task_id": "9b1d-77"});
    let outcome = AceData
        .read_submit(&prepared, &serde_json::to_vec(&answer).unwrap())
        .unwrap();
    let SubmitOutcome::Finished { task_id, update } = outcome else {
        panic!("finished: {outcome:?}")
    };
    assert_eq!(task_id, "9b1d-77");
    assert_eq!(update.status, TaskStatus::Succeeded);
    assert_eq!(update.result_url.as_deref(), Some(RESULT));
    assert_eq!(
        update.result_info,
        Some(ResultInfo {
            width: Some(1024),
            height: Some(768),
            size: Some(183_552)
        })
    );
}

/// "the generated Face Swap result will be sent to the client-specified callback_url in the
/// form of a POST JSON, which also includes the task_id field" ... "task_id field, and the other
/// fields are similar to those mentioned above": no `success` field.
#[test]
fn the_documented_callback_succeeds_with_its_metadata() {
    let callback = json!({"image_url": RESULT, "image_width": 1024, "image_height": 768,
        "image_size": 183_552, "task_id": "9b1d-77"});
    let update = AceData
        .read_callback(&serde_json::to_vec(&callback).unwrap(), &[])
        .unwrap();
    assert_eq!(update.status, TaskStatus::Succeeded);
    assert_eq!(update.task_id.as_deref(), Some("9b1d-77"));
    assert_eq!(update.result_url.as_deref(), Some(RESULT));
    assert_eq!(
        update.result_info,
        Some(ResultInfo {
            width: Some(1024),
            height: Some(768),
            size: Some(183_552)
        })
    );
}

/// `success` is optional (the project's assumption, from AceData's error envelope): `true` with
/// a URL succeeds; `false`, or an error object, fails with AceData's code.
#[test]
fn callbacks_with_success_or_an_error_read_as_well() {
    let read = |value: Value| AceData.read_callback(&serde_json::to_vec(&value).unwrap(), &[]);
    let done = read(json!({"success": true, "task_id": "t", "image_url": RESULT})).unwrap();
    assert_eq!(done.status, TaskStatus::Succeeded);
    let failed = read(json!({"success": false, "task_id": "t",
        "error": {"code": "api_error", "message": "no face in source_image_url"}}))
    .unwrap();
    assert_eq!(failed.status, TaskStatus::Failed);
    let error = failed.error.unwrap();
    assert!(error.contains("api_error"), "{error}");
    assert!(error.contains("no face in source_image_url"), "{error}");
    let no_success = read(json!({"task_id": "t",
        "error": {"code": "timeout", "message": "took too long"}}))
    .unwrap();
    assert_eq!(no_success.status, TaskStatus::Failed);
    assert!(no_success.error.unwrap().contains("timeout"));
    let bare = read(json!({"success": false, "task_id": "t"})).unwrap();
    assert_eq!(bare.status, TaskStatus::Failed);
    // Neither a result nor a failure: nothing to apply, and the field at fault is named.
    assert_eq!(
        read(json!({"task_id": "t"})).unwrap_err().field,
        "image_url"
    );
    assert_eq!(
        read(json!({"image_url": RESULT})).unwrap_err().field,
        "task_id"
    );
}

/// "400 token_mismatched: Bad request, possibly due to missing or invalid parameters.400
/// api_not_implemented: Bad request, possibly due to missing or invalid parameters.401
/// invalid_token: Unauthorized, invalid or missing authorization token.429 too_many_requests:
/// Too many requests, you have exceeded the rate limit.500 api_error: Internal server error,
/// something went wrong on the server."
#[test]
fn every_documented_error_code_keeps_its_meaning() {
    for (status, code, kind) in [
        (400, "token_mismatched", FaultKind::InvalidInput),
        (400, "api_not_implemented", FaultKind::InvalidInput),
        (401, "invalid_token", FaultKind::Upstream),
        (429, "too_many_requests", FaultKind::RateLimited),
        (500, "api_error", FaultKind::Upstream),
    ] {
        let body = json!({"success": false, "error": {"code": code,
            "message": "as AceData says"}, "trace_id": "e7a1"});
        let fault = AceData.read_error(status, &serde_json::to_vec(&body).unwrap());
        assert_eq!(fault.kind, kind, "{code}");
        assert_eq!(fault.provider_code.as_deref(), Some(code));
        assert!(
            fault.message.contains("as AceData says"),
            "{}",
            fault.message
        );
    }
}
