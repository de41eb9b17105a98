//! The shared state and the router: API routes with their limits, webhook intake, uploads,
//! health, the demo page and the built library.

use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{Request, Response};
use axum::middleware;
use axum::routing::{any, get, post};
use axum::Router;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tower::util::MapResponseLayer;
use tower::ServiceBuilder;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::services::ServeDir;
use tower_http::trace::TraceLayer;

use crate::cors::{vary_layer, AllowedOrigins};
use crate::error::json_error_bodies;
use crate::limits::{RateLimit, SpendCap};
use crate::routes::{events, hooks, info, submit, tasks, uploads};
use crate::store::TaskStore;
use crate::upstream::{Upstream, UpstreamTarget};
use crate::Config;

/// Shared state of every handler: one `Arc`, so a clone per request is one counter increment.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What [`AppState`] holds.
pub struct Shared {
    /// Resolved configuration.
    pub config: Arc<Config>,
    /// Tasks, tokens, idempotency records and wake-ups.
    pub store: Arc<dyn TaskStore>,
    /// The provider client.
    pub upstream: Upstream,
    /// Requests per minute per client.
    pub rate_limit: RateLimit,
    /// Credits per hour per client.
    pub spend_cap: SpendCap,
    /// The origins `/api` answers to in browsers (CORS).
    pub allowed_origins: AllowedOrigins,
    /// Cancelled when the server shuts down: open event streams end, so shutdown does not wait
    /// for them.
    pub shutdown: CancellationToken,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Why the proxy could not start.
#[derive(Debug)]
pub struct StartupError(pub String);

impl std::fmt::Display for StartupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartupError {}

/// The upstream the configuration names: an explicit `AIFACESWAP_BASE_URL` (with the key, if
/// any), or the provider's public URL when a key is set. `None` means sandbox mode: the caller
/// starts the built-in sandbox and passes its address and key.
pub fn configured_upstream(config: &Config) -> Option<UpstreamTarget> {
    match (&config.upstream_base_url, &config.api_key) {
        (Some(base_url), key) => Some(UpstreamTarget {
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key: key.clone(),
        }),
        (None, Some(key)) => Some(UpstreamTarget {
            base_url: faceswap_core::aifaceswap::PROVIDER
                .default_base_url
                .to_owned(),
            api_key: Some(key.clone()),
        }),
        (None, None) => None,
    }
}

impl AppState {
    /// Opens the store named by `DATABASE_URL` and builds the state around `upstream`.
    ///
    /// A PostgreSQL store's connections are driven by the runtime this is awaited on (the
    /// binary's background runtime), which must outlive the state.
    pub async fn new(config: Config, upstream: UpstreamTarget) -> Result<Self, StartupError> {
        let driver = tokio::runtime::Handle::current();
        let store = crate::store::open(config.database_url.as_str(), driver)
            .await
            .map_err(|e| StartupError(format!("cannot open the database: {e}")))?;
        Self::with_store(config, upstream, store)
    }

    /// The state around an already opened store.
    pub fn with_store(
        config: Config,
        upstream: UpstreamTarget,
        store: Arc<dyn TaskStore>,
    ) -> Result<Self, StartupError> {
        std::fs::create_dir_all(&config.upload_dir)
            .map_err(|e| StartupError(format!("cannot create UPLOAD_DIR: {e}")))?;
        let upstream = Upstream::new(upstream, config.upstream_timeout)
            .map_err(|e| StartupError(e.to_string()))?;
        Ok(Self(Arc::new(Shared {
            rate_limit: RateLimit::per_minute(config.rate_limit_per_min),
            spend_cap: SpendCap::new(config.spend_cap_credits_per_hour, Duration::from_secs(3600)),
            upstream,
            store,
            allowed_origins: AllowedOrigins::from_config(&config),
            config: Arc::new(config),
            shutdown: CancellationToken::new(),
        })))
    }
}

/// The path as logged: webhook tokens are never written.
pub fn redacted_path(path: &str) -> String {
    if path.starts_with("/hooks/") {
        return "/hooks/aifaceswap/[redacted]".to_owned();
    }
    path.chars().take(200).collect()
}

/// Largest multipart body of the router's routes: the largest upload and 1 MiB of form fields.
fn form_limit(config: &Config) -> usize {
    usize::try_from(config.upload_max_bytes.saturating_add(1 << 20)).unwrap_or(usize::MAX)
}

/// The global request body limit: a request whose `Content-Length` is larger gets 413 before
/// anything else is read.
pub(crate) fn body_limit(config: &Config) -> usize {
    let json_limit = usize::try_from(config.json_max_bytes).unwrap_or(usize::MAX);
    form_limit(config).max(json_limit.saturating_add(1 << 10))
}

/// The span every request is handled in: method and path, never a webhook token.
pub(crate) fn request_span<B>(request: &Request<B>) -> tracing::Span {
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %redacted_path(request.uri().path()),
    )
}

/// Builds the proxy's router.
///
/// Middleware is grouped with `ServiceBuilder` and applied in two `layer` calls: axum wraps (and
/// clones per request) each route once per `layer` call, so one stack per group keeps that to
/// one clone each.
pub fn app(state: AppState) -> Router {
    let config = Arc::clone(&state.config);

    // Every `/api` handler takes `limits::Admitted` first: the per-client rate limit.
    let api = Router::new()
        .route(
            "/api/aifaceswap/v1/{op}",
            // `submit` bounds its own time: a layer here would be cloned with the route per
            // request.
            post(submit::submit),
        )
        .route("/api/tasks/{task_id}", get(tasks::get_task))
        .route("/api/tasks/{task_id}/events", get(events::events))
        .route("/api/uploads", post(uploads::upload))
        .route("/api/config", get(info::config))
        .route("/api", any(info::api_not_found))
        .route("/api/{*rest}", any(info::api_not_found))
        .layer(
            ServiceBuilder::new()
                .layer(vary_layer())
                .layer(state.allowed_origins.layer())
                // Inside CORS: a browser can read the 413 of a body that is too large. (CORS
                // wants a body type with a default value, which the limit's own is not.)
                .layer(MapResponseLayer::new(|response: Response<_>| {
                    response.map(Body::new)
                }))
                .layer(RequestBodyLimitLayer::new(body_limit(&config)))
                .layer(DefaultBodyLimit::max(form_limit(&config))),
        );

    let others = Router::new()
        .route("/hooks/aifaceswap/{token}", post(hooks::webhook))
        .route("/uploads/{name}", get(uploads::serve))
        .route("/healthz", get(info::healthz))
        .nest_service("/pkg", ServeDir::new(&config.pkg_dir))
        .fallback_service(ServeDir::new(&config.www_dir))
        .layer(RequestBodyLimitLayer::new(body_limit(&config)));

    Router::new()
        .merge(api)
        .merge(others)
        .layer(
            ServiceBuilder::new()
                .layer(
                    TraceLayer::new_for_http().make_span_with(request_span::<Body> as fn(&_) -> _),
                )
                // Outside the body limits and CORS: their bare answers get the JSON error shape.
                .layer(middleware::map_response(json_error_bodies)),
        )
        .with_state(state)
}

/// Starts the background sweep: overdue tasks become `timed_out`, old uploads, expired keys and
/// idle limiter entries are removed. Runs until the runtime stops.
pub fn spawn_maintenance(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(state.config.maintenance_interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            maintain(&state).await;
        }
    })
}

/// One maintenance pass (also called by tests).
pub async fn maintain(state: &AppState) {
    let now = crate::routes::now_ms();
    match state.store.expire_overdue(now).await {
        Ok(expired) => {
            for view in expired {
                tracing::info!(task_id = ?view.task_id, "task timed out");
            }
        }
        Err(err) => tracing::error!(error = %err, "deadline sweep"),
    }
    let deadline = i64::try_from(state.config.task_deadline.as_millis()).unwrap_or(i64::MAX);
    if let Err(err) = state
        .store
        .prune(
            now - crate::idempotency::TTL_MS,
            now.saturating_sub(deadline.saturating_mul(2)),
        )
        .await
    {
        tracing::error!(error = %err, "store prune");
    }
    let removed = crate::routes::uploads::remove_old_uploads(
        &state.config.upload_dir,
        state.config.upload_max_age,
    )
    .await;
    if removed > 0 {
        tracing::info!(removed, "old uploads removed");
    }
    state.rate_limit.prune();
    state.spend_cap.prune();
}
