//! AceData's answers: the synchronous result `{image_url, image_width, image_height, image_size,
//! task_id}`, the `{task_id}` of a submit with a callback URL, the callback `{success, task_id,
//! image_url, ...}`, and the error envelope `{"success": false, "error": {code, message},
//! "trace_id"}`.

use serde::Deserialize;

use crate::parse::from_json;
use crate::provider::TaskUpdate;
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

/// The body AceData POSTs to the callback URL.
#[derive(Debug, Clone, Deserialize)]
pub struct CallbackBody {
    /// True when the image was made.
    pub success: bool,
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

    /// The callback as a neutral update: success with `image_url`, or failure with AceData's
    /// reason where it gave one.
    pub fn update(self) -> Result<TaskUpdate, FieldError> {
        let task_id = Some(self.task_id);
        if !self.success {
            return Ok(TaskUpdate::failed(task_id, error_text(self.error.as_ref())));
        }
        match self.image_url.filter(|url| !url.is_empty()) {
            Some(url) => Ok(TaskUpdate::succeeded(task_id, url)),
            None => Err(FieldError::required("image_url")),
        }
    }
}

/// The reason of a failed callback: `error.message` (else `error.code`), or `error` as text.
fn error_text(error: Option<&serde_json::Value>) -> Option<String> {
    let text = match error? {
        serde_json::Value::String(text) => Some(text.clone()),
        value @ serde_json::Value::Object(_) => {
            let body = serde_json::from_value::<ErrorBody>(value.clone()).ok()?;
            body.text().or(body.code)
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
        );
        let failed = read(json!({"success": false, "task_id": "7f3c-2",
            "error": {"code": "api_error", "message": " no face in source_image_url "}}))
        .unwrap();
        assert_eq!(failed.status, TaskStatus::Failed);
        assert_eq!(failed.task_id.as_deref(), Some("7f3c-2"));
        assert_eq!(failed.error.as_deref(), Some("no face in source_image_url"));
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
                .unwrap_err()
                .field,
            "success"
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
