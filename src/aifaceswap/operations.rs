//! The six operations' readers: each reads its JS request (camelCase), validates it with
//! faceswap-core's request of the operation (Blobs seen as stand-in URLs), and returns the
//! [`Plan`] that [`super::plan::send`] sends.

use alloc::vec::Vec;

use faceswap_core::aifaceswap::{
    ExtractBase64FaceRequest, ExtractFaceRequest, FaceSwapRequest, MultiFaceSwapRequest,
    MultiVideoFaceSwapRequest, Operation, RefInfo, Validate, VideoFaceSwapRequest,
};
use wasm_bindgen::JsValue;

use super::plan::{Answer, Part, Plan};
use crate::error::ClientError;
use crate::js;
use crate::media::{source_field, source_list, Kind};

/// Reads `request` of `op` into a validated plan.
pub fn read(op: Operation, request: &JsValue) -> Result<Plan, ClientError> {
    match op {
        Operation::FaceSwap => face_swap(request),
        Operation::ExtractFace => extract_face(request),
        Operation::MultiFaceSwap => multi_face_swap(request),
        Operation::VideoFaceSwap => video_face_swap(request),
        Operation::ExtractBase64Face => extract_base64_face(request),
        Operation::MultiVideoFaceSwap => multi_video_face_swap(request),
    }
}

/// `faceSwap({ sourceImage, faceImage })`.
fn face_swap(request: &JsValue) -> Result<Plan, ClientError> {
    let source = source_field(request, "sourceImage")?;
    let face = source_field(request, "faceImage")?;
    FaceSwapRequest {
        source_image: source.url_for_validation("source_image"),
        face_image: face.url_for_validation("face_image"),
        webhook: None,
    }
    .validate()
    .map_err(ClientError::invalid)?;
    let mut plan = Plan::new(Operation::FaceSwap, Answer::Task);
    plan.medium("source_image", source, Kind::Image, "sourceImage");
    plan.medium("face_image", face, Kind::Image, "faceImage");
    Ok(plan)
}

/// `extractFace({ img })`: the face boxes of an image.
fn extract_face(request: &JsValue) -> Result<Plan, ClientError> {
    let img = source_field(request, "img")?;
    ExtractFaceRequest {
        img: img.url_for_validation("img"),
    }
    .validate()
    .map_err(ClientError::invalid)?;
    let mut plan = Plan::new(Operation::ExtractFace, Answer::Faces);
    plan.medium("img", img, Kind::Image, "img");
    Ok(plan)
}

/// `multiFaceSwap({ sourceImage, faceImage: [...], index: [...] })`: with a Blob among the
/// images, the provider's file form ("Method2": files `source_image` and one `face_image` per
/// face, URL strings as text parts, `index` one text part per entry); all URLs, its JSON body.
fn multi_face_swap(request: &JsValue) -> Result<Plan, ClientError> {
    let source = source_field(request, "sourceImage")?;
    let faces = source_list(request, "faceImage")?;
    let index = integer_list(request, "index")?;
    let mut core = MultiFaceSwapRequest {
        source_image: source.url_for_validation("source_image"),
        face_image: faces
            .iter()
            .map(|face| face.url_for_validation("face_image"))
            .collect(),
        index,
        webhook: None,
    };
    core.validate().map_err(ClientError::invalid)?;
    let mut plan = Plan::new(Operation::MultiFaceSwap, Answer::Task);
    plan.medium("source_image", source, Kind::Image, "sourceImage");
    let mut list = Vec::new();
    for (i, face) in faces.into_iter().enumerate() {
        list.push(plan.add_medium(
            face,
            Kind::Image,
            faceswap_core::text!("faceImage[", i, "]"),
        ));
    }
    plan.body.push(("face_image", Part::MediaList(list)));
    plan.body.push(("index", Part::Integers(core.index)));
    Ok(plan)
}

/// `videoFaceSwap({ sourceVideo, faceImage, duration, enhance? })`.
fn video_face_swap(request: &JsValue) -> Result<Plan, ClientError> {
    let video = source_field(request, "sourceVideo")?;
    let face = source_field(request, "faceImage")?;
    let mut core = VideoFaceSwapRequest {
        source_video: video.url_for_validation("source_video"),
        face_image: face.url_for_validation("face_image"),
        duration: js::number_field(request, "duration")?,
        enhance: js::optional_integer(request, "enhance")?,
        webhook: None,
    };
    core.validate().map_err(ClientError::invalid)?;
    let mut plan = Plan::new(Operation::VideoFaceSwap, Answer::Task);
    plan.medium("source_video", video, Kind::Video, "sourceVideo");
    plan.medium("face_image", face, Kind::Image, "faceImage");
    push_duration_and_enhance(&mut plan, core.duration, core.enhance);
    Ok(plan)
}

/// `extractBase64Face({ base64Img })`: face boxes of a base64 image (a `data:` prefix is fine).
fn extract_base64_face(request: &JsValue) -> Result<Plan, ClientError> {
    let mut core = ExtractBase64FaceRequest {
        base64_img: js::string_field(request, "base64Img")?,
    };
    core.validate().map_err(ClientError::invalid)?;
    let mut plan = Plan::new(Operation::ExtractBase64Face, Answer::Pos);
    plan.body.push(("base64_img", Part::Text(core.base64_img)));
    Ok(plan)
}

/// `multiVideoFaceSwap({ sourceVideo, refInfo: [{ faceRef, faceUrl }], duration, enhance? })`.
fn multi_video_face_swap(request: &JsValue) -> Result<Plan, ClientError> {
    let video = source_field(request, "sourceVideo")?;
    let entries = js::array_field(request, "refInfo")?;
    let mut plan = Plan::new(Operation::MultiVideoFaceSwap, Answer::Task);
    plan.medium("source_video", video, Kind::Video, "sourceVideo");
    let mut ref_info = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let path = faceswap_core::text!("refInfo[", i, "]");
        if !entry.is_object() {
            return Err(ClientError::invalid_field(
                &path,
                faceswap_core::text!(path, " must be { faceRef, faceUrl }"),
            ));
        }
        let face_ref = js::string_field(&entry, "faceRef").map_err(|e| prefix(e, &path))?;
        let face_url = source_field(&entry, "faceUrl").map_err(|e| prefix(e, &path))?;
        ref_info.push(RefInfo {
            face_ref,
            face_url: face_url.url_for_validation("face_url"),
        });
        plan.add_medium(face_url, Kind::Image, path + ".faceUrl");
    }
    let mut core = MultiVideoFaceSwapRequest {
        source_video: plan.media[0].source.url_for_validation("source_video"),
        ref_info,
        duration: js::number_field(request, "duration")?,
        enhance: js::optional_integer(request, "enhance")?,
        webhook: None,
    };
    core.validate().map_err(ClientError::invalid)?;
    let pairs = core
        .ref_info
        .into_iter()
        .enumerate()
        .map(|(i, info)| (info.face_ref, i + 1))
        .collect();
    plan.body.push(("ref_info", Part::RefInfo(pairs)));
    push_duration_and_enhance(&mut plan, core.duration, core.enhance);
    Ok(plan)
}

/// `duration`, and `enhance` when given: the video operations' last fields.
fn push_duration_and_enhance(plan: &mut Plan, duration: f64, enhance: Option<i64>) {
    plan.body.push(("duration", Part::Number(duration)));
    if let Some(level) = enhance {
        plan.body.push(("enhance", Part::Number(level as f64)));
    }
}

/// Reads `field` as an array of whole numbers; a fraction or a non-number names its entry.
fn integer_list(object: &JsValue, field: &str) -> Result<Vec<i64>, ClientError> {
    // A loop rather than collecting into a `Result`: each such `collect` adds an iterator adapter
    // to the wasm.
    let mut list = Vec::new();
    for (i, value) in js::array_field(object, field)?.iter().enumerate() {
        match value.as_f64() {
            Some(n) if faceswap_core::float::fract(n) == 0.0 && n.abs() < 9.0e15 => {
                list.push(n as i64)
            }
            _ => {
                return Err(ClientError::invalid_field(
                    field,
                    faceswap_core::text!(
                        field,
                        "[",
                        i,
                        "] must be a whole number (a face index from extractFace)"
                    ),
                ))
            }
        }
    }
    Ok(list)
}

/// Moves an error about a field of one `refInfo` entry under that entry's path.
fn prefix(mut err: ClientError, path: &str) -> ClientError {
    if let Some(field) = err.field.take() {
        let full = faceswap_core::text!(path, ".", field);
        err.message = faceswap_core::replace_first(&err.message, &field, &full);
        err.field = Some(full);
    }
    err
}
