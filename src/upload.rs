//! `upload`: store a Blob on the proxy (`POST /api/uploads`) and get a URL the provider can fetch.

use alloc::borrow::ToOwned;
use js_sys::Object;
use wasm_bindgen::JsValue;
use web_sys::{AbortSignal, Blob};

use crate::error::ClientError;
use crate::http::{Body, Call, Http};
use crate::js;

/// Uploads `blob` as a raw body with its content type; resolves `{ url, size, contentType }`.
pub async fn upload_blob(
    http: &Http,
    blob: &Blob,
    signal: Option<&AbortSignal>,
) -> Result<JsValue, ClientError> {
    let mut call = Call::post("/uploads".to_owned(), Body::File(blob.clone()));
    call.signal = signal;
    call.timeout_ms = Some(http.timeout_ms());
    let answer = http.json(call).await?;
    let url = js::get(&answer, "url");
    if url.as_string().is_none() {
        return Err(ClientError::upstream("the upload answer has no url"));
    }
    let result = Object::new();
    js::set(&result, "url", &url);
    js::set(&result, "size", &js::get(&answer, "size"));
    js::set(&result, "contentType", &js::get(&answer, "content_type"));
    Ok(result.into())
}
