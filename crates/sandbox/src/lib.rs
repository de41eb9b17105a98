//! faceswap-sandbox: the aifaceswap API answered on this machine, for development and tests.
//!
//! The provider routes, detection (rustface) and the classical swap arrive with the sandbox issue;
//! today the crate only states which operations it will serve, from faceswap-core.

use faceswap_core::aifaceswap::Operation;
use faceswap_core::provider::ProviderOperation;

/// The operations the sandbox serves: exactly the provider's.
pub fn operations() -> &'static [Operation] {
    Operation::ALL
}
