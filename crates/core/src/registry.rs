//! Every provider the project serves, by id: each provider's [`Catalog`] entry (data, read by
//! every layer, the browser library included) and its [`Adapter`] (request building and answer
//! parsing, used by the proxy and the sandbox), listed once, side by side.
//!
//! The two lists are separate statics so that a program reading only [`CATALOG`] (the wasm)
//! links no adapter method; a test checks that they agree.

use crate::provider::{Adapter, Catalog};

/// Declares [`CATALOG`] and [`ADAPTERS`] from one line per provider: `Adapter => catalog entry`.
/// A line may carry attributes (`#[cfg(feature = "...")]`), which apply to both lists.
macro_rules! registry {
    ($($(#[$attr:meta])* $adapter:path => $catalog:path),* $(,)?) => {
        /// The registered providers' catalog entries, in the order `/api/config` lists them.
        pub static CATALOG: &[&Catalog] = &[$($(#[$attr])* &$catalog),*];

        /// The registered adapters, in [`CATALOG`]'s order.
        pub static ADAPTERS: &[&dyn Adapter] = &[$($(#[$attr])* &$adapter),*];
    };
}

registry! {
    #[cfg(feature = "aifaceswap")]
    crate::aifaceswap::Aifaceswap => crate::aifaceswap::CATALOG,
    #[cfg(feature = "piapi")]
    crate::piapi::PiApi => crate::piapi::CATALOG,
    #[cfg(feature = "aiphotocraft")]
    crate::aiphotocraft::AiPhotoCraft => crate::aiphotocraft::CATALOG,
    #[cfg(feature = "acedata")]
    crate::acedata::AceData => crate::acedata::CATALOG,
    #[cfg(feature = "example-provider")]
    crate::example::Example => crate::example::CATALOG,
}

/// The provider the project's first version served alone, whose routes stay as they were
/// (`/api/tasks/{id}` and its events, in that version's task shape) and for whom `/api/config`'s
/// `mode` and `provider` speak.
#[cfg(feature = "aifaceswap")]
pub const FIRST_VERSION_PROVIDER: &str = crate::aifaceswap::PROVIDER.id;

/// The adapter with this id (`aifaceswap`).
pub fn adapter(id: &str) -> Option<&'static dyn Adapter> {
    ADAPTERS
        .iter()
        .copied()
        .find(|adapter| adapter.info().id == id)
}

/// The catalog entry with this id (`aifaceswap`).
pub fn catalog(id: &str) -> Option<&'static Catalog> {
    CATALOG.iter().copied().find(|entry| entry.id() == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::PriceInputs;
    use alloc::vec::Vec;

    #[test]
    fn ids_are_unique_lowercase_and_found() {
        for (i, registered) in ADAPTERS.iter().enumerate() {
            let id = registered.info().id;
            assert!(id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
            assert!(ADAPTERS[..i].iter().all(|other| other.info().id != id));
            assert_eq!(
                adapter(id).map(|found| found.info()),
                Some(registered.info())
            );
            assert_eq!(catalog(id).map(|entry| entry.info), Some(registered.info()));
        }
        assert!(adapter("nope").is_none());
        assert!(catalog("nope").is_none());
    }

    #[test]
    fn acknowledgements_are_json_and_legacy_cap_names_are_unique() {
        for adapter in ADAPTERS {
            let info = adapter.info();
            let ack = info.callback_ack;
            assert!((200..300).contains(&ack.status), "{}", info.id);
            assert!(
                serde_json::from_str::<serde_json::Value>(ack.body).is_ok(),
                "{}",
                info.id
            );
        }
        let legacy: Vec<_> = ADAPTERS
            .iter()
            .filter_map(|adapter| adapter.info().legacy_spend_cap)
            .collect();
        for (i, cap) in legacy.iter().enumerate() {
            assert!(legacy[..i]
                .iter()
                .all(|other| other.env != cap.env && other.flag != cap.flag));
        }
    }

    #[test]
    fn the_catalog_and_the_adapters_agree() {
        assert_eq!(CATALOG.len(), ADAPTERS.len());
        let inputs = PriceInputs {
            duration: Some(7.5),
            enhance: Some(1),
            faces: Some(2),
            frames: Some(90),
        };
        for (entry, adapter) in CATALOG.iter().zip(ADAPTERS) {
            let id = entry.id();
            assert_eq!(entry.info, adapter.info(), "{id}");
            assert!(
                core::ptr::eq(entry.operations, adapter.operations()),
                "{id}: one operation table"
            );
            for op in entry.operations {
                assert_eq!(entry.operation_named(op.js_name), Some(op), "{id}");
                assert_eq!(entry.operation_named(op.name), Some(op), "{id}");
                assert_eq!(
                    entry.price_of(op, &inputs),
                    Ok(adapter.price(op, &inputs)),
                    "{id} {}",
                    op.js_name
                );
                assert_eq!(
                    entry.price_of(op, &inputs).map(|cost| cost.unit),
                    Ok(entry.info.cost_unit),
                    "{id} {} is priced in the provider's unit",
                    op.js_name
                );
            }
            let swap = entry.swap_face;
            assert!(
                entry.operation_named(swap.operation).is_some(),
                "{id}: swapFace runs {}",
                swap.operation
            );
            assert_ne!(swap.target, swap.face, "{id}");
        }
    }
}
