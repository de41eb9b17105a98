//! What aifaceswap's operations share: submitting through the [`ProviderClient`] and unwrapping
//! aifaceswap's envelope `{"code":200,"data":{...}}` ([`envelope_data`]).

use faceswap_core::aifaceswap::Operation;
use js_sys::Object;
use wasm_bindgen::JsValue;
use web_sys::FormData;

use crate::error::ClientError;
use crate::js;
pub use crate::provider_client::CallOptions;
use crate::provider_client::{envelope_data, ProviderClient};

/// POSTs a JSON body of `(field, value)` pairs to `op` and returns the envelope's `data`.
pub async fn submit_json(
    client: &ProviderClient,
    op: Operation,
    fields: &[(&str, JsValue)],
    options: &CallOptions,
) -> Result<JsValue, ClientError> {
    envelope_data(&client.submit_json(op.spec(), fields, options).await?)
}

/// POSTs a multipart form to `op` and returns the envelope's `data`.
pub async fn submit_form(
    client: &ProviderClient,
    op: Operation,
    form: FormData,
    options: &CallOptions,
) -> Result<JsValue, ClientError> {
    envelope_data(&client.submit_form(op.spec(), form, options).await?)
}

/// `{ taskId, points }` from a task operation's `data`.
pub fn task_created(data: &JsValue) -> Result<JsValue, ClientError> {
    let task_id = js::get(data, "task_id");
    if task_id.as_string().is_none() {
        return Err(ClientError::upstream(
            "the provider's answer has no task_id",
        ));
    }
    let result = Object::new();
    js::set(&result, "taskId", &task_id);
    js::set(&result, "points", &js::get(data, "points"));
    Ok(result.into())
}

/// A JS array of strings.
pub fn string_array(items: &[String]) -> JsValue {
    items
        .iter()
        .map(|s| JsValue::from_str(s))
        .collect::<js_sys::Array>()
        .into()
}
