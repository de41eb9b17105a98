//! faceswap-wasm: run hosted face-swap operations from the browser through `faceswap-proxy`,
//! which holds the provider's API key. This crate never sees the key.
//!
//! `lib.rs` holds modules and re-exports only; each module is one capability.

mod client;
mod credits;
mod error;
mod http;
mod js;
mod media;
mod ops;
mod panic_hook;
mod sse;
mod task;
mod types;
mod upload;
mod wait;

pub use client::FaceSwapClient;
pub use credits::estimate_credits;
pub use error::ClientError;
pub use panic_hook::install_panic_hook;
