//! `PiApiClient`, PiAPI's class: `faceSwap`, `multiFaceSwap` and `videoFaceSwap` (all on
//! `/api/piapi/v1/task`), plus `upload` and `waitForResult`, over the shared [`ProviderClient`].
//!
//! Each operation reads the JS request (camelCase), validates it with faceswap-core's PiAPI
//! request shape before anything is sent, uploads Blobs (PiAPI takes URLs or base64, never a
//! multipart file), then submits PiAPI's own body `{model, task_type, input}`.

use alloc::{boxed::Box, string::String, vec};

use faceswap_core::piapi::{
    FaceSwapInput, MultiFaceSwapInput, Operation, Request, VideoFaceSwapInput, CATALOG,
};
use faceswap_core::provider::form::file_stand_in;
use faceswap_core::provider::{Catalog, OperationSpec, ProviderOperation};
use faceswap_core::FieldError;
use js_sys::{Array, Object};
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;

use crate::drive::Pending;
use crate::error::ClientError;
use crate::js;
use crate::media::{check_blob, check_image_size, resolve_url, source_field, Kind, Source};
use crate::provider_client::envelope_data;
use crate::provider_client::{CallOptions, ProviderClient};

crate::client_class! {
    /// A client of `faceswap-proxy` for PiAPI's face swaps. It never holds the provider's key:
    /// the proxy does.
    PiApiClient for CATALOG, run run_operation {
        /// Replaces the largest face of `targetImage` with the face of `swapImage` (each a URL
        /// ending in .jpg, .jpeg, .png or .webp, base64, or a Blob, which is uploaded first).
        /// Resolves `{ taskId, status }`; follow the task with `waitForResult`.
        faceSwap(face_swap, "PiApiFaceSwapRequest") -> "Promise<PiApiTaskCreated>";
        /// Replaces the faces of `targetImage` at `targetFacesIndex` with the faces of
        /// `swapImage` at `swapFacesIndex`, pairwise (faces count from 0; a list `[0, 1]` or a
        /// string `"0,1"`). Resolves `{ taskId, status }`.
        multiFaceSwap(multi_face_swap, "PiApiMultiFaceSwapRequest") -> "Promise<PiApiTaskCreated>";
        /// Puts the face of `swapImage` onto the faces of `targetVideo` (an MP4: a URL ending in
        /// .mp4, base64, or a Blob, which is uploaded first); `swapFacesIndex` and
        /// `targetFacesIndex` choose faces, both or neither; `duration` (seconds) prices the
        /// task and is not sent to PiAPI (the proxy reads the length of a Blob it stored; a video
        /// at any other URL must declare it). Resolves `{ taskId, status }`.
        videoFaceSwap(video_face_swap, "PiApiVideoFaceSwapRequest") -> "Promise<PiApiTaskCreated>";
    }
}

/// Runs `operation` of PiAPI (its [`crate::class::SubmitFn`]).
pub(crate) fn run_operation(
    _entry: &'static Catalog,
    client: ProviderClient,
    operation: &'static OperationSpec,
    request: JsValue,
    options: JsValue,
) -> Pending {
    Box::pin(async move {
        let op = Operation::ALL
            .iter()
            .copied()
            .find(|op| core::ptr::eq(op.spec(), operation))
            .ok_or_else(|| ClientError::internal("PiAPI has no such operation"))?;
        submit_operation(&client, op, &request, &options).await
    })
}

/// One operation, whichever of the three: reads the request (`targetImage` or `targetVideo`,
/// `swapImage`, the faces indexes but for `faceSwap`, `duration` for the video), validates it
/// with faceswap-core (Blobs seen as stand-ins), uploads Blobs, and submits. One function for the
/// three keeps one copy of the Blob checks and uploads in the wasm (about 0.8 KB gzipped less than
/// one function each).
pub(crate) async fn submit_operation(
    client: &ProviderClient,
    op: Operation,
    request: &JsValue,
    options: &JsValue,
) -> Result<JsValue, ClientError> {
    let request = js::request_object(request, op.spec().js_name)?;
    let options = CallOptions::read(options)?;
    let (target_field, target_kind, target_wire) = match op {
        Operation::VideoFaceSwap => ("targetVideo", Kind::Video, "target_video"),
        _ => ("targetImage", Kind::Image, "target_image"),
    };
    let media = [
        (
            source_field(&request, target_field)?,
            target_kind,
            target_wire,
        ),
        (
            source_field(&request, "swapImage")?,
            Kind::Image,
            "swap_image",
        ),
    ];
    let (swap_index, target_index) = match op {
        Operation::FaceSwap => (None, None),
        _ => (
            faces_index(&request, "swapFacesIndex")?,
            faces_index(&request, "targetFacesIndex")?,
        ),
    };
    let duration = match op {
        Operation::VideoFaceSwap => js::optional_number(&request, "duration")?,
        _ => None,
    };

    let mut urls = [String::new(), String::new()];
    for (url, (source, kind, wire)) in urls.iter_mut().zip(&media) {
        *url = stand_in(source, *kind, wire).await?;
    }
    check_request(op, &urls, &swap_index, &target_index, duration)?;

    let signal = options.signal.as_ref();
    for (url, (source, ..)) in urls.iter_mut().zip(&media) {
        *url = resolve_url(client, source, signal).await?;
    }
    let input = Object::new();
    for (url, (_, _, wire)) in urls.iter().zip(&media) {
        js::set(&input, wire, &JsValue::from_str(url));
    }
    if let (Some(swap), Some(target)) = (&swap_index, &target_index) {
        js::set(&input, "swap_faces_index", &JsValue::from_str(swap));
        js::set(&input, "target_faces_index", &JsValue::from_str(target));
    }
    submit(client, op, input, duration, &options).await
}

/// Checks the values read with faceswap-core's request of `op` (not inlined: the async
/// function's state machine stays small).
#[inline(never)]
fn check_request(
    op: Operation,
    urls: &[String; 2],
    swap_index: &Option<String>,
    target_index: &Option<String>,
    duration: Option<f64>,
) -> Result<(), ClientError> {
    core_request(op, urls, swap_index, target_index, duration)?
        .validate()
        .map_err(ClientError::invalid)
}

/// faceswap-core's request of `op` from the values read: `urls` are the target's and the swap
/// image's (stand-ins for Blobs). The multi-face swap needs both indexes.
fn core_request(
    op: Operation,
    urls: &[String; 2],
    swap_index: &Option<String>,
    target_index: &Option<String>,
    duration: Option<f64>,
) -> Result<Request, ClientError> {
    let [target, swap_image] = urls.clone();
    Ok(match op {
        Operation::FaceSwap => Request::FaceSwap(FaceSwapInput {
            target_image: target,
            swap_image,
        }),
        Operation::MultiFaceSwap => {
            let (Some(swap_faces_index), Some(target_faces_index)) =
                (swap_index.clone(), target_index.clone())
            else {
                let missing = if swap_index.is_none() {
                    "swap_faces_index"
                } else {
                    "target_faces_index"
                };
                return Err(ClientError::invalid(FieldError::required(
                    faceswap_core::text!("input.", missing),
                )));
            };
            Request::MultiFaceSwap(MultiFaceSwapInput {
                target_image: target,
                swap_image,
                swap_faces_index,
                target_faces_index,
            })
        }
        Operation::VideoFaceSwap => Request::VideoFaceSwap {
            input: VideoFaceSwapInput {
                target_video: target,
                swap_image,
                swap_faces_index: swap_index.clone(),
                target_faces_index: target_index.clone(),
            },
            duration,
        },
    })
}

/// The value validation sees for a media field: a string as given (a URL or base64), and for a
/// Blob, after checking its kind by its magic bytes, core's stand-in for the file of
/// `wire_field` named like its upload will be (`target_image.png`): PiAPI's rule judges a URL by
/// its extension, and the proxy names an upload by its type. Nothing is uploaded yet.
async fn stand_in(source: &Source, kind: Kind, wire_field: &str) -> Result<String, ClientError> {
    match source {
        Source::Url(value) => Ok(value.clone()),
        Source::Blob(blob) => {
            let js_field = crate::error::camel_case_path(wire_field);
            let media = check_blob(blob, kind, &js_field).await?;
            if kind == Kind::Image {
                // "under 2048 x 2048 resolution each", from the image's header.
                check_image_size(blob, &js_field, faceswap_core::piapi::MAX_IMAGE).await?;
            }
            Ok(file_stand_in(&faceswap_core::text!(
                wire_field,
                ".",
                media.extension()
            )))
        }
    }
}

/// Reads a faces index given as a list of face numbers (`[0, 1]`) or as PiAPI's string
/// (`"0,1"`) into PiAPI's string; absent is `None`. The list is joined as it is, so every rule
/// about the numbers stays in faceswap-core's validation.
fn faces_index(request: &JsValue, field: &str) -> Result<Option<String>, ClientError> {
    let value = js::get(request, field);
    if js::is_absent(&value) {
        return Ok(None);
    }
    if let Some(text) = value.as_string() {
        return Ok(Some(text));
    }
    match value.dyn_into::<Array>() {
        Ok(list) => Ok(Some(String::from(list.join(",")))),
        Err(_) => Err(ClientError::invalid_field(
            field,
            faceswap_core::text!(field, " must be face numbers: [0, 1] or \"0,1\""),
        )),
    }
}

/// POSTs `{model, task_type, input, duration?}` to `/piapi/v1/task` and reads PiAPI's envelope
/// `{code, data: {task_id, status, ...}, message}` into `{ taskId, status }`.
async fn submit(
    client: &ProviderClient,
    op: Operation,
    input: Object,
    duration: Option<f64>,
    options: &CallOptions,
) -> Result<JsValue, ClientError> {
    let mut fields = vec![
        ("model", JsValue::from_str(op.model())),
        ("task_type", JsValue::from_str(op.task_type())),
        ("input", input.into()),
    ];
    if let Some(seconds) = duration {
        fields.push(("duration", JsValue::from_f64(seconds)));
    }
    let answer = client.submit_json(op.spec(), &fields, options).await?;
    let data = envelope_data(&answer)?;
    let task_id = js::get(&data, "task_id");
    if task_id.as_string().is_none() {
        return Err(ClientError::upstream(
            "the provider's answer has no task_id",
        ));
    }
    let status = js::get(&data, "status")
        .as_string()
        .map_or(JsValue::UNDEFINED, |s| {
            JsValue::from_str(&s.to_ascii_lowercase())
        });
    let result = Object::new();
    js::set(&result, "taskId", &task_id);
    js::set(&result, "status", &status);
    Ok(result.into())
}

#[wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** PiAPI's faces index: face numbers from 0, as a list `[0, 1]` or as PiAPI's string `"0,1"`. */
export type FacesIndex = readonly number[] | string;
/** `PiApiClient.faceSwap`: replace the largest face of `targetImage` with the face of `swapImage` (URLs ending in .jpg, .jpeg, .png or .webp, base64, or Blobs; at most 2048 x 2048, a Blob checked from its header before anything is sent). */
export interface PiApiFaceSwapRequest { targetImage: ImageInput; swapImage: ImageInput; }
/** `PiApiClient.multiFaceSwap`: the faces of `targetImage` at `targetFacesIndex` become the faces of `swapImage` at `swapFacesIndex`, pairwise. */
export interface PiApiMultiFaceSwapRequest { targetImage: ImageInput; swapImage: ImageInput; swapFacesIndex: FacesIndex; targetFacesIndex: FacesIndex; }
/** `PiApiClient.videoFaceSwap`: put `swapImage` onto the faces of an MP4 video; the two indexes together or not at all; `duration` (seconds) prices the task and is not sent to PiAPI: the proxy reads the length of a Blob it stored, and a video at any other URL must declare it. */
export type PiApiVideoFaceSwapRequest = { targetVideo: VideoInput; swapImage: ImageInput; duration?: number; } &
  ({ swapFacesIndex: FacesIndex; targetFacesIndex: FacesIndex; } | { swapFacesIndex?: undefined; targetFacesIndex?: undefined; });
/** A task PiAPI started: its id and PiAPI's status word, lower case (`pending`, `processing`, ...). */
export interface PiApiTaskCreated { taskId: string; status: string; }
export interface ProviderClients { piapi: PiApiClient; }
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blobs_stand_in_passes_piapis_rules_for_its_kind_only() {
        use faceswap_core::piapi::{check_image, check_video};
        let image = file_stand_in("target_image.png");
        assert!(check_image("input.target_image", &image).is_ok());
        assert!(check_image("input.target_image", &file_stand_in("target_image")).is_err());
        assert!(check_video("input.target_video", &file_stand_in("target_video.mp4")).is_ok());
        assert!(check_video("input.target_video", &file_stand_in("target_video.webm")).is_err());
    }
}
