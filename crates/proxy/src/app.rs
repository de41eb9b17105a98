//! The shared state and the router: every provider's API routes with their limits, callback
//! intake, uploads, health, the demo page and the built library.

use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{Request, Response};
use axum::middleware;
use axum::routing::any;
use axum::Router;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tower::util::{MapRequestLayer, MapResponseLayer};
use tower::ServiceBuilder;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::services::ServeDir;
use tower_http::trace::TraceLayer;

use crate::app_webhook::{AppWebhook, AppWebhookError};
use crate::client_addr::{self, ClientAddr};
use crate::cors::{spending_origin, AllowedOrigins};
use crate::error::json_error_bodies;
use crate::hosts::allowed_host;
use crate::limits::{self, Limiter};
use crate::providers::{Providers, ServedProvider};
use crate::routes::info;
use crate::routes::table::{self, Scope};
use crate::store::postgres::{self, PostgresStore};
use crate::store::{StoreError, TaskStore};
use crate::upload_store::{UploadStore, UploadStoreError};
use crate::upstream::{ProviderBudgets, Upstream, UpstreamConfigError};
use crate::{AppError, Config};

/// Shared state of every handler: one `Arc`, so a clone per request is one counter increment.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What [`AppState`] holds.
pub struct Shared {
    /// Resolved configuration.
    pub config: Arc<Config>,
    /// The providers served, with their upstream targets.
    pub providers: Providers,
    /// Tasks, tokens, idempotency records and wake-ups.
    pub store: Arc<dyn TaskStore>,
    /// Where uploads are kept (`UPLOAD_STORE`).
    pub uploads: UploadStore,
    /// The HTTP client of every upstream call.
    pub upstream: Upstream,
    /// Providers whose own request budget is spent, until its reset.
    pub provider_budgets: ProviderBudgets,
    /// The per-client limits (request rates, spend caps, upload bytes), counted in memory or,
    /// on a store several proxies share, in the database ([`limits::choose`]).
    pub limiter: Arc<dyn Limiter>,
    /// Checks the tokens of the app's users (`AUTH_JWKS_URL`, `AUTH_HS256_SECRET`); `None`:
    /// budgets belong to addresses.
    pub auth: Option<Arc<crate::auth::Authenticator>>,
    /// Where kept results live (`KEEP_RESULTS`), beside the uploads; `None` when none are kept.
    pub results: Option<Arc<UploadStore>>,
    /// The app's webhook endpoint (`APP_WEBHOOK_URL`), when set: the delivery loop's.
    pub app_webhook: Option<Arc<AppWebhook>>,
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
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The database named by `DATABASE_URL` could not be opened.
    #[error("cannot open the database: {0}")]
    Store(#[from] StoreError),
    /// `UPLOAD_DIR` could not be created.
    #[error("cannot create UPLOAD_DIR: {0}")]
    UploadDir(#[from] std::io::Error),
    /// `UPLOAD_STORE` names a store this database cannot hold.
    #[error("cannot use the upload store: {0}")]
    Uploads(#[from] UploadStoreError),
    /// The HTTP client could not be built.
    #[error(transparent)]
    Upstream(#[from] UpstreamConfigError),
    /// `AUTH_JWKS_URL`, `AUTH_HS256_SECRET` or `AUTH_AUDIENCE` cannot be used.
    #[error(transparent)]
    Auth(#[from] crate::auth::AuthConfigError),
    /// `APP_WEBHOOK_URL` or `APP_WEBHOOK_SECRET` cannot be used.
    #[error(transparent)]
    AppWebhook(#[from] AppWebhookError),
    /// `UPLOAD_DIR` holds the SQLite database: the folder of uploads is the proxy's alone.
    #[error(
        "UPLOAD_DIR ({upload_dir}) contains the SQLite database of DATABASE_URL ({database}): \
         give uploads a folder of their own (the default UPLOAD_DIR is data/uploads)"
    )]
    UploadDirHoldsDatabase {
        /// `UPLOAD_DIR`.
        upload_dir: String,
        /// The database file.
        database: String,
    },
}

/// Refuses an `UPLOAD_DIR` that is, or contains, the folder of the SQLite database.
fn check_upload_dir(config: &Config) -> Result<(), StartupError> {
    let Some(database) = crate::store::sqlite::path_of_url(config.storage.database_url.as_str())
    else {
        return Ok(());
    };
    if database == ":memory:" {
        return Ok(());
    }
    // Both made absolute, and resolved where they exist, so `data` and `./data/x.db` meet.
    let resolve = |path: &Path| {
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        absolute.canonicalize().unwrap_or(absolute)
    };
    let database_file = Path::new(database);
    let folder = database_file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if resolve(folder).starts_with(resolve(&config.storage.upload_dir)) {
        return Err(StartupError::UploadDirHoldsDatabase {
            upload_dir: config.storage.upload_dir.display().to_string(),
            database: database.to_owned(),
        });
    }
    Ok(())
}

impl AppState {
    /// Opens the store named by `DATABASE_URL` and the upload store (`UPLOAD_STORE`), and builds
    /// the state around `providers`.
    pub async fn new(config: Config, providers: Providers) -> Result<Self, StartupError> {
        let url = config.storage.database_url.as_str();
        let driver = tokio::runtime::Handle::current();
        if postgres::is_postgres_url(url) {
            let store = PostgresStore::connect(url, driver).await?;
            let uploads = UploadStore::choose(&config, Some(store.uploads()))?;
            return Self::with_stores(config, providers, Arc::new(store), uploads);
        }
        check_upload_dir(&config)?;
        let store = crate::store::open(url, driver).await?;
        Self::with_store(config, providers, store)
    }

    /// The state around an already opened store, with uploads on disk or in the `S3_*` bucket
    /// (`UPLOAD_STORE=postgres` is an error here).
    pub fn with_store(
        config: Config,
        providers: Providers,
        store: Arc<dyn TaskStore>,
    ) -> Result<Self, StartupError> {
        let uploads = UploadStore::choose(&config, None)?;
        Self::with_stores(config, providers, store, uploads)
    }

    /// The state around an already opened task store and upload store.
    pub fn with_stores(
        config: Config,
        providers: Providers,
        store: Arc<dyn TaskStore>,
        uploads: UploadStore,
    ) -> Result<Self, StartupError> {
        // Spooled uploads and URL inputs are written under UPLOAD_DIR whatever the store.
        check_upload_dir(&config)?;
        std::fs::create_dir_all(&config.storage.upload_dir)?;
        let upstream = Upstream::new(config.limits.upstream_timeout)?;
        let app_webhook = AppWebhook::from_settings(&config.app_webhook)?.map(Arc::new);
        store.queue_app_events(app_webhook.as_ref().map(|hook| hook.outbox().clone()));
        let results = if config.results.keep {
            let results = uploads.results();
            if let UploadStore::Disk(disk) = &results {
                std::fs::create_dir_all(disk.dir())?;
            }
            store.keep_results(Some(crate::results::results_base(
                &config.listen.public_url(),
            )));
            Some(Arc::new(results))
        } else {
            None
        };
        let auth = crate::auth::Authenticator::from_settings(&config.auth)?.map(Arc::new);
        Ok(Self(Arc::new(Shared {
            auth,
            results,
            app_webhook,
            limiter: limits::choose(&store, &config),
            upstream,
            provider_budgets: ProviderBudgets::default(),
            providers,
            store,
            uploads,
            allowed_origins: AllowedOrigins::from_config(&config),
            config: Arc::new(config),
            shutdown: CancellationToken::new(),
        })))
    }

    /// The served provider with this id; 404 `not_found` otherwise, saying whether the provider
    /// exists but is not served here.
    pub fn provider(&self, id: &str) -> Result<&ServedProvider, AppError> {
        self.providers.get(id).ok_or_else(|| self.not_served(id))
    }

    /// The 404 of a provider that is not served: one this proxy knows but does not serve
    /// (`PROVIDERS`, `SANDBOX`, its key) is named as such; any other id is unknown.
    pub fn not_served(&self, id: &str) -> AppError {
        match self.config.provider(id) {
            Some(settings) => AppError::not_found(format!(
                "the provider {} is not served by this proxy (PROVIDERS, SANDBOX, {}_API_KEY)",
                settings.id(),
                settings.id().to_ascii_uppercase()
            )),
            None => AppError::not_found(format!("no provider named {id:?}")),
        }
    }
}

/// The path as logged: callback tokens are never written.
pub fn redacted_path(path: &str) -> String {
    if let Some(rest) = path.strip_prefix("/hooks/") {
        let provider: String = rest
            .split('/')
            .next()
            .unwrap_or_default()
            .chars()
            .take(40)
            .collect();
        return format!("/hooks/{provider}/[redacted]");
    }
    path.chars().take(200).collect()
}

/// Largest multipart body of the router's routes: the largest upload and 1 MiB of form fields.
fn form_limit(config: &Config) -> usize {
    usize::try_from(config.limits.upload_max_bytes.saturating_add(1 << 20)).unwrap_or(usize::MAX)
}

/// The global request body limit: a request whose `Content-Length` is larger gets 413 before
/// anything else is read.
fn body_limit(config: &Config) -> usize {
    let json_limit = usize::try_from(config.limits.json_max_bytes).unwrap_or(usize::MAX);
    form_limit(config).max(json_limit.saturating_add(1 << 10))
}

/// The span every request is handled in: method, path (never a callback token) and the client's
/// address as [`client_addr::resolve`] found it.
fn request_span<B>(request: &Request<B>) -> tracing::Span {
    // Formatted only when the span is recorded: no allocation per request otherwise.
    let client = request
        .extensions()
        .get::<ClientAddr>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |client| client.addr);
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %redacted_path(request.uri().path()),
        client = %client,
    )
}

/// Builds the proxy's router: the routes of [`table::table`] (every served provider's, the task
/// routes of the first version, uploads, configuration, the OpenAPI document, callbacks, health),
/// the JSON 404 of other `/api` paths, the demo page and the built library.
pub fn app(state: AppState) -> Router {
    let config = Arc::clone(&state.config);

    // The routes of the table (`routes::table`), under `/api` or beside it. Every `/api`
    // handler takes `limits::Admitted` first: the per-client rate limit.
    let (mut api, mut others) = (Router::new(), Router::new());
    for route in table::table(&state.providers) {
        match route.scope {
            Scope::Api => api = api.route(&route.path, route.handler),
            Scope::Other => others = others.route(&route.path, route.handler),
        }
    }
    let api = api
        .route("/api", any(info::api_not_found))
        .route("/api/{*rest}", any(info::api_not_found))
        .layer(
            ServiceBuilder::new()
                .layer(state.allowed_origins.layer())
                // Inside CORS (which answers preflights): a spending request from another
                // origin is refused before its body is read; the refusal is readable by
                // nobody but the origins CORS allows.
                .layer(middleware::from_fn_with_state(
                    state.allowed_origins.clone(),
                    spending_origin,
                ))
                // Inside CORS: a browser can read the 413 of a body that is too large. (CORS
                // wants a body type with a default value, which the limit's own is not.)
                .layer(MapResponseLayer::new(|response: Response<_>| {
                    response.map(Body::new)
                }))
                .layer(RequestBodyLimitLayer::new(body_limit(&config)))
                .layer(DefaultBodyLimit::max(form_limit(&config))),
        );

    let others = others
        .nest_service("/pkg", ServeDir::new(&config.listen.pkg_dir))
        .fallback_service(ServeDir::new(&config.listen.www_dir))
        .layer(RequestBodyLimitLayer::new(body_limit(&config)));

    let client_rule = config.client_rule.clone();
    Router::new()
        .merge(api)
        .merge(others)
        .layer(
            ServiceBuilder::new()
                // First: the client's address, for the span, the limits and idempotency keys.
                .layer(MapRequestLayer::new(move |request: Request<Body>| {
                    client_addr::resolve(&client_rule, request)
                }))
                .layer(
                    TraceLayer::new_for_http().make_span_with(request_span::<Body> as fn(&_) -> _),
                )
                // Outside the body limits and CORS: their bare answers get the JSON error shape.
                .layer(middleware::map_response(json_error_bodies))
                // Before any route: a request for a host the proxy does not answer for (DNS
                // rebinding) is refused.
                .layer(middleware::from_fn_with_state(
                    config.listen.allowed_hosts(),
                    allowed_host,
                )),
        )
        .with_state(state)
}
