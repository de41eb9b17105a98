//! `AiPhotoCraftClient`, AIPhotoCraft's class: `basicSwap`, `coupleSwap`, `swap1From2` and
//! `swapFaceSameImage` (each on `/api/aiphotocraft/faceswap/{operation}`), plus `upload` and
//! `waitForResult`, over the shared [`ProviderClient`].
//!
//! AIPhotoCraft takes image files, so every operation is a multipart form like the provider's
//! own: a Blob is a file part; a URL string is a text part under the file's field name, which
//! the proxy fetches (from its own uploads, or an origin its operator allowed). A file field's
//! provider name is its JS name lower-cased (`targetImage1` is `targetimage1`).

use alloc::{borrow::ToOwned, boxed::Box, string::String, vec::Vec};

use faceswap_core::aiphotocraft::{Operation, Request, CATALOG};
use faceswap_core::provider::form::file_stand_in;
use faceswap_core::provider::{Catalog, OperationSpec, ProviderOperation};
use js_sys::Array;
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
use web_sys::FormData;

use crate::drive::Pending;
use crate::error::{camel_case_path, ClientError};
use crate::js;
use crate::media::{append_to_form, check_blob, source_value, Kind, Source};
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
            .find(|op| core::ptr::eq(op.spec(), operation))
            .ok_or_else(|| ClientError::internal("AIPhotoCraft has no such operation"))?;
        submit_operation(&client, op, &request, &options).await
    })
}

/// One operation: reads every field (a Blob checked by its magic bytes and standing in as
/// `file_stand_in`), checks the request with faceswap-core's `Request::from_texts` (the rule the
/// proxy reads the form with) before anything is sent, then POSTs the multipart form (each text
/// field the caller gave in its normal form) and resolves `{ taskId }`.
pub(crate) async fn submit_operation(
    client: &ProviderClient,
    op: Operation,
    request: &JsValue,
    options: &JsValue,
) -> Result<JsValue, ClientError> {
    let spec = op.spec();
    let request = js::request_object(request, spec.js_name)?;
    let options = CallOptions::read(options)?;
    let mut files = Vec::with_capacity(op.file_fields().len());
    let mut texts: Vec<(&str, String)> = Vec::new();
    for &wire in op.file_fields() {
        let field = camel_case_path(wire);
        let value = js::get(&request, &field);
        if js::is_absent(&value) {
            continue;
        }
        let source = source_value(value, &field)?;
        let media = match &source {
            Source::Blob(blob) => {
                let media = check_blob(blob, Kind::Image, &field).await?;
                texts.push((wire, file_stand_in(wire)));
                Some(media)
            }
            Source::Url(url) => {
                texts.push((wire, url.clone()));
                None
            }
        };
        files.push((wire, source, media));
    }
    for &wire in op.text_fields() {
        let field = camel_case_path(wire);
        let value = js::get(&request, &field);
        if !js::is_absent(&value) {
            texts.push((wire, text_value(&value, &field)?));
        }
    }
    let checked = Request::from_texts(op, |field| {
        Ok(texts
            .iter()
            .find(|(wire, _)| *wire == field)
            .map(|(_, text)| text.as_str()))
    })
    .map_err(ClientError::invalid)?;

    let form = FormData::new().map_err(|_| ClientError::network("FormData unavailable"))?;
    for (wire, source, media) in &files {
        append_to_form(&form, wire, source, *media)?;
    }
    let given = |wire: &str| texts.iter().any(|(name, _)| *name == wire);
    let mut normal = Vec::with_capacity(2);
    if let (Some(swap_index), true) = (&checked.swap_index, given("swap_index")) {
        normal.push(("swap_index", swap_index.as_str().to_owned()));
    }
    if let (Some(enhance), true) = (checked.enhance, given("enhance")) {
        normal.push(("enhance", faceswap_core::text!(enhance)));
    }
    for (wire, text) in normal {
        append_to_form(&form, wire, &Source::Url(text), None)?;
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
        return Ok(faceswap_core::text!(on));
    }
    match value.dyn_ref::<Array>() {
        Some(list) => Ok(String::from(list.join(","))),
        None => Err(ClientError::invalid_field(
            field,
            faceswap_core::text!(
                field,
                " must be a boolean, a string or a list of face numbers"
            ),
        )),
    }
}

#[wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** `AiPhotoCraftClient.basicSwap`: the face of `srcImage` onto the face of `targetImage` (one face each); `enhance` restores the face with GFPGAN. */
export interface BasicSwapRequest { srcImage: ImageInput; targetImage: ImageInput; enhance?: boolean | 'true' | 'false'; }
/** A couple swap's `swap_index`, sent as written: two different whole numbers from 0 to 2, a pair or the string `"a,b"` (the provider's example: `"0,1"`). */
export type SwapIndex = readonly [number, number] | string;
/** `AiPhotoCraftClient.coupleSwap`: the two faces of `srcImage` onto the two faces of `targetImage`; `swapIndex` and `enhance` are optional and sent only when given. */
export interface CoupleSwapRequest { srcImage: ImageInput; targetImage: ImageInput; swapIndex?: SwapIndex; enhance?: boolean | 'true' | 'false'; }
/** `AiPhotoCraftClient.swap1From2`: the faces of `targetImage1` and `targetImage2` (one each) onto the two faces of `srcImage`. */
export interface Swap1From2Request { srcImage: ImageInput; targetImage1: ImageInput; targetImage2: ImageInput; }
/** `AiPhotoCraftClient.swapFaceSameImage`: the two faces of `srcImage` exchanged. */
export interface SwapFaceSameImageRequest { srcImage: ImageInput; }
export interface ProviderClients { aiphotocraft: AiPhotoCraftClient; }
"#;
