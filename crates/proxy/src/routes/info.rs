//! `GET /healthz`, `GET /api/config` and the JSON 404 of unknown `/api` paths.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use faceswap_core::aifaceswap::PROVIDER;
use serde_json::{json, Value};

use crate::limits::Admitted;
use crate::{AppError, AppState};

/// 200 when the store answers, 503 otherwise.
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ok" }))),
        Err(err) => {
            tracing::error!(error = %err, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable" })),
            )
        }
    }
}

/// What the demo page may know: the mode and the provider, never the key.
pub async fn config(State(state): State<AppState>, _: Admitted) -> Json<Value> {
    let mode = if state.config.sandbox_mode() {
        "sandbox"
    } else {
        "provider"
    };
    Json(json!({ "mode": mode, "provider": PROVIDER.id }))
}

/// Any other `/api` path.
pub async fn api_not_found(_: Admitted) -> AppError {
    AppError::not_found("no such API route")
}
