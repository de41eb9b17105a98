//! `GET /healthz`, `GET /api/config` and the JSON 404 of unknown `/api` paths.

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::Json;
use faceswap_core::registry::{self, FIRST_VERSION_PROVIDER};
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
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicConfig {
    /// The first version's provider's mode in that version's words: `sandbox` or `provider`.
    pub mode: &'static str,
    /// The first version's one provider ([`FIRST_VERSION_PROVIDER`]).
    pub provider: &'static str,
    /// Every provider served.
    pub providers: Vec<PublicProvider>,
}

/// One provider in `/api/config`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicProvider {
    /// Its id.
    pub id: &'static str,
    /// `sandbox` or `live`.
    pub mode: Mode,
    /// Its operations, named as the library's methods.
    pub operations: Vec<&'static str>,
    /// The library's client class of the provider (`FaceSwapClient`); null for a provider
    /// outside the registry's catalog (one a test defines).
    pub client: Option<&'static str>,
    /// The unit its prices are in (`credits`, `usd`, `requests`).
    pub cost_unit: &'static str,
    /// Its one-face swap, which the library's `swapFace` runs; null for a provider outside the
    /// registry's catalog (one a test defines).
    pub swap_face: Option<PublicSwapFace>,
    /// Each operation: JS name, wire name, route and the fields it uploads as files.
    pub operation_details: Vec<PublicOperation>,
}

/// A provider's one-face swap in `/api/config`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicSwapFace {
    /// The operation's JS name (`faceSwap`, `basicSwap`).
    pub operation: &'static str,
    /// The JS field taking the picture that receives the face.
    pub target: &'static str,
    /// The JS field taking the face.
    pub face: &'static str,
}

/// One operation of a provider in `/api/config`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicOperation {
    /// Its JS method name.
    pub js_name: &'static str,
    /// Its name at the provider.
    pub wire_name: &'static str,
    /// Its path at the provider.
    pub route: &'static str,
    /// Whether it starts a task to wait for.
    pub starts_task: bool,
    /// The fields it uploads as files.
    #[schema(value_type = Vec<String>)]
    pub file_fields: &'static [&'static str],
    /// The fields it takes as lists, one value per face (`face_image`, `index`).
    #[schema(value_type = Vec<String>)]
    pub repeated_fields: &'static [&'static str],
}

/// The mode and the providers, never a key.
pub async fn config(State(state): State<AppState>, _: Admitted) -> Json<PublicConfig> {
    let providers: Vec<PublicProvider> = state
        .providers
        .iter()
        .map(|provider| {
            let info = provider.adapter.info();
            let operations = provider.adapter.operations();
            let entry = registry::catalog(provider.id());
            let swap = entry.map(|entry| entry.swap_face);
            PublicProvider {
                id: provider.id(),
                mode: provider.mode,
                operations: operations.iter().map(|op| op.js_name).collect(),
                client: entry.map(|entry| entry.client_class),
                cost_unit: info.cost_unit.as_str(),
                swap_face: swap.map(|s| PublicSwapFace {
                    operation: s.operation,
                    target: s.target,
                    face: s.face,
                }),
                operation_details: operations
                    .iter()
                    .map(|op| PublicOperation {
                        js_name: op.js_name,
                        wire_name: op.name,
                        route: op.route,
                        starts_task: op.starts_task,
                        file_fields: op.file_fields,
                        repeated_fields: op.repeated_fields,
                    })
                    .collect(),
            }
        })
        .collect();
    let first_live = providers
        .iter()
        .any(|p| p.id == FIRST_VERSION_PROVIDER && p.mode == Mode::Live);
    Json(PublicConfig {
        mode: if first_live { "provider" } else { "sandbox" },
        provider: FIRST_VERSION_PROVIDER,
        providers,
    })
}

/// `GET /api/openapi.json`: the OpenAPI 3.1 document of this proxy's routes
/// ([`crate::openapi`]).
pub async fn openapi(State(state): State<AppState>, _: Admitted) -> Json<utoipa::openapi::OpenApi> {
    Json(crate::openapi::document(&state.providers))
}

/// Any other `/api` path: a route of a provider this proxy does not serve gets 404 naming it
/// (and reaches no upstream); anything else, 404 `no such API route`.
pub async fn api_not_found(State(state): State<AppState>, uri: Uri, _: Admitted) -> AppError {
    let first = uri
        .path()
        .strip_prefix("/api/")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default();
    if state.providers.get(first).is_none() && state.config.provider(first).is_some() {
        return state.not_served(first);
    }
    AppError::not_found("no such API route")
}
