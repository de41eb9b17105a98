//! faceswap-wasm: run hosted face-swap operations from the browser through `faceswap-proxy`,
//! which holds the provider's API key. This crate never sees the key.
//!
//! `lib.rs` holds modules and re-exports only; each module is one capability.

mod acedata;
mod aifaceswap;
mod aiphotocraft;
mod allocator;
mod canvas;
mod capture;
mod class;
mod cost;
mod crop;
mod declared;
mod detect;
mod error;
#[cfg(feature = "example-provider")]
mod example;
mod http;
mod js;
mod media;
mod panic_hook;
mod piapi;
mod provider_client;
mod providers;
mod sse;
mod swap_face;
mod task;
mod types;
mod upload;
mod wait;

pub use acedata::AceDataClient;
pub use aifaceswap::credits::estimate_credits;
pub use aifaceswap::FaceSwapClient;
pub use aiphotocraft::AiPhotoCraftClient;
pub use capture::capture_frame;
pub use cost::estimate_cost;
pub use crop::crop_faces;
pub use detect::detect_faces;
pub use error::ClientError;
#[cfg(feature = "example-provider")]
pub use example::ExampleClient;
pub use piapi::PiApiClient;
pub use swap_face::swap_face;
