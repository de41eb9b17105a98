//! Providers' own request budgets: when a provider's answer says its budget for the operator's
//! key is spent (the adapter reads that from the headers, [`Adapter::exhausted_until`]), calls to
//! that provider are refused with 429 `rate_limited` and `Retry-After` until the reset, without
//! calling it: a call then would only spend a request on a certain refusal. Kept in memory, per
//! proxy; a proxy that has not seen the answer learns it from its own first call.

use axum::http::HeaderMap;
use faceswap_core::provider::Adapter;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::AppError;

/// The current epoch second.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// For each provider whose budget is spent, the epoch second it is renewed.
#[derive(Debug, Default)]
pub struct ProviderBudgets {
    exhausted: Mutex<HashMap<&'static str, u64>>,
    /// False while no budget is spent: the common case then takes no lock on the forwarding
    /// path.
    any: AtomicBool,
}

impl ProviderBudgets {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<&'static str, u64>> {
        self.exhausted
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `Ok` when `adapter`'s provider may be called at `now`; 429 `rate_limited` with the seconds
    /// until its reset while its budget is spent.
    pub fn check(&self, adapter: &dyn Adapter, now: u64) -> Result<(), AppError> {
        if !self.any.load(Ordering::Acquire) {
            return Ok(());
        }
        let id = adapter.info().id;
        let mut exhausted = self.lock();
        match exhausted.get(id).copied() {
            Some(until) if until > now => Err({
                crate::telemetry::limit_refused(crate::telemetry::RefusalKind::ProviderBudget);
                AppError::RateLimited {
                    retry_after_secs: until - now,
                    message: format!(
                    "{id}'s request budget for this proxy is spent until {until} (epoch seconds); \
                     try again later"
                ),
                    provider_code: None,
                }
            }),
            Some(_) => {
                exhausted.remove(id);
                self.any.store(!exhausted.is_empty(), Ordering::Release);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Reads an answer's headers through `adapter`: a spent budget is remembered until its
    /// reset, any other answer of the provider forgets an earlier one.
    pub fn observe(&self, adapter: &dyn Adapter, headers: &HeaderMap, now: u64) {
        let pairs: Vec<(&str, &str)> = headers
            .iter()
            .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
            .collect();
        let id = adapter.info().id;
        match adapter.exhausted_until(&pairs, now) {
            Some(until) => {
                let mut exhausted = self.lock();
                if exhausted.insert(id, until).is_none() {
                    tracing::warn!(
                        provider = id,
                        until,
                        "the provider's request budget is spent"
                    );
                }
                self.any.store(true, Ordering::Release);
            }
            None if self.any.load(Ordering::Acquire) => {
                let mut exhausted = self.lock();
                exhausted.remove(id);
                self.any.store(!exhausted.is_empty(), Ordering::Release);
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use faceswap_core::aiphotocraft::AiPhotoCraft;
    use faceswap_core::piapi::PiApi;

    const NOW: u64 = 1_764_547_200;

    fn headers(remaining: u64, reset: u64) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
        headers.insert("x-ratelimit-reset", HeaderValue::from(reset));
        headers
    }

    #[test]
    fn a_spent_budget_refuses_until_its_reset_for_that_provider_only() {
        let budgets = ProviderBudgets::default();
        assert!(budgets.check(&AiPhotoCraft, NOW).is_ok());
        budgets.observe(&AiPhotoCraft, &headers(0, NOW + 30), NOW);
        budgets.observe(&PiApi, &headers(0, NOW + 30), NOW);
        match budgets.check(&AiPhotoCraft, NOW + 10) {
            Err(AppError::RateLimited {
                retry_after_secs, ..
            }) => assert_eq!(retry_after_secs, 20),
            other => panic!("{other:?}"),
        }
        assert!(
            budgets.check(&PiApi, NOW + 10).is_ok(),
            "PiAPI reads no budget"
        );
        assert!(budgets.check(&AiPhotoCraft, NOW + 30).is_ok(), "reset");
        budgets.observe(&AiPhotoCraft, &headers(0, NOW + 30), NOW);
        budgets.observe(&AiPhotoCraft, &headers(5, NOW + 30), NOW + 1);
        assert!(
            budgets.check(&AiPhotoCraft, NOW + 2).is_ok(),
            "renewed early"
        );
    }
}
