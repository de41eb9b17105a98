//! The task object handed to JavaScript: the proxy's `{provider, task_id, status, type,
//! result_url, provider_result_url, result_info, points, cost, error, created_at, updated_at}` in
//! camelCase (`result_info` is `resultInfo: {width?, height?, size?}`), absent fields left out
//! except `provider`, which is the client's when the answer has none (aifaceswap's own routes).

use faceswap_core::TaskStatus;
use js_sys::Object;
use wasm_bindgen::JsValue;

use crate::error::ClientError;
use crate::js;

/// Converts the proxy's task JSON; fails when it lacks a task id or a known status.
/// `provider` is the client's provider id, used when the answer does not name one.
pub fn task_from_json(
    json: &JsValue,
    provider: &str,
) -> Result<(JsValue, TaskStatus), ClientError> {
    let task_id = js::get(json, "task_id");
    let status = js::get(json, "status")
        .as_string()
        .and_then(|s| TaskStatus::from_word(&s));
    let (Some(_), Some(status)) = (task_id.as_string(), status) else {
        return Err(ClientError::upstream(
            "the proxy's task has no task_id or status",
        ));
    };
    let task = Object::new();
    let named = js::get(json, "provider");
    let provider = if named.as_string().is_some() {
        named
    } else {
        JsValue::from_str(provider)
    };
    js::set(&task, "provider", &provider);
    js::set(&task, "taskId", &task_id);
    js::set(&task, "status", &status.as_str().into());
    for (from, to) in [
        ("type", "type"),
        ("result_url", "resultUrl"),
        ("provider_result_url", "providerResultUrl"),
        // `{width, height, size}`: neutral names already, passed as they are.
        ("result_info", "resultInfo"),
        ("points", "points"),
        ("cost", "cost"),
        ("error", "error"),
        ("created_at", "createdAt"),
        ("updated_at", "updatedAt"),
    ] {
        let value = js::get(json, from);
        if !js::is_absent(&value) {
            js::set(&task, to, &value);
        }
    }
    Ok((task.into(), status))
}
