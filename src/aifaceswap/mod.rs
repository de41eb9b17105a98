//! aifaceswap in the browser library: `FaceSwapClient`, one async method per operation (each
//! read and validated into a plan by [`operations`], every plan sent by [`plan::send`]), plus
//! `upload`, `waitForResult` and `buildRefInfo` (whose code, `crate::refinfo`, is in the media
//! helpers' module and loads with them), and `estimateCredits` ([`credits`]).

use alloc::boxed::Box;

pub mod credits;
pub mod operations;
pub mod plan;

use faceswap_core::aifaceswap::{Operation, CATALOG};
use faceswap_core::provider::{Catalog, OperationSpec, ProviderOperation};
use js_sys::Promise;
use wasm_bindgen::prelude::*;

use crate::drive::Pending;
use crate::error::ClientError;
use crate::js;
use crate::provider_client::{CallOptions, ProviderClient};

crate::client_class! {
    /// A client of `faceswap-proxy` for aifaceswap. It never holds the provider's key: the proxy
    /// does.
    FaceSwapClient for CATALOG, run run_operation {
        /// Swaps the face of `faceImage` onto `sourceImage` (URLs, or Blobs sent as files).
        /// Resolves `{ taskId, points }`; follow the task with `waitForResult`.
        faceSwap(face_swap, "FaceSwapRequest") -> "Promise<TaskCreated>";
        /// Finds the faces of `img` (a URL, or a Blob sent as a file). Resolves
        /// `{ faces, points }` with boxes `[x1, y1, x2, y2]`, left to right.
        extractFace(extract_face, "ExtractFaceRequest") -> "Promise<ExtractedFaces>";
        /// Replaces the faces of `sourceImage` at `index` (from `extractFace`) with `faceImage`,
        /// one new face per index. Blobs are uploaded first. Resolves `{ taskId, points }`.
        multiFaceSwap(multi_face_swap, "MultiFaceSwapRequest") -> "Promise<TaskCreated>";
        /// Puts `faceImage` onto the faces of `sourceVideo` (`duration` in seconds decides the
        /// price; `enhance` 0, 1 or 2). Blobs are uploaded first. Resolves `{ taskId, points }`.
        videoFaceSwap(video_face_swap, "VideoFaceSwapRequest") -> "Promise<TaskCreated>";
        /// Finds the faces of a base64 image (plain, or with a `data:` prefix). Resolves
        /// `{ pos }`.
        extractBase64Face(extract_base64_face, "ExtractBase64FaceRequest") -> "Promise<ExtractedBase64Faces>";
        /// Replaces up to three faces of `sourceVideo`: each `refInfo` entry pairs a base64 crop
        /// of a face in the video (`faceRef`) with the new face (`faceUrl`). Resolves
        /// `{ taskId, points }`.
        multiVideoFaceSwap(multi_video_face_swap, "MultiVideoFaceSwapRequest") -> "Promise<TaskCreated>";
    }
}

#[wasm_bindgen(module = "/src/browser.js")]
extern "C" {
    /// `buildRefInfo` of the media helpers' module, loaded on the first call.
    #[wasm_bindgen(js_name = buildRefInfo)]
    fn load_and_build_ref_info(
        client: &JsValue,
        crops: &JsValue,
        faces: &JsValue,
        options: &JsValue,
    ) -> Promise;
}

#[wasm_bindgen]
impl FaceSwapClient {
    /// Pairs face crops (from `cropFaces`, in the order of the faces in the video) with the new
    /// faces (URLs, or Blobs which are uploaded) into the `refInfo` of `multiVideoFaceSwap`.
    /// Refuses more than three pairs, or lists of different lengths. Its code loads with
    /// `captureFrame` and `cropFaces`'s, on the first call of any of them.
    #[wasm_bindgen(js_name = buildRefInfo, unchecked_return_type = "Promise<RefInfo[]>")]
    pub fn build_ref_info(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string[]")] crops: JsValue,
        #[wasm_bindgen(unchecked_param_type = "ImageInput[]")] faces: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: JsValue,
    ) -> Promise {
        load_and_build_ref_info(&self.core.options(), &crops, &faces, &options)
    }
}

/// Runs `operation` of aifaceswap (its [`crate::class::SubmitFn`]): reads the request into a
/// plan, synchronously, then sends it with the one async [`plan::send`].
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
            .ok_or_else(|| ClientError::internal("aifaceswap has no such operation"))?;
        let request = js::request_object(&request, operation.js_name)?;
        let options = CallOptions::read(&options)?;
        let plan = operations::read(op, &request)?;
        plan::send(&client, plan, &options).await
    })
}

#[wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
export interface ProviderClients { aifaceswap: FaceSwapClient; }
"#;
