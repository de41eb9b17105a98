//! The router: health, demo page and built library.

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use std::sync::Arc;
use tower_http::services::ServeDir;
use tower_http::trace::TraceLayer;

use crate::Config;

/// Shared state of every handler.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Resolved configuration.
    pub config: Arc<Config>,
}

impl AppState {
    /// State for `config`.
    pub fn new(config: Config) -> Self {
        Self {
            config: Arc::new(config),
        }
    }
}

/// Builds the proxy's router.
pub fn app(state: AppState) -> Router {
    let pkg = ServeDir::new(&state.config.pkg_dir);
    let www = ServeDir::new(&state.config.www_dir);
    Router::new()
        .route("/healthz", get(healthz))
        .nest_service("/pkg", pkg)
        .fallback_service(www)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn healthz() -> (StatusCode, Json<serde_json::Value>) {
    (StatusCode::OK, Json(json!({ "status": "ok" })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use clap::Parser;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    #[tokio::test]
    async fn healthz_answers_ok() {
        let config: Config = crate::Cli::parse_from(["faceswap-proxy"]).into();
        let response = app(AppState::new(config))
            .oneshot(
                Request::get("/healthz")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        assert_eq!(response.status(), StatusCode::OK);
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        assert_eq!(&body[..], br#"{"status":"ok"}"#);
    }
}
