//! faceswap-sandbox: the hosted face-swap APIs answered on this machine, for development and
//! tests.
//!
//! One [`engine`] does the work whatever the provider: real face detection (rustface, SeetaFace
//! frontal model, through faceswap-detect), a classical swap (scale, colour transfer in L*a*b*,
//! feathered elliptical blend), videos through Debian's ffmpeg as subprocesses, tasks, results
//! and webhooks. One module per provider API ([`providers`]) speaks that provider's paths, key
//! scheme, envelopes and callback bodies on one port with one key. Every request shape and
//! validation rule comes from faceswap-core.

pub mod admin;
pub mod app;
pub mod config;
pub mod engine;
pub mod error;
pub mod faults;
pub mod providers;
pub mod server;
pub mod state;

pub use app::app;
pub use config::{RateBudget, SandboxConfig};
pub use faults::Faults;
pub use server::{spawn, spawn_on, RunningSandbox};
pub use state::{SandboxState, TaskRecord, TaskState};
