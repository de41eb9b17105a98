//! HTTP to the proxy through the global `fetch`: bodies, the Idempotency-Key header, abort and
//! time-out signals, and turning every failure into a [`ClientError`].

use crate::drive::settle;
use alloc::{borrow::ToOwned, string::String};
use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{AbortSignal, Blob, FormData};

use crate::error::{ClientError, ErrorCode};
use crate::js;

/// The proxy's error words.
type ProxyCode = faceswap_core::ErrorCode;

#[wasm_bindgen(module = "/src/browser.js")]
extern "C" {
    /// POSTs `body` to `url` with the Idempotency-Key `key`, within `timeout_ms`, with
    /// `getToken`'s bearer token and up to `retries` retries (the rules are in
    /// `src/browser.js`); resolves the JSON of a 2xx answer, and rejects with an error
    /// [`failure`] reads.
    #[wasm_bindgen(js_name = post)]
    fn transport_post(
        url: &str,
        body: &JsValue,
        key: Option<&str>,
        signal: Option<&AbortSignal>,
        timeout_ms: f64,
        retries: u32,
        get_token: Option<&Function>,
    ) -> Promise;
}

/// A request body.
pub enum Body {
    /// A JSON text.
    Json(String),
    /// A multipart form; the browser sets the boundary.
    Form(FormData),
    /// A file sent as is, with its content type.
    File(Blob),
}

/// One POST to the proxy (a task's states are `taskStates`' in `src/browser.js`).
pub struct Call<'a> {
    /// Path below the base URL, starting with `/`.
    pub path: String,
    /// What to send.
    pub body: Body,
    /// The caller's abort signal.
    pub signal: Option<&'a AbortSignal>,
    /// Sent as `Idempotency-Key` when set.
    pub idempotency_key: Option<String>,
    /// Time limit in milliseconds; `None` for no limit.
    pub timeout_ms: Option<f64>,
}

impl Call<'_> {
    /// A POST of `body` to `path` with no limit, signal or key.
    pub fn post(path: String, body: Body) -> Self {
        Self {
            path,
            body,
            signal: None,
            idempotency_key: None,
            timeout_ms: None,
        }
    }
}

/// Where the proxy is, how long calls may take, how often a failed call is tried again, and
/// where a call's bearer token comes from.
#[derive(Debug, Clone)]
pub struct Http {
    base_url: String,
    timeout_ms: f64,
    retries: u32,
    get_token: Option<Function>,
}

impl Http {
    /// `base_url` without a trailing slash (default `/api`), the default time limit, the
    /// retries allowed after a failed first attempt (`src/browser.js`) and the app's `getToken`.
    pub fn new(base_url: &str, timeout_ms: f64, retries: u32, get_token: Option<Function>) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            timeout_ms,
            retries,
            get_token,
        }
    }

    /// Retries allowed after a failed first attempt.
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// The app's `getToken`, when it gave one.
    pub fn get_token(&self) -> Option<&Function> {
        self.get_token.as_ref()
    }

    /// The base URL, without its trailing slash (empty for `/`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The default per-call time limit in milliseconds.
    pub fn timeout_ms(&self) -> f64 {
        self.timeout_ms
    }

    /// The absolute or page-relative URL of `path`.
    pub fn url(&self, path: &str) -> String {
        faceswap_core::text!(self.base_url, path)
    }

    /// Sends `call` through the transport (`post` in `src/browser.js`: the headers, the time
    /// limit, the bearer token and the retries the client's `retries` allow) and resolves the
    /// JSON of its 2xx answer; any other answer is the proxy's error ([`failure`]).
    pub async fn json(&self, call: Call<'_>) -> Result<JsValue, ClientError> {
        let body: JsValue = match call.body {
            Body::Json(text) => text.into(),
            Body::Form(form) => form.into(),
            Body::File(blob) => blob.into(),
        };
        let timeout_ms = call.timeout_ms.unwrap_or(f64::INFINITY);
        let sent = transport_post(
            &self.url(&call.path),
            &body,
            call.idempotency_key.as_deref(),
            call.signal,
            timeout_ms,
            self.retries,
            self.get_token.as_ref(),
        );
        settle(sent).await.map_err(|err| failure(&err, timeout_ms))
    }
}

/// The library's error for a rejection of the transport (`src/browser.js` names its own), in a
/// call whose time limit was `timeout_ms`.
pub fn failure(err: &JsValue, timeout_ms: f64) -> ClientError {
    let Some(error) = err.dyn_ref::<js_sys::Error>() else {
        return ClientError::network(
            &err.as_string()
                .unwrap_or_else(|| "unknown error".to_owned()),
        );
    };
    let message = String::from(error.message());
    match String::from(error.name()).as_str() {
        // An answer that is not 2xx: the proxy's error, from its status, body and Retry-After.
        "Refused" => ClientError::from_http(
            js::get(err, "status").as_f64().unwrap_or(0.0) as u16,
            &js::get(err, "body"),
            js::get(err, "retryAfter")
                .as_string()
                .and_then(|v| whole_seconds(&v)),
        ),
        "Aborted" => ClientError::aborted(),
        "TimedOut" => ClientError::timeout(timeout_ms),
        "NotJson" => ClientError::upstream(
            "the proxy's answer is not JSON; is baseUrl pointing at faceswap-proxy?",
        ),
        // The app's getToken threw, or gave no token.
        "GetTokenFailed" => ClientError::new(ErrorCode::Proxy(ProxyCode::Unauthorized), message),
        "GetTokenInvalid" => ClientError::invalid_field("getToken", message),
        _ => ClientError::network(&message),
    }
}

/// A `Retry-After` of whole seconds (at most 9 digits; the proxy never sends its date form), by
/// hand: `str::parse` would link the integer parser into the wasm.
fn whole_seconds(value: &str) -> Option<f64> {
    let digits = value.trim();
    if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(
        digits
            .bytes()
            .fold(0.0, |n, digit| n * 10.0 + f64::from(digit - b'0')),
    )
}

#[cfg(test)]
mod tests {
    use super::whole_seconds;

    #[test]
    fn retry_after_is_read_in_whole_seconds_only() {
        assert_eq!(whole_seconds("7"), Some(7.0));
        assert_eq!(whole_seconds(" 120 "), Some(120.0));
        assert_eq!(whole_seconds("999999999"), Some(999_999_999.0));
        for refused in [
            "",
            " ",
            "1.5",
            "-3",
            "+3",
            "1e3",
            "1000000000",
            "Wed, 21 Oct 2015",
        ] {
            assert_eq!(whole_seconds(refused), None, "{refused:?}");
        }
    }
}
