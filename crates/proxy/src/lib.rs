//! faceswap-proxy: the backend that holds the providers' API keys for faceswap-wasm.
//!
//! Build the router with [`app`] (tests drive it over loopback); the binary in `main.rs` reads
//! [`Config`] from flags and environment, resolves the [`Providers`] (`PROVIDERS`; with `SANDBOX=on`
//! the built-in sandbox for those without a key) and serves the router with [`serve()`], hyper's HTTP/1.1 server within the
//! configured [`ConnectionLimits`].

mod app;
pub mod app_webhook;
pub mod auth;
pub mod client_addr;
mod config;
mod cors;
mod error;
pub mod fetch;
pub mod hosts;
pub mod idempotency;
pub mod limits;
mod maintenance;
pub mod openapi;
pub mod poller;
pub mod providers;
pub mod reachability;
pub mod results;
pub mod retention;
pub mod routes;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod serve;
pub mod settlement;
pub mod spool;
pub mod store;
pub mod telemetry;
pub mod tokens;
pub mod upload_store;
pub mod upstream;

pub use app::{app, redacted_path, AppState, Shared, StartupError};
pub use config::{
    AppWebhookSettings, AuthSettings, Config, DatabaseUrl, FetchRules, Limits, Listen, LogFormat,
    Observability, ProviderSettings, ResultSettings, Served, Storage, Switch, Timings,
};
pub use error::{AppError, InternalError};
pub use maintenance::{maintain, spawn_maintenance};
pub use providers::{Mode, Providers, ServedProvider};
pub use serve::{serve, ConnectionLimits};
pub use upstream::{ProviderTarget, Upstream};
