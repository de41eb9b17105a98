//! faceswap-wasm: run hosted face-swap operations from the browser through `faceswap-proxy`,
//! which holds the provider's API key. This crate never sees the key.
//!
//! `lib.rs` holds modules and re-exports only; each module is one capability.

mod credits;
mod error;

pub use credits::estimate_credits;
pub use error::ClientError;
