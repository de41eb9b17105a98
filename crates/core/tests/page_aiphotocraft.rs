//! AIPhotoCraft's documentation page, replayed: every request and answer example it prints is a
//! case of the adapter. The page's text is quoted as printed; where the adapter reads more than
//! the page shows, the adapter's comments say it is the project's assumption.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use faceswap_core::aiphotocraft::{AiPhotoCraft, PROVIDER};
use faceswap_core::provider::{
    Adapter, AdapterSettings, AuthScheme, FaultKind, FormInput, FormValue, Part, PartValue,
    Prepared, UpstreamBody, UpstreamMethod, UpstreamRequest,
};
use faceswap_core::{MediaType, TaskStatus};

/// The page's result URL, in its one task-status example.
const RESULT: &str = "https://aiapi.aiphotocraft.com/results/swapped_image.jpg";

fn form(fields: &[(&str, FormValue)]) -> FormInput {
    FormInput {
        fields: fields
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.clone()))
            .collect(),
    }
}

/// `-F "srcimage=@source.jpg;type=image/jpeg"`: a JPEG file part.
fn jpeg() -> FormValue {
    FormValue::File(MediaType::Jpeg)
}

fn text(value: &str) -> FormValue {
    FormValue::Text(value.to_owned())
}

fn prepare(route: &str, fields: &[(&str, FormValue)]) -> Prepared {
    AiPhotoCraft
        .prepare_form(route, &form(fields))
        .unwrap_or_else(|err| panic!("{route}: {err:?}"))
}

/// The parts the adapter sends upstream, as `(name, value)`.
fn sent(prepared: &Prepared) -> (String, Vec<(String, PartValue)>) {
    let request = AiPhotoCraft
        .upstream_request(prepared, None, &AdapterSettings::new())
        .unwrap();
    assert_eq!(request.method, UpstreamMethod::Post);
    let UpstreamBody::Multipart(parts) = request.body else {
        panic!("a multipart form")
    };
    let parts = parts
        .into_iter()
        .map(|Part { name, value }| (name, value))
        .collect();
    (request.path, parts)
}

fn file(name: &str) -> PartValue {
    PartValue::File(name.to_owned())
}

fn part_text(value: &str) -> PartValue {
    PartValue::Text(value.to_owned())
}

/// "Base URL https://aiapi.aiphotocraft.com/" and "X-Api-Key: YOUR_API_KEY".
#[test]
fn base_url_and_key_header_are_the_pages() {
    assert_eq!(PROVIDER.default_base_url, "https://aiapi.aiphotocraft.com");
    // Header names are case-insensitive; the page prints `X-Api-Key`.
    let AuthScheme::Header(name) = PROVIDER.auth else {
        panic!("a header of its own")
    };
    assert!(name.eq_ignore_ascii_case("X-Api-Key"));
}

/// ```text
/// curl -X POST "https://aiapi.aiphotocraft.com/api/faceswap/basicswap" \
/// -H "accept: application/json" \
/// -H "X-Api-Key: YOUR_API_KEY" \
/// -H "Content-Type: multipart/form-data" \
/// -F "srcimage=@source.jpg;type=image/jpeg" \
/// -F "targetimage=@target.jpg;type=image/jpeg" \
/// -F "enhance=true"
/// ```
#[test]
fn basicswap_example_is_sent_as_printed() {
    let prepared = prepare(
        "faceswap/basicswap",
        &[
            ("srcimage", jpeg()),
            ("targetimage", jpeg()),
            ("enhance", text("true")),
        ],
    );
    let (path, parts) = sent(&prepared);
    assert_eq!(path, "api/faceswap/basicswap");
    assert_eq!(
        parts,
        [
            ("srcimage".into(), file("srcimage")),
            ("targetimage".into(), file("targetimage")),
            ("enhance".into(), part_text("true")),
        ]
    );
}

/// "enhance string (formData) Required Either 'true' or 'false'."
#[test]
fn basicswap_enhance_is_true_or_false_and_always_sent() {
    let prepared = prepare(
        "faceswap/basicswap",
        &[
            ("srcimage", jpeg()),
            ("targetimage", jpeg()),
            ("enhance", text("false")),
        ],
    );
    assert_eq!(sent(&prepared).1[2], ("enhance".into(), part_text("false")));
    let err = AiPhotoCraft
        .prepare_form(
            "faceswap/basicswap",
            &form(&[
                ("srcimage", jpeg()),
                ("targetimage", jpeg()),
                ("enhance", text("yes")),
            ]),
        )
        .unwrap_err();
    assert_eq!(err.field, "enhance");
}

/// ```text
/// curl -X POST "https://aiapi.aiphotocraft.com/api/faceswap/faceswap2" \
/// -H "accept: application/json" \
/// -H "X-Api-Key: YOUR_API_KEY" \
/// -H "Content-Type: multipart/form-data" \
/// -F "srcimage=@source.jpg;type=image/jpeg" \
/// -F "targetimage=@target.jpg;type=image/jpeg" \
/// -F "swap_index=0,1"
/// ```
#[test]
fn faceswap2_example_is_sent_as_printed() {
    let prepared = prepare(
        "faceswap/faceswap2",
        &[
            ("srcimage", jpeg()),
            ("targetimage", jpeg()),
            ("swap_index", text("0,1")),
        ],
    );
    let (path, parts) = sent(&prepared);
    assert_eq!(path, "api/faceswap/faceswap2");
    // No `enhance`: the page does not list it for faceswap2.
    assert_eq!(
        parts,
        [
            ("srcimage".into(), file("srcimage")),
            ("targetimage".into(), file("targetimage")),
            ("swap_index".into(), part_text("0,1")),
        ]
    );
}

/// "swap_index text (formData) Optional Tuple of indexes to swap.": sent only when given,
/// as the caller wrote it.
#[test]
fn faceswap2_swap_index_is_optional_and_forwarded_as_written() {
    let none = prepare(
        "faceswap/faceswap2",
        &[("srcimage", jpeg()), ("targetimage", jpeg())],
    );
    assert_eq!(
        sent(&none).1,
        [
            ("srcimage".into(), file("srcimage")),
            ("targetimage".into(), file("targetimage")),
        ]
    );
    for written in ["0,1", "1,0", "1,2", "2,1", "0,2", "2,0"] {
        let prepared = prepare(
            "faceswap/faceswap2",
            &[
                ("srcimage", jpeg()),
                ("targetimage", jpeg()),
                ("swap_index", text(written)),
            ],
        );
        assert_eq!(
            sent(&prepared).1[2],
            ("swap_index".into(), part_text(written)),
            "{written}"
        );
    }
    for bad in [
        "1,1", "0,3", "-1,0", "1", "1,2,0", "a,b", "1;2", "", "1.0,2",
    ] {
        let err = AiPhotoCraft
            .prepare_form(
                "faceswap/faceswap2",
                &form(&[
                    ("srcimage", jpeg()),
                    ("targetimage", jpeg()),
                    ("swap_index", text(bad)),
                ]),
            )
            .unwrap_err();
        assert_eq!(err.field, "swap_index", "{bad}");
    }
}

/// `enhance` reaches faceswap2 only when the caller gives it (the page does not list it there).
#[test]
fn faceswap2_enhance_only_when_given() {
    let prepared = prepare(
        "faceswap/faceswap2",
        &[
            ("srcimage", jpeg()),
            ("targetimage", jpeg()),
            ("enhance", text("true")),
        ],
    );
    assert_eq!(
        sent(&prepared).1,
        [
            ("srcimage".into(), file("srcimage")),
            ("targetimage".into(), file("targetimage")),
            ("enhance".into(), part_text("true")),
        ]
    );
}

/// ```text
/// curl -X POST "https://aiapi.aiphotocraft.com/api/faceswap/swap1from2" \
/// -H "accept: application/json" \
/// -H "X-Api-Key: YOUR_API_KEY" \
/// -H "Content-Type: multipart/form-data" \
/// -F "srcimage=@source.jpg;type=image/jpeg" \
/// -F "targetimage1=@target1.jpg;type=image/jpeg" \
/// -F "targetimage2=@target2.jpg;type=image/jpeg"
/// ```
#[test]
fn swap1from2_example_is_sent_as_printed() {
    let prepared = prepare(
        "faceswap/swap1from2",
        &[
            ("srcimage", jpeg()),
            ("targetimage1", jpeg()),
            ("targetimage2", jpeg()),
        ],
    );
    let (path, parts) = sent(&prepared);
    assert_eq!(path, "api/faceswap/swap1from2");
    assert_eq!(
        parts,
        [
            ("srcimage".into(), file("srcimage")),
            ("targetimage1".into(), file("targetimage1")),
            ("targetimage2".into(), file("targetimage2")),
        ]
    );
}

/// ```text
/// curl -X POST "https://aiapi.aiphotocraft.com/api/faceswap/swapfacesameimage" \
/// -H "accept: application/json" \
/// -H "X-Api-Key: YOUR_API_KEY" \
/// -H "Content-Type: multipart/form-data" \
/// -F "srcimage=@source.jpg;type=image/jpeg"
/// ```
#[test]
fn swapfacesameimage_example_is_sent_as_printed() {
    let prepared = prepare("faceswap/swapfacesameimage", &[("srcimage", jpeg())]);
    let (path, parts) = sent(&prepared);
    assert_eq!(path, "api/faceswap/swapfacesameimage");
    assert_eq!(parts, [("srcimage".into(), file("srcimage"))]);
}

/// ```text
/// curl -X GET "https://aiapi.aiphotocraft.com/api/task-status/{task_id}"-H "accept: application/json"-H "X-Api-Key: YOUR_API_KEY"
/// ```
#[test]
fn task_status_request_is_the_pages() {
    assert_eq!(
        AiPhotoCraft.poll_request("3f2a9c"),
        Some(UpstreamRequest::get("api/task-status/3f2a9c"))
    );
}

/// ```text
/// {
///   "image_url": "https://aiapi.aiphotocraft.com/results/swapped_image.jpg"
/// }
/// ```
/// The page's only task-status answer: a result URL and no status. It is a success.
#[test]
fn task_status_example_is_a_success() {
    let example = br#"{
  "image_url": "https://aiapi.aiphotocraft.com/results/swapped_image.jpg"
}"#;
    let update = AiPhotoCraft.read_poll("3f2a9c", example).unwrap();
    assert_eq!(update.status, TaskStatus::Succeeded);
    assert_eq!(update.result_url.as_deref(), Some(RESULT));
    assert_eq!(update.task_id.as_deref(), Some("3f2a9c"));
}

/// Status forms the page does not print stay readable (the project's assumption).
#[test]
fn status_forms_stay_readable() {
    let read = |body: &str| AiPhotoCraft.read_poll("t", body.as_bytes()).unwrap();
    assert_eq!(
        read(r#"{"status":"processing"}"#).status,
        TaskStatus::Pending
    );
    assert_eq!(read(r#"{"status":"PENDING"}"#).status, TaskStatus::Pending);
    let done = read(&format!(
        r#"{{"status":"completed","image_url":"{RESULT}"}}"#
    ));
    assert_eq!(done.status, TaskStatus::Succeeded);
    let failed = read(r#"{"status":"failed","error":{"message":"no face"}}"#);
    assert_eq!(failed.status, TaskStatus::Failed);
    // A pending status with a URL already present is still pending: the status decides.
    assert_eq!(
        read(&format!(
            r#"{{"status":"processing","image_url":"{RESULT}"}}"#
        ))
        .status,
        TaskStatus::Pending
    );
}

/// An answer that says nothing readable is an error the proxy counts (it fails the task after a
/// few in a row); it says what came back.
#[test]
fn unreadable_status_says_what_came_back() {
    for body in [
        &b"{}"[..],
        b"[]",
        b"<html>busy</html>",
        br#"{"state":"weird"}"#,
    ] {
        let fault = AiPhotoCraft.read_poll("t", body).unwrap_err();
        assert_eq!(fault.kind, FaultKind::Upstream);
        assert!(fault.message.contains("AIPhotoCraft"), "{}", fault.message);
    }
    let fault = AiPhotoCraft
        .read_poll("t", br#"{"state":"weird"}"#)
        .unwrap_err();
    assert!(fault.message.contains("state"), "{}", fault.message);
}

/// ```text
/// {
///   "success": false,
///   "error": {
///     "code": "invalid_parameter",
///     "message": "Source image parameter is required",
///     "details": {
///       "parameter": "srcimage"
///     }
///   }
/// }
/// ```
#[test]
fn invalid_parameter_example_names_its_field() {
    let example = br#"{
  "success": false,
  "error": {
    "code": "invalid_parameter",
    "message": "Source image parameter is required",
    "details": {
      "parameter": "srcimage"
    }
  }
}"#;
    let fault = AiPhotoCraft.read_error(400, example);
    assert_eq!(fault.kind, FaultKind::InvalidInput);
    assert_eq!(fault.provider_code.as_deref(), Some("invalid_parameter"));
    assert_eq!(fault.field.as_deref(), Some("srcimage"));
    assert!(
        fault.message.contains("Source image parameter is required"),
        "{}",
        fault.message
    );
}

/// Missing API Key (401)
/// ```text
/// {
///   "success": false,
///   "error": {
///     "code": "api_key_required",
///     "message": "API key is required. Please include X-Api-Key header in your request."
///   }
/// }
/// ```
#[test]
fn missing_api_key_example_is_the_operators_fault() {
    let example = br#"{
  "success": false,
  "error": {
    "code": "api_key_required",
    "message": "API key is required. Please include X-Api-Key header in your request."
  }
}"#;
    let fault = AiPhotoCraft.read_error(401, example);
    assert_eq!(fault.kind, FaultKind::Upstream);
    assert_eq!(fault.provider_code.as_deref(), Some("api_key_required"));
    assert_eq!(fault.field, None);
}

/// No Face Detected (400)
/// ```text
/// {
///   "success": false,
///   "error": {
///     "code": "no_face_detected",
///     "message": "No face was detected in the source image.",
///     "details": {
///       "image": "srcimage"
///     }
///   }
/// }
/// ```
#[test]
fn no_face_example_names_its_image() {
    let example = br#"{
  "success": false,
  "error": {
    "code": "no_face_detected",
    "message": "No face was detected in the source image.",
    "details": {
      "image": "srcimage"
    }
  }
}"#;
    let fault = AiPhotoCraft.read_error(400, example);
    assert_eq!(fault.kind, FaultKind::InvalidInput);
    assert_eq!(fault.provider_code.as_deref(), Some("no_face_detected"));
    assert_eq!(fault.field.as_deref(), Some("srcimage"));
}

/// ```text
/// {
///   "success": false,
///   "error": {
///     "code": "rate_limit_exceeded",
///     "message": "You have exceeded your rate limit. Please try again later.",
///     "details": {
///       "reset_at": 1620000000
///     }
///   }
/// }
/// ```
#[test]
fn rate_limit_example_is_a_rate_limit() {
    let example = br#"{
  "success": false,
  "error": {
    "code": "rate_limit_exceeded",
    "message": "You have exceeded your rate limit. Please try again later.",
    "details": {
      "reset_at": 1620000000
    }
  }
}"#;
    let fault = AiPhotoCraft.read_error(429, example);
    assert_eq!(fault.kind, FaultKind::RateLimited);
    assert_eq!(fault.provider_code.as_deref(), Some("rate_limit_exceeded"));
    assert_eq!(fault.field, None);
}

/// "Common Error Codes": each keeps its word and its meaning (input faults are the browser's,
/// the key's faults the operator's).
#[test]
fn every_common_error_code_keeps_its_meaning() {
    for (code, status, kind) in [
        ("invalid_parameter", 400, FaultKind::InvalidInput),
        ("api_key_required", 401, FaultKind::Upstream),
        ("invalid_api_key", 401, FaultKind::Upstream),
        ("rate_limit_exceeded", 429, FaultKind::RateLimited),
        ("no_face_detected", 400, FaultKind::InvalidInput),
        ("face_count_mismatch", 400, FaultKind::InvalidInput),
        ("face_index_out_of_range", 400, FaultKind::InvalidInput),
        ("invalid_image_format", 400, FaultKind::InvalidInput),
        ("server_error", 500, FaultKind::Upstream),
    ] {
        let body = format!(r#"{{"success":false,"error":{{"code":"{code}","message":"m"}}}}"#);
        let fault = AiPhotoCraft.read_error(status, body.as_bytes());
        assert_eq!(fault.kind, kind, "{code}");
        assert_eq!(fault.provider_code.as_deref(), Some(code));
    }
}

/// "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset ... in UTC epoch seconds."
#[test]
fn rate_limit_headers_are_read() {
    let now = 1_619_996_400;
    let spent = [
        ("X-RateLimit-Limit", "50"),
        ("X-RateLimit-Remaining", "0"),
        ("X-RateLimit-Reset", "1620000000"),
    ];
    assert_eq!(
        AiPhotoCraft.exhausted_until(&spent, now),
        Some(1_620_000_000)
    );
    let left = [
        ("X-RateLimit-Limit", "50"),
        ("X-RateLimit-Remaining", "49"),
        ("X-RateLimit-Reset", "1620000000"),
    ];
    assert_eq!(AiPhotoCraft.exhausted_until(&left, now), None);
}

/// "Example Request with Authentication" posts JSON to basicswap:
/// ```text
/// curl -X POST https://aiapi.aiphotocraft.com/api/faceswap/basicswap \
///   -H "X-Api-Key: YOUR_API_KEY" \
///   -H "Content-Type: application/json" \
///   -d '{
///     "source_image": "https://example.com/source.jpg",
///     "target_image": "https://example.com/target.jpg"
///   }'
/// ```
/// The same page's parameter table and the operation's own example send a multipart form with
/// files `srcimage` and `targetimage`; the adapter follows those (the example shows where the key
/// goes), and a JSON body is refused before anything is spent, saying what to send instead.
#[test]
fn authentication_example_json_is_refused_with_what_to_send() {
    let example = br#"{
    "source_image": "https://example.com/source.jpg",
    "target_image": "https://example.com/target.jpg"
  }"#;
    let err = AiPhotoCraft
        .prepare_json("faceswap/basicswap", example)
        .unwrap_err();
    assert_eq!(err.field, "body");
    assert!(err.message.contains("multipart"), "{}", err.message);
}

/// "Rate limits are applied on a per-API-key basis, not per-endpoint.": every request counts,
/// polls included, so a swap is priced as its submit and the polls of a typical task, and the
/// first poll waits a typical task's time (both the project's assumption; the page gives no
/// task time).
#[test]
fn a_swap_is_priced_with_its_polls() {
    use faceswap_core::aiphotocraft::{TYPICAL_POLLS, TYPICAL_TASK_SECS};
    use faceswap_core::provider::{Cost, CostUnit, PriceInputs};
    for spec in AiPhotoCraft.operations() {
        assert_eq!(
            AiPhotoCraft.price(spec, &PriceInputs::default()),
            Cost::new(1.0 + f64::from(TYPICAL_POLLS), CostUnit::Requests)
        );
    }
    assert_eq!(
        AiPhotoCraft.typical_task_time(),
        Some(std::time::Duration::from_secs(TYPICAL_TASK_SECS))
    );
}
