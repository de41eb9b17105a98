//! The per-client limits counted in the database, for proxies that share one (PostgreSQL): a
//! request rate per client per minute and a spend per client, provider and hour, each a
//! fixed-window counter taken in one atomic statement ([`TaskStore::counter_take`]), so that N
//! proxies behind a balancer give a client one budget, not N.
//!
//! A fixed window admits up to twice its cap across a window's end (the end of one and the start
//! of the next); `Retry-After` is the time left in the window. When the database cannot be
//! reached the request is refused ([`AppError::LimitsUnavailable`]): a limit that cannot be
//! counted is not waived.

use faceswap_core::provider::Cost;
use std::net::IpAddr;
use std::sync::Arc;

use crate::limits::{from_milli, to_milli};
use crate::store::{CounterKey, TaskStore};
use crate::AppError;

/// The rate window: one minute.
pub const RATE_WINDOW_MS: i64 = 60_000;

/// The spend window: one hour.
pub const SPEND_WINDOW_MS: i64 = 3_600_000;

/// The start of the window of length `len_ms` that holds `now_ms`, and the whole seconds (at
/// least one) until it ends.
fn window(now_ms: i64, len_ms: i64) -> (i64, u64) {
    let start = now_ms - now_ms.rem_euclid(len_ms);
    let left_ms = start + len_ms - now_ms;
    let secs = u64::try_from((left_ms + 999) / 1000).unwrap_or(1);
    (start, secs.max(1))
}

/// Counts one request of `client` against `per_minute` in the counters of `scope` (`rate`, the
/// API's): 429 `rate_limited` with the seconds left in the minute when it is over.
pub async fn admit(
    store: &dyn TaskStore,
    scope: &str,
    client: IpAddr,
    per_minute: u32,
    now_ms: i64,
) -> Result<(), AppError> {
    let (start, retry_after_secs) = window(now_ms, RATE_WINDOW_MS);
    let key = CounterKey {
        scope: scope.into(),
        client: client.to_string(),
        window_ms: start,
    };
    let cap = i64::from(per_minute.max(1));
    match store.counter_take(&key, 1, cap).await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(AppError::RateLimited {
            retry_after_secs,
            message: format!(
                "too many requests: at most {per_minute} per minute; try again in \
                 {retry_after_secs} s"
            ),
            provider_code: None,
        }),
        Err(err) => Err(AppError::LimitsUnavailable(err)),
    }
}

/// A spend taken from a shared counter; given back by [`SharedCharge::give_back`] (or, if it is
/// dropped unkept, by a task spawned on the current runtime) unless [`SharedCharge::keep`].
pub struct SharedCharge {
    store: Arc<dyn TaskStore>,
    key: CounterKey,
    milli: i64,
    settled: bool,
}

impl std::fmt::Debug for SharedCharge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedCharge")
            .field("key", &self.key)
            .field("milli", &self.milli)
            .finish_non_exhaustive()
    }
}

impl SharedCharge {
    /// The provider accepted the call: the amount stays spent.
    pub fn keep(mut self) {
        self.settled = true;
    }

    /// The provider refused the call: the amount is given back before this returns.
    pub async fn give_back(mut self) {
        self.settled = true;
        give_back(self.store.as_ref(), &self.key, self.milli).await;
    }

    /// The request is about to be written to the provider: from now on, dropping the charge
    /// keeps it.
    pub fn sending(&mut self) {
        self.settled = true;
    }

    /// Keeps `milli` thousandths instead of the amount charged: the difference is given back,
    /// or, when the provider charged more, added (even past the cap: it was spent).
    pub async fn correct_to(mut self, milli: u64) {
        self.settled = true;
        let milli = i64::try_from(milli).unwrap_or(i64::MAX);
        if milli != self.milli {
            // A negative amount given back adds it.
            give_back(self.store.as_ref(), &self.key, self.milli - milli).await;
        }
    }
}

async fn give_back(store: &dyn TaskStore, key: &CounterKey, milli: i64) {
    if let Err(err) = store.counter_give_back(key, milli).await {
        tracing::error!(error = %err, scope = %key.scope, "spend not given back");
    }
}

impl Drop for SharedCharge {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (store, key, milli) = (Arc::clone(&self.store), self.key.clone(), self.milli);
            runtime.spawn(async move { give_back(store.as_ref(), &key, milli).await });
        }
    }
}

/// Takes `cost` from `client`'s hour at `provider`, whose cap per hour is `cap` (in the cost's
/// unit): 429 `spend_cap_exceeded` with the seconds left in the hour when it does not fit.
pub async fn charge(
    store: Arc<dyn TaskStore>,
    client: IpAddr,
    provider: &str,
    cap: f64,
    cost: Cost,
    now_ms: i64,
) -> Result<SharedCharge, AppError> {
    take_hourly(
        store,
        format!("spend:{provider}"),
        client,
        cap,
        cost,
        now_ms,
    )
    .await
}

/// Takes `bytes` from `client`'s upload budget of the hour (`cap` bytes): 429
/// `spend_cap_exceeded` with the seconds left in the hour when they do not fit (the caller
/// words it as a rate limit).
pub async fn take_upload(
    store: Arc<dyn TaskStore>,
    client: IpAddr,
    cap: f64,
    bytes: Cost,
    now_ms: i64,
) -> Result<SharedCharge, AppError> {
    take_hourly(store, "upload".to_owned(), client, cap, bytes, now_ms).await
}

/// Takes `cost` from the hourly counter `scope` of `client`, whose cap is `cap`.
async fn take_hourly(
    store: Arc<dyn TaskStore>,
    scope: String,
    client: IpAddr,
    cap: f64,
    cost: Cost,
    now_ms: i64,
) -> Result<SharedCharge, AppError> {
    let (start, retry_after_secs) = window(now_ms, SPEND_WINDOW_MS);
    let key = CounterKey {
        scope,
        client: client.to_string(),
        window_ms: start,
    };
    let milli = i64::try_from(to_milli(cost.amount)).unwrap_or(i64::MAX);
    let cap_milli = i64::try_from(to_milli(cap)).unwrap_or(i64::MAX);
    match store.counter_take(&key, milli, cap_milli).await {
        Ok(Some(_)) => Ok(SharedCharge {
            store,
            key,
            milli,
            settled: false,
        }),
        Ok(None) => {
            let unit = cost.unit.as_str();
            let used = store.counter_used(&key).await.unwrap_or(cap_milli);
            let left = u64::try_from(cap_milli.saturating_sub(used)).unwrap_or(0);
            Err(AppError::SpendCapExceeded {
                retry_after_secs,
                message: format!(
                    "this request costs {} {unit} but only {} of the {} {unit} per hour are left",
                    from_milli(u64::try_from(milli).unwrap_or(0)),
                    from_milli(left),
                    from_milli(u64::try_from(cap_milli).unwrap_or(0)),
                ),
            })
        }
        Err(err) => Err(AppError::LimitsUnavailable(err)),
    }
}

/// Forgets the counters of windows that ended before `now_ms` (kept one extra hour).
pub async fn prune(store: &dyn TaskStore, now_ms: i64) {
    if let Err(err) = store.prune_counters(now_ms - 2 * SPEND_WINDOW_MS).await {
        tracing::error!(error = %err, "limit counters prune");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;
    use faceswap_core::provider::CostUnit;

    #[tokio::test]
    async fn a_shared_charge_sent_upstream_stands_when_dropped() {
        let store: Arc<dyn TaskStore> = Arc::new(SqliteStore::in_memory().expect("store"));
        let ip: IpAddr = "203.0.113.9".parse().expect("ip");
        let now = 10 * SPEND_WINDOW_MS;
        let two = Cost::new(2.0, CostUnit::Credits);
        let take = || charge(Arc::clone(&store), ip, "p", 6.0, two, now);
        let mut sent = take().await.expect("fits");
        sent.sending();
        drop(sent);
        take().await.expect("fits").correct_to(3_000).await;
        // 2 + 3 of 6: a third charge of 2 does not fit.
        assert!(take().await.is_err());
        take_upload(
            Arc::clone(&store),
            ip,
            10.0,
            Cost::new(10.0, CostUnit::Requests),
            now,
        )
        .await
        .expect("ten bytes")
        .keep();
        assert!(take_upload(
            Arc::clone(&store),
            ip,
            10.0,
            Cost::new(1.0, CostUnit::Requests),
            now
        )
        .await
        .is_err());
    }

    #[test]
    fn windows_start_on_their_boundary_and_say_what_is_left() {
        assert_eq!(window(0, 60_000), (0, 60));
        assert_eq!(window(59_001, 60_000), (0, 1));
        assert_eq!(window(60_000, 60_000), (60_000, 60));
        assert_eq!(window(3_600_000 + 1_500, 3_600_000), (3_600_000, 3599));
    }

    #[tokio::test]
    async fn rate_and_spend_are_counted_in_the_store() {
        let store: Arc<dyn TaskStore> = Arc::new(SqliteStore::in_memory().expect("store"));
        let ip: IpAddr = "203.0.113.9".parse().expect("ip");
        let now = 10 * RATE_WINDOW_MS + 30_000;
        admit(store.as_ref(), "rate", ip, 2, now)
            .await
            .expect("first");
        admit(store.as_ref(), "rate", ip, 2, now)
            .await
            .expect("second");
        let err = admit(store.as_ref(), "rate", ip, 2, now)
            .await
            .expect_err("third");
        assert!(matches!(
            err,
            AppError::RateLimited {
                retry_after_secs: 30,
                ..
            }
        ));
        admit(store.as_ref(), "rate", ip, 2, now + 30_000)
            .await
            .expect("the next minute");

        let cent = Cost::new(0.01, CostUnit::Usd);
        let store2 = Arc::clone(&store);
        charge(store2.clone(), ip, "p", 0.02, cent, now)
            .await
            .expect("1")
            .keep();
        charge(store2.clone(), ip, "p", 0.02, cent, now)
            .await
            .expect("2")
            .give_back()
            .await;
        charge(store2.clone(), ip, "p", 0.02, cent, now)
            .await
            .expect("2 again")
            .keep();
        let err = charge(store2, ip, "p", 0.02, cent, now)
            .await
            .expect_err("over the cap");
        match err {
            AppError::SpendCapExceeded {
                message,
                retry_after_secs,
            } => {
                assert!(message.contains("only 0 of the 0.02 usd"), "{message}");
                assert_eq!(retry_after_secs, 3600 - 630, "the rest of the hour");
            }
            other => panic!("{other:?}"),
        }
    }
}
