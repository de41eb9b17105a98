//! AIPhotoCraft's answers, read tolerantly.
//!
//! - A submit answers the task's id. The documented shape is `{"success":true,"data":{"task_id"}}`;
//!   `task_id` or `id` is looked for in `data` and at the top level, as a string or a number.
//! - Task status (`GET api/task-status/{task_id}`): the page's only example is
//!   `{"image_url": "..."}`, a result URL and no status: that is a success. Beyond the page (the
//!   project's assumption): a `status` in any case (`pending`, `processing`, `completed`,
//!   `failed`, ...) decides where present, and the result's URL may be in `image_url`,
//!   `result_url` or `result`, each in `data` or at the top level. An answer with neither a
//!   status nor a URL is unreadable, and the error says what came back.
//! - Errors, as the page prints them: `{"success":false,"error":{"code","message","details"}}`,
//!   where `details.parameter` or `details.image` names the field at fault. Beyond the page:
//!   `details.field`, and FastAPI's `{"detail": "..."}` / `{"detail": [{"loc": [...], "msg": "..."}]}`.
//!
//! The submit's answer is not printed on the page; its reading is the project's assumption.

use alloc::{borrow::ToOwned, format, string::String, string::ToString, vec::Vec};

use serde_json::Value;

use crate::provider::{FaultKind, ProviderFault, TaskUpdate};
use crate::task::is_safe_task_id;

/// Path of the task-status endpoint, before the task id.
pub const STATUS_PATH: &str = "api/task-status";

/// Longest provider message kept, in characters.
const MAX_MESSAGE: usize = 200;

/// AIPhotoCraft's error codes, and what each means for the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// A malformed parameter.
    InvalidParameter,
    /// No key sent.
    ApiKeyRequired,
    /// A wrong key.
    InvalidApiKey,
    /// The key's hourly or daily budget is spent (429, `details.reset_at`).
    RateLimitExceeded,
    /// An image without a face.
    NoFaceDetected,
    /// An image with another number of faces than the operation needs.
    FaceCountMismatch,
    /// A `swap_index` naming a face the image does not have.
    FaceIndexOutOfRange,
    /// An image in a format it does not read.
    InvalidImageFormat,
    /// The provider's own failure.
    ServerError,
}

impl ErrorCode {
    /// Every code.
    pub const ALL: [Self; 9] = [
        Self::InvalidParameter,
        Self::ApiKeyRequired,
        Self::InvalidApiKey,
        Self::RateLimitExceeded,
        Self::NoFaceDetected,
        Self::FaceCountMismatch,
        Self::FaceIndexOutOfRange,
        Self::InvalidImageFormat,
        Self::ServerError,
    ];

    /// The code on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidParameter => "invalid_parameter",
            Self::ApiKeyRequired => "api_key_required",
            Self::InvalidApiKey => "invalid_api_key",
            Self::RateLimitExceeded => "rate_limit_exceeded",
            Self::NoFaceDetected => "no_face_detected",
            Self::FaceCountMismatch => "face_count_mismatch",
            Self::FaceIndexOutOfRange => "face_index_out_of_range",
            Self::InvalidImageFormat => "invalid_image_format",
            Self::ServerError => "server_error",
        }
    }

    /// The code for a wire word (any case).
    pub fn from_word(word: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|code| code.as_str().eq_ignore_ascii_case(word.trim()))
    }

    /// The HTTP status the provider answers it with.
    pub const fn status(self) -> u16 {
        match self {
            Self::InvalidParameter
            | Self::NoFaceDetected
            | Self::FaceCountMismatch
            | Self::FaceIndexOutOfRange
            | Self::InvalidImageFormat => 400,
            Self::ApiKeyRequired | Self::InvalidApiKey => 401,
            Self::RateLimitExceeded => 429,
            Self::ServerError => 500,
        }
    }

    /// What kind of fault it is: faults in the input are the browser's, the key's are the
    /// operator's.
    pub const fn kind(self) -> FaultKind {
        match self {
            Self::InvalidParameter
            | Self::NoFaceDetected
            | Self::FaceCountMismatch
            | Self::FaceIndexOutOfRange
            | Self::InvalidImageFormat => FaultKind::InvalidInput,
            Self::RateLimitExceeded => FaultKind::RateLimited,
            Self::ApiKeyRequired | Self::InvalidApiKey | Self::ServerError => FaultKind::Upstream,
        }
    }
}

/// `value[name]`, looked up in `data` first, then at the top level.
fn find<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    value
        .get("data")
        .and_then(|data| data.get(name))
        .or_else(|| value.get(name))
        .filter(|v| !v.is_null())
}

/// A string or a number as text.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
    .filter(|s| !s.is_empty())
}

fn shorten(message: &str) -> String {
    message.trim().chars().take(MAX_MESSAGE).collect()
}

/// The task id of a submit's 2xx answer: `task_id` or `id`, in `data` or at the top level. An
/// answer with `success: false` is the fault it carries.
pub fn read_task_id(body: &[u8]) -> Result<String, ProviderFault> {
    let value: Value = serde_json::from_slice(body).map_err(|_| {
        ProviderFault::malformed("AIPhotoCraft answered with something other than JSON")
    })?;
    if value.get("success").and_then(Value::as_bool) == Some(false) {
        return Err(fault_of(200, &value));
    }
    ["task_id", "id"]
        .iter()
        .find_map(|name| find(&value, name).and_then(text))
        .filter(|id| is_safe_task_id(id))
        .ok_or_else(|| ProviderFault::malformed("AIPhotoCraft's answer has no usable task_id"))
}

/// A task-status answer as an update of `task_id`.
pub fn read_status(task_id: &str, body: &[u8]) -> Result<TaskUpdate, ProviderFault> {
    let value: Value = serde_json::from_slice(body).map_err(|_| {
        ProviderFault::malformed(format!(
            "AIPhotoCraft's task status is not JSON ({} bytes)",
            body.len()
        ))
    })?;
    if value.get("success").and_then(Value::as_bool) == Some(false) {
        return Err(fault_of(200, &value));
    }
    let id = Some(task_id.to_owned());
    let url = ["image_url", "result_url", "result"]
        .iter()
        .find_map(|name| find(&value, name).and_then(Value::as_str))
        .map(str::trim)
        .filter(|url| !url.is_empty());
    let Some(status) = find(&value, "status").and_then(text) else {
        // The page's own example: a result URL and no status.
        return match url {
            Some(url) => Ok(TaskUpdate::succeeded(id, url.to_owned())),
            None => Err(ProviderFault::malformed(format!(
                "AIPhotoCraft's task status has neither a status nor an image_url: {}",
                what_came_back(&value)
            ))),
        };
    };
    Ok(match status.to_ascii_lowercase().as_str() {
        "completed" | "complete" | "success" | "succeeded" | "done" | "finished" => match url {
            Some(url) => TaskUpdate::succeeded(id, url.to_owned()),
            None => TaskUpdate::failed(id, Some("AIPhotoCraft finished without a result".into())),
        },
        "failed" | "failure" | "error" | "cancelled" | "canceled" => {
            let why = ["error", "message"]
                .iter()
                .find_map(|name| find(&value, name))
                .and_then(|v| v.get("message").unwrap_or(v).as_str())
                .map(shorten)
                .filter(|m| !m.is_empty());
            TaskUpdate::failed(id, why)
        }
        _ => TaskUpdate::pending(id),
    })
}

/// A short account of an unreadable answer, for the task's error: its field names for an
/// object, else its kind. Never values, which might be long or hold anything.
fn what_came_back(value: &Value) -> String {
    match value {
        Value::Object(object) if object.is_empty() => "an empty object".to_owned(),
        Value::Object(object) => {
            let names: Vec<&str> = object.keys().map(String::as_str).take(8).collect();
            format!("an object with {}", names.join(", "))
        }
        Value::Array(_) => "a list".to_owned(),
        Value::String(_) => "a string".to_owned(),
        Value::Number(_) => "a number".to_owned(),
        Value::Bool(_) => "a boolean".to_owned(),
        Value::Null => "null".to_owned(),
    }
}

/// A non-2xx answer (or a 2xx one with `success: false`) as a fault keeping the provider's code.
pub fn read_error(status: u16, body: &[u8]) -> ProviderFault {
    match serde_json::from_slice::<Value>(body) {
        Ok(value) => fault_of(status, &value),
        Err(_) => fault_for(status, None, None, None),
    }
}

fn fault_of(status: u16, value: &Value) -> ProviderFault {
    if let Some(error) = value.get("error").filter(|e| e.is_object()) {
        let code = error.get("code").and_then(text);
        let message = error.get("message").and_then(Value::as_str).map(shorten);
        // The page prints `details.parameter` and `details.image`; `details.field` is the
        // project's assumption.
        let field = error.get("details").and_then(|details| {
            ["parameter", "image", "field"]
                .iter()
                .find_map(|name| details.get(name).and_then(Value::as_str))
                .map(str::to_owned)
        });
        return fault_for(status, code.as_deref(), message, field);
    }
    match value.get("detail") {
        // FastAPI's own: a message, or a list of validation errors naming the field last in `loc`.
        Some(Value::String(message)) => fault_for(status, None, Some(shorten(message)), None),
        Some(Value::Array(errors)) => {
            let first = errors.first();
            let message = first
                .and_then(|e| e.get("msg"))
                .and_then(Value::as_str)
                .map(shorten);
            let field = first
                .and_then(|e| e.get("loc"))
                .and_then(Value::as_array)
                .and_then(|loc| loc.last())
                .and_then(Value::as_str)
                .map(str::to_owned);
            let status = if status == 422 { 400 } else { status };
            fault_for(status, None, message, field)
        }
        Some(Value::Object(detail)) => {
            let code = detail.get("code").and_then(text);
            let message = detail.get("message").and_then(Value::as_str).map(shorten);
            fault_for(status, code.as_deref(), message, None)
        }
        _ => fault_for(status, None, None, None),
    }
}

/// The fault for an answer's status, the provider's code (when it gave one), its message and
/// the field it names. A code the provider gave is kept even when unknown.
fn fault_for(
    status: u16,
    code: Option<&str>,
    message: Option<String>,
    field: Option<String>,
) -> ProviderFault {
    let known = code.and_then(ErrorCode::from_word);
    let kind = match known {
        Some(known) => known.kind(),
        None => match status {
            429 => FaultKind::RateLimited,
            400 | 404 | 413 | 415 | 422 => FaultKind::InvalidInput,
            _ => FaultKind::Upstream,
        },
    };
    let what = match kind {
        FaultKind::InvalidInput => "AIPhotoCraft refused the input",
        FaultKind::Refused => "AIPhotoCraft refused the content",
        FaultKind::Unavailable => "AIPhotoCraft is unavailable; try again later",
        FaultKind::RateLimited => "AIPhotoCraft's request budget is spent; try again later",
        FaultKind::Upstream if matches!(status, 401 | 403) => {
            "AIPhotoCraft refused the proxy's credentials"
        }
        FaultKind::Upstream => "AIPhotoCraft refused the request",
    };
    let message = match message.filter(|m| !m.is_empty()) {
        Some(text) => format!("{what}: {text}"),
        None => format!("{what} (HTTP {status})"),
    };
    let mut fault = ProviderFault::new(kind, message);
    fault.provider_code = code.map(str::to_owned);
    // Only an input fault blames a field of the browser's request.
    fault.field = field.filter(|_| kind == FaultKind::InvalidInput);
    fault
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TaskStatus;

    #[test]
    fn task_ids_are_read_where_they_may_be() {
        for body in [
            r#"{"success":true,"data":{"task_id":"ab-12"}}"#,
            r#"{"task_id":"ab-12","status":"pending"}"#,
            r#"{"success":true,"data":{"id":"ab-12"}}"#,
            r#"{"id":"ab-12"}"#,
        ] {
            assert_eq!(
                read_task_id(body.as_bytes()).as_deref(),
                Ok("ab-12"),
                "{body}"
            );
        }
        assert_eq!(
            read_task_id(br#"{"data":{"task_id":42}}"#).as_deref(),
            Ok("42")
        );
        assert!(read_task_id(br#"{"task_id":"../x"}"#).is_err());
        assert!(read_task_id(br#"{"ok":true}"#).is_err());
        assert!(read_task_id(b"<html>").is_err());
        let refused = read_task_id(
            br#"{"success":false,"error":{"code":"no_face_detected","message":"No face in srcimage","details":{"field":"srcimage"}}}"#,
        )
        .unwrap_err();
        assert_eq!(refused.kind, FaultKind::InvalidInput);
        assert_eq!(refused.field.as_deref(), Some("srcimage"));
    }

    #[test]
    fn status_is_read_in_any_case_with_any_url_field() {
        let read = |body: &str| read_status("t1", body.as_bytes()).unwrap();
        assert_eq!(
            read(r#"{"status":"PROCESSING"}"#).status,
            TaskStatus::Pending
        );
        assert_eq!(read(r#"{"status":"queued"}"#).status, TaskStatus::Pending);
        for body in [
            r#"{"status":"Completed","image_url":"https://cdn.example/r.png"}"#,
            r#"{"success":true,"data":{"status":"completed","result_url":"https://cdn.example/r.png"}}"#,
            r#"{"status":"SUCCESS","result":"https://cdn.example/r.png"}"#,
        ] {
            let update = read(body);
            assert_eq!(update.status, TaskStatus::Succeeded, "{body}");
            assert_eq!(
                update.result_url.as_deref(),
                Some("https://cdn.example/r.png")
            );
            assert_eq!(update.task_id.as_deref(), Some("t1"));
        }
        let failed =
            read(r#"{"status":"failed","error":{"code":"no_face_detected","message":"no face"}}"#);
        assert_eq!(failed.status, TaskStatus::Failed);
        assert_eq!(failed.error.as_deref(), Some("no face"));
        assert_eq!(read(r#"{"status":"completed"}"#).status, TaskStatus::Failed);
        assert_eq!(
            read(r#"{"image_url":"https://cdn.example/r.png"}"#).status,
            TaskStatus::Succeeded
        );
        let unreadable = read_status("t1", br#"{"progress":3}"#).unwrap_err();
        assert!(
            unreadable.message.contains("progress"),
            "{}",
            unreadable.message
        );
    }

    #[test]
    fn errors_keep_their_code_and_meaning() {
        let body = |code: &str| {
            format!(
                r#"{{"success":false,"error":{{"code":"{code}","message":"m","details":{{}}}}}}"#
            )
        };
        for code in ErrorCode::ALL {
            let fault = read_error(code.status(), body(code.as_str()).as_bytes());
            assert_eq!(fault.kind, code.kind(), "{code:?}");
            assert_eq!(fault.provider_code.as_deref(), Some(code.as_str()));
        }
        assert_eq!(ErrorCode::NoFaceDetected.kind(), FaultKind::InvalidInput);
        assert_eq!(ErrorCode::InvalidApiKey.kind(), FaultKind::Upstream);
        assert_eq!(ErrorCode::RateLimitExceeded.kind(), FaultKind::RateLimited);
        let fastapi = read_error(401, br#"{"detail":"Invalid API key"}"#);
        assert_eq!(fastapi.kind, FaultKind::Upstream);
        assert!(
            fastapi.message.ends_with("Invalid API key"),
            "{}",
            fastapi.message
        );
        let missing = read_error(
            422,
            br#"{"detail":[{"loc":["body","targetimage"],"msg":"field required","type":"value_error.missing"}]}"#,
        );
        assert_eq!(missing.kind, FaultKind::InvalidInput);
        assert_eq!(missing.field.as_deref(), Some("targetimage"));
        let coded = read_error(
            400,
            br#"{"detail":{"code":"face_count_mismatch","message":"2 faces needed"}}"#,
        );
        assert_eq!(coded.provider_code.as_deref(), Some("face_count_mismatch"));
        assert_eq!(read_error(500, b"oops").kind, FaultKind::Upstream);
    }
}
