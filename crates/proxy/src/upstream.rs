//! The one way out to the provider: a fixed operation path under a base URL, the key as
//! `Authorization: Bearer`, no browser header, no redirects, a timeout, and no retry.
//! Base URL and key are plain inputs, so the real provider, the built-in sandbox and a test's fake
//! provider go through the same code.

use axum::http::StatusCode;
use bytes::Bytes;
use faceswap_core::aifaceswap::Operation;
use faceswap_core::provider::ProviderOperation;
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;

use crate::AppError;

/// Where the provider is and the key it wants.
#[derive(Clone)]
pub struct UpstreamTarget {
    /// Base URL, for example `https://aifaceswap.io`.
    pub base_url: String,
    /// The key sent as `Authorization: Bearer KEY`; `None` sends no Authorization.
    pub api_key: Option<SecretString>,
}

impl std::fmt::Debug for UpstreamTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamTarget")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// A request body for the provider.
pub enum UpstreamBody {
    /// A JSON body (already validated and re-serialised by faceswap-core).
    Json(Vec<u8>),
    /// A multipart form (the file forms of faceswap and extract_face), streamed from disk.
    Form(reqwest::multipart::Form),
}

/// The provider client.
#[derive(Debug, Clone)]
pub struct Upstream {
    client: reqwest::Client,
    target: UpstreamTarget,
}

/// Longest provider answer read, in bytes.
const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;

impl Upstream {
    /// A client for `target` whose calls give up after `timeout`.
    pub fn new(target: UpstreamTarget, timeout: Duration) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // A submit spends credits: never sent twice, not even after a protocol-level refusal.
            .retry(reqwest::retry::never())
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(256)
            .user_agent(concat!("faceswap-proxy/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client, target })
    }

    /// The base URL calls go to.
    pub fn base_url(&self) -> &str {
        &self.target.base_url
    }

    /// Calls `op` once. On success returns the provider's JSON body unchanged; every fault is
    /// mapped to an [`AppError`] (429 with its `Retry-After`, 5xx, timeouts, redirects).
    pub async fn call(&self, op: Operation, body: UpstreamBody) -> Result<Bytes, AppError> {
        let url = format!(
            "{}/{}",
            self.target.base_url.trim_end_matches('/'),
            op.upstream_path()
        );
        let mut request = self
            .client
            .post(url)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(key) = &self.target.api_key {
            let mut value =
                reqwest::header::HeaderValue::try_from(format!("Bearer {}", key.expose_secret()))
                    .map_err(|_| AppError::Internal("the API key is not a valid header".into()))?;
            value.set_sensitive(true);
            request = request.header(reqwest::header::AUTHORIZATION, value);
        }
        request = match body {
            UpstreamBody::Json(json) => request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(json),
            UpstreamBody::Form(form) => request.multipart(form),
        };
        let response = request.send().await.map_err(map_send_error)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if status.is_redirection() {
            return Err(AppError::UpstreamError(format!(
                "the provider answered with a redirect ({}), which is never followed",
                status.as_u16()
            )));
        }
        let body = read_limited(response).await?;
        let status = StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        let message = self.provider_message(&body);
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(rate_limited(retry_after));
        }
        if status.is_server_error() {
            return Err(match status {
                StatusCode::BAD_GATEWAY
                | StatusCode::SERVICE_UNAVAILABLE
                | StatusCode::GATEWAY_TIMEOUT => AppError::UpstreamUnavailable,
                _ => AppError::UpstreamError(format!(
                    "the provider failed (HTTP {}){}",
                    status.as_u16(),
                    message.map(|m| format!(": {m}")).unwrap_or_default()
                )),
            });
        }
        if !status.is_success() {
            return Err(client_error(status.as_u16(), message));
        }
        let envelope: EnvelopeCode = serde_json::from_slice(&body).map_err(|_| {
            AppError::UpstreamError("the provider answered with something other than JSON".into())
        })?;
        match envelope.code {
            Some(200) | None => Ok(body),
            Some(429) => Err(rate_limited(retry_after)),
            Some(code) => Err(client_error(
                u16::try_from(code).unwrap_or(0),
                self.provider_message(&body),
            )),
        }
    }

    /// The provider's `message`, shortened and with the key removed, for an error body.
    fn provider_message(&self, body: &[u8]) -> Option<String> {
        let value: serde_json::Value = serde_json::from_slice(body).ok()?;
        let message = value.get("message")?.as_str()?;
        let mut message: String = message.chars().take(200).collect();
        if let Some(key) = &self.target.api_key {
            let key = key.expose_secret();
            if !key.is_empty() {
                message = message.replace(key, "[redacted]");
            }
        }
        Some(message).filter(|m| !m.trim().is_empty())
    }
}

/// Only the envelope's `code`, read without building the whole JSON tree.
#[derive(serde::Deserialize)]
struct EnvelopeCode {
    #[serde(default)]
    code: Option<i64>,
}

fn rate_limited(retry_after: Option<u64>) -> AppError {
    AppError::RateLimited {
        retry_after_secs: retry_after.unwrap_or(60),
        message: "the provider is rate limiting requests; try again later".into(),
    }
}

fn client_error(code: u16, message: Option<String>) -> AppError {
    let what = match code {
        401 | 403 => "the provider refused the proxy's credentials".to_owned(),
        _ => format!("the provider rejected the request (code {code})"),
    };
    AppError::UpstreamError(match message {
        Some(m) => format!("{what}: {m}"),
        None => what,
    })
}

fn map_send_error(err: reqwest::Error) -> AppError {
    if err.is_timeout() {
        AppError::UpstreamTimeout
    } else {
        tracing::warn!(connect = err.is_connect(), "provider unreachable");
        AppError::UpstreamUnavailable
    }
}

async fn read_limited(mut response: reqwest::Response) -> Result<Bytes, AppError> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                    return Err(AppError::UpstreamError(
                        "the provider's answer is too large".into(),
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(Bytes::from(body)),
            Err(err) => return Err(map_send_error(err)),
        }
    }
}
