//! Validation of the six aifaceswap operations: the provider's documented examples pass unchanged,
//! and every malformed request is rejected with an error naming the field at fault.

#![allow(clippy::unwrap_used)]

use base64::Engine;
use faceswap_core::aifaceswap::{Operation, Request};
use faceswap_core::base64_image::BASE64;
use faceswap_core::provider::ProviderOperation;
use serde_json::{json, Value};

const SRC: &str =
    "https://temp.aifaceswap.io/aifaceswap/static_img/8a1bce5ea303791589165a5f607e7399.webp";
const FACE: &str =
    "https://temp.aifaceswap.io/aifaceswap/static_img/1f153b1ab8d134f1eff57eb527467137.webp";
const VIDEO: &str = "https://temp.aifaceswap.io/aifaceswap/static_video/clip.mp4";
const HOOK: &str = "https://b245fc85af95.ngrok-free.app/api/aifaceswap/v1/task_callback";

fn png_base64() -> String {
    BASE64.encode(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01")
}

fn jpeg_base64() -> String {
    BASE64.encode([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F'])
}

/// A valid body for each operation, as the provider's docs write them.
fn valid(op: Operation) -> Value {
    match op {
        Operation::FaceSwap => json!({"source_image": SRC, "face_image": FACE, "webhook": HOOK}),
        Operation::ExtractFace => json!({"img": FACE}),
        Operation::MultiFaceSwap => json!({
            "source_image": SRC, "face_image": [FACE, SRC], "index": [0, 2], "webhook": HOOK
        }),
        Operation::VideoFaceSwap => json!({
            "source_video": VIDEO, "face_image": FACE, "duration": 5, "enhance": 0, "webhook": HOOK
        }),
        Operation::ExtractBase64Face => json!({"base64_img": png_base64()}),
        Operation::MultiVideoFaceSwap => json!({
            "source_video": VIDEO,
            "ref_info": [{"face_ref": jpeg_base64(), "face_url": FACE}],
            "duration": 5, "enhance": 0, "webhook": HOOK
        }),
    }
}

fn parse(op: Operation, body: &Value) -> Result<Request, faceswap_core::FieldError> {
    Request::from_json(op, &serde_json::to_vec(body).unwrap())
}

/// Sets `pointer` (a JSON pointer) in a copy of the valid body, or removes it for `None`.
fn with(op: Operation, pointer: &str, value: Option<Value>) -> Value {
    let mut body = valid(op);
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let target = body
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("{pointer}"));
    match (target, value) {
        (Value::Object(map), Some(v)) => {
            map.insert(key.to_owned(), v);
        }
        (Value::Object(map), None) => {
            map.remove(key);
        }
        (Value::Array(list), Some(v)) => list[key.parse::<usize>().unwrap()] = v,
        (Value::Array(list), None) => {
            list.remove(key.parse::<usize>().unwrap());
        }
        _ => panic!("{pointer}"),
    }
    body
}

fn assert_rejects(op: Operation, body: Value, field: &str) {
    let err = parse(op, &body).expect_err(&format!("{} should reject {body}", op.name()));
    assert_eq!(err.field, field, "{}: {body}: {}", op.name(), err.message);
    assert!(
        err.message.contains(field),
        "message should name {field}: {}",
        err.message
    );
}

#[test]
fn documented_examples_pass_unchanged() {
    for &op in Operation::ALL {
        let body = valid(op);
        let request = parse(op, &body).unwrap_or_else(|e| panic!("{}: {e}", op.name()));
        assert_eq!(request.operation(), op);
        let round_trip: Value = serde_json::from_slice(&request.to_json().unwrap()).unwrap();
        assert_eq!(round_trip, body, "{} changed the body", op.name());
    }
}

#[test]
fn every_required_field_is_named_when_missing() {
    let cases: &[(Operation, &str, &str)] = &[
        (Operation::FaceSwap, "/source_image", "source_image"),
        (Operation::FaceSwap, "/face_image", "face_image"),
        (Operation::ExtractFace, "/img", "img"),
        (Operation::MultiFaceSwap, "/source_image", "source_image"),
        (Operation::MultiFaceSwap, "/face_image", "face_image"),
        (Operation::MultiFaceSwap, "/index", "index"),
        (Operation::VideoFaceSwap, "/source_video", "source_video"),
        (Operation::VideoFaceSwap, "/face_image", "face_image"),
        (Operation::VideoFaceSwap, "/duration", "duration"),
        (Operation::ExtractBase64Face, "/base64_img", "base64_img"),
        (
            Operation::MultiVideoFaceSwap,
            "/source_video",
            "source_video",
        ),
        (Operation::MultiVideoFaceSwap, "/ref_info", "ref_info"),
        (Operation::MultiVideoFaceSwap, "/duration", "duration"),
        (
            Operation::MultiVideoFaceSwap,
            "/ref_info/0/face_ref",
            "ref_info[0].face_ref",
        ),
        (
            Operation::MultiVideoFaceSwap,
            "/ref_info/0/face_url",
            "ref_info[0].face_url",
        ),
    ];
    for &(op, pointer, field) in cases {
        assert_rejects(op, with(op, pointer, None), field);
    }
}

#[test]
fn empty_strings_count_as_missing() {
    let cases: &[(Operation, &str, &str)] = &[
        (Operation::FaceSwap, "/source_image", "source_image"),
        (Operation::FaceSwap, "/face_image", "face_image"),
        (Operation::ExtractFace, "/img", "img"),
        (Operation::MultiFaceSwap, "/face_image/0", "face_image[0]"),
        (Operation::VideoFaceSwap, "/source_video", "source_video"),
        (Operation::ExtractBase64Face, "/base64_img", "base64_img"),
        (
            Operation::MultiVideoFaceSwap,
            "/ref_info/0/face_ref",
            "ref_info[0].face_ref",
        ),
        (
            Operation::MultiVideoFaceSwap,
            "/ref_info/0/face_url",
            "ref_info[0].face_url",
        ),
    ];
    for &(op, pointer, field) in cases {
        let err = parse(op, &with(op, pointer, Some(json!("")))).unwrap_err();
        assert_eq!(err.field, field);
        assert_eq!(err.message, format!("{field} is required"));
    }
}

#[test]
fn urls_must_be_absolute_http() {
    let bad_urls = [
        "ftp://example.com/a.png",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "/uploads/a.png",
        "example.com/a.png",
        "https://example.com/a b.png",
        " https://example.com/a.png",
        "https://",
    ];
    let url_fields: &[(Operation, &str, &str)] = &[
        (Operation::FaceSwap, "/source_image", "source_image"),
        (Operation::FaceSwap, "/face_image", "face_image"),
        (Operation::FaceSwap, "/webhook", "webhook"),
        (Operation::ExtractFace, "/img", "img"),
        (Operation::MultiFaceSwap, "/source_image", "source_image"),
        (Operation::MultiFaceSwap, "/face_image/1", "face_image[1]"),
        (Operation::VideoFaceSwap, "/source_video", "source_video"),
        (Operation::VideoFaceSwap, "/face_image", "face_image"),
        (
            Operation::MultiVideoFaceSwap,
            "/source_video",
            "source_video",
        ),
        (
            Operation::MultiVideoFaceSwap,
            "/ref_info/0/face_url",
            "ref_info[0].face_url",
        ),
        (Operation::MultiVideoFaceSwap, "/webhook", "webhook"),
    ];
    for &(op, pointer, field) in url_fields {
        for url in bad_urls {
            assert_rejects(op, with(op, pointer, Some(json!(url))), field);
        }
    }
}

#[test]
fn wrong_types_name_the_field() {
    assert_rejects(
        Operation::FaceSwap,
        with(Operation::FaceSwap, "/source_image", Some(json!(42))),
        "source_image",
    );
    assert_rejects(
        Operation::MultiFaceSwap,
        with(Operation::MultiFaceSwap, "/face_image", Some(json!(FACE))),
        "face_image",
    );
    assert_rejects(
        Operation::MultiFaceSwap,
        with(Operation::MultiFaceSwap, "/index/1", Some(json!(1.5))),
        "index[1]",
    );
    assert_rejects(
        Operation::VideoFaceSwap,
        with(Operation::VideoFaceSwap, "/duration", Some(json!("5"))),
        "duration",
    );
    assert_rejects(
        Operation::VideoFaceSwap,
        with(Operation::VideoFaceSwap, "/enhance", Some(json!(true))),
        "enhance",
    );
    assert_rejects(
        Operation::MultiVideoFaceSwap,
        with(
            Operation::MultiVideoFaceSwap,
            "/ref_info",
            Some(json!({"face_ref": "x"})),
        ),
        "ref_info",
    );
    let err = Request::from_json(Operation::FaceSwap, b"not json").unwrap_err();
    assert_eq!(err.field, "body");
}

#[test]
fn multi_faceswap_index_rules() {
    let op = Operation::MultiFaceSwap;
    let mut body = valid(op);
    body["face_image"] = json!([]);
    body["index"] = json!([]);
    assert_rejects(op, body, "face_image");

    let body = with(op, "/index", Some(json!([0])));
    let err = parse(op, &body).unwrap_err();
    assert_eq!(err.field, "index");
    assert_eq!(err.message, "index has 1 entries but face_image has 2");

    assert_rejects(op, with(op, "/index", Some(json!([0, -1]))), "index");
    assert_rejects(op, with(op, "/index", Some(json!([3, 3]))), "index");
    assert!(parse(op, &with(op, "/index", Some(json!([7, 0])))).is_ok());
}

#[test]
fn video_duration_and_enhance_rules() {
    for op in [Operation::VideoFaceSwap, Operation::MultiVideoFaceSwap] {
        for bad in [json!(0), json!(-1), json!(-0.5), json!(null)] {
            assert_rejects(op, with(op, "/duration", Some(bad)), "duration");
        }
        for bad in [json!(3), json!(-1), json!(1.5), json!("1")] {
            assert_rejects(op, with(op, "/enhance", Some(bad)), "enhance");
        }
        for good in [0, 1, 2] {
            assert!(parse(op, &with(op, "/enhance", Some(json!(good)))).is_ok());
        }
        assert!(parse(op, &with(op, "/enhance", None)).is_ok());
        assert!(parse(op, &with(op, "/duration", Some(json!(0.04)))).is_ok());
    }
}

#[test]
fn ref_info_rules() {
    let op = Operation::MultiVideoFaceSwap;
    let entry = json!({"face_ref": png_base64(), "face_url": FACE});
    assert_rejects(op, with(op, "/ref_info", Some(json!([]))), "ref_info");
    let four = json!([entry.clone(), entry.clone(), entry.clone(), entry.clone()]);
    assert_rejects(op, with(op, "/ref_info", Some(four)), "ref_info");
    let three = json!([entry.clone(), entry.clone(), entry]);
    assert!(parse(op, &with(op, "/ref_info", Some(three))).is_ok());

    let gif = BASE64.encode(b"GIF89a\x01\0\x01\0");
    assert_rejects(
        op,
        with(op, "/ref_info/0/face_ref", Some(json!(gif))),
        "ref_info[0].face_ref",
    );
    assert_rejects(
        op,
        with(op, "/ref_info/0/face_ref", Some(json!("%%%not-base64"))),
        "ref_info[0].face_ref",
    );
}

#[test]
fn base64_images_accept_and_strip_a_data_prefix() {
    let op = Operation::ExtractBase64Face;
    let plain = png_base64();
    let request = parse(
        op,
        &json!({"base64_img": format!("data:image/png;base64,{plain}")}),
    )
    .unwrap();
    let Request::ExtractBase64Face(inner) = request else {
        panic!("wrong variant")
    };
    assert_eq!(inner.base64_img, plain);

    let mvop = Operation::MultiVideoFaceSwap;
    let prefixed = with(
        mvop,
        "/ref_info/0/face_ref",
        Some(json!(format!("data:image/jpeg;base64,{}", jpeg_base64()))),
    );
    let Request::MultiVideoFaceSwap(inner) = parse(mvop, &prefixed).unwrap() else {
        panic!("wrong variant")
    };
    assert_eq!(inner.ref_info[0].face_ref, jpeg_base64());

    let mp4 = BASE64.encode(b"\0\0\0\x20ftypisom\0\0\x02\0");
    assert_rejects(op, json!({"base64_img": mp4}), "base64_img");
    assert_rejects(
        op,
        json!({"base64_img": "data:text/plain,hello"}),
        "base64_img",
    );
}

#[test]
fn browser_webhook_can_be_replaced_by_the_proxy() {
    let mut request = parse(Operation::FaceSwap, &valid(Operation::FaceSwap)).unwrap();
    request.set_webhook(Some("http://127.0.0.1:8080/hooks/aifaceswap/tok".into()));
    let body: Value = serde_json::from_slice(&request.to_json().unwrap()).unwrap();
    assert_eq!(
        body["webhook"],
        "http://127.0.0.1:8080/hooks/aifaceswap/tok"
    );
    request.set_webhook(None);
    let body: Value = serde_json::from_slice(&request.to_json().unwrap()).unwrap();
    assert!(body.get("webhook").is_none());
}

#[test]
fn unknown_fields_are_dropped_not_forwarded() {
    let mut body = valid(Operation::ExtractFace);
    body["api_key"] = json!("sneaky");
    let request = parse(Operation::ExtractFace, &body).unwrap();
    let forwarded: Value = serde_json::from_slice(&request.to_json().unwrap()).unwrap();
    assert_eq!(forwarded, json!({"img": FACE}));
}
