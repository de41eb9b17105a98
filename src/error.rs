//! The library's error: every rejection is a JS `Error` (name `FaceSwapError`) with `code` (an
//! [`ErrorCode`] word), `status` (when HTTP gave one), `field` (when one input is at fault, in the
//! JS API's camelCase), `providerCode` (the provider's own code, when the proxy passed one on) and
//! a message a person can act on.

use alloc::{borrow::ToOwned, boxed::Box, string::String};

use faceswap_core::registry::CATALOG;
use faceswap_core::FieldError;
use js_sys::Object;
use wasm_bindgen::JsValue;

use crate::js;

/// The proxy's error words, as `faceswap_core` defines them.
type ProxyCode = faceswap_core::ErrorCode;

/// Every `code` a [`ClientError`] can carry: the proxy's words, and those the library finds on
/// its own side. The `.d.ts` union `FaceSwapErrorCode` lists exactly these words (a test checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// A word of the proxy's error bodies (`invalid_parameter`, `rate_limited`, ...).
    Proxy(ProxyCode),
    /// The request never got an HTTP answer.
    NetworkError,
    /// A call or a wait took longer than allowed, or a task got no result in time.
    Timeout,
    /// The caller's `AbortSignal` fired.
    Aborted,
    /// The provider reported that the task failed.
    TaskFailed,
    /// A canvas could not be read because its pixels came from another origin without CORS.
    TaintedCanvas,
}

impl ErrorCode {
    /// `invalid_parameter`.
    pub const INVALID_PARAMETER: Self = Self::Proxy(ProxyCode::InvalidParameter);
    /// `upstream_error`: the provider (or the proxy on its behalf) answered something unusable.
    pub const UPSTREAM_ERROR: Self = Self::Proxy(ProxyCode::UpstreamError);
    /// `internal`: the browser could not do something it should be able to.
    pub const INTERNAL: Self = Self::Proxy(ProxyCode::Internal);

    /// The library's own codes, after the proxy's.
    const LIBRARY: [ErrorCode; 5] = [
        ErrorCode::NetworkError,
        ErrorCode::Timeout,
        ErrorCode::Aborted,
        ErrorCode::TaskFailed,
        ErrorCode::TaintedCanvas,
    ];

    /// Every code: the proxy's in their order, then the library's.
    pub fn all() -> impl Iterator<Item = ErrorCode> {
        ProxyCode::ALL
            .into_iter()
            .map(ErrorCode::Proxy)
            .chain(Self::LIBRARY)
    }

    /// The snake_case word JavaScript sees as `error.code`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Proxy(code) => code.as_str(),
            ErrorCode::NetworkError => "network_error",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Aborted => "aborted",
            ErrorCode::TaskFailed => "task_failed",
            ErrorCode::TaintedCanvas => "tainted_canvas",
        }
    }

    /// The proxy's code for an error answer without a known word, by its HTTP status.
    pub fn for_status(status: u16) -> Self {
        Self::Proxy(match status {
            400 | 422 => ProxyCode::InvalidParameter,
            401 => ProxyCode::Unauthorized,
            403 => ProxyCode::Forbidden,
            404 => ProxyCode::NotFound,
            413 => ProxyCode::PayloadTooLarge,
            415 => ProxyCode::UnsupportedMediaType,
            429 => ProxyCode::RateLimited,
            503 => ProxyCode::UpstreamUnavailable,
            504 => ProxyCode::UpstreamTimeout,
            500 => ProxyCode::Internal,
            _ => ProxyCode::UpstreamError,
        })
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, word: &&str) -> bool {
        self.as_str() == *word
    }
}

/// An error on its way to JavaScript. Boxed, so that `Result<_, ClientError>` stays one word
/// wide inside the library's async state machines (which keeps the wasm small).
#[derive(Debug, Clone, PartialEq)]
pub struct ClientError(Box<ErrorDetails>);

/// What a [`ClientError`] carries.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorDetails {
    /// The error word.
    pub code: ErrorCode,
    /// What went wrong, for a person.
    pub message: String,
    /// The HTTP status, when the error came from an HTTP answer.
    pub status: Option<u16>,
    /// The input at fault, in camelCase (`refInfo[1].faceRef`).
    pub field: Option<String>,
    /// The provider's own error code, when the proxy passed one on (`provider_code`).
    pub provider_code: Option<String>,
    /// Seconds to wait before trying again (`rate_limited`).
    pub retry_after: Option<f64>,
    /// The task, for `task_failed` and task time-outs.
    pub task: Option<JsValue>,
}

impl core::ops::Deref for ClientError {
    type Target = ErrorDetails;
    fn deref(&self) -> &ErrorDetails {
        &self.0
    }
}

impl core::ops::DerefMut for ClientError {
    fn deref_mut(&mut self) -> &mut ErrorDetails {
        &mut self.0
    }
}

impl ClientError {
    /// An error with `code` and `message` only.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self(Box::new(ErrorDetails {
            code,
            message: message.into(),
            status: None,
            field: None,
            provider_code: None,
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
        let mut err = Self::new(ErrorCode::INVALID_PARAMETER, message);
        err.field = Some(field.to_owned());
        err
    }

    /// The request never got an HTTP answer.
    pub fn network(detail: &str) -> Self {
        Self::new(
            ErrorCode::NetworkError,
            faceswap_core::text!(
                "the proxy could not be reached (",
                detail,
                "); check the network and the client's baseUrl"
            ),
        )
    }

    /// The caller's `AbortSignal` fired.
    pub fn aborted() -> Self {
        Self::new(
            ErrorCode::Aborted,
            "the call was aborted by its AbortSignal",
        )
    }

    /// The call took longer than `ms` milliseconds.
    pub fn timeout(ms: f64) -> Self {
        Self::new(
            ErrorCode::Timeout,
            // Whole milliseconds: formatting an f64 would pull float printing into the wasm.
            faceswap_core::text!(
                "no answer within ",
                ms as u64,
                " ms; raise timeoutMs or try again later"
            ),
        )
    }

    /// An `upstream_error`: an answer the library cannot use.
    pub fn upstream(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::UPSTREAM_ERROR, message)
    }

    /// An `internal` error: the browser could not do something it should be able to.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::INTERNAL, message)
    }

    /// An error answer of the proxy: its JSON body `{error, message, field, provider_code}` when
    /// it has one. A word the library does not know (from a newer proxy) is replaced by the code
    /// of the status, so `code` is always one of [`ErrorCode`]'s.
    pub fn from_http(status: u16, body: &JsValue, retry_after: Option<f64>) -> Self {
        let code = js::get(body, "error")
            .as_string()
            .and_then(|word| ProxyCode::from_word(&word))
            .map_or_else(|| ErrorCode::for_status(status), ErrorCode::Proxy);
        let snake_field = js::get(body, "field").as_string();
        let mut message = js::get(body, "message")
            .as_string()
            .unwrap_or_else(|| faceswap_core::text!("the proxy answered HTTP ", status));
        let field = snake_field.map(|snake| {
            message = camel_case_words(&message);
            camel_case_path(&snake)
        });
        let mut err = Self::new(code, message);
        err.status = Some(status);
        err.field = field;
        err.retry_after = retry_after;
        err.provider_code = provider_code(&js::get(body, "provider_code"));
        err
    }
}

/// The proxy's `provider_code`, a string or a number (aifaceswap's codes are numbers).
fn provider_code(value: &JsValue) -> Option<String> {
    value
        .as_string()
        .or_else(|| value.as_f64().map(|n| faceswap_core::text!(n as i64)))
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
        if let Some(code) = &err.provider_code {
            js::set(object, "providerCode", &code.as_str().into());
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

/// The wrapper objects the registered providers put their inputs in (PiAPI's
/// `{"input": {...}}`, from its catalog entry's `FieldNames`): the JS requests are flat, so
/// `input.swap_faces_index` is the request's `swapFacesIndex`.
fn wire_wrappers() -> impl Iterator<Item = &'static str> {
    CATALOG.iter().filter_map(|entry| entry.field_names.wrapper)
}

/// The registered providers' field names that run two words together (AIPhotoCraft's
/// `srcimage`, `targetimage1`), with the JS API's spelling of those words, from their catalog
/// entries.
fn run_together() -> impl Iterator<Item = &'static (&'static str, &'static str)> {
    CATALOG
        .iter()
        .flat_map(|entry| entry.field_names.run_together)
}

/// Renames every provider field name of a message to the JS API's: snake_case words become
/// camelCase ("index has 1 entries but face_image has 2" becomes "... but faceImage has 2") and
/// a provider's wrapper object ([`wire_wrappers`]) is dropped.
pub fn camel_case_words(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let is_snake = word.contains('_') && !word.starts_with('_') && !word.ends_with('_');
        let runs_together = run_together().any(|(wire, _)| word.starts_with(wire));
        out.push_str(&if is_snake || runs_together {
            camel_case_path(word)
        } else {
            core::mem::take(word)
        });
        word.clear();
    };
    let mut chars = message.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
        } else if c == '.'
            && wire_wrappers().any(|wrapper| *word == *wrapper)
            && chars.peek().is_some_and(char::is_ascii_lowercase)
        {
            word.clear();
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// A provider's field path in the JS API's names: `ref_info[0].face_ref` becomes
/// `refInfo[0].faceRef`, `input.swap_faces_index` becomes `swapFacesIndex`.
pub fn camel_case_path(path: &str) -> String {
    let path = wire_wrappers()
        .find_map(|wrapper| path.strip_prefix(wrapper)?.strip_prefix('.'))
        .unwrap_or(path);
    for (wire, js) in run_together() {
        if let Some(rest) = path.strip_prefix(wire) {
            return faceswap_core::text!(js, rest);
        }
    }
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
    use alloc::vec::Vec;

    #[test]
    fn field_paths_become_camel_case() {
        assert_eq!(
            camel_case_path("ref_info[0].face_ref"),
            "refInfo[0].faceRef"
        );
        assert_eq!(camel_case_path("base64_img"), "base64Img");
        assert_eq!(camel_case_path("index"), "index");
        assert_eq!(camel_case_path("input.swap_faces_index"), "swapFacesIndex");
        assert_eq!(camel_case_path("inputs.x_y"), "inputs.xY");
        assert_eq!(camel_case_path("srcimage"), "srcImage");
        assert_eq!(camel_case_path("targetimage2"), "targetImage2");
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
            camel_case_words(
                "input.target_faces_index lists 1 faces and input.swap_faces_index 2; check the input."
            ),
            "targetFacesIndex lists 1 faces and swapFacesIndex 2; check the input."
        );
        assert_eq!(
            camel_case_words("srcimage has 1 face; targetimage1 needs one"),
            "srcImage has 1 face; targetImage1 needs one"
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

    fn code_for_status(status: u16) -> ErrorCode {
        ErrorCode::for_status(status)
    }

    #[test]
    fn every_code_has_its_own_word() {
        let words: Vec<&str> = ErrorCode::all().map(ErrorCode::as_str).collect();
        for (i, word) in words.iter().enumerate() {
            assert!(!words[..i].contains(word), "{word} twice");
        }
        assert_eq!(words.len(), faceswap_core::ErrorCode::ALL.len() + 5);
        assert!(words.contains(&"tainted_canvas"));
    }
}
