//! `POST /hooks/{provider}/{token}`: a provider's callback. The token is looked up by its hash;
//! an unknown token, a token of another provider, or a callback about another task than the
//! token's gets 404 and changes nothing. Where the provider echoes a per-task secret, a callback
//! without it (or with a wrong one) gets 401 and changes nothing. A repeated or late delivery
//! changes nothing either; an accepted callback (applied, held or repeated) gets the answer its
//! provider declares (`ProviderInfo::callback_ack`). The adapter reads the body and the request's
//! headers (those whose value is text). Tokens and secrets never reach a log.
//!
//! Order of work: the sender's rate (generous: one provider address calls back for many tasks),
//! then the token and its secret, and only then is the body read (at most `JSON_MAX_BYTES`), so
//! a caller without a valid token costs no body read.

use axum::body::to_bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use faceswap_core::provider::CallbackAck;
use serde_json::Value;

use crate::limits::AdmittedProviderTraffic;
use crate::routes::{checked_update, now_ms};
use crate::store::{Delivery, TokenRecord};
use crate::telemetry;
use crate::tokens::{hash, hashes_match, looks_like_token};
use crate::{AppError, AppState};

fn unknown() -> AppError {
    AppError::not_found("unknown webhook")
}

/// Stores the callback's update and wakes the task's streams; counts it, accepted or refused.
pub async fn callback(
    State(state): State<AppState>,
    _: AdmittedProviderTraffic,
    Path((provider_id, token)): Path<(String, String)>,
    request: Request,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let served = state.providers.get(&provider_id).map(|p| p.id());
    let answer = receive(&state, &provider_id, &token, request).await;
    telemetry::webhook(served, answer.is_ok());
    answer
}

async fn receive(
    state: &AppState,
    provider_id: &str,
    token: &str,
    request: Request,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let provider = state.provider(provider_id).map_err(|_| unknown())?;
    if !looks_like_token(token) {
        return Err(unknown());
    }
    let token_hash = hash(token);
    let record = match state.store.token(&token_hash).await? {
        Some(record) if record.provider == provider.id() => record,
        _ => return Err(unknown()),
    };
    check_secret(
        provider.adapter.info().callback_secret_header,
        &record,
        request.headers(),
    )?;
    let limit = usize::try_from(state.config.limits.json_max_bytes).unwrap_or(usize::MAX);
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    let body = to_bytes(request.into_body(), limit).await.map_err(|_| {
        AppError::too_large(format!(
            "the callback body is larger than {limit} bytes or was cut off"
        ))
    })?;
    let update = checked_update(
        provider.id(),
        provider.adapter.read_callback(&body, &borrowed(&headers))?,
    );
    let delivery = state.store.deliver(&token_hash, &update, now_ms()).await?;
    let outcome = match &delivery {
        Delivery::UnknownToken => "unknown token",
        Delivery::WrongTask => "task mismatch",
        Delivery::Held => "held until the submit answers",
        Delivery::Applied(_) => "applied",
        Delivery::Unchanged(_) => "unchanged",
    };
    tracing::info!(provider = provider.id(), task_id = ?update.task_id, status = %update.status, outcome, "callback");
    if let Delivery::Applied(view) = &delivery {
        telemetry::task_finished(provider.id(), view.status);
    }
    match delivery {
        Delivery::UnknownToken | Delivery::WrongTask => Err(unknown()),
        Delivery::Held | Delivery::Applied(_) | Delivery::Unchanged(_) => {
            Ok(acknowledgement(provider.adapter.info().callback_ack))
        }
    }
}

/// The headers as the adapter reads them ([`faceswap_core::provider::CallbackHeaders`]).
fn borrowed(headers: &[(String, String)]) -> Vec<(&str, &str)> {
    headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect()
}

/// The answer the provider declares for an accepted callback.
fn acknowledgement(ack: CallbackAck) -> (StatusCode, Json<Value>) {
    let status = StatusCode::from_u16(ack.status).unwrap_or(StatusCode::OK);
    let body = serde_json::from_str(ack.body).unwrap_or(Value::Null);
    (status, Json(body))
}

/// A provider with a per-task secret must echo the token's secret in its header.
fn check_secret(
    header: Option<&'static str>,
    record: &TokenRecord,
    headers: &HeaderMap,
) -> Result<(), AppError> {
    let (Some(header), Some(expected)) = (header, &record.secret_hash) else {
        return Ok(());
    };
    let presented = headers
        .get(header)
        .and_then(|value| value.to_str().ok())
        .map(hash);
    match presented {
        Some(presented) if hashes_match(&presented, expected) => Ok(()),
        _ => Err(AppError::Unauthorized(
            "the callback does not carry its task's secret".into(),
        )),
    }
}
