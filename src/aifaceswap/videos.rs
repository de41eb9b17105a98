//! Video operations: `videoFaceSwap` and `multiVideoFaceSwap`. Blobs are uploaded first, since
//! the provider takes only URLs here.

use faceswap_core::aifaceswap::{
    MultiVideoFaceSwapRequest, Operation, RefInfo, Validate, VideoFaceSwapRequest,
};
use js_sys::{Array, Object};
use wasm_bindgen::JsValue;

use super::submit::{submit_json, task_created, CallOptions};
use crate::error::ClientError;
use crate::js;
use crate::media::{check_blobs, resolve_url, source_field, Kind};
use crate::provider_client::ProviderClient;

/// `videoFaceSwap({ sourceVideo, faceImage, duration, enhance? })`.
pub async fn video_face_swap(
    client: &ProviderClient,
    request: &JsValue,
    options: &JsValue,
) -> Result<JsValue, ClientError> {
    let request = js::request_object(request, "videoFaceSwap")?;
    let options = CallOptions::read(options)?;
    let video = source_field(&request, "sourceVideo")?;
    let face = source_field(&request, "faceImage")?;
    let mut core = VideoFaceSwapRequest {
        source_video: video.url_for_validation("source_video"),
        face_image: face.url_for_validation("face_image"),
        duration: js::number_field(&request, "duration")?,
        enhance: js::optional_integer(&request, "enhance")?,
        webhook: None,
    };
    core.validate().map_err(ClientError::invalid)?;
    check_blobs(&[
        (&video, Kind::Video, "sourceVideo".to_owned()),
        (&face, Kind::Image, "faceImage".to_owned()),
    ])
    .await?;

    let signal = options.signal.as_ref();
    core.source_video = resolve_url(client, &video, signal).await?;
    core.face_image = resolve_url(client, &face, signal).await?;
    let mut fields = vec![
        ("source_video", JsValue::from_str(&core.source_video)),
        ("face_image", JsValue::from_str(&core.face_image)),
        ("duration", JsValue::from_f64(core.duration)),
    ];
    if let Some(level) = core.enhance {
        fields.push(("enhance", JsValue::from_f64(level as f64)));
    }
    let data = submit_json(client, Operation::VideoFaceSwap, &fields, &options).await?;
    task_created(&data)
}

/// `multiVideoFaceSwap({ sourceVideo, refInfo: [{ faceRef, faceUrl }], duration, enhance? })`.
pub async fn multi_video_face_swap(
    client: &ProviderClient,
    request: &JsValue,
    options: &JsValue,
) -> Result<JsValue, ClientError> {
    let request = js::request_object(request, "multiVideoFaceSwap")?;
    let options = CallOptions::read(options)?;
    let video = source_field(&request, "sourceVideo")?;
    let entries = js::array_field(&request, "refInfo")?;
    let mut face_urls = Vec::new();
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
        face_urls.push(face_url);
    }
    let mut core = MultiVideoFaceSwapRequest {
        source_video: video.url_for_validation("source_video"),
        ref_info,
        duration: js::number_field(&request, "duration")?,
        enhance: js::optional_integer(&request, "enhance")?,
        webhook: None,
    };
    core.validate().map_err(ClientError::invalid)?;
    let mut checks = vec![(&video, Kind::Video, "sourceVideo".to_owned())];
    checks.extend(face_urls.iter().enumerate().map(|(i, s)| {
        (
            s,
            Kind::Image,
            faceswap_core::text!("refInfo[", i, "].faceUrl"),
        )
    }));
    check_blobs(&checks).await?;

    let signal = options.signal.as_ref();
    core.source_video = resolve_url(client, &video, signal).await?;
    let list = Array::new();
    for (info, source) in core.ref_info.iter_mut().zip(&face_urls) {
        info.face_url = resolve_url(client, source, signal).await?;
        let item = Object::new();
        js::set(&item, "face_ref", &JsValue::from_str(&info.face_ref));
        js::set(&item, "face_url", &JsValue::from_str(&info.face_url));
        list.push(&item);
    }
    let mut fields = vec![
        ("source_video", JsValue::from_str(&core.source_video)),
        ("ref_info", list.into()),
        ("duration", JsValue::from_f64(core.duration)),
    ];
    if let Some(level) = core.enhance {
        fields.push(("enhance", JsValue::from_f64(level as f64)));
    }
    let data = submit_json(client, Operation::MultiVideoFaceSwap, &fields, &options).await?;
    task_created(&data)
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
