//! Every provider the library has a class for: its catalog entry and the function that runs its
//! operations ([`SubmitFn`]), one line per provider. `swapFace` reads it; a test checks that it
//! lists exactly `faceswap_core::registry::CATALOG`.

use faceswap_core::provider::Catalog;

use crate::class::SubmitFn;

/// Each provider's catalog entry and operation runner, in the registry's order.
pub static CLIENTS: &[(&Catalog, SubmitFn)] = &[
    #[cfg(feature = "aifaceswap")]
    (
        &faceswap_core::aifaceswap::CATALOG,
        crate::aifaceswap::run_operation,
    ),
    #[cfg(feature = "piapi")]
    (&faceswap_core::piapi::CATALOG, crate::piapi::run_operation),
    #[cfg(feature = "aiphotocraft")]
    (
        &faceswap_core::aiphotocraft::CATALOG,
        crate::aiphotocraft::run_operation,
    ),
    #[cfg(feature = "acedata")]
    (&faceswap_core::acedata::CATALOG, crate::declared::submit),
    #[cfg(feature = "example-provider")]
    (&faceswap_core::example::CATALOG, crate::declared::submit),
];

/// The runner of the provider whose catalog entry is `entry`.
pub fn runner(entry: &'static Catalog) -> Option<SubmitFn> {
    CLIENTS
        .iter()
        .find(|(known, _)| core::ptr::eq(*known, entry))
        .map(|(_, submit)| *submit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use faceswap_core::registry::CATALOG;

    #[test]
    fn every_registered_provider_has_its_client() {
        assert_eq!(CLIENTS.len(), CATALOG.len());
        for (entry, (known, _)) in CATALOG.iter().zip(CLIENTS) {
            assert!(core::ptr::eq(*entry, *known), "{}", entry.id());
            assert!(runner(entry).is_some());
        }
    }
}
