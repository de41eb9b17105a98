//! The limits counted in the database, for proxies that share one (PostgreSQL): each request rate
//! per client per minute and each hourly budget per client (a spend per provider, the upload
//! bytes), a fixed-window counter taken in one atomic statement ([`TaskStore::counter_take`]), so
//! that N proxies behind a balancer give a client one budget, not N.
//!
//! A fixed window admits up to twice its cap across a window's end (the end of one and the start
//! of the next); `Retry-After` is the time left in the window. When the database cannot be
//! reached the request is refused ([`Refusal::Unavailable`]): a limit that cannot be counted is
//! not waived.

use async_trait::async_trait;
use faceswap_core::provider::Cost;
use std::net::IpAddr;
use std::sync::Arc;

use super::charge::{Charge, Taken};
use super::{to_milli, Budget, Limiter, Principal, RateScope, Rates, Refusal};
use crate::routes::now_ms;
use crate::store::{CounterKey, TaskStore};

/// The rate window: one minute.
pub const RATE_WINDOW_MS: i64 = 60_000;

/// The budgets' window: one hour.
pub const SPEND_WINDOW_MS: i64 = 3_600_000;

/// The limits of every proxy on one database, in its `limit_counters`.
pub struct SharedLimiter {
    store: Arc<dyn TaskStore>,
    rates: Rates,
    /// Milliseconds since the epoch (tests fix it).
    clock: fn() -> i64,
}

impl std::fmt::Debug for SharedLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedLimiter")
            .field("rates", &self.rates)
            .finish_non_exhaustive()
    }
}

impl SharedLimiter {
    /// Counts `rates` and the hourly budgets in `store`'s counters.
    pub fn new(store: Arc<dyn TaskStore>, rates: Rates) -> Self {
        Self::with_clock(store, rates, now_ms)
    }

    /// As [`SharedLimiter::new`], at the times `clock` tells.
    pub(super) fn with_clock(store: Arc<dyn TaskStore>, rates: Rates, clock: fn() -> i64) -> Self {
        Self {
            store,
            rates,
            clock,
        }
    }
}

impl RateScope {
    /// The scope's name in the counters.
    fn counter_scope(self) -> &'static str {
        match self {
            RateScope::Api => "rate",
            RateScope::ProviderTraffic => "rate_provider",
        }
    }
}

impl Budget {
    /// The budget's name in the counters.
    fn counter_scope(self) -> String {
        match self {
            Budget::Spend(provider) => format!("spend:{provider}"),
            Budget::Uploads => "upload".to_owned(),
        }
    }
}

/// The start of the window of length `len_ms` that holds `now_ms`, and the whole seconds (at
/// least one) until it ends.
fn window(now_ms: i64, len_ms: i64) -> (i64, u64) {
    let start = now_ms - now_ms.rem_euclid(len_ms);
    let left_ms = start + len_ms - now_ms;
    let secs = u64::try_from((left_ms + 999) / 1000).unwrap_or(1);
    (start, secs.max(1))
}

#[async_trait]
impl Limiter for SharedLimiter {
    async fn admit(&self, scope: RateScope, client: IpAddr) -> Result<(), Refusal> {
        let per_minute = self.rates.of(scope);
        let (start, retry_after_secs) = window((self.clock)(), RATE_WINDOW_MS);
        let key = CounterKey {
            scope: scope.counter_scope().into(),
            client: client.to_string(),
            window_ms: start,
        };
        let cap = i64::from(per_minute.max(1));
        match self.store.counter_take(&key, 1, cap).await {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(Refusal::Rate {
                per_minute,
                retry_after_secs,
            }),
            Err(err) => Err(Refusal::Unavailable(err)),
        }
    }

    async fn take(
        &self,
        client: &Principal,
        budget: Budget,
        cap: f64,
        cost: Cost,
    ) -> Result<Charge, Refusal> {
        let (start, retry_after_secs) = window((self.clock)(), SPEND_WINDOW_MS);
        let key = CounterKey {
            scope: budget.counter_scope(),
            client: client.to_string(),
            window_ms: start,
        };
        let milli = to_milli(cost.amount);
        let cap_milli = to_milli(cap);
        let as_i64 = |milli: u64| i64::try_from(milli).unwrap_or(i64::MAX);
        match self
            .store
            .counter_take(&key, as_i64(milli), as_i64(cap_milli))
            .await
        {
            Ok(Some(_)) => {
                let taken = SharedTaken {
                    store: Arc::clone(&self.store),
                    key,
                };
                Ok(Charge::new(Box::new(taken), milli))
            }
            Ok(None) => {
                let used = self
                    .store
                    .counter_used(&key)
                    .await
                    .unwrap_or(as_i64(cap_milli));
                Err(Refusal::Budget {
                    budget,
                    unit: cost.unit,
                    cost_milli: milli,
                    left_milli: cap_milli.saturating_sub(u64::try_from(used).unwrap_or(0)),
                    cap_milli,
                    retry_after_secs,
                })
            }
            Err(err) => Err(Refusal::Unavailable(err)),
        }
    }

    /// Forgets the counters of windows that ended before now (kept one extra hour).
    async fn prune(&self) {
        let before = (self.clock)() - 2 * SPEND_WINDOW_MS;
        if let Err(err) = self.store.prune_counters(before).await {
            tracing::error!(error = %err, "limit counters prune");
        }
    }
}

/// A charge taken from a shared counter.
struct SharedTaken {
    store: Arc<dyn TaskStore>,
    key: CounterKey,
}

#[async_trait]
impl Taken for SharedTaken {
    async fn correct(&self, charged: u64, milli: u64) {
        let signed = |milli: u64| i64::try_from(milli).unwrap_or(i64::MAX);
        // A negative amount given back adds it.
        give_back(
            self.store.as_ref(),
            &self.key,
            signed(charged) - signed(milli),
        )
        .await;
    }

    /// Spawned on the current runtime: a drop cannot wait for the database.
    fn give_back_now(&self, charged: u64) {
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (store, key) = (Arc::clone(&self.store), self.key.clone());
            let milli = i64::try_from(charged).unwrap_or(i64::MAX);
            runtime.spawn(async move { give_back(store.as_ref(), &key, milli).await });
        }
    }
}

async fn give_back(store: &dyn TaskStore, key: &CounterKey, milli: i64) {
    if let Err(err) = store.counter_give_back(key, milli).await {
        tracing::error!(error = %err, scope = %key.scope, "spend not given back");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;
    use faceswap_core::provider::CostUnit;

    #[test]
    fn windows_start_on_their_boundary_and_say_what_is_left() {
        assert_eq!(window(0, 60_000), (0, 60));
        assert_eq!(window(59_001, 60_000), (0, 1));
        assert_eq!(window(60_000, 60_000), (60_000, 60));
        assert_eq!(window(3_600_000 + 1_500, 3_600_000), (3_600_000, 3599));
    }

    #[tokio::test]
    async fn retry_after_is_the_rest_of_the_window() {
        let store: Arc<dyn TaskStore> = Arc::new(SqliteStore::in_memory().expect("store"));
        let rates = Rates {
            api: 1,
            provider_traffic: 10,
        };
        // 10 min 30 s past the hour.
        let limiter = SharedLimiter::with_clock(store, rates, || 10 * SPEND_WINDOW_MS + 630_000);
        let ip: IpAddr = "203.0.113.9".parse().expect("ip");
        limiter.admit(RateScope::Api, ip).await.expect("first");
        let refusal = limiter.admit(RateScope::Api, ip).await.expect_err("second");
        assert!(matches!(
            refusal,
            Refusal::Rate {
                retry_after_secs: 30,
                per_minute: 1
            }
        ));
        let cent = Cost::new(0.01, CostUnit::Usd);
        let spend = Budget::Spend("p");
        limiter
            .take(&Principal::Addr(ip), spend, 0.01, cent)
            .await
            .expect("1")
            .keep();
        let refusal = limiter
            .take(&Principal::Addr(ip), spend, 0.01, cent)
            .await
            .expect_err("over");
        assert!(matches!(
            refusal,
            Refusal::Budget {
                retry_after_secs: 2970,
                left_milli: 0,
                cap_milli: 10,
                ..
            }
        ));
    }
}
