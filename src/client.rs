//! `FaceSwapClient`, aifaceswap's class: one async method per operation, plus `upload`,
//! `waitForResult` and `buildRefInfo`, all through the proxy at `baseUrl`. What every provider's
//! class shares (options, submits, uploads, waits) is the [`ProviderClient`] it holds.

use faceswap_core::aifaceswap::PROVIDER;
use js_sys::Promise;
use wasm_bindgen::prelude::*;

use crate::js::run;
use crate::ops::{images, videos};
use crate::provider_client::ProviderClient;
use crate::refinfo::build_ref_info;

/// A client of `faceswap-proxy` for aifaceswap. It never holds the provider's key: the proxy
/// does.
#[wasm_bindgen]
pub struct FaceSwapClient {
    core: ProviderClient,
}

#[wasm_bindgen]
impl FaceSwapClient {
    /// A client for the proxy at `options.baseUrl` (default `"/api"`), with `options.timeoutMs`
    /// (default 60000) as the time limit of each call.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_optional_param_type = "FaceSwapClientOptions")] options: JsValue,
    ) -> Result<FaceSwapClient, JsValue> {
        Ok(Self {
            core: ProviderClient::from_options(PROVIDER.id, &options)?,
        })
    }

    /// Swaps the face of `faceImage` onto `sourceImage` (URLs, or Blobs sent as files).
    /// Resolves `{ taskId, points }`; follow the task with `waitForResult`.
    #[wasm_bindgen(js_name = faceSwap, unchecked_return_type = "Promise<TaskCreated>")]
    pub fn face_swap(
        &self,
        #[wasm_bindgen(unchecked_param_type = "FaceSwapRequest")] request: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: JsValue,
    ) -> Promise {
        self.call(Call::FaceSwap, request, options, JsValue::UNDEFINED)
    }

    /// Finds the faces of `img` (a URL, or a Blob sent as a file). Resolves `{ faces, points }`
    /// with boxes `[x1, y1, x2, y2]`, left to right.
    #[wasm_bindgen(js_name = extractFace, unchecked_return_type = "Promise<ExtractedFaces>")]
    pub fn extract_face(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ExtractFaceRequest")] request: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: JsValue,
    ) -> Promise {
        self.call(Call::ExtractFace, request, options, JsValue::UNDEFINED)
    }

    /// Replaces the faces of `sourceImage` at `index` (from `extractFace`) with `faceImage`,
    /// one new face per index. Blobs are uploaded first. Resolves `{ taskId, points }`.
    #[wasm_bindgen(js_name = multiFaceSwap, unchecked_return_type = "Promise<TaskCreated>")]
    pub fn multi_face_swap(
        &self,
        #[wasm_bindgen(unchecked_param_type = "MultiFaceSwapRequest")] request: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: JsValue,
    ) -> Promise {
        self.call(Call::MultiFaceSwap, request, options, JsValue::UNDEFINED)
    }

    /// Puts `faceImage` onto the faces of `sourceVideo` (`duration` in seconds decides the price;
    /// `enhance` 0, 1 or 2). Blobs are uploaded first. Resolves `{ taskId, points }`.
    #[wasm_bindgen(js_name = videoFaceSwap, unchecked_return_type = "Promise<TaskCreated>")]
    pub fn video_face_swap(
        &self,
        #[wasm_bindgen(unchecked_param_type = "VideoFaceSwapRequest")] request: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: JsValue,
    ) -> Promise {
        self.call(Call::VideoFaceSwap, request, options, JsValue::UNDEFINED)
    }

    /// Finds the faces of a base64 image (plain, or with a `data:` prefix). Resolves `{ pos }`.
    #[wasm_bindgen(js_name = extractBase64Face, unchecked_return_type = "Promise<ExtractedBase64Faces>")]
    pub fn extract_base64_face(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ExtractBase64FaceRequest")] request: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: JsValue,
    ) -> Promise {
        self.call(
            Call::ExtractBase64Face,
            request,
            options,
            JsValue::UNDEFINED,
        )
    }

    /// Replaces up to three faces of `sourceVideo`: each `refInfo` entry pairs a base64 crop of a
    /// face in the video (`faceRef`) with the new face (`faceUrl`). Resolves `{ taskId, points }`.
    #[wasm_bindgen(js_name = multiVideoFaceSwap, unchecked_return_type = "Promise<TaskCreated>")]
    pub fn multi_video_face_swap(
        &self,
        #[wasm_bindgen(unchecked_param_type = "MultiVideoFaceSwapRequest")] request: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: JsValue,
    ) -> Promise {
        self.call(
            Call::MultiVideoFaceSwap,
            request,
            options,
            JsValue::UNDEFINED,
        )
    }

    /// Follows a task until it ends (`/aifaceswap/tasks/{id}/events` under the base URL).
    /// Resolves the task when it succeeded; rejects with
    /// `code: "task_failed"` or `"timeout"` (the task attached as `task`), `"aborted"` when
    /// `signal` fires. `onStatus` is called on each status change.
    #[wasm_bindgen(js_name = waitForResult, unchecked_return_type = "Promise<Task>")]
    pub fn wait_for_result(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] task_id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "WaitOptions")] options: JsValue,
    ) -> Promise {
        self.call(Call::WaitForResult, task_id, options, JsValue::UNDEFINED)
    }

    /// Pairs face crops (from `cropFaces`, in the order of the faces in the video) with the new
    /// faces (URLs, or Blobs which are uploaded) into the `refInfo` of `multiVideoFaceSwap`.
    /// Refuses more than three pairs, or lists of different lengths.
    #[wasm_bindgen(js_name = buildRefInfo, unchecked_return_type = "Promise<RefInfo[]>")]
    pub fn build_ref_info(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string[]")] crops: JsValue,
        #[wasm_bindgen(unchecked_param_type = "ImageInput[]")] faces: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: JsValue,
    ) -> Promise {
        self.call(Call::BuildRefInfo, crops, faces, options)
    }

    /// Stores a file on the proxy; resolves `{ url, size, contentType }` with a URL the provider
    /// can fetch.
    #[wasm_bindgen(unchecked_return_type = "Promise<Uploaded>")]
    pub fn upload(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Blob")] file: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: JsValue,
    ) -> Promise {
        self.call(Call::Upload, file, options, JsValue::UNDEFINED)
    }
}

/// The calls of [`FaceSwapClient`]. Every method starts one and the same future, which matches on
/// the call: one state machine, drop glue and promise shim for all nine methods instead of one
/// each, which keeps the wasm smaller (about 900 bytes gzipped).
#[derive(Clone, Copy)]
enum Call {
    FaceSwap,
    ExtractFace,
    MultiFaceSwap,
    VideoFaceSwap,
    ExtractBase64Face,
    MultiVideoFaceSwap,
    WaitForResult,
    BuildRefInfo,
    Upload,
}

impl FaceSwapClient {
    /// Starts `call` with its arguments in order (`request, options` for the operations, unused
    /// ones undefined).
    fn call(&self, call: Call, a: JsValue, b: JsValue, c: JsValue) -> Promise {
        let client = self.core.clone();
        run(Box::pin(async move {
            match call {
                Call::FaceSwap => images::face_swap(&client, &a, &b).await,
                Call::ExtractFace => images::extract_face(&client, &a, &b).await,
                Call::MultiFaceSwap => images::multi_face_swap(&client, &a, &b).await,
                Call::VideoFaceSwap => videos::video_face_swap(&client, &a, &b).await,
                Call::ExtractBase64Face => images::extract_base64_face(&client, &a, &b).await,
                Call::MultiVideoFaceSwap => videos::multi_video_face_swap(&client, &a, &b).await,
                Call::WaitForResult => client.wait_for_result(&a, &b).await,
                Call::BuildRefInfo => build_ref_info(&client, &a, &b, &c).await,
                Call::Upload => client.upload_call(a, &b).await,
            }
        }))
    }
}
