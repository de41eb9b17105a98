//! AceData's answers in the sandbox: the result `{image_url, image_width, image_height,
//! image_size, task_id}` and the error envelope `{"success":false,"error":{"code","message"},
//! "trace_id"}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use faceswap_core::MediaType;
use serde_json::{json, Value};

use super::task_error;
use crate::engine::tasks::TaskError;
use crate::error::ApiError;
use crate::state::SandboxState;

/// AceData's error word for an error answer of this status.
pub fn error_code(err: &ApiError) -> &'static str {
    match err.status {
        StatusCode::UNAUTHORIZED => "invalid_token",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::TOO_MANY_REQUESTS => "too_many_requests",
        StatusCode::GATEWAY_TIMEOUT => "timeout",
        status if status.is_server_error() => "api_error",
        _ => "bad_request",
    }
}

/// An [`ApiError`] in AceData's envelope, with a fresh `trace_id`.
pub fn error_answer(err: &ApiError) -> Response {
    let trace_id = crate::engine::tasks::new_task_id().unwrap_or_default();
    let body = json!({
        "success": false,
        "error": { "code": error_code(err), "message": err.message },
        "trace_id": trace_id,
    });
    let mut response = (err.status, Json(body)).into_response();
    if let Some(secs) = err.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

/// The finished task as AceData reports it, or the error it answers.
pub async fn result(
    state: &SandboxState,
    task_id: &str,
    outcome: Result<String, TaskError>,
) -> Result<Value, ApiError> {
    let image_url = outcome.map_err(|err| task_error(&err))?;
    let path = state.store().path(task_id, MediaType::Png);
    let bytes = tokio::fs::read(&path).await.map_err(|err| {
        tracing::error!(%task_id, "the stored result is unreadable: {err}");
        ApiError::internal()
    })?;
    let (width, height) = image::ImageReader::new(std::io::Cursor::new(&bytes))
        .with_guessed_format()
        .ok()
        .and_then(|reader| reader.into_dimensions().ok())
        .ok_or_else(|| {
            tracing::error!(%task_id, "the stored result is not an image");
            ApiError::internal()
        })?;
    Ok(json!({
        "image_url": image_url,
        "image_width": width,
        "image_height": height,
        "image_size": bytes.len(),
        "task_id": task_id,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_become_acedatas_words() {
        let word = |status: StatusCode| error_code(&ApiError::new(status, "x"));
        assert_eq!(word(StatusCode::UNAUTHORIZED), "invalid_token");
        assert_eq!(word(StatusCode::FORBIDDEN), "forbidden");
        assert_eq!(word(StatusCode::TOO_MANY_REQUESTS), "too_many_requests");
        assert_eq!(word(StatusCode::INTERNAL_SERVER_ERROR), "api_error");
        assert_eq!(word(StatusCode::BAD_GATEWAY), "api_error");
        assert_eq!(word(StatusCode::GATEWAY_TIMEOUT), "timeout");
        assert_eq!(word(StatusCode::BAD_REQUEST), "bad_request");
        // Every documented code the sandbox answers is one core reads.
        for status in [401, 403, 429, 500, 504] {
            let code = word(StatusCode::from_u16(status).unwrap_or(StatusCode::OK));
            assert!(
                faceswap_core::acedata::ERROR_CODES
                    .iter()
                    .any(|(known, _)| *known == code),
                "{code}"
            );
        }
    }
}
