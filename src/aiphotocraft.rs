//! `AiPhotoCraftClient`, AIPhotoCraft's class: `basicSwap`, `coupleSwap`, `swap1From2` and
//! `swapFaceSameImage` (each on `/api/aiphotocraft/faceswap/{operation}`), plus `upload` and
//! `waitForResult`, over the shared [`ProviderClient`].
//!
//! AIPhotoCraft takes image files, so every operation is a multipart form like the provider's
//! own: a Blob is a file part; a URL string is a text part under the file's field name, which
//! the proxy fetches (from its own uploads, or an origin its operator allowed). A file field's
//! provider name is its JS name lower-cased (`targetImage1` is `targetimage1`).

use faceswap_core::aiphotocraft::{check_enhance, check_swap_index, Operation, PROVIDER};
use faceswap_core::url::check_http_url;
use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::FormData;

use crate::error::{camel_case_path, ClientError};
use crate::js::{self, run};
use crate::media::{append_to_form, check_blob, source_field, Kind, Source};
use crate::provider_client::{task_created, CallOptions, ProviderClient};

/// A client of `faceswap-proxy` for AIPhotoCraft's face swaps. It never holds the provider's
/// key: the proxy does.
#[wasm_bindgen]
pub struct AiPhotoCraftClient {
    core: ProviderClient,
}

#[wasm_bindgen]
impl AiPhotoCraftClient {
    /// A client for the proxy at `options.baseUrl` (default `"/api"`), with `options.timeoutMs`
    /// (default 60000) as the time limit of each call.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_optional_param_type = "FaceSwapClientOptions")] options: JsValue,
    ) -> Result<AiPhotoCraftClient, JsValue> {
        Ok(Self {
            core: ProviderClient::from_options(PROVIDER.id, &options)?,
        })
    }

    /// Puts the face of `srcImage` onto the face of `targetImage` (one face each; a Blob, or
    /// a URL the proxy may fetch); `enhance` (`true`/`false`) restores the face with GFPGAN.
    /// Resolves `{ taskId }`; follow the task with `waitForResult`.
    #[wasm_bindgen(js_name = basicSwap, unchecked_return_type = "Promise<ProviderTaskCreated>")]
    pub fn basic_swap(
        &self,
        #[wasm_bindgen(unchecked_param_type = "BasicSwapRequest")] request: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: JsValue,
    ) -> Promise {
        self.call(Call::Submit(Operation::BasicSwap), request, options)
    }

    /// Swaps the two faces of `srcImage` onto the two faces of `targetImage`. `swapIndex` is
    /// optional and sent only when given, as written: two different whole numbers from 0 to 2,
    /// as the string `"0,1"` (the provider's example) or the pair `[0, 1]`; anything else is
    /// refused before anything is sent. `enhance` is sent only when given.
    #[wasm_bindgen(js_name = coupleSwap, unchecked_return_type = "Promise<ProviderTaskCreated>")]
    pub fn couple_swap(
        &self,
        #[wasm_bindgen(unchecked_param_type = "CoupleSwapRequest")] request: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: JsValue,
    ) -> Promise {
        self.call(Call::Submit(Operation::CoupleSwap), request, options)
    }

    /// Puts the faces of `targetImage1` and `targetImage2` (one face each) onto the two faces
    /// of `srcImage`, left to right.
    #[wasm_bindgen(js_name = swap1From2, unchecked_return_type = "Promise<ProviderTaskCreated>")]
    pub fn swap_1_from_2(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Swap1From2Request")] request: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: JsValue,
    ) -> Promise {
        self.call(Call::Submit(Operation::Swap1From2), request, options)
    }

    /// Exchanges the two faces of `srcImage` with each other.
    #[wasm_bindgen(js_name = swapFaceSameImage, unchecked_return_type = "Promise<ProviderTaskCreated>")]
    pub fn swap_face_same_image(
        &self,
        #[wasm_bindgen(unchecked_param_type = "SwapFaceSameImageRequest")] request: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: JsValue,
    ) -> Promise {
        self.call(Call::Submit(Operation::SwapFaceSameImage), request, options)
    }

    /// Follows a task until it ends (`/aiphotocraft/tasks/{id}/events` under the base URL; the
    /// proxy polls AIPhotoCraft for it). Resolves the task when it succeeded (`resultUrl` is the
    /// image); rejects with `code: "task_failed"` or `"timeout"` (the task attached as `task`),
    /// `"aborted"` when `signal` fires. `onStatus` is called on each status change.
    #[wasm_bindgen(js_name = waitForResult, unchecked_return_type = "Promise<Task>")]
    pub fn wait_for_result(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] task_id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "WaitOptions")] options: JsValue,
    ) -> Promise {
        self.call(Call::WaitForResult, task_id, options)
    }

    /// Stores a file on the proxy; resolves `{ url, size, contentType }` with a URL the proxy
    /// can send on as a file.
    #[wasm_bindgen(unchecked_return_type = "Promise<Uploaded>")]
    pub fn upload(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Blob")] file: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: JsValue,
    ) -> Promise {
        self.call(Call::Upload, file, options)
    }
}

/// The calls of [`AiPhotoCraftClient`], started by one future (as in the other classes).
#[derive(Clone, Copy)]
enum Call {
    Submit(Operation),
    WaitForResult,
    Upload,
}

impl AiPhotoCraftClient {
    fn call(&self, call: Call, a: JsValue, b: JsValue) -> Promise {
        let client = self.core.clone();
        run(Box::pin(async move {
            match call {
                Call::Submit(op) => submit_operation(&client, op, &a, &b).await,
                Call::WaitForResult => client.wait_for_result(&a, &b).await,
                Call::Upload => client.upload_call(a, &b).await,
            }
        }))
    }
}

/// One operation: reads and checks every field before anything is sent (a Blob by its magic
/// bytes, a URL by the URL rule, `enhance` and `swapIndex` by faceswap-core's rules), then
/// POSTs the multipart form and resolves `{ taskId }`.
pub(crate) async fn submit_operation(
    client: &ProviderClient,
    op: Operation,
    request: &JsValue,
    options: &JsValue,
) -> Result<JsValue, ClientError> {
    let spec = op.spec();
    let request = js::request_object(request, spec.js_name)?;
    let options = CallOptions::read(options)?;
    let form = FormData::new().map_err(|_| ClientError::network("FormData unavailable"))?;
    for wire in op.file_fields() {
        let field = camel_case_path(wire);
        let source = source_field(&request, &field)?;
        let media = match &source {
            Source::Blob(blob) => Some(check_blob(blob, Kind::Image, &field).await?),
            Source::Url(url) => {
                check_http_url(wire, url).map_err(ClientError::invalid)?;
                None
            }
        };
        append_to_form(&form, wire, &source, media)?;
    }
    for wire in op.text_fields() {
        let field = camel_case_path(wire);
        let value = js::get(&request, &field);
        if js::is_absent(&value) {
            continue;
        }
        let text = text_value(&value, &field)?;
        let checked = match *wire {
            "enhance" => check_enhance(&text).map(|on| on.to_string()),
            _ => check_swap_index(&text).map(|order| order.as_str().to_owned()),
        };
        let checked = checked.map_err(ClientError::invalid)?;
        form.append_with_str(wire, &checked).map_err(|_| {
            ClientError::invalid_field(&field, format!("{field} cannot be added to the form"))
        })?;
    }
    let answer = client.submit_form(spec, form, &options).await?;
    task_created(&answer)
}

/// A text field's value as the provider's string: `enhance` may be a boolean, `swapIndex` a
/// pair of face numbers (`[0, 1]` is `"0,1"`).
fn text_value(value: &JsValue, field: &str) -> Result<String, ClientError> {
    if let Some(text) = value.as_string() {
        return Ok(text);
    }
    if let Some(on) = value.as_bool() {
        return Ok(on.to_string());
    }
    match value.dyn_ref::<Array>() {
        Some(list) => Ok(String::from(list.join(","))),
        None => Err(ClientError::invalid_field(
            field,
            format!("{field} must be a boolean, a string or a list of face numbers"),
        )),
    }
}
