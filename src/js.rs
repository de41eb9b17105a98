//! Small helpers around JavaScript values: globals that exist in windows and workers alike,
//! reading the fields of a request object, and building plain result objects.

use alloc::string::String;
use js_sys::{Array, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::error::ClientError;

#[wasm_bindgen]
extern "C" {
    /// The global `fetch` of a URL string.
    #[wasm_bindgen(js_name = fetch)]
    pub fn global_fetch_url(url: &str) -> Promise;

    /// The global `setTimeout`.
    #[cfg(feature = "media")]
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &js_sys::Function, ms: f64) -> JsValue;
}

/// Calls `handler` after `ms` milliseconds.
#[cfg(feature = "media")]
pub fn set_timeout_call(handler: &js_sys::Function, ms: f64) -> JsValue {
    set_timeout(handler, ms)
}

/// The property `name` of `object` (undefined when absent or when `object` is not an object).
pub fn get(object: &JsValue, name: &str) -> JsValue {
    if !object.is_object() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(object, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// True when `value` is `undefined` or `null`.
pub fn is_absent(value: &JsValue) -> bool {
    value.is_undefined() || value.is_null()
}

/// Sets `object[name] = value`; setting on a fresh plain object cannot fail.
pub fn set(object: &Object, name: &str, value: &JsValue) {
    let _ = Reflect::set(object, &JsValue::from_str(name), value);
}

/// The request object of a call, which must be a plain object.
pub fn request_object(value: &JsValue, what: &str) -> Result<JsValue, ClientError> {
    if value.is_object() && !value.is_instance_of::<Array>() {
        Ok(value.clone())
    } else {
        Err(ClientError::invalid_field(
            "request",
            faceswap_core::text!(
                what,
                " expects a request object such as { sourceImage, faceImage }"
            ),
        ))
    }
}

/// The field `name` of `object`, which must be present (not undefined or null).
pub fn required(object: &JsValue, name: &str) -> Result<JsValue, ClientError> {
    let value = get(object, name);
    if is_absent(&value) {
        return Err(ClientError::invalid_field(
            name,
            faceswap_core::text!(name, " is required"),
        ));
    }
    Ok(value)
}

/// A required string field.
pub fn string_field(object: &JsValue, name: &str) -> Result<String, ClientError> {
    let value = required(object, name)?;
    value.as_string().ok_or_else(|| {
        ClientError::invalid_field(name, faceswap_core::text!(name, " must be a string"))
    })
}

/// A required finite number.
pub fn number_field(object: &JsValue, name: &str) -> Result<f64, ClientError> {
    let value = required(object, name)?;
    value.as_f64().ok_or_else(|| {
        ClientError::invalid_field(name, faceswap_core::text!(name, " must be a number"))
    })
}

/// An optional number; anything else than a number is an error naming the field.
pub fn optional_number(object: &JsValue, name: &str) -> Result<Option<f64>, ClientError> {
    let value = get(object, name);
    if is_absent(&value) {
        return Ok(None);
    }
    value.as_f64().map(Some).ok_or_else(|| {
        ClientError::invalid_field(name, faceswap_core::text!(name, " must be a number"))
    })
}

/// An optional integer (`enhance`); a non-integer is an error naming the field.
pub fn optional_integer(object: &JsValue, name: &str) -> Result<Option<i64>, ClientError> {
    let value = get(object, name);
    if is_absent(&value) {
        return Ok(None);
    }
    match value.as_f64() {
        Some(n) if faceswap_core::float::fract(n) == 0.0 && n.abs() < 9.0e15 => Ok(Some(n as i64)),
        _ => Err(ClientError::invalid_field(
            name,
            faceswap_core::text!(name, " must be a whole number"),
        )),
    }
}

/// A required array field.
pub fn array_field(object: &JsValue, name: &str) -> Result<Array, ClientError> {
    let value = required(object, name)?;
    value.dyn_into::<Array>().map_err(|_| {
        ClientError::invalid_field(name, faceswap_core::text!(name, " must be an array"))
    })
}

/// The optional `signal` of call options.
pub fn signal_option(options: &JsValue) -> Option<web_sys::AbortSignal> {
    get(options, "signal")
        .dyn_into::<web_sys::AbortSignal>()
        .ok()
}
