//! faceswap-proxy: the backend that holds the provider's API key for faceswap-wasm.
//!
//! Build the router with [`app`] (tests drive it with `oneshot` or over loopback); the binary in
//! `main.rs` reads [`Config`] from flags and environment and serves it.

mod app;
mod config;

pub use app::{app, AppState};
pub use config::{Cli, Config};
