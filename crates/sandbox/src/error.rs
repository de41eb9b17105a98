//! The sandbox's error answer: `{"code":400,"message":"...","extra_data":{"field":"index"}}`, with
//! the same number as the HTTP status. It is aifaceswap's error envelope, which the sandbox's own
//! routes (`/__sandbox/`, unknown paths) use too; a provider whose errors look different converts
//! an [`ApiError`] into its own shape in its module.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use faceswap_core::FieldError;
use serde::Serialize;

use crate::engine::fetch::FetchError;
use crate::faults::Injected;

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status, also the answer's `code`.
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

    /// The same error, blaming `field`.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// 400 about one field.
    pub fn field(err: FieldError) -> Self {
        Self::new(StatusCode::BAD_REQUEST, err.message).with_field(err.field)
    }

    /// 401: missing or wrong key; `how` says how to send it.
    pub fn unauthorized(how: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            format!("missing or invalid API key: send {how}"),
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

    /// The answer for an injected fault, or `None` when the call goes ahead.
    pub fn injected(injected: Injected) -> Option<Self> {
        match injected {
            Injected::None => None,
            Injected::RateLimited(secs) => Some(Self {
                retry_after: Some(secs),
                ..Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too many requests; retry later",
                )
            }),
            Injected::ServerError(status) => Some(Self::new(
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                "the sandbox is failing on purpose (error_next fault knob)",
            )),
            Injected::Refused => Some(Self::forbidden(
                "the content is refused (refuse_next fault knob)",
            )),
        }
    }
}

impl From<FieldError> for ApiError {
    fn from(err: FieldError) -> Self {
        Self::field(err)
    }
}

impl From<FetchError> for ApiError {
    fn from(err: FetchError) -> Self {
        Self::field(err.into())
    }
}

/// The JSON body of an error answer.
#[derive(Serialize)]
struct Body<'a> {
    code: u16,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    extra_data: Option<Extra<'a>>,
}

#[derive(Serialize)]
struct Extra<'a> {
    field: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            code: self.status.as_u16(),
            message: &self.message,
            extra_data: self.field.as_deref().map(|field| Extra { field }),
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_the_envelope_shape() {
        let body = Body {
            code: 400,
            message: "bad",
            extra_data: Some(Extra { field: "index" }),
        };
        assert_eq!(
            serde_json::to_string(&body).ok().as_deref(),
            Some(r#"{"code":400,"message":"bad","extra_data":{"field":"index"}}"#)
        );
        let body = Body {
            code: 404,
            message: "no",
            extra_data: None,
        };
        assert_eq!(
            serde_json::to_string(&body).ok().as_deref(),
            Some(r#"{"code":404,"message":"no"}"#)
        );
    }
}
