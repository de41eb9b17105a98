//! One module per provider API, each on its provider's real paths with its own `router()`: it
//! checks the key the way its provider's [`faceswap_core::provider::AuthScheme`] says, validates
//! with faceswap-core, hands a [`crate::engine::tasks::Job`] to the engine and answers (and calls
//! back) in its provider's shapes. All share one port and one key: [`aifaceswap`] on
//! `/api/aifaceswap/v1/{op}`, [`piapi`] on `/api/v1/task`, [`aiphotocraft`] on `/api/faceswap/...`
//! and `/api/task-status/{task_id}`, [`acedata`] on `/face/swap`. A new provider is one more
//! module merged in [`router`].

pub mod acedata;
pub mod aifaceswap;
pub mod aiphotocraft;
pub mod auth;
#[cfg(feature = "example-provider")]
pub mod example;
pub mod form;
pub mod piapi;

use axum::Router;

use crate::state::SandboxState;

/// Every provider's routes.
pub fn router() -> Router<SandboxState> {
    let router = Router::new()
        .merge(aifaceswap::router())
        .merge(piapi::router())
        .merge(aiphotocraft::router())
        .merge(acedata::router());
    #[cfg(feature = "example-provider")]
    let router = router.merge(example::router());
    router
}
