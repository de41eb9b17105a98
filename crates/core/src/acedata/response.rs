//! AceData's answers: the synchronous result `{image_url, image_width, image_height, image_size,
//! task_id}`, the `{task_id}` of a submit with a callback URL, the callback, and the error
//! envelope `{"success": false, "error": {code, message}, "trace_id"}`.
//!
//! The page describes the callback as a POST JSON "which also includes the task_id field, and the
//! other fields are similar" to the answer's: `image_url`, `image_width`, `image_height`,
//! `image_size`, `task_id`, no `success`. A callback is read by those fields. Beyond the page (the
//! project's assumption, from AceData's error envelope): an optional `success`, and an `error`
//! object (or text) on failure.

use alloc::{format, string::String};

use serde::Deserialize;

use crate::parse::from_json;
use crate::provider::{ResultInfo, TaskUpdate};
use crate::FieldError;

/// Longest provider message kept in a task's `error`.
const MAX_ERROR_CHARS: usize = 200;

/// A submit's answer: the whole result when AceData answered synchronously, `{task_id}` alone
/// when it will call back; an error envelope when `success` is false.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SwapAnswer {
    /// False in an error envelope.
    #[serde(default)]
    pub success: Option<bool>,
    /// AceData's task id.
    #[serde(default)]
    pub task_id: Option<String>,
    /// The swapped image, once made.
    #[serde(default)]
    pub image_url: Option<String>,
    /// Its width in pixels.
    #[serde(default)]
    pub image_width: Option<u64>,
    /// Its height in pixels.
    #[serde(default)]
    pub image_height: Option<u64>,
    /// Its size in bytes.
    #[serde(default)]
    pub image_size: Option<u64>,
    /// The error, in an error envelope.
    #[serde(default)]
    pub error: Option<ErrorBody>,
}

impl SwapAnswer {
    /// The result's width, height and size, as reported.
    pub fn result_info(&self) -> ResultInfo {
        ResultInfo {
            width: self.image_width,
            height: self.image_height,
            size: self.image_size,
        }
    }
}

/// The error envelope of every refusal.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorEnvelope {
    /// Always false.
    #[serde(default)]
    pub success: Option<bool>,
    /// The error.
    #[serde(default)]
    pub error: Option<ErrorBody>,
    /// AceData's trace id, for its support.
    #[serde(default)]
    pub trace_id: Option<String>,
}

/// `error` of the envelope and of a failed callback.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ErrorBody {
    /// AceData's word (`forbidden`, `too_many_requests`, ...).
    #[serde(default)]
    pub code: Option<String>,
    /// AceData's message.
    #[serde(default)]
    pub message: Option<String>,
}

impl ErrorBody {
    /// The message, trimmed and shortened, when there is one.
    pub fn text(&self) -> Option<String> {
        let text: String = self
            .message
            .as_deref()
            .unwrap_or_default()
            .trim()
            .chars()
            .take(MAX_ERROR_CHARS)
            .collect();
        (!text.is_empty()).then_some(text)
    }
}

/// The body AceData POSTs to the callback URL: the answer's fields and `task_id`.
#[derive(Debug, Clone, Deserialize)]
pub struct CallbackBody {
    /// Not on the page; where present, false means the task failed (the project's assumption).
    #[serde(default)]
    pub success: Option<bool>,
    /// AceData's task id.
    pub task_id: String,
    /// The swapped image, on success.
    #[serde(default)]
    pub image_url: Option<String>,
    /// Its width in pixels.
    #[serde(default)]
    pub image_width: Option<u64>,
    /// Its height in pixels.
    #[serde(default)]
    pub image_height: Option<u64>,
    /// Its size in bytes.
    #[serde(default)]
    pub image_size: Option<u64>,
    /// Why it failed: the error object, or a plain message.
    #[serde(default)]
    pub error: Option<serde_json::Value>,
}

impl CallbackBody {
    /// Parses a callback body, naming the field at fault.
    pub fn from_json(body: &[u8]) -> Result<Self, FieldError> {
        from_json(body)
    }

    /// The callback as a neutral update: a failure when `success` is false or an error is
    /// given (with AceData's code and message), else a success with `image_url` and the result's
    /// metadata. A callback with neither a result nor a failure names `image_url` as missing.
    pub fn update(self) -> Result<TaskUpdate, FieldError> {
        let info = ResultInfo {
            width: self.image_width,
            height: self.image_height,
            size: self.image_size,
        };
        let task_id = Some(self.task_id);
        let error = self.error.as_ref().filter(|e| !e.is_null());
        if self.success == Some(false) || error.is_some() {
            return Ok(TaskUpdate::failed(task_id, error_text(error)));
        }
        match self.image_url.filter(|url| !url.is_empty()) {
            Some(url) => Ok(TaskUpdate::succeeded(task_id, url).with_result_info(info)),
            None => Err(FieldError::new(
                "image_url",
                "image_url is required in a callback that reports no error",
            )),
        }
    }
}

/// The reason of a failed callback: `code: message` of an error object (either alone when only
/// one is given), or `error` as text.
fn error_text(error: Option<&serde_json::Value>) -> Option<String> {
    let text = match error? {
        serde_json::Value::String(text) => Some(text.clone()),
        value @ serde_json::Value::Object(_) => {
            let body = serde_json::from_value::<ErrorBody>(value.clone()).ok()?;
            let code = body
                .code
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(alloc::borrow::ToOwned::to_owned);
            match (code, body.text()) {
                (Some(code), Some(text)) => Some(format!("{code}: {text}")),
                (code, text) => text.or(code),
            }
        }
        _ => None,
    }?;
    let text: String = text.trim().chars().take(MAX_ERROR_CHARS).collect();
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TaskStatus;
    use serde_json::json;

    fn read(value: serde_json::Value) -> Result<TaskUpdate, FieldError> {
        CallbackBody::from_json(&serde_json::to_vec(&value).unwrap())?.update()
    }

    #[test]
    fn callbacks_read_as_updates() {
        let done = read(json!({"success": true, "task_id": "7f3c-1",
            "image_url": "https://cdn.acedata.cloud/r.png", "image_width": 1024,
            "image_height": 768, "image_size": 123456}))
        .unwrap();
        assert_eq!(
            done,
            TaskUpdate::succeeded(
                Some("7f3c-1".into()),
                "https://cdn.acedata.cloud/r.png".into()
            )
            .with_result_info(ResultInfo {
                width: Some(1024),
                height: Some(768),
                size: Some(123456)
            })
        );
        let failed = read(json!({"success": false, "task_id": "7f3c-2",
            "error": {"code": "api_error", "message": " no face in source_image_url "}}))
        .unwrap();
        assert_eq!(failed.status, TaskStatus::Failed);
        assert_eq!(failed.task_id.as_deref(), Some("7f3c-2"));
        assert_eq!(
            failed.error.as_deref(),
            Some("api_error: no face in source_image_url")
        );
        let coded =
            read(json!({"success": false, "task_id": "t", "error": {"code": "timeout"}})).unwrap();
        assert_eq!(coded.error.as_deref(), Some("timeout"));
        let plain = read(json!({"success": false, "task_id": "t", "error": "it broke"})).unwrap();
        assert_eq!(plain.error.as_deref(), Some("it broke"));
        let bare = read(json!({"success": false, "task_id": "t"})).unwrap();
        assert_eq!((bare.status, bare.error), (TaskStatus::Failed, None));
        let long =
            read(json!({"success": false, "task_id": "t", "error": "x".repeat(500)})).unwrap();
        assert_eq!(long.error.map(|e| e.len()), Some(MAX_ERROR_CHARS));
    }

    #[test]
    fn malformed_callbacks_name_the_field() {
        assert_eq!(
            read(json!({"success": true, "task_id": "t"}))
                .unwrap_err()
                .field,
            "image_url"
        );
        assert_eq!(
            read(json!({"success": true, "task_id": "t", "image_url": ""}))
                .unwrap_err()
                .field,
            "image_url"
        );
        assert_eq!(
            read(json!({"task_id": "t", "image_url": "https://a.example/r.png"}))
                .unwrap()
                .status,
            TaskStatus::Succeeded,
            "success is optional"
        );
        assert_eq!(
            read(json!({"success": true, "image_url": "https://a.example/r.png"}))
                .unwrap_err()
                .field,
            "task_id"
        );
        assert_eq!(
            read(json!({"success": "yes", "task_id": "t"}))
                .unwrap_err()
                .field,
            "success"
        );
    }
}
