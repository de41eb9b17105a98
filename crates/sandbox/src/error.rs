//! Errors in the provider's envelope: `{"code":400,"message":"...","extra_data":{"field":"index"}}`,
//! with the same number as the HTTP status.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use faceswap_core::aifaceswap::Envelope;
use faceswap_core::FieldError;
use serde_json::{json, Value};

/// An API error answered in the provider's envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status, also the envelope's `code`.
    pub status: StatusCode,
    /// What went wrong, for a person.
    pub message: String,
    /// The request field at fault, if one is.
    pub field: Option<String>,
    /// Seconds for `Retry-After` (429).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with `status` and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    /// 400 about one field.
    pub fn field(err: FieldError) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: err.message,
            field: Some(err.field),
            retry_after: None,
        }
    }

    /// 401: missing or wrong Bearer key.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "missing or invalid API key: send Authorization: Bearer <key>",
        )
    }

    /// 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 500 that says nothing internal.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error in the sandbox",
        )
    }
}

impl From<FieldError> for ApiError {
    fn from(err: FieldError) -> Self {
        Self::field(err)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut envelope = Envelope::<Value>::error(i64::from(self.status.as_u16()), self.message);
        if let Some(field) = self.field {
            envelope.extra_data = Some(json!({ "field": field }));
        }
        let mut response = (self.status, Json(envelope)).into_response();
        if let Some(secs) = self.retry_after {
            if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}
