//! How a provider's answer is judged: what every provider shares (redirects, 429, 5xx) here, the
//! rest by its adapter; a provider's refusal becomes an [`AppError`] with its meaning kept
//! (`provider_code`) and the key removed from any message.

use axum::http::{header, StatusCode};
use bytes::Bytes;
use faceswap_core::provider::{Adapter, FaultKind, ProviderFault};

use super::{Answer, ProviderTarget};
use crate::AppError;

/// Seconds a client is asked to wait when the provider rate limits without saying how long.
const DEFAULT_RETRY_AFTER_SECS: u64 = 60;

/// The body of a successful (2xx) answer, or the error for a fault.
pub fn judge(
    answer: Answer,
    adapter: &dyn Adapter,
    target: &ProviderTarget,
) -> Result<Bytes, AppError> {
    let status = answer.status;
    let retry_after = answer
        .headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if status.is_success() {
        return Ok(answer.body);
    }
    if status.is_redirection() {
        return Err(AppError::UpstreamError(format!(
            "the provider answered with a redirect ({}), which is never followed",
            status.as_u16()
        )));
    }
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        // The status class decides the error word; the provider's own code, where its body
        // gives one, is kept (AceData's `timeout`, AIPhotoCraft's `rate_limit_exceeded`).
        let kind = match status {
            StatusCode::TOO_MANY_REQUESTS => FaultKind::RateLimited,
            StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT => FaultKind::Unavailable,
            _ => FaultKind::Upstream,
        };
        let read = adapter.read_error(status.as_u16(), &answer.body);
        let fault = match read.provider_code {
            Some(_) => ProviderFault { kind, ..read },
            None => ProviderFault::new(kind, generic_message(kind, status)),
        };
        return Err(fault_error(fault, retry_after, target));
    }
    let fault = adapter.read_error(status.as_u16(), &answer.body);
    Err(fault_error(fault, retry_after, target))
}

/// The error for a provider's refusal, its message without the key.
pub fn fault_error(
    fault: ProviderFault,
    retry_after: Option<u64>,
    target: &ProviderTarget,
) -> AppError {
    let fault = ProviderFault {
        message: target.redact(&fault.message),
        ..fault
    };
    match fault.kind {
        FaultKind::RateLimited => AppError::RateLimited {
            retry_after_secs: retry_after.unwrap_or(DEFAULT_RETRY_AFTER_SECS),
            message: fault.message,
            provider_code: fault.provider_code,
        },
        FaultKind::Unavailable if fault.provider_code.is_none() => AppError::UpstreamUnavailable,
        _ => AppError::Provider(fault),
    }
}

/// What the browser is told of a provider's 429 or 5xx whose body gives no code of its own.
fn generic_message(kind: FaultKind, status: StatusCode) -> String {
    match kind {
        FaultKind::RateLimited => "the provider is rate limiting requests; try again later".into(),
        // The provider's own failure is never the browser's fault.
        _ => format!("the provider failed (HTTP {})", status.as_u16()),
    }
}
