//! `AiPhotoCraftClient`, AIPhotoCraft's class: `basicSwap`, `coupleSwap`, `swap1From2` and
//! `swapFaceSameImage` (each on `/api/aiphotocraft/faceswap/{operation}`), plus `upload` and
//! `waitForResult`, over the shared [`ProviderClient`].
//!
//! AIPhotoCraft takes image files, so every operation is a multipart form like the provider's
//! own: a Blob is a file part; a URL string is a text part under the file's field name, which
//! the proxy fetches (from its own uploads, or an origin its operator allowed). A file field's
//! provider name is its JS name lower-cased (`targetImage1` is `targetimage1`).

use faceswap_core::aiphotocraft::{check_enhance, check_swap_index, Operation, CATALOG};
use faceswap_core::provider::{Catalog, OperationSpec, ProviderOperation};
use faceswap_core::url::check_http_url;
use js_sys::Array;
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
use web_sys::FormData;

use crate::error::{camel_case_path, ClientError};
use crate::js::{self, Pending};
use crate::media::{append_to_form, check_blob, source_field, Kind, Source};
use crate::provider_client::{task_created, CallOptions, ProviderClient};

crate::client_class! {
    /// A client of `faceswap-proxy` for AIPhotoCraft's face swaps. It never holds the
    /// provider's key: the proxy does.
    AiPhotoCraftClient for CATALOG, run run_operation {
        /// Puts the face of `srcImage` onto the face of `targetImage` (one face each; a Blob, or
        /// a URL the proxy may fetch); `enhance` (`true`/`false`) restores the face with GFPGAN.
        /// Resolves `{ taskId }`; follow the task with `waitForResult`.
        basicSwap(basic_swap, "BasicSwapRequest") -> "Promise<ProviderTaskCreated>";
        /// Swaps the two faces of `srcImage` onto the two faces of `targetImage`. `swapIndex` is
        /// optional and sent only when given, as written: two different whole numbers from 0 to
        /// 2, as the string `"0,1"` (the provider's example) or the pair `[0, 1]`; anything else
        /// is refused before anything is sent. `enhance` is sent only when given.
        coupleSwap(couple_swap, "CoupleSwapRequest") -> "Promise<ProviderTaskCreated>";
        /// Puts the faces of `targetImage1` and `targetImage2` (one face each) onto the two
        /// faces of `srcImage`, left to right.
        swap1From2(swap_1_from_2, "Swap1From2Request") -> "Promise<ProviderTaskCreated>";
        /// Exchanges the two faces of `srcImage` with each other.
        swapFaceSameImage(swap_face_same_image, "SwapFaceSameImageRequest") -> "Promise<ProviderTaskCreated>";
    }
}

/// Runs `operation` of AIPhotoCraft (its [`crate::class::SubmitFn`]).
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
            .find(|op| std::ptr::eq(op.spec(), operation))
            .ok_or_else(|| ClientError::internal("AIPhotoCraft has no such operation"))?;
        submit_operation(&client, op, &request, &options).await
    })
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

#[wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
const PROVIDER_CLIENT: &'static str = r#"
export interface ProviderClients { aiphotocraft: AiPhotoCraftClient; }
"#;
