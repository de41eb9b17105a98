//! Portable core of faceswap-wasm.
//!
//! Every request and response shape, every validation rule, every credit estimate and the webhook
//! parsing live here, so the browser library (before a credit is spent), the proxy (which never
//! trusts the browser) and the sandbox (which answers like the provider) agree by construction.
//!
//! The crate has no wasm-bindgen, web-sys or tokio dependency and builds for `wasm32-unknown-unknown`
//! as well as for native targets. Each provider lives in a module of its own ([`aifaceswap`],
//! [`piapi`], [`acedata`]) that implements [`provider::Adapter`]; [`registry`] lists them for the
//! proxy, the sandbox and the library.

// No std in the browser library's build (wasm32): the library panics through its own handler,
// and std's panic machinery and formatting code stay out of its wasm; natively (the proxy, the
// sandbox, the tests) std is there as usual. `float` has the rounding std's `f64` methods gave.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

#[cfg(feature = "acedata")]
pub mod acedata;
#[cfg(feature = "aifaceswap")]
pub mod aifaceswap;
#[cfg(feature = "aiphotocraft")]
pub mod aiphotocraft;
pub mod base64_image;
pub mod error;
#[cfg(feature = "example-provider")]
pub mod example;
pub mod float;
pub mod image_header;
pub mod media;
#[cfg(feature = "aifaceswap")]
mod number;
pub mod parse;
#[cfg(feature = "piapi")]
pub mod piapi;
pub mod provider;
pub mod registry;
pub mod task;
pub mod text;
pub mod url;

pub use error::{replace_first, ErrorCode, FieldError};
pub use media::MediaType;
pub use task::{LegacyTaskView, TaskStatus, TaskView};
