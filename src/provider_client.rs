//! The provider-neutral core of every client class: where the proxy is, how long calls may take,
//! which provider the client speaks for, and the calls all providers share: submitting an
//! operation (JSON or multipart), uploading a file and following a task until it ends.
//!
//! A provider's class (`FaceSwapClient` for aifaceswap) holds one [`ProviderClient`] and adds only
//! what its provider's requests and answers look like.

use alloc::{borrow::ToOwned, string::String};

use faceswap_core::provider::{OperationSpec, ProviderInfo};
use js_sys::{Function, Object, JSON};
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
use web_sys::{AbortSignal, Blob, FormData};

use crate::error::ClientError;
use crate::http::{Body, Call, Http};
use crate::js;

/// Per-call time limit when the options give none.
const DEFAULT_TIMEOUT_MS: f64 = 60_000.0;

/// Retries after a failed first attempt when the options give no `retries`.
const DEFAULT_RETRIES: u32 = 2;
/// The most retries the option accepts (the project's bound: past it, a page waits minutes).
const MAX_RETRIES: u32 = 10;

/// A submit's time limit when the options give none: [`DEFAULT_TIMEOUT_MS`], and for a provider
/// that may answer a submit only when its result is made (AceData's synchronous delivery) its
/// longest submit wait ([`ProviderInfo::longest_submit_wait`], the number the proxy's submit
/// covers too) on top: AceData's is 330 s, so 390 s.
pub fn default_submit_timeout_ms(info: &ProviderInfo) -> f64 {
    info.longest_submit_wait.map_or(DEFAULT_TIMEOUT_MS, |wait| {
        DEFAULT_TIMEOUT_MS + wait.as_millis() as f64
    })
}

/// The path of `provider`'s task whose id is `encoded_id` (already percent-encoded), under the
/// proxy's API: `/{provider}/tasks/{id}`, the route every provider has (`/events` is appended
/// for its stream).
pub fn task_path(provider: &str, encoded_id: &str) -> String {
    faceswap_core::text!("/", provider, "/tasks/", encoded_id)
}

/// `{ taskId }` from a submit's answer, whichever shape the provider gives it: `task_id` (or
/// `id`) at the top level or in `data`. An answer without one is an `upstream_error`.
pub fn task_created(answer: &JsValue) -> Result<JsValue, ClientError> {
    let data = js::get(answer, "data");
    let task_id = ["task_id", "id"]
        .iter()
        .flat_map(|name| [js::get(answer, name), js::get(&data, name)])
        .find(|id| id.is_string())
        .ok_or_else(|| ClientError::upstream("the provider's answer has no task_id"))?;
    let result = Object::new();
    js::set(&result, "taskId", &task_id);
    Ok(result.into())
}

/// The envelope `{"code":200,"data":{...},"message":"OK"}` of aifaceswap's and PiAPI's answers:
/// its `data`, or an `upstream_error` with the provider's message and code.
pub fn envelope_data(envelope: &JsValue) -> Result<JsValue, ClientError> {
    let code = js::get(envelope, "code").as_f64();
    let data = js::get(envelope, "data");
    if code == Some(200.0) && data.is_object() {
        return Ok(data);
    }
    let mut err = match js::get(envelope, "message").as_string() {
        Some(message) => ClientError::upstream(faceswap_core::text!(
            "the provider refused the request: ",
            message
        )),
        None => ClientError::upstream("the provider's answer has no data"),
    };
    err.status = code.map(|c| c as u16);
    err.provider_code = code.map(|c| faceswap_core::text!(c as i64));
    Err(err)
}

/// Per-call options: `{ signal?, idempotencyKey? }`.
pub struct CallOptions {
    /// The caller's abort signal.
    pub signal: Option<AbortSignal>,
    /// The caller's key, or empty for a fresh random one (made by the transport).
    pub idempotency_key: String,
}

impl CallOptions {
    /// Reads the options object (which may be undefined).
    pub fn read(options: &JsValue) -> Result<Self, ClientError> {
        let key = js::get(options, "idempotencyKey");
        // Empty: `post` in `src/browser.js` makes a random one.
        let idempotency_key = if js::is_absent(&key) {
            String::new()
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

/// What every client class holds: the proxy's address, the time limits and the provider's id.
#[derive(Debug, Clone)]
pub struct ProviderClient {
    http: Http,
    submit_timeout_ms: f64,
    provider: &'static str,
}

impl ProviderClient {
    /// A client of the provider `info` configured by `options.baseUrl` (default `"/api"`),
    /// `options.timeoutMs` (default 60000, and [`default_submit_timeout_ms`] for a submit),
    /// `options.retries` (default [`DEFAULT_RETRIES`]; the rule is `src/browser.js`'s) and `options.getToken`; any may be absent, as
    /// may `options`.
    pub fn from_options(
        info: &'static ProviderInfo,
        options: &JsValue,
    ) -> Result<Self, ClientError> {
        let base = js::get(options, "baseUrl");
        let base_url = if js::is_absent(&base) {
            "/api".to_owned()
        } else {
            base.as_string()
                .filter(|b| !b.trim().is_empty())
                .ok_or_else(|| {
                    ClientError::invalid_field(
                        "baseUrl",
                        "baseUrl must be a non-empty string such as \"/api\"",
                    )
                })?
        };
        let timeout = js::get(options, "timeoutMs");
        let (timeout_ms, submit_timeout_ms) = if js::is_absent(&timeout) {
            (DEFAULT_TIMEOUT_MS, default_submit_timeout_ms(info))
        } else {
            let ms = timeout
                .as_f64()
                .filter(|ms| ms.is_finite() && *ms > 0.0)
                .ok_or_else(|| {
                    ClientError::invalid_field(
                        "timeoutMs",
                        "timeoutMs must be a number of milliseconds above 0",
                    )
                })?;
            (ms, ms)
        };
        let retries = js::get(options, "retries");
        let retries = if js::is_absent(&retries) {
            DEFAULT_RETRIES
        } else {
            match retries.as_f64() {
                Some(n)
                    if faceswap_core::float::fract(n) == 0.0
                        && (0.0..=f64::from(MAX_RETRIES)).contains(&n) =>
                {
                    n as u32
                }
                _ => {
                    return Err(ClientError::invalid_field(
                        "retries",
                        "retries must be a whole number from 0 to 10 (0: no retries)",
                    ))
                }
            }
        };
        let get_token = js::get(options, "getToken");
        let get_token = if js::is_absent(&get_token) {
            None
        } else {
            Some(get_token.dyn_into::<Function>().map_err(|_| {
                ClientError::invalid_field(
                    "getToken",
                    "getToken must be a function that gives the app's token for each request",
                )
            })?)
        };
        Ok(Self {
            http: Http::new(&base_url, timeout_ms, retries, get_token),
            submit_timeout_ms,
            provider: info.id,
        })
    }

    /// The options of an equal client (`baseUrl`, `timeoutMs`, `retries`, `getToken`), for the
    /// media helpers' module, which makes its own for `buildRefInfo`.
    pub fn options(&self) -> JsValue {
        let options = Object::new();
        let base = self.http.base_url();
        let base = if base.is_empty() { "/" } else { base };
        js::set(&options, "baseUrl", &JsValue::from_str(base));
        js::set(
            &options,
            "timeoutMs",
            &JsValue::from_f64(self.http.timeout_ms()),
        );
        js::set(&options, "retries", &JsValue::from(self.http.retries()));
        if let Some(get_token) = self.http.get_token() {
            js::set(&options, "getToken", get_token);
        }
        options.into()
    }

    /// The provider's id (`aifaceswap`).
    pub fn provider(&self) -> &'static str {
        self.provider
    }

    /// The HTTP side: base URL and default time limit.
    pub fn http(&self) -> &Http {
        &self.http
    }

    /// The path of task `task_id`, already percent-encoded; `/events` appended for its stream.
    pub fn task_path(&self, task_id: &str) -> String {
        let id = String::from(js_sys::encode_uri_component(task_id));
        task_path(self.provider, &id)
    }

    /// POSTs a JSON object built from `(field, value)` pairs to `operation`'s route and returns
    /// the proxy's answer.
    pub async fn submit_json(
        &self,
        operation: &OperationSpec,
        fields: &[(&str, JsValue)],
        options: &CallOptions,
    ) -> Result<JsValue, ClientError> {
        let object = Object::new();
        for (name, value) in fields {
            js::set(&object, name, value);
        }
        self.submit_body(operation, object, options).await
    }

    /// POSTs `body` as JSON to `operation`'s route and returns the proxy's answer.
    pub async fn submit_body(
        &self,
        operation: &OperationSpec,
        body: Object,
        options: &CallOptions,
    ) -> Result<JsValue, ClientError> {
        let text = JSON::stringify(&body)
            .map(String::from)
            .map_err(|_| ClientError::internal("the request cannot be written as JSON"))?;
        self.submit(operation, Body::Json(text), options).await
    }

    /// POSTs a multipart form to `operation`'s route and returns the proxy's answer.
    pub async fn submit_form(
        &self,
        operation: &OperationSpec,
        form: FormData,
        options: &CallOptions,
    ) -> Result<JsValue, ClientError> {
        self.submit(operation, Body::Form(form), options).await
    }

    async fn submit(
        &self,
        operation: &OperationSpec,
        body: Body,
        options: &CallOptions,
    ) -> Result<JsValue, ClientError> {
        let mut call = Call::post(
            faceswap_core::text!("/", self.provider, "/", operation.route),
            body,
        );
        call.signal = options.signal.as_ref();
        call.idempotency_key = Some(options.idempotency_key.clone());
        call.timeout_ms = Some(self.submit_timeout_ms);
        self.http.json(call).await
    }

    /// Stores `blob` on the proxy; resolves `{ url, size, contentType }`.
    pub async fn upload(
        &self,
        blob: &Blob,
        signal: Option<&AbortSignal>,
    ) -> Result<JsValue, ClientError> {
        crate::upload::upload_blob(&self.http, blob, signal).await
    }

    /// `upload(file, options)` of every client class: `file` must be a Blob (or File).
    pub async fn upload_call(
        &self,
        file: JsValue,
        options: &JsValue,
    ) -> Result<JsValue, ClientError> {
        let blob: Blob = wasm_bindgen::JsCast::dyn_into(file)
            .map_err(|_| ClientError::invalid_field("file", "file must be a Blob or File"))?;
        let signal = js::signal_option(options);
        self.upload(&blob, signal.as_ref()).await
    }

    /// Follows task `task_id` until it ends (see [`crate::wait`]).
    pub async fn wait_for_result(
        &self,
        task_id: &JsValue,
        options: &JsValue,
    ) -> Result<JsValue, ClientError> {
        crate::wait::wait_for_result(self, task_id, options).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_provider_follows_its_tasks_on_its_own_routes() {
        assert_eq!(task_path("aifaceswap", "t%2F1"), "/aifaceswap/tasks/t%2F1");
        assert_eq!(task_path("piapi", "t1"), "/piapi/tasks/t1");
    }
}
