//! `AceDataClient`, AceData's class: `faceSwap` (on `/api/acedata/face/swap`), plus `upload`
//! and `waitForResult`, over the shared [`ProviderClient`].
//!
//! AceData takes image URLs: a Blob is uploaded through the proxy first, after the request has
//! been checked. The proxy sets the callback URL; when AceData answers with the image at once,
//! the task is already succeeded and `waitForResult` resolves on its first event.

use faceswap_core::acedata::{check_timeout_number, OPERATIONS, PROVIDER};
use faceswap_core::url::check_http_url;
use js_sys::Promise;
use wasm_bindgen::prelude::*;

use crate::error::ClientError;
use crate::js::{self, run};
use crate::media::{check_blob, resolve_url, source_field, Kind, Source};
use crate::provider_client::{task_created, CallOptions, ProviderClient};

/// A client of `faceswap-proxy` for AceData's face swap. It never holds the provider's key: the
/// proxy does.
#[wasm_bindgen]
pub struct AceDataClient {
    core: ProviderClient,
}

#[wasm_bindgen]
impl AceDataClient {
    /// A client for the proxy at `options.baseUrl` (default `"/api"`), with `options.timeoutMs`
    /// (default 60000) as the time limit of each call. AceData may answer a swap only when the
    /// image is made (one to two minutes) when its proxy cannot be called back: give such a
    /// proxy's client a `timeoutMs` of a few minutes.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_optional_param_type = "FaceSwapClientOptions")] options: JsValue,
    ) -> Result<AceDataClient, JsValue> {
        Ok(Self {
            core: ProviderClient::from_options(PROVIDER.id, &options)?,
        })
    }

    /// Puts the face of `sourceImageUrl` onto the picture `targetImageUrl` (each a URL, or a
    /// Blob, which is uploaded first); `timeout` (seconds) is AceData's own time limit.
    /// Resolves `{ taskId }`; follow the task with `waitForResult`.
    #[wasm_bindgen(js_name = faceSwap, unchecked_return_type = "Promise<ProviderTaskCreated>")]
    pub fn face_swap(
        &self,
        #[wasm_bindgen(unchecked_param_type = "AceDataFaceSwapRequest")] request: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: JsValue,
    ) -> Promise {
        self.call(Call::FaceSwap, request, options)
    }

    /// Follows a task until it ends (`/acedata/tasks/{id}/events` under the base URL). Resolves
    /// the task when it succeeded (`resultUrl` is the image); rejects with `code: "task_failed"`
    /// or `"timeout"` (the task attached as `task`), `"aborted"` when `signal` fires.
    /// `onStatus` is called on each status change.
    #[wasm_bindgen(js_name = waitForResult, unchecked_return_type = "Promise<Task>")]
    pub fn wait_for_result(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] task_id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "WaitOptions")] options: JsValue,
    ) -> Promise {
        self.call(Call::WaitForResult, task_id, options)
    }

    /// Stores a file on the proxy; resolves `{ url, size, contentType }` with a URL the
    /// provider can fetch.
    #[wasm_bindgen(unchecked_return_type = "Promise<Uploaded>")]
    pub fn upload(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Blob")] file: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: JsValue,
    ) -> Promise {
        self.call(Call::Upload, file, options)
    }
}

/// The calls of [`AceDataClient`], started by one future (as in the other classes).
#[derive(Clone, Copy)]
enum Call {
    FaceSwap,
    WaitForResult,
    Upload,
}

impl AceDataClient {
    fn call(&self, call: Call, a: JsValue, b: JsValue) -> Promise {
        let client = self.core.clone();
        run(Box::pin(async move {
            match call {
                Call::FaceSwap => face_swap(&client, &a, &b).await,
                Call::WaitForResult => client.wait_for_result(&a, &b).await,
                Call::Upload => client.upload_call(a, &b).await,
            }
        }))
    }
}

/// The two images of a face swap: (JS field, provider field).
const IMAGES: [(&str, &str); 2] = [
    ("sourceImageUrl", "source_image_url"),
    ("targetImageUrl", "target_image_url"),
];

/// `faceSwap`: checks both images (a Blob by its magic bytes, a URL by the URL rule) and
/// `timeout` before anything is sent, uploads Blobs, then POSTs AceData's body.
pub(crate) async fn face_swap(
    client: &ProviderClient,
    request: &JsValue,
    options: &JsValue,
) -> Result<JsValue, ClientError> {
    let spec = &OPERATIONS[0];
    let request = js::request_object(request, spec.js_name)?;
    let options = CallOptions::read(options)?;
    // `timeout` first: a bad one is refused before any image is read or uploaded.
    let timeout = timeout_field(&request)?;
    let mut sources = Vec::with_capacity(IMAGES.len());
    for (field, wire) in IMAGES {
        let source = source_field(&request, field)?;
        match &source {
            Source::Blob(blob) => {
                check_blob(blob, Kind::Image, field).await?;
            }
            Source::Url(url) => check_http_url(wire, url).map_err(ClientError::invalid)?,
        }
        sources.push(source);
    }
    let mut fields = Vec::with_capacity(3);
    for ((_, wire), source) in IMAGES.iter().zip(&sources) {
        let url = resolve_url(client, source, options.signal.as_ref()).await?;
        fields.push((*wire, JsValue::from_str(&url)));
    }
    if let Some(seconds) = timeout {
        fields.push(("timeout", JsValue::from_f64(seconds as f64)));
    }
    let answer = client.submit_json(spec, &fields, &options).await?;
    task_created(&answer)
}

/// `timeout`, checked by faceswap-core's rule (whole seconds within the proxy's own bound).
fn timeout_field(request: &JsValue) -> Result<Option<u64>, ClientError> {
    let value = js::get(request, "timeout");
    if js::is_absent(&value) {
        return Ok(None);
    }
    check_timeout_number(value.as_f64().unwrap_or(f64::NAN))
        .map(Some)
        .map_err(ClientError::invalid)
}
