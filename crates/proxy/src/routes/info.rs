//! `GET /healthz`, `GET /api/config` and the JSON 404 of unknown `/api` paths.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use faceswap_core::aifaceswap::PROVIDER as AIFACESWAP;
use serde::Serialize;
use serde_json::{json, Value};

use crate::limits::Admitted;
use crate::providers::Mode;
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

/// `GET /api/config`: what the demo page may know, never a key.
#[derive(Debug, Serialize)]
pub struct PublicConfig {
    /// aifaceswap's mode in the first version's words: `sandbox` or `provider`.
    pub mode: &'static str,
    /// The first version's one provider, `aifaceswap`.
    pub provider: &'static str,
    /// Every provider served.
    pub providers: Vec<PublicProvider>,
}

/// One provider in `/api/config`.
#[derive(Debug, Serialize)]
pub struct PublicProvider {
    /// Its id.
    pub id: &'static str,
    /// `sandbox` or `live`.
    pub mode: Mode,
    /// Its operations, named as the library's methods.
    pub operations: Vec<&'static str>,
}

/// The mode and the providers, never a key.
pub async fn config(State(state): State<AppState>, _: Admitted) -> Json<PublicConfig> {
    let providers: Vec<PublicProvider> = state
        .providers
        .iter()
        .map(|provider| PublicProvider {
            id: provider.id(),
            mode: provider.mode,
            operations: provider
                .adapter
                .operations()
                .iter()
                .map(|op| op.js_name)
                .collect(),
        })
        .collect();
    let aifaceswap_live = providers
        .iter()
        .any(|p| p.id == AIFACESWAP.id && p.mode == Mode::Live);
    Json(PublicConfig {
        mode: if aifaceswap_live {
            "provider"
        } else {
            "sandbox"
        },
        provider: AIFACESWAP.id,
        providers,
    })
}

/// Any other `/api` path.
pub async fn api_not_found(_: Admitted) -> AppError {
    AppError::not_found("no such API route")
}
