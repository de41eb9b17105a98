//! faceswap-sandbox: the aifaceswap API answered on this machine, for development and tests.
//!
//! It speaks the provider's paths, Bearer auth, envelopes, points and webhook body, with real face
//! detection (rustface, SeetaFace frontal model) and a classical swap (scale, colour transfer in
//! L*a*b*, feathered elliptical blend); videos go through Debian's ffmpeg as subprocesses.
//! Every request shape and validation rule comes from faceswap-core.

pub mod color;
pub mod config;
pub mod detect;
pub mod error;
pub mod faults;
pub mod fetch;
pub mod jobs;
pub mod routes;
pub mod server;
pub mod similarity;
pub mod state;
pub mod store;
pub mod swap;
pub mod tasks;
pub mod video;
pub mod webhook;

pub use config::SandboxConfig;
pub use faults::Faults;
pub use routes::app;
pub use server::{spawn, spawn_on, RunningSandbox};
pub use state::{SandboxState, TaskRecord, TaskState};

use faceswap_core::aifaceswap::Operation;
use faceswap_core::provider::ProviderOperation;

/// The operations the sandbox serves: exactly the provider's.
pub fn operations() -> &'static [Operation] {
    Operation::ALL
}
