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
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Err(AppError::RateLimited {
            retry_after_secs: retry_after.unwrap_or(DEFAULT_RETRY_AFTER_SECS),
            message: "the provider is rate limiting requests; try again later".into(),
        });
    }
    if matches!(
        status,
        StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT
    ) {
        return Err(AppError::UpstreamUnavailable);
    }
    if status.is_server_error() {
        // The provider's own failure is never the browser's fault.
        return Err(AppError::UpstreamError(format!(
            "the provider failed (HTTP {})",
            status.as_u16()
        )));
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
    if fault.kind == FaultKind::RateLimited {
        return AppError::RateLimited {
            retry_after_secs: retry_after.unwrap_or(DEFAULT_RETRY_AFTER_SECS),
            message: fault.message,
        };
    }
    AppError::Provider(fault)
}
