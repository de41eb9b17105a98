//! How the provider's answer is judged: its JSON body unchanged on success, otherwise the
//! [`AppError`] for the fault (429 with its `Retry-After`, 5xx, redirects, refusals), with the
//! provider's message shortened and the key removed.

use axum::http::{header, HeaderMap, StatusCode};
use bytes::Bytes;
use secrecy::{ExposeSecret, SecretString};

use crate::AppError;

/// The provider's answer as the browser's result or an [`AppError`].
pub fn judge(
    status: StatusCode,
    headers: &HeaderMap,
    body: Bytes,
    api_key: Option<&SecretString>,
) -> Result<Bytes, AppError> {
    let retry_after = headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if status.is_redirection() {
        return Err(AppError::UpstreamError(format!(
            "the provider answered with a redirect ({}), which is never followed",
            status.as_u16()
        )));
    }
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
                provider_message(&body, api_key)
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            )),
        });
    }
    if !status.is_success() {
        return Err(client_error(
            status.as_u16(),
            provider_message(&body, api_key),
        ));
    }
    let envelope: EnvelopeCode = serde_json::from_slice(&body).map_err(|_| {
        AppError::UpstreamError("the provider answered with something other than JSON".into())
    })?;
    match envelope.code {
        Some(200) | None => Ok(body),
        Some(429) => Err(rate_limited(retry_after)),
        Some(code) => Err(client_error(
            u16::try_from(code).unwrap_or(0),
            provider_message(&body, api_key),
        )),
    }
}

/// The provider's `message`, shortened and with the key removed, for an error body.
fn provider_message(body: &[u8], api_key: Option<&SecretString>) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let message = value.get("message")?.as_str()?;
    let mut message: String = message.chars().take(200).collect();
    if let Some(key) = api_key {
        let key = key.expose_secret();
        if !key.is_empty() {
            message = message.replace(key, "[redacted]");
        }
    }
    Some(message).filter(|m| !m.trim().is_empty())
}

/// The error of an answer longer than the proxy reads.
pub fn too_large() -> AppError {
    AppError::UpstreamError("the provider's answer is too large".into())
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
