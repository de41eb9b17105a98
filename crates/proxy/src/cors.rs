//! CORS for `/api`: the origins of `ALLOWED_ORIGINS`, as tower-http's `CorsLayer`.

use axum::http::{header, HeaderName, HeaderValue, Method};
use std::sync::Arc;
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::Config;

/// The origins allowed to call `/api` from a browser, parsed once from `ALLOWED_ORIGINS`.
#[derive(Clone, Debug)]
pub struct AllowedOrigins(Arc<[HeaderValue]>);

impl AllowedOrigins {
    /// The origins of `config` (entries that are not valid header values can never match).
    pub fn from_config(config: &Config) -> Self {
        Self(
            config
                .allowed_origins
                .iter()
                .filter_map(|o| o.parse().ok())
                .collect(),
        )
    }

    /// Whether `origin` (an `Origin` header) is allowed.
    pub fn allows(&self, origin: &HeaderValue) -> bool {
        self.0.contains(origin)
    }

    /// The router's CORS layer: preflights and answers.
    pub fn layer(&self) -> CorsLayer {
        let origins = self.clone();
        CorsLayer::new()
            .allow_origin(AllowOrigin::predicate(move |origin, _| {
                origins.allows(origin)
            }))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::CONTENT_TYPE,
                HeaderName::from_static("idempotency-key"),
                HeaderName::from_static("last-event-id"),
            ])
            .expose_headers([header::RETRY_AFTER])
            .max_age(Duration::from_secs(600))
    }
}
