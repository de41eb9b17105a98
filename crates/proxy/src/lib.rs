//! faceswap-proxy: the backend that holds the provider's API key for faceswap-wasm.
//!
//! Build the router with [`app`] (tests drive it with `oneshot` or over loopback); the binary in
//! `main.rs` reads [`Config`] from flags and environment, picks the upstream (the provider, an
//! explicit base URL, or the built-in sandbox) and serves it on [`workers`].

mod app;
mod config;
pub mod cors;
mod error;
pub mod gateway;
pub mod idempotency;
pub mod limits;
pub mod routes;
pub mod sched;
pub mod spool;
pub mod store;
pub mod tokens;
pub mod upstream;
pub mod workers;

pub use app::{
    app, configured_upstream, maintain, redacted_path, spawn_maintenance, AppState, Shared,
    StartupError,
};
pub use config::{Cli, Config, DatabaseUrl};
pub use error::AppError;
pub use gateway::Gateway;
pub use upstream::{Upstream, UpstreamTarget};
