//! aifaceswap's two documentation pages, replayed: every request and answer example they print
//! is a case of the adapter. The first page (Python examples) lost its URLs and closing braces
//! in the capture; its file forms ("Method2") are replayed as the fields they send, and its
//! answers are the same as the second page's, which prints them whole.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use faceswap_core::aifaceswap::{
    Aifaceswap, Envelope, ExtractedBase64Faces, ExtractedFaces, FaceBox, PROVIDER,
};
use faceswap_core::base64_image::BASE64;
use faceswap_core::provider::form::file_stand_in;
use faceswap_core::provider::{
    Adapter, AdapterSettings, AuthScheme, CallbackTarget, FormInput, FormValue, Part, PartValue,
    Prepared, SubmitOutcome, UpstreamBody, UpstreamMethod,
};
use faceswap_core::{MediaType, TaskStatus};
use serde_json::{json, Value};

const HOOK: &str = "https://proxy.example/hooks/aifaceswap/tok";

fn hook() -> CallbackTarget {
    CallbackTarget {
        url: HOOK.into(),
        secret: None,
    }
}

fn prepare(route: &str, body: &str) -> Prepared {
    Aifaceswap
        .prepare_json(route, body.as_bytes())
        .unwrap_or_else(|err| panic!("{route}: {err:?}"))
}

/// The JSON sent upstream for `prepared`, with the proxy's webhook.
fn sent_json(prepared: &Prepared) -> (String, Value) {
    let request = Aifaceswap
        .upstream_request(prepared, Some(&hook()), &AdapterSettings::new())
        .unwrap();
    assert_eq!(request.method, UpstreamMethod::Post);
    let UpstreamBody::Json(json) = request.body else {
        panic!("JSON")
    };
    (request.path, serde_json::from_slice(&json).unwrap())
}

/// The printed body with its `webhook` replaced by the proxy's.
fn with_proxy_webhook(body: &str) -> Value {
    let mut value: Value = serde_json::from_str(body).unwrap();
    value["webhook"] = Value::String(HOOK.into());
    value
}

fn sent_parts(prepared: &Prepared) -> (String, Vec<(String, PartValue)>) {
    let request = Aifaceswap
        .upstream_request(prepared, Some(&hook()), &AdapterSettings::new())
        .unwrap();
    let UpstreamBody::Multipart(parts) = request.body else {
        panic!("a multipart form")
    };
    let parts = parts
        .into_iter()
        .map(|Part { name, value }| (name, value))
        .collect();
    (request.path, parts)
}

fn form(fields: &[(&str, FormValue)]) -> FormInput {
    FormInput {
        fields: fields
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.clone()))
            .collect(),
    }
}

fn text(value: &str) -> FormValue {
    FormValue::Text(value.to_owned())
}

fn started(prepared: &Prepared, answer: &str) -> SubmitOutcome {
    Aifaceswap.read_submit(prepared, answer.as_bytes()).unwrap()
}

/// `-H 'Authorization: Bearer your_api_key'`
#[test]
fn the_key_is_a_bearer_token() {
    assert_eq!(PROVIDER.auth, AuthScheme::Bearer);
    assert_eq!(PROVIDER.default_base_url, "https://aifaceswap.io");
}

/// ```text
/// curl -X POST 'https://aifaceswap.io/api/aifaceswap/v1/faceswap' \
/// -H 'Authorization: Bearer your_api_key' \
/// -H 'Content-Type: application/json' \
/// -d '{
/// "source_image": "https://temp.aifaceswap.io/aifaceswap/static_img/8a1bce5ea303791589165a5f607e7399.webp",
/// "face_image": "https://temp.aifaceswap.io/aifaceswap/static_img/1f153b1ab8d134f1eff57eb527467137.webp",
/// "webhook": "https://b245fc85af95.ngrok-free.app/api/aifaceswap/v1/task_callback"
/// }'
/// ```
/// Response Example
/// ```text
/// {
/// "code": 200,
/// "data": {
/// "points": 2,
/// "task_id": "ac3eb7ab5852233a3d2076031103b4fe"
/// },
/// "extra_data": {},
/// "message": "OK"
/// }
/// ```
#[test]
fn faceswap_example() {
    let body = r#"{
"source_image": "https://temp.aifaceswap.io/aifaceswap/static_img/8a1bce5ea303791589165a5f607e7399.webp",
"face_image": "https://temp.aifaceswap.io/aifaceswap/static_img/1f153b1ab8d134f1eff57eb527467137.webp",
"webhook": "https://b245fc85af95.ngrok-free.app/api/aifaceswap/v1/task_callback"
}"#;
    let prepared = prepare("v1/faceswap", body);
    assert_eq!(prepared.cost.amount, 2.0);
    let (path, json) = sent_json(&prepared);
    assert_eq!(path, "api/aifaceswap/v1/faceswap");
    assert_eq!(json, with_proxy_webhook(body));
    let answer = r#"{
"code": 200,
"data": {
"points": 2,
"task_id": "ac3eb7ab5852233a3d2076031103b4fe"
},
"extra_data": {},
"message": "OK"
}"#;
    assert_eq!(
        started(&prepared, answer),
        SubmitOutcome::Started {
            task_id: "ac3eb7ab5852233a3d2076031103b4fe".into(),
            points: Some(2)
        }
    );
}

/// First page, "Method2: by local files to generate":
/// ```text
/// files = {
///     "source_image": open(r"C:\Users\Administrator\Pictures\5edfb3199e2e846589e60e01645688b2.webp", "rb"),
///     "face_image": open(r"C:\Users\Administrator\Pictures\8d797bb6e22f3fb1b533922da009a1df.webp", "rb")
/// data2 = {
///     "webhook": "http:xxxx.xx/api/task_callback"
/// response =, headers=headers, data=data2, files=files)
/// ```
#[test]
fn faceswap_with_files_example() {
    let prepared = Aifaceswap
        .prepare_form(
            "v1/faceswap",
            &form(&[
                ("source_image", FormValue::File(MediaType::Webp)),
                ("face_image", FormValue::File(MediaType::Webp)),
            ]),
        )
        .unwrap();
    let (path, parts) = sent_parts(&prepared);
    assert_eq!(path, "api/aifaceswap/v1/faceswap");
    assert_eq!(
        parts,
        [
            (
                "source_image".into(),
                PartValue::File("source_image".into())
            ),
            ("face_image".into(), PartValue::File("face_image".into())),
            ("webhook".into(), PartValue::Text(HOOK.into())),
        ]
    );
}

/// ```text
/// curl -X POST 'https://aifaceswap.io/api/aifaceswap/v1/extract_face' \
/// -H 'Authorization: Bearer your_api_key' \
/// -H 'Content-Type: application/json' \
/// -d '{
/// "img": "https://temp.aifaceswap.io/aifaceswap/static_img/1f153b1ab8d134f1eff57eb527467137.webp"
/// }'
/// ```
/// Response Example
/// ```text
/// {
/// "code": 200,
/// "data": {
/// "faces": [
/// [146, 256, 240, 381],
/// [297, 521, 371, 621],
/// [441, 208, 529, 332]
/// ],
/// "points": 2
/// },
/// "message": "OK"
/// }
/// ```
#[test]
fn extract_face_example() {
    let body = r#"{
"img": "https://temp.aifaceswap.io/aifaceswap/static_img/1f153b1ab8d134f1eff57eb527467137.webp"
}"#;
    let prepared = prepare("v1/extract_face", body);
    let request = Aifaceswap
        .upstream_request(&prepared, None, &AdapterSettings::new())
        .unwrap();
    assert_eq!(request.path, "api/aifaceswap/v1/extract_face");
    let UpstreamBody::Json(json) = request.body else {
        panic!("JSON")
    };
    assert_eq!(
        serde_json::from_slice::<Value>(&json).unwrap(),
        serde_json::from_str::<Value>(body).unwrap()
    );
    let answer = r#"{
"code": 200,
"data": {
"faces": [
[146, 256, 240, 381],
[297, 521, 371, 621],
[441, 208, 529, 332]
],
"points": 2
},
"message": "OK"
}"#;
    assert_eq!(started(&prepared, answer), SubmitOutcome::Immediate);
    let faces: Envelope<ExtractedFaces> = serde_json::from_str(answer).unwrap();
    let faces = faces.data.unwrap();
    assert_eq!(
        faces.faces,
        [
            FaceBox([146.0, 256.0, 240.0, 381.0]),
            FaceBox([297.0, 521.0, 371.0, 621.0]),
            FaceBox([441.0, 208.0, 529.0, 332.0]),
        ]
    );
    assert_eq!(faces.points, 2);
}

/// First page, "Method2: by a local file to extract":
/// ```text
/// files = {
///     "img": open(r"C:\Users\Administrator\Pictures\5edfb3199e2e846589e60e01645688b2.webp", "rb"),
/// response =, headers=headers, files=files)
/// ```
#[test]
fn extract_face_with_a_file_example() {
    let prepared = Aifaceswap
        .prepare_form(
            "v1/extract_face",
            &form(&[("img", FormValue::File(MediaType::Webp))]),
        )
        .unwrap();
    let (path, parts) = sent_parts(&prepared);
    assert_eq!(path, "api/aifaceswap/v1/extract_face");
    assert_eq!(parts[0], ("img".into(), PartValue::File("img".into())));
}

/// ```text
/// curl -X POST 'https://aifaceswap.io/api/aifaceswap/v1/multi_faceswap' \
/// -H 'Authorization: Bearer your_api_key' \
/// -H 'Content-Type: application/json' \
/// -d '{
/// "source_image": "https://art-global.yimeta.ai/aifaceswap/image/face_b07365091f488682662cbebc08721616.webp",
/// "face_image": ["https://temp.aifaceswap.io/aifaceswap/static_img/8a1bce5ea303791589165a5f607e7399.webp", "https://temp.aifaceswap.io/aifaceswap/static_img/1f153b1ab8d134f1eff57eb527467137.webp"],
/// "index": [0, 2],
/// "webhook": "https://698f-221-234-179-244.ngrok-free.app/api/aifaceswap/v1/task_callback"
/// }'
/// ```
/// Response Example
/// ```text
/// {
/// "code": 200,
/// "data": {
/// "points": 5,
/// "task_id": "6c3ce398d9e2bdd6abed6d636ec2ac03"
/// },
/// "message": "OK"
/// }
/// ```
#[test]
fn multi_faceswap_example() {
    let body = r#"{
"source_image": "https://art-global.yimeta.ai/aifaceswap/image/face_b07365091f488682662cbebc08721616.webp",
"face_image": ["https://temp.aifaceswap.io/aifaceswap/static_img/8a1bce5ea303791589165a5f607e7399.webp", "https://temp.aifaceswap.io/aifaceswap/static_img/1f153b1ab8d134f1eff57eb527467137.webp"],
"index": [0, 2],
"webhook": "https://698f-221-234-179-244.ngrok-free.app/api/aifaceswap/v1/task_callback"
}"#;
    let prepared = prepare("v1/multi_faceswap", body);
    assert_eq!(prepared.cost.amount, 5.0);
    let (path, json) = sent_json(&prepared);
    assert_eq!(path, "api/aifaceswap/v1/multi_faceswap");
    assert_eq!(json, with_proxy_webhook(body));
    let answer = r#"{
"code": 200,
"data": {
"points": 5,
"task_id": "6c3ce398d9e2bdd6abed6d636ec2ac03"
},
"message": "OK"
}"#;
    assert_eq!(
        started(&prepared, answer),
        SubmitOutcome::Started {
            task_id: "6c3ce398d9e2bdd6abed6d636ec2ac03".into(),
            points: Some(5)
        }
    );
}

/// First page, "Method2: by local files to generate":
/// ```text
/// source_image_file = open(r"C:\Users\Administrator\Pictures\source.jpg", "rb")
/// face_image_file1 = open(r"C:\Users\Administrator\Pictures\face1.webp", "rb")
/// face_image_file2 = open(r"C:\Users\Administrator\Pictures\face2.jpeg", "rb")
/// files = [
///   ("source_image", source_image_file),
///   ("face_image", face_image_file1),
///   ("face_image", face_image_file2)
/// data2 = {"webhook": "http:xxxx.xx/api/task_callback", "index": [0, 2]}
/// response =, headers=headers, data=data2, files=files)
/// ```
/// `requests` sends a list in `data` as one text part per entry: `index=0`, `index=2`. The
/// page's `webhook` (`http:xxxx.xx/...`, a placeholder) is the caller's: the proxy drops it
/// before the adapter reads the form and sends its own.
#[test]
fn multi_faceswap_with_files_example() {
    let fields = [
        ("index", text("0")),
        ("index", text("2")),
        ("source_image", FormValue::File(MediaType::Jpeg)),
        ("face_image", FormValue::File(MediaType::Webp)),
        ("face_image", FormValue::File(MediaType::Jpeg)),
    ];
    let prepared = Aifaceswap
        .prepare_form("v1/multi_faceswap", &form(&fields))
        .unwrap();
    assert_eq!(prepared.cost.amount, 5.0);
    assert!(prepared.multipart);
    assert_eq!(
        prepared.request["face_image"],
        json!([
            file_stand_in("face_image[0]"),
            file_stand_in("face_image[1]")
        ])
    );
    let (path, parts) = sent_parts(&prepared);
    assert_eq!(path, "api/aifaceswap/v1/multi_faceswap");
    assert_eq!(
        parts,
        [
            (
                "source_image".into(),
                PartValue::File("source_image".into())
            ),
            ("face_image".into(), PartValue::File("face_image[0]".into())),
            ("face_image".into(), PartValue::File("face_image[1]".into())),
            ("index".into(), PartValue::Text("0".into())),
            ("index".into(), PartValue::Text("2".into())),
            ("webhook".into(), PartValue::Text(HOOK.into())),
        ]
    );
    let answer = r#"{"code": 200, "data": {"points": 5, "task_id": "6c3ce398d9e2bdd6abed6d636ec2ac03"}, "message": "OK"}"#;
    assert!(matches!(
        started(&prepared, answer),
        SubmitOutcome::Started { .. }
    ));
}

/// The file form keeps the JSON form's rules: one index per face image, no index twice.
#[test]
fn multi_faceswap_files_follow_the_index_rules() {
    let err = Aifaceswap
        .prepare_form(
            "v1/multi_faceswap",
            &form(&[
                ("source_image", FormValue::File(MediaType::Jpeg)),
                ("face_image", FormValue::File(MediaType::Webp)),
                ("face_image", FormValue::File(MediaType::Webp)),
                ("index", text("0")),
            ]),
        )
        .unwrap_err();
    assert_eq!(err.field, "index");
    let err = Aifaceswap
        .prepare_form(
            "v1/multi_faceswap",
            &form(&[
                ("source_image", FormValue::File(MediaType::Jpeg)),
                ("index", text("0")),
            ]),
        )
        .unwrap_err();
    assert_eq!(err.field, "face_image");
    let err = Aifaceswap
        .prepare_form(
            "v1/multi_faceswap",
            &form(&[
                ("source_image", FormValue::File(MediaType::Jpeg)),
                ("face_image", FormValue::File(MediaType::Webp)),
                ("index", text("first")),
            ]),
        )
        .unwrap_err();
    assert_eq!(err.field, "index");
}

/// "Webhook Definition ... success int 1 for success, 0 for failure. type int 1 for single
/// person face swap, 2 for multiple person face swap. task_id string The unique ID of the task.
/// result_image string The URL of the result image."
#[test]
fn webhook_definition() {
    let done = Aifaceswap
        .read_callback(
            br#"{"success": 1, "type": 2, "task_id": "6c3ce398d9e2bdd6abed6d636ec2ac03",
                "result_image": "https://temp.aifaceswap.io/aifaceswap/result/r.webp"}"#,
            &[],
        )
        .unwrap();
    assert_eq!(done.status, TaskStatus::Succeeded);
    assert_eq!(done.kind, Some(2));
    assert_eq!(
        done.result_url.as_deref(),
        Some("https://temp.aifaceswap.io/aifaceswap/result/r.webp")
    );
    let failed = Aifaceswap
        .read_callback(
            br#"{"success": 0, "type": 1, "task_id": "ac3eb7ab5852233a3d2076031103b4fe"}"#,
            &[],
        )
        .unwrap();
    assert_eq!(failed.status, TaskStatus::Failed);
    assert_eq!(failed.kind, Some(1));
}

/// ```text
/// curl -X POST 'https://aifaceswap.io/api/aifaceswap/v1/video_faceswap' \
/// -H 'Authorization: Bearer your_api_key' \
/// -H 'Content-Type: application/json' \
/// -d '{
/// "source_video": "https://temp.aifaceswap.io/aifaceswap/image/videoswap-template/3-b800d4689751060d3765a58518c26c1a.mp4",
/// "face_image": "https://temp.aifaceswap.io/aifaceswap/static_img/1f153b1ab8d134f1eff57eb527467137.webp",
/// "duration": 5,
/// "enhance": 0,
/// "webhook": "https://b245fc85af95.ngrok-free.app/api/aifaceswap/v1/task_callback"
/// }'
/// ```
/// Response Example
/// ```text
/// {
/// "code": 200,
/// "data": {
/// "points": 10,
/// "task_id": "30d22e3a163d023a40e3e13327999ce3"
/// },
/// "extra_data": {},
/// "message": "OK"
/// }
/// ```
#[test]
fn video_faceswap_example() {
    let body = r#"{
"source_video": "https://temp.aifaceswap.io/aifaceswap/image/videoswap-template/3-b800d4689751060d3765a58518c26c1a.mp4",
"face_image": "https://temp.aifaceswap.io/aifaceswap/static_img/1f153b1ab8d134f1eff57eb527467137.webp",
"duration": 5,
"enhance": 0,
"webhook": "https://b245fc85af95.ngrok-free.app/api/aifaceswap/v1/task_callback"
}"#;
    let prepared = prepare("v1/video_faceswap", body);
    assert_eq!(prepared.cost.amount, 10.0, "the answer's points");
    let (path, json) = sent_json(&prepared);
    assert_eq!(path, "api/aifaceswap/v1/video_faceswap");
    assert_eq!(json, with_proxy_webhook(body));
    let answer = r#"{
"code": 200,
"data": {
"points": 10,
"task_id": "30d22e3a163d023a40e3e13327999ce3"
},
"extra_data": {},
"message": "OK"
}"#;
    assert_eq!(
        started(&prepared, answer),
        SubmitOutcome::Started {
            task_id: "30d22e3a163d023a40e3e13327999ce3".into(),
            points: Some(10)
        }
    );
}

/// A small real PNG's base64, standing in where the page prints `"..."` for base64.
fn base64_png() -> String {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend_from_slice(&[0, 0, 0, 64, 0, 0, 0, 64, 8, 2, 0, 0, 0, 0, 0, 0, 0]);
    BASE64.encode(png)
}

/// ```text
/// curl -X POST 'https://aifaceswap.io/api/aifaceswap/v1/extract_base64_face' \
/// -H 'Authorization: Bearer your_api_key' \
/// -H 'Content-Type: application/json' \
/// -d '{
/// "base64_img": "..."
/// }'
/// ```
/// Response Example (printed with a trailing comma after the last box, `],\n]`, which no JSON
/// reader accepts; replayed without it):
/// ```text
/// {
/// "code": 200,
/// "data": {
/// "pos": [
/// [
/// 568,
/// 332,
/// 655,
/// 476
/// ],
/// [
/// 1078,
/// 170,
/// 1169,
/// 290
/// ],
/// ]
/// },
/// "extra_data": {},
/// "message": "OK"
/// }
/// ```
#[test]
fn extract_base64_face_example() {
    // The page elides the base64 (`"..."`): a real image's stands in its place.
    let body = format!(r#"{{"base64_img": "{}"}}"#, base64_png());
    let prepared = prepare("v1/extract_base64_face", &body);
    let (path, _) = sent_json(&prepared);
    assert_eq!(path, "api/aifaceswap/v1/extract_base64_face");
    let answer = r#"{
"code": 200,
"data": {
"pos": [
[
568,
332,
655,
476
],
[
1078,
170,
1169,
290
]
]
},
"extra_data": {},
"message": "OK"
}"#;
    assert_eq!(started(&prepared, answer), SubmitOutcome::Immediate);
    let pos: Envelope<ExtractedBase64Faces> = serde_json::from_str(answer).unwrap();
    assert_eq!(
        pos.data.unwrap().pos,
        [
            FaceBox([568.0, 332.0, 655.0, 476.0]),
            FaceBox([1078.0, 170.0, 1169.0, 290.0])
        ]
    );
}

/// ```text
/// curl -X POST 'https://aifaceswap.io/api/aifaceswap/v1/multi_video_faceswap' \
/// -H 'Authorization: Bearer your_api_key' \
/// -H 'Content-Type: application/json' \
/// -d '{
/// "source_video": "https://temp.aifaceswap.io/aifaceswap/image/videoswap-template/3-b800d4689751060d3765a58518c26c1a.mp4",
/// "ref_info": [
/// {
/// "face_ref": "...",
/// "face_url": "https://temp.aifaceswap.io/aifaceswap/static_img/1f153b1ab8d134f1eff57eb527467137.webp"
/// }
/// ],
/// "duration": 5,
/// "enhance": 0,
/// "webhook": "https://14e47e61df64.ngrok-free.app/api/aifaceswap/v1/task_callback"
/// }'
/// ```
/// Response Example
/// ```text
/// {
/// "code": 200,
/// "data": {
/// "points": 20,
/// "task_id": "59c71eb51b181d56dfbb5e9e3fb6832d"
/// },
/// "extra_data": {},
/// "message": "OK"
/// }
/// ```
#[test]
fn multi_video_faceswap_example() {
    // The page elides `face_ref` (`"..."`): a real image's base64 stands in its place.
    let body = format!(
        r#"{{
"source_video": "https://temp.aifaceswap.io/aifaceswap/image/videoswap-template/3-b800d4689751060d3765a58518c26c1a.mp4",
"ref_info": [
{{
"face_ref": "{}",
"face_url": "https://temp.aifaceswap.io/aifaceswap/static_img/1f153b1ab8d134f1eff57eb527467137.webp"
}}
],
"duration": 5,
"enhance": 0,
"webhook": "https://14e47e61df64.ngrok-free.app/api/aifaceswap/v1/task_callback"
}}"#,
        base64_png()
    );
    let prepared = prepare("v1/multi_video_faceswap", &body);
    assert_eq!(prepared.cost.amount, 20.0, "the answer's points");
    let (path, json) = sent_json(&prepared);
    assert_eq!(path, "api/aifaceswap/v1/multi_video_faceswap");
    assert_eq!(json, with_proxy_webhook(&body));
    let answer = r#"{
"code": 200,
"data": {
"points": 20,
"task_id": "59c71eb51b181d56dfbb5e9e3fb6832d"
},
"extra_data": {},
"message": "OK"
}"#;
    assert_eq!(
        started(&prepared, answer),
        SubmitOutcome::Started {
            task_id: "59c71eb51b181d56dfbb5e9e3fb6832d".into(),
            points: Some(20)
        }
    );
}

/// "Note: Multiple video face swapping supports up to 3 faces. So the maximum length of
/// ref_info is no more than 3."
#[test]
fn multi_video_faceswap_takes_at_most_three_faces() {
    let reference = json!({"face_ref": base64_png(),
        "face_url": "https://temp.aifaceswap.io/aifaceswap/static_img/1f153b1ab8d134f1eff57eb527467137.webp"});
    let body = json!({"source_video": "https://temp.aifaceswap.io/v.mp4",
        "ref_info": [reference.clone(), reference.clone(), reference.clone(), reference],
        "duration": 5, "enhance": 0});
    let err = Aifaceswap
        .prepare_json("v1/multi_video_faceswap", body.to_string().as_bytes())
        .unwrap_err();
    assert_eq!(err.field, "ref_info");
}
