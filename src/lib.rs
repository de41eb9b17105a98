//! faceswap-wasm: run hosted face-swap operations from the browser through `faceswap-proxy`,
//! which holds the provider's API key. This crate never sees the key.
//!
//! `lib.rs` holds modules and re-exports only; each module is one capability. Each provider's
//! class is behind its cargo feature (all four by default): the package's per-provider entries
//! are built with one, and what only another provider uses is then left out.

// No std in the wasm build: the library's own panic handler (`panic_hook.rs`) turns a panic
// into a thrown JS `Error`, and neither std's panic machinery nor its formatting code is linked
// (about 0.8 KB gzipped of each entry). Natively (tests, clippy) std is there as usual, as it is in
// the wasm tests (feature `std`).
#![cfg_attr(all(target_arch = "wasm32", not(feature = "std")), no_std)]
#![cfg_attr(
    not(all(
        feature = "aifaceswap",
        feature = "piapi",
        feature = "aiphotocraft",
        feature = "acedata"
    )),
    allow(dead_code, unused_imports)
)]

extern crate alloc;

#[cfg(feature = "acedata")]
mod acedata;
#[cfg(feature = "aifaceswap")]
mod aifaceswap;
#[cfg(feature = "aiphotocraft")]
mod aiphotocraft;
mod allocator;
#[cfg(feature = "media")]
mod canvas;
#[cfg(feature = "media")]
mod capture;
mod class;
mod cost;
#[cfg(feature = "media")]
mod crop;
mod declared;
mod detect;
mod drive;
mod error;
#[cfg(feature = "example-provider")]
mod example;
mod http;
mod js;
mod media;
#[cfg(not(feature = "media"))]
mod media_lazy;
mod panic_hook;
#[cfg(feature = "piapi")]
mod piapi;
mod provider_client;
mod providers;
#[cfg(feature = "ref-info")]
mod refinfo;
#[cfg(feature = "swap-face")]
mod swap_face;
mod task;
mod types;
mod upload;
mod wait;

#[cfg(feature = "acedata")]
pub use acedata::AceDataClient;
#[cfg(feature = "aifaceswap")]
pub use aifaceswap::credits::estimate_credits;
#[cfg(feature = "aifaceswap")]
pub use aifaceswap::FaceSwapClient;
#[cfg(feature = "aiphotocraft")]
pub use aiphotocraft::AiPhotoCraftClient;
#[cfg(feature = "media")]
pub use capture::capture_frame;
pub use cost::estimate_cost;
#[cfg(feature = "media")]
pub use crop::crop_faces;
pub use detect::{detect_faces, find_people};
pub use error::ClientError;
#[cfg(feature = "example-provider")]
pub use example::ExampleClient;
#[cfg(not(feature = "media"))]
pub use media_lazy::{capture_frame, crop_faces};
#[cfg(feature = "piapi")]
pub use piapi::PiApiClient;
#[cfg(feature = "ref-info")]
pub use refinfo::build_ref_info;
#[cfg(feature = "swap-face")]
pub use swap_face::swap_face;
