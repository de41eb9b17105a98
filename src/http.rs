//! HTTP to the proxy through the global `fetch`: bodies, the Idempotency-Key header, abort and
//! time-out signals, and turning every failure into a [`ClientError`].

use js_sys::{Array, Function, Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Blob, FormData, Response};

use crate::error::{ClientError, ErrorCode};
use crate::js;

/// The proxy's error words.
type ProxyCode = faceswap_core::ErrorCode;

#[wasm_bindgen(module = "/src/browser.js")]
extern "C" {
    /// `fetch(url, init)` with `getToken`'s bearer token and up to `retries` retries (the rule
    /// is in `src/browser.js`); resolves the last `Response` whatever its status.
    #[wasm_bindgen(js_name = send)]
    fn transport_send(
        url: &str,
        init: &Object,
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

    /// The default per-call time limit in milliseconds.
    pub fn timeout_ms(&self) -> f64 {
        self.timeout_ms
    }

    /// The absolute or page-relative URL of `path`.
    pub fn url(&self, path: &str) -> String {
        faceswap_core::text!(self.base_url, path)
    }

    /// Sends `call` through the transport (`src/browser.js`: the bearer token and the retries
    /// the client's `retries` allow).
    async fn send_with_fate(&self, call: Call<'_>) -> Result<(Response, Fate), ClientError> {
        let timeout = call.timeout_ms.filter(|ms| ms.is_finite() && *ms > 0.0);
        let timeout_signal = timeout.map(js::abort_signal_timeout);
        let signals = Array::new();
        if let Some(signal) = call.signal {
            if signal.aborted() {
                return Err(ClientError::aborted());
            }
            signals.push(signal);
        }
        if let Some(signal) = &timeout_signal {
            signals.push(signal);
        }

        // A plain `RequestInit` with plain headers: `fetch` takes both, and the transport adds
        // the bearer token to them.
        let headers = Object::new();
        let init = Object::new();
        js::set(&init, "method", &JsValue::from_str("POST"));
        let content_type = match &call.body {
            Body::Json(text) => {
                js::set(&init, "body", &JsValue::from_str(text));
                Some("application/json".to_owned())
            }
            Body::Form(form) => {
                js::set(&init, "body", form);
                None
            }
            Body::File(blob) => {
                js::set(&init, "body", blob);
                let kind = blob.type_();
                Some(if kind.is_empty() {
                    "application/octet-stream".to_owned()
                } else {
                    kind
                })
            }
        };
        if let Some(kind) = content_type {
            js::set(&headers, "Content-Type", &JsValue::from_str(&kind));
        }
        if let Some(key) = &call.idempotency_key {
            js::set(&headers, "Idempotency-Key", &JsValue::from_str(key));
        }
        js::set(&init, "headers", &headers);
        if signals.length() > 0 {
            js::set(&init, "signal", &js::abort_signal_any(&signals));
        }
        let url = self.url(&call.path);
        let fate = Fate {
            user: call.signal.cloned(),
            timeout: timeout_signal.zip(timeout),
        };
        let sent = transport_send(&url, &init, self.retries, self.get_token.as_ref());
        let response: Response = JsFuture::from(sent)
            .await
            .map_err(|err| fate.classify(&err))?
            .unchecked_into();
        if response.ok() {
            return Ok((response, fate));
        }
        Err(refusal(&response).await)
    }

    /// Sends `call` and parses the JSON answer.
    pub async fn json(&self, call: Call<'_>) -> Result<JsValue, ClientError> {
        let (response, fate) = self.send_with_fate(call).await?;
        let promise = response
            .json()
            .map_err(|_| ClientError::network("the answer has no body"))?;
        JsFuture::from(promise).await.map_err(|err| {
            if err.is_instance_of::<js_sys::SyntaxError>() {
                ClientError::upstream(
                    "the proxy's answer is not JSON; is baseUrl pointing at faceswap-proxy?",
                )
            } else {
                fate.classify(&err)
            }
        })
    }
}

/// The proxy's error of an answer whose status is not 2xx: its status, its JSON error body and
/// its `Retry-After`.
pub async fn refusal(response: &Response) -> ClientError {
    let status = response.status();
    let retry_after = response
        .headers()
        .get("Retry-After")
        .ok()
        .flatten()
        .and_then(|v| whole_seconds(&v));
    let body = match response.json() {
        Ok(promise) => JsFuture::from(promise).await.unwrap_or(JsValue::UNDEFINED),
        Err(_) => JsValue::UNDEFINED,
    };
    ClientError::from_http(status, &body, retry_after)
}

/// Tells why a request failed: the caller's signal, the time limit, or the network.
pub struct Fate {
    /// The caller's signal.
    pub user: Option<AbortSignal>,
    /// The time limit's signal and its milliseconds.
    pub timeout: Option<(AbortSignal, f64)>,
}

impl Fate {
    /// The library's error for `err`, a rejection of the transport.
    pub fn classify(&self, err: &JsValue) -> ClientError {
        // The transport's own failures: the app's getToken threw or gave no token.
        if let Some(error) = err.dyn_ref::<js_sys::Error>() {
            let message = String::from(error.message());
            match String::from(error.name()).as_str() {
                "GetTokenFailed" => {
                    return ClientError::new(ErrorCode::Proxy(ProxyCode::Unauthorized), message)
                }
                "GetTokenInvalid" => return ClientError::invalid_field("getToken", message),
                _ => {}
            }
        }
        if self.user.as_ref().is_some_and(AbortSignal::aborted) {
            return ClientError::aborted();
        }
        match &self.timeout {
            Some((signal, ms)) if signal.aborted() => ClientError::timeout(*ms),
            _ => ClientError::network(&describe(err)),
        }
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

fn describe(err: &JsValue) -> String {
    err.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| err.as_string())
        .unwrap_or_else(|| "unknown error".to_owned())
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
