//! The library's error: every rejection is a JS `Error` (name `FaceSwapError`) with `code`,
//! `status` (when HTTP gave one), `field` (when one input is at fault, in the JS API's camelCase)
//! and a message a person can act on.

use faceswap_core::{ErrorCode, FieldError};
use js_sys::Object;
use wasm_bindgen::JsValue;

use crate::js;

/// An error on its way to JavaScript. Boxed, so that `Result<_, ClientError>` stays one word
/// wide inside the library's async state machines (which keeps the wasm small).
#[derive(Debug, Clone, PartialEq)]
pub struct ClientError(Box<ErrorDetails>);

/// What a [`ClientError`] carries.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorDetails {
    /// The error word: one of the proxy's codes, or `network_error`, `timeout`, `aborted`,
    /// `task_failed`, `tainted_canvas`.
    pub code: String,
    /// What went wrong, for a person.
    pub message: String,
    /// The HTTP status, when the error came from an HTTP answer.
    pub status: Option<u16>,
    /// The input at fault, in camelCase (`refInfo[1].faceRef`).
    pub field: Option<String>,
    /// Seconds to wait before trying again (`rate_limited`).
    pub retry_after: Option<f64>,
    /// The task, for `task_failed` and task time-outs.
    pub task: Option<JsValue>,
}

impl std::ops::Deref for ClientError {
    type Target = ErrorDetails;
    fn deref(&self) -> &ErrorDetails {
        &self.0
    }
}

impl std::ops::DerefMut for ClientError {
    fn deref_mut(&mut self) -> &mut ErrorDetails {
        &mut self.0
    }
}

impl ClientError {
    /// An error with `code` and `message` only.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self(Box::new(ErrorDetails {
            code: code.to_owned(),
            message: message.into(),
            status: None,
            field: None,
            retry_after: None,
            task: None,
        }))
    }

    /// An `invalid_parameter` error from core validation, with the field renamed to camelCase.
    pub fn invalid(err: FieldError) -> Self {
        Self::invalid_field(&camel_case_path(&err.field), camel_case_words(&err.message))
    }

    /// An `invalid_parameter` error about the JS field `field` (already camelCase).
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        let mut err = Self::new(ErrorCode::InvalidParameter.as_str(), message);
        err.field = Some(field.to_owned());
        err
    }

    /// The request never got an HTTP answer.
    pub fn network(detail: &str) -> Self {
        Self::new(
            "network_error",
            format!("the proxy could not be reached ({detail}); check the network and the client's baseUrl"),
        )
    }

    /// The caller's `AbortSignal` fired.
    pub fn aborted() -> Self {
        Self::new("aborted", "the call was aborted by its AbortSignal")
    }

    /// The call took longer than `ms` milliseconds.
    pub fn timeout(ms: f64) -> Self {
        Self::new(
            "timeout",
            // Whole milliseconds: formatting an f64 would pull float printing into the wasm.
            format!(
                "no answer within {} ms; raise timeoutMs or try again later",
                ms as u64
            ),
        )
    }

    /// An error answer of the proxy: its JSON body `{code, error, message, field}` when it has
    /// one, otherwise a code derived from the status.
    pub fn from_http(status: u16, body: &JsValue, retry_after: Option<f64>) -> Self {
        let word = js::get(body, "error").as_string();
        let code = word.unwrap_or_else(|| code_for_status(status).to_owned());
        let snake_field = js::get(body, "field").as_string();
        let mut message = js::get(body, "message")
            .as_string()
            .unwrap_or_else(|| format!("the proxy answered HTTP {status}"));
        let field = snake_field.map(|snake| {
            message = camel_case_words(&message);
            camel_case_path(&snake)
        });
        let mut err = Self::new(&code, message);
        err.status = Some(status);
        err.field = field;
        err.retry_after = retry_after;
        err
    }
}

fn code_for_status(status: u16) -> &'static str {
    let code = match status {
        400 | 422 => ErrorCode::InvalidParameter,
        401 => ErrorCode::Unauthorized,
        403 => ErrorCode::Forbidden,
        404 => ErrorCode::NotFound,
        413 => ErrorCode::PayloadTooLarge,
        415 => ErrorCode::UnsupportedMediaType,
        429 => ErrorCode::RateLimited,
        503 => ErrorCode::UpstreamUnavailable,
        504 => ErrorCode::UpstreamTimeout,
        500 => ErrorCode::Internal,
        _ => ErrorCode::UpstreamError,
    };
    code.as_str()
}

impl From<ClientError> for JsValue {
    fn from(err: ClientError) -> JsValue {
        let js_error = js_sys::Error::new(&err.message);
        js_error.set_name("FaceSwapError");
        let object: &Object = js_error.as_ref();
        js::set(object, "code", &err.code.as_str().into());
        if let Some(status) = err.status {
            js::set(object, "status", &status.into());
        }
        if let Some(field) = &err.field {
            js::set(object, "field", &field.as_str().into());
        }
        if let Some(seconds) = err.retry_after {
            js::set(object, "retryAfter", &seconds.into());
        }
        if let Some(task) = &err.task {
            js::set(object, "task", task);
        }
        js_error.into()
    }
}

/// Renames every snake_case word of a message (the provider's field names) to camelCase:
/// "index has 1 entries but face_image has 2" becomes "... but faceImage has 2".
pub fn camel_case_words(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let is_snake = word.contains('_') && !word.starts_with('_') && !word.ends_with('_');
        out.push_str(&if is_snake {
            camel_case_path(word)
        } else {
            std::mem::take(word)
        });
        word.clear();
    };
    for c in message.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// `ref_info[0].face_ref` becomes `refInfo[0].faceRef`.
pub fn camel_case_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut upper_next = false;
    for c in path.chars() {
        if c == '_' {
            upper_next = true;
        } else if upper_next {
            out.push(c.to_ascii_uppercase());
            upper_next = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_become_camel_case() {
        assert_eq!(
            camel_case_path("ref_info[0].face_ref"),
            "refInfo[0].faceRef"
        );
        assert_eq!(camel_case_path("base64_img"), "base64Img");
        assert_eq!(camel_case_path("index"), "index");
    }

    #[test]
    fn invalid_renames_field_in_message() {
        let err = ClientError::invalid(FieldError::required("source_image"));
        assert_eq!(err.field.as_deref(), Some("sourceImage"));
        assert_eq!(err.message, "sourceImage is required");
        assert_eq!(err.code, "invalid_parameter");
    }

    #[test]
    fn every_field_name_in_a_message_is_renamed() {
        assert_eq!(
            camel_case_words("index has 2 entries but face_image has 1"),
            "index has 2 entries but faceImage has 1"
        );
        assert_eq!(
            camel_case_words("ref_info[0].face_ref must hold a JPEG"),
            "refInfo[0].faceRef must hold a JPEG"
        );
        assert_eq!(
            camel_case_words("_private and trailing_ stay"),
            "_private and trailing_ stay"
        );
    }

    #[test]
    fn statuses_without_a_body_get_a_code() {
        assert_eq!(code_for_status(429), "rate_limited");
        assert_eq!(code_for_status(502), "upstream_error");
        assert_eq!(code_for_status(404), "not_found");
    }
}
