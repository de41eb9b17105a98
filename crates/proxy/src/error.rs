//! The one error type of every handler, rendered as the JSON error body
//! `{"code","error","message","field"?,"provider_code"?}`. 5xx bodies never say anything internal.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use faceswap_core::provider::{BuildError, ProviderFault};
use faceswap_core::{ErrorCode, FieldError};
use serde::Serialize;

use crate::store::StoreError;

/// Everything a request can fail with.
#[derive(Debug)]
pub enum AppError {
    /// One input is wrong; the body names the field.
    InvalidParameter(FieldError),
    /// No such route, operation, task, upload or webhook token.
    NotFound(String),
    /// A callback without its task's secret.
    Unauthorized(String),
    /// A spending request from a browser page of another origin, or a request for a host this
    /// proxy does not answer for.
    Forbidden {
        /// Why.
        message: String,
        /// The header at fault (`Host`), where one is.
        field: Option<String>,
    },
    /// The body or a file is larger than allowed.
    PayloadTooLarge {
        /// What went over the limit.
        message: String,
        /// The field at fault, when a form field was.
        field: Option<String>,
    },
    /// The file is not jpeg, png, webp, mp4, webm or mov (or not the kind the field wants).
    UnsupportedMediaType {
        /// What was wrong.
        message: String,
        /// The field at fault, when a form field was.
        field: Option<String>,
    },
    /// Too many requests, from the client or relayed from the provider.
    RateLimited {
        /// Seconds to wait, sent as `Retry-After`.
        retry_after_secs: u64,
        /// Who limited.
        message: String,
        /// The provider's own word for it, when the provider limited and gave one.
        provider_code: Option<String>,
    },
    /// The client's credit budget for the hour is spent.
    SpendCapExceeded {
        /// Seconds until enough budget frees up, sent as `Retry-After`.
        retry_after_secs: u64,
        /// The budget and the cost.
        message: String,
    },
    /// The same `Idempotency-Key` with another body, or while the first is still running.
    IdempotencyConflict(String),
    /// The provider answered with an error.
    UpstreamError(String),
    /// The provider refused the request; its meaning is kept (`provider_code`, `field`).
    Provider(ProviderFault),
    /// The provider could not be reached.
    UpstreamUnavailable,
    /// The provider did not answer in time.
    UpstreamTimeout,
    /// A failure inside the proxy; logged (without secrets), never shown.
    Internal(InternalError),
    /// The limits shared by several proxies could not be counted (their database does not
    /// answer): 503 `internal`, the request refused rather than let through uncounted.
    LimitsUnavailable(StoreError),
}

/// What failed inside the proxy. Logged, never shown to a browser.
#[derive(Debug, thiserror::Error)]
pub enum InternalError {
    /// The task store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The system had no randomness for a token.
    #[error("no randomness: {0}")]
    Random(#[from] getrandom::Error),
    /// An adapter could not build an upstream request.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// Reading or writing a spooled or uploaded file failed.
    #[error("file system: {0}")]
    Io(#[from] std::io::Error),
    /// An upload could not be moved into place.
    #[error("upload persist: {0}")]
    Persist(#[from] tempfile::PathPersistError),
    /// The upload store failed.
    #[error(transparent)]
    Uploads(#[from] crate::upload_store::UploadStoreError),
    /// An adapter named a form file the browser did not send.
    #[error("no spooled file for {0}")]
    MissingFile(String),
    /// An upstream form part could not be built.
    #[error("upstream form: {0}")]
    Form(#[from] reqwest::Error),
    /// A layer answered with a bare server error.
    #[error("a layer answered {0} without a body")]
    Bare(StatusCode),
}

/// Every internal failure converts into [`AppError::Internal`].
macro_rules! internal_from {
    ($($source:ty),*) => {$(
        impl From<$source> for AppError {
            fn from(err: $source) -> Self {
                AppError::Internal(InternalError::from(err))
            }
        }
    )*};
}

internal_from!(
    StoreError,
    getrandom::Error,
    BuildError,
    std::io::Error,
    tempfile::PathPersistError,
    reqwest::Error,
    crate::upload_store::UploadStoreError
);

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: u16,
    error: &'static str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    provider_code: Option<&'a str>,
}

impl AppError {
    /// The error word and status of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::InvalidParameter(_) => ErrorCode::InvalidParameter,
            AppError::NotFound(_) => ErrorCode::NotFound,
            AppError::Unauthorized(_) => ErrorCode::Unauthorized,
            AppError::Forbidden { .. } => ErrorCode::Forbidden,
            AppError::PayloadTooLarge { .. } => ErrorCode::PayloadTooLarge,
            AppError::UnsupportedMediaType { .. } => ErrorCode::UnsupportedMediaType,
            AppError::RateLimited { .. } => ErrorCode::RateLimited,
            AppError::SpendCapExceeded { .. } => ErrorCode::SpendCapExceeded,
            AppError::IdempotencyConflict(_) => ErrorCode::IdempotencyConflict,
            AppError::UpstreamError(_) => ErrorCode::UpstreamError,
            AppError::Provider(fault) => fault.kind.error_code(),
            AppError::UpstreamUnavailable => ErrorCode::UpstreamUnavailable,
            AppError::UpstreamTimeout => ErrorCode::UpstreamTimeout,
            AppError::Internal(_) | AppError::LimitsUnavailable(_) => ErrorCode::Internal,
        }
    }

    /// A `not_found` error with a message.
    pub fn not_found(message: impl Into<String>) -> Self {
        AppError::NotFound(message.into())
    }

    /// A `payload_too_large` error about the whole body.
    pub fn too_large(message: impl Into<String>) -> Self {
        AppError::PayloadTooLarge {
            message: message.into(),
            field: None,
        }
    }

    pub(crate) fn message(&self) -> &str {
        match self {
            AppError::InvalidParameter(err) => &err.message,
            AppError::NotFound(m)
            | AppError::Unauthorized(m)
            | AppError::Forbidden { message: m, .. }
            | AppError::PayloadTooLarge { message: m, .. }
            | AppError::UnsupportedMediaType { message: m, .. }
            | AppError::RateLimited { message: m, .. }
            | AppError::SpendCapExceeded { message: m, .. }
            | AppError::IdempotencyConflict(m)
            | AppError::UpstreamError(m) => m,
            AppError::Provider(fault) => &fault.message,
            AppError::UpstreamUnavailable => "the provider could not be reached; try again later",
            AppError::UpstreamTimeout => "the provider did not answer in time; try again later",
            AppError::Internal(_) => "internal error",
            AppError::LimitsUnavailable(_) => {
                "the usage limits cannot be checked right now; nothing was spent, try again later"
            }
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            AppError::InvalidParameter(err) => Some(&err.field),
            AppError::PayloadTooLarge { field, .. }
            | AppError::UnsupportedMediaType { field, .. }
            | AppError::Forbidden { field, .. } => field.as_deref(),
            AppError::Provider(fault) => fault.field.as_deref(),
            _ => None,
        }
    }

    fn provider_code(&self) -> Option<&str> {
        match self {
            AppError::Provider(fault) => fault.provider_code.as_deref(),
            AppError::RateLimited { provider_code, .. } => provider_code.as_deref(),
            _ => None,
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::RateLimited {
                retry_after_secs, ..
            }
            | AppError::SpendCapExceeded {
                retry_after_secs, ..
            } => Some((*retry_after_secs).max(1)),
            _ => None,
        }
    }
}

impl From<FieldError> for AppError {
    fn from(err: FieldError) -> Self {
        AppError::InvalidParameter(err)
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl std::error::Error for AppError {}

impl AppError {
    /// The HTTP status of this error's answer.
    fn status(&self) -> StatusCode {
        match self {
            AppError::LimitsUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::from_u16(self.code().http_status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        }
    }

    /// The JSON error shape of this error's answer.
    fn body(&self, status: StatusCode) -> ErrorBody<'_> {
        ErrorBody {
            code: status.as_u16(),
            error: self.code().as_str(),
            message: self.message(),
            field: self.field(),
            provider_code: self.provider_code(),
        }
    }

    /// This error's answer (status and JSON body) as an idempotency key keeps it for replay.
    pub fn stored_answer(&self) -> (u16, Vec<u8>) {
        let status = self.status();
        let body = serde_json::to_vec(&self.body(status)).unwrap_or_default();
        (status.as_u16(), body)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match &self {
            AppError::Internal(detail) => tracing::error!(detail = %detail, "internal error"),
            AppError::LimitsUnavailable(detail) => {
                tracing::error!(detail = %detail, "shared limits unavailable")
            }
            _ => {}
        }
        let status = self.status();
        let body = self.body(status);
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        if let Some(secs) = self.retry_after() {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// Turns the bare error answers of layers and of axum itself (413 from the body limit, 404/405
/// from routing) into the JSON error shape, keeping their other headers (CORS, `Vary`, `Allow`);
/// JSON answers pass untouched.
pub async fn json_error_bodies(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    let error = match status {
        StatusCode::RANGE_NOT_SATISFIABLE => return response,
        StatusCode::PAYLOAD_TOO_LARGE => {
            AppError::too_large("the request body is larger than allowed")
        }
        StatusCode::REQUEST_TIMEOUT => AppError::UpstreamTimeout,
        StatusCode::METHOD_NOT_ALLOWED => AppError::not_found("no such route for this method"),
        StatusCode::NOT_FOUND => AppError::not_found("not found"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::UnsupportedMediaType {
            message: "unsupported content type".into(),
            field: None,
        },
        s if s.is_server_error() => AppError::Internal(InternalError::Bare(s)),
        _ => AppError::InvalidParameter(FieldError::new("body", "the request is malformed")),
    };
    let mut replacement = error.into_response();
    let mut kept: Option<header::HeaderName> = None;
    for (name, value) in response.into_parts().0.headers {
        // `None` continues the values of the previous name.
        if let Some(name) = name {
            kept = Some(name);
        }
        match &kept {
            Some(name) if *name != header::CONTENT_TYPE && *name != header::CONTENT_LENGTH => {
                replacement.headers_mut().append(name.clone(), value);
            }
            _ => {}
        }
    }
    replacement
}
