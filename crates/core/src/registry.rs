//! Every provider the project serves, by id.

use crate::acedata::AceData;
use crate::aifaceswap::Aifaceswap;
use crate::aiphotocraft::AiPhotoCraft;
use crate::piapi::PiApi;
use crate::provider::Adapter;

/// The registered adapters, in the order `/api/config` lists them.
pub static ADAPTERS: &[&dyn Adapter] = &[&Aifaceswap, &PiApi, &AiPhotoCraft, &AceData];

/// The adapter with this id (`aifaceswap`).
pub fn adapter(id: &str) -> Option<&'static dyn Adapter> {
    ADAPTERS
        .iter()
        .copied()
        .find(|adapter| adapter.info().id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        }
        assert!(adapter("nope").is_none());
    }
}
