//! The provider's operations, one module per family, and what they share: submitting a body
//! with an Idempotency-Key and unwrapping the provider's envelope.

pub mod images;
pub mod videos;

use faceswap_core::aifaceswap::Operation;
use faceswap_core::provider::ProviderOperation;
use js_sys::{Object, JSON};
use wasm_bindgen::JsValue;

use crate::error::ClientError;
use crate::http::{envelope_data, Body, Call, Http};
use crate::js;

/// Per-call options: `{ signal?, idempotencyKey? }`.
pub struct CallOptions {
    /// The caller's abort signal.
    pub signal: Option<web_sys::AbortSignal>,
    /// The caller's key, or a fresh random one.
    pub idempotency_key: String,
}

impl CallOptions {
    /// Reads the options object (which may be undefined).
    pub fn read(options: &JsValue) -> Result<Self, ClientError> {
        let key = js::get(options, "idempotencyKey");
        let idempotency_key = if js::is_absent(&key) {
            js::random_key()
        } else {
            match key.as_string() {
                Some(key) if !key.is_empty() && key.len() <= 255 => key,
                _ => {
                    return Err(ClientError::invalid_field(
                        "idempotencyKey",
                        "idempotencyKey must be a non-empty string of at most 255 characters",
                    ))
                }
            }
        };
        Ok(Self {
            signal: js::signal_option(options),
            idempotency_key,
        })
    }
}

/// POSTs `body` to the proxy's route for `op` and returns the envelope's `data`.
pub async fn submit(
    http: &Http,
    op: Operation,
    body: Body,
    options: &CallOptions,
) -> Result<JsValue, ClientError> {
    let mut call = Call::post(format!("/aifaceswap/v1/{}", op.name()), body);
    call.signal = options.signal.as_ref();
    call.idempotency_key = Some(options.idempotency_key.clone());
    call.timeout_ms = Some(http.timeout_ms());
    let envelope = http.json(call).await?;
    envelope_data(&envelope)
}

/// A JSON body built from `(field, value)` pairs.
pub fn json_body(fields: &[(&str, JsValue)]) -> Body {
    let object = Object::new();
    for (name, value) in fields {
        js::set(&object, name, value);
    }
    let text = JSON::stringify(&object)
        .map(String::from)
        .unwrap_or_default();
    Body::Json(text)
}

/// `{ taskId, points }` from a task operation's `data`.
pub fn task_created(data: &JsValue) -> Result<JsValue, ClientError> {
    let task_id = js::get(data, "task_id");
    if task_id.as_string().is_none() {
        return Err(ClientError::new(
            "upstream_error",
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
