//! aifaceswap's requests in the engine's words, and its webhook body.

use base64::Engine;
use faceswap_core::aifaceswap::{Operation, Request, WebhookCallback};
use faceswap_core::base64_image::BASE64;
use faceswap_core::FieldError;

use crate::engine::fetch::Source;
use crate::engine::jobs::Input;
use crate::engine::tasks::{Job, ReferenceSource, ReplacementSource};

/// The `type` number the webhook carries for each task operation (the sandbox's numbering:
/// faceswap 1, multi_faceswap 2, video_faceswap 3, multi_video_faceswap 4).
pub fn task_type(op: Operation) -> i64 {
    match op {
        Operation::FaceSwap => 1,
        Operation::MultiFaceSwap => 2,
        Operation::VideoFaceSwap => 3,
        Operation::MultiVideoFaceSwap => 4,
        Operation::ExtractFace | Operation::ExtractBase64Face => 0,
    }
}

/// Every URL of the request with its field, for the origin policy (base64 fields have none).
pub fn urls(request: &Request) -> Vec<(String, &str)> {
    let mut urls: Vec<(String, &str)> = Vec::new();
    let webhook = match request {
        Request::FaceSwap(r) => {
            urls.push(("source_image".into(), &r.source_image));
            urls.push(("face_image".into(), &r.face_image));
            &r.webhook
        }
        Request::ExtractFace(r) => {
            urls.push(("img".into(), &r.img));
            &None
        }
        Request::MultiFaceSwap(r) => {
            urls.push(("source_image".into(), &r.source_image));
            for (i, u) in r.face_image.iter().enumerate() {
                urls.push((format!("face_image[{i}]"), u));
            }
            &r.webhook
        }
        Request::VideoFaceSwap(r) => {
            urls.push(("source_video".into(), &r.source_video));
            urls.push(("face_image".into(), &r.face_image));
            &r.webhook
        }
        Request::MultiVideoFaceSwap(r) => {
            urls.push(("source_video".into(), &r.source_video));
            for (i, info) in r.ref_info.iter().enumerate() {
                urls.push((format!("ref_info[{i}].face_url"), &info.face_url));
            }
            &r.webhook
        }
        Request::ExtractBase64Face(_) => &None,
    };
    urls.extend(webhook.as_deref().map(|w| ("webhook".into(), w)));
    urls
}

/// The callback URL of a task operation.
pub fn webhook(request: &Request) -> Option<String> {
    match request {
        Request::FaceSwap(r) => r.webhook.clone(),
        Request::MultiFaceSwap(r) => r.webhook.clone(),
        Request::VideoFaceSwap(r) => r.webhook.clone(),
        Request::MultiVideoFaceSwap(r) => r.webhook.clone(),
        Request::ExtractFace(_) | Request::ExtractBase64Face(_) => None,
    }
}

/// The engine's job for a task operation; `None` for the extract operations, which answer at
/// once. Base64 face crops are decoded here, so a bad one is refused before a task starts.
pub fn job(request: &Request) -> Result<Option<Job>, FieldError> {
    Ok(Some(match request {
        Request::FaceSwap(r) => Job::FaceSwap {
            source: Source::new("source_image", &r.source_image),
            face: Source::new("face_image", &r.face_image),
        },
        Request::MultiFaceSwap(r) => Job::MultiFaceSwap {
            source: Source::new("source_image", &r.source_image),
            replacements: r
                .index
                .iter()
                .zip(&r.face_image)
                .enumerate()
                .map(|(i, (&at, url))| {
                    let at = usize::try_from(at).map_err(|_| {
                        FieldError::new(
                            "index",
                            format!("index[{i}] is {at}; face indexes start at 0"),
                        )
                    })?;
                    Ok(ReplacementSource {
                        label: format!("index[{i}]"),
                        at,
                        face: Source::new(format!("face_image[{i}]"), url),
                    })
                })
                .collect::<Result<_, FieldError>>()?,
        },
        Request::VideoFaceSwap(r) => Job::VideoFaceSwap {
            video: Source::new("source_video", &r.source_video),
            face: Source::new("face_image", &r.face_image),
        },
        Request::MultiVideoFaceSwap(r) => Job::MultiVideoFaceSwap {
            video: Source::new("source_video", &r.source_video),
            refs: r
                .ref_info
                .iter()
                .enumerate()
                .map(|(i, info)| {
                    let field = format!("ref_info[{i}].face_ref");
                    let crop = BASE64.decode(&info.face_ref).map_err(|_| {
                        FieldError::new(field.clone(), format!("{field} is not valid base64"))
                    })?;
                    Ok(ReferenceSource {
                        face_ref: Input::new(field, crop),
                        face: Source::new(format!("ref_info[{i}].face_url"), &info.face_url),
                    })
                })
                .collect::<Result<_, FieldError>>()?,
        },
        Request::ExtractFace(_) | Request::ExtractBase64Face(_) => return Ok(None),
    }))
}

/// The webhook body: `{success, type, task_id, result_image}`, `result_image` only on success.
pub fn callback_body(
    task_id: &str,
    op: Operation,
    result_url: Option<String>,
) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&WebhookCallback {
        success: result_url.is_some(),
        kind: Some(task_type(op)),
        task_id: task_id.to_owned(),
        result_image: result_url,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use faceswap_core::provider::form::file_stand_in;

    #[test]
    fn multi_faceswap_becomes_labelled_replacements() {
        let request = Request::from_json(
            Operation::MultiFaceSwap,
            format!(
                r#"{{"source_image":"{}","face_image":["http://127.0.0.1/a.png","http://127.0.0.1/b.png"],"index":[1,0]}}"#,
                file_stand_in("source_image")
            )
            .as_bytes(),
        )
        .expect("valid");
        let Ok(Some(Job::MultiFaceSwap {
            source,
            replacements,
        })) = job(&request)
        else {
            panic!("a multi-face job");
        };
        assert_eq!(source.url, file_stand_in("source_image"));
        assert_eq!(replacements[1].label, "index[1]");
        assert_eq!(replacements[1].at, 0);
        assert_eq!(replacements[1].face.field, "face_image[1]");
        assert_eq!(urls(&request).len(), 3);
    }

    #[test]
    fn the_callback_has_a_result_only_on_success() {
        let failed = callback_body("t", Operation::FaceSwap, None).expect("json");
        assert_eq!(failed, br#"{"success":0,"type":1,"task_id":"t"}"#);
        let ok =
            callback_body("t", Operation::VideoFaceSwap, Some("http://r".into())).expect("json");
        assert_eq!(
            ok,
            br#"{"success":1,"type":3,"task_id":"t","result_image":"http://r"}"#
        );
    }
}
