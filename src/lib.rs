//! faceswap-wasm: run hosted face-swap operations from the browser through `faceswap-proxy`,
//! which holds the provider's API key. This crate never sees the key.
//!
//! `lib.rs` holds modules and re-exports only; each module is one capability.

mod acedata;
mod aiphotocraft;
mod allocator;
mod canvas;
mod capture;
mod client;
mod cost;
mod credits;
mod crop;
mod detect;
mod error;
mod http;
mod js;
mod media;
mod ops;
mod panic_hook;
mod piapi;
mod provider_client;
mod refinfo;
mod sse;
mod swap_face;
mod task;
mod types;
mod upload;
mod wait;

pub use acedata::AceDataClient;
pub use aiphotocraft::AiPhotoCraftClient;
pub use capture::capture_frame;
pub use client::FaceSwapClient;
pub use cost::estimate_cost;
pub use credits::estimate_credits;
pub use crop::crop_faces;
pub use detect::detect_faces;
pub use error::ClientError;
pub use piapi::PiApiClient;
pub use swap_face::swap_face;
