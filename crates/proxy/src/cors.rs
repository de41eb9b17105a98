//! CORS for `/api`: the origins of `ALLOWED_ORIGINS`, as tower-http's `CorsLayer` for the router,
//! and as the same headers added by hand on the gateway's direct submit path.

use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method};
use std::sync::Arc;
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::Config;

/// The `Vary` header of every `/api` answer: the names tower-http's `CorsLayer` would list.
const VARY: HeaderValue = HeaderValue::from_static(
    "origin, access-control-request-method, access-control-request-headers",
);

/// Response headers a browser script may read besides the safelisted ones.
const EXPOSE_HEADERS: HeaderValue = HeaderValue::from_static("retry-after");

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
            // A predicate over the shared list: the layer is cloned per request, the list is not.
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
            // `Vary` is added by `vary_layer` as one static value: the layer would join and
            // validate the same three names into a new header value for every response.
            .vary([])
    }

    /// Adds to the answer of a (non-preflight) `/api` request exactly what [`Self::layer`] and
    /// [`vary_layer`] add: `Access-Control-Allow-Origin` when `origin` is allowed,
    /// `Access-Control-Expose-Headers`, and `Vary`.
    pub fn decorate(&self, origin: Option<&HeaderValue>, headers: &mut HeaderMap) {
        headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSE_HEADERS);
        if let Some(origin) = origin.filter(|origin| self.allows(origin)) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        }
        headers.append(header::VARY, VARY);
    }
}

/// The `Vary` header of the router's `/api` answers.
pub fn vary_layer() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::appending(header::VARY, VARY)
}
