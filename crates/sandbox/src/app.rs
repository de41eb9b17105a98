//! The sandbox's router: every provider's API ([`crate::providers`]), results as a CDN serves
//! them, `/healthz`, and the loopback-only test routes under `/__sandbox/` ([`crate::admin`]).

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::state::SandboxState;
use crate::{admin, providers};

/// Builds the sandbox's router.
pub fn app(state: SandboxState) -> Router {
    let limit = state.config().max_body_bytes;
    Router::new()
        .merge(providers::router())
        .merge(admin::router())
        .route(
            "/healthz",
            get(|| async { Json(json!({ "status": "ok" })) }),
        )
        .nest("/results", results(&state))
        .fallback(|| async { ApiError::not_found("no such route in the sandbox") })
        .layer(DefaultBodyLimit::max(limit))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// `/results/`: the result store's files with ranges, `Access-Control-Allow-Origin: *` and a
/// long cache life.
fn results(state: &SandboxState) -> Router<SandboxState> {
    Router::new()
        .fallback_service(ServeDir::new(state.store().dir()))
        .layer(SetResponseHeaderLayer::overriding(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=86400, immutable"),
        ))
}
