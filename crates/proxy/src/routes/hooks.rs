//! `POST /hooks/aifaceswap/{token}`: the provider's callback. The token is looked up by its hash;
//! an unknown token, or a callback about another task than the token's, gets 404 and changes
//! nothing. A repeated or late delivery changes nothing either. Tokens never reach a log.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use bytes::Bytes;
use faceswap_core::aifaceswap::WebhookCallback;
use serde_json::{json, Value};

use crate::routes::now_ms;
use crate::store::Delivery;
use crate::tokens::{hash, looks_like_token};
use crate::{AppError, AppState};

/// Stores the callback and wakes the task's streams.
pub async fn webhook(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), AppError> {
    if !looks_like_token(&token) {
        return Err(AppError::not_found("unknown webhook"));
    }
    let token_hash = hash(&token);
    let callback = match WebhookCallback::from_json(&body) {
        Ok(callback) => callback,
        Err(err) => {
            if state.store.token_exists(&token_hash).await? {
                return Err(err.into());
            }
            return Err(AppError::not_found("unknown webhook"));
        }
    };
    let delivery = state
        .store
        .deliver(&token_hash, &callback, now_ms())
        .await?;
    let outcome = match &delivery {
        Delivery::UnknownToken => "unknown token",
        Delivery::WrongTask => "task mismatch",
        Delivery::Held => "held until the submit answers",
        Delivery::Applied(_) => "applied",
        Delivery::Unchanged(_) => "unchanged",
    };
    tracing::info!(task_id = ?callback.task_id, success = callback.success, outcome, "webhook");
    match delivery {
        Delivery::UnknownToken | Delivery::WrongTask => Err(AppError::not_found("unknown webhook")),
        Delivery::Held | Delivery::Applied(_) | Delivery::Unchanged(_) => Ok((
            StatusCode::OK,
            Json(json!({ "code": 200, "message": "OK" })),
        )),
    }
}
