//! The limits counted in this proxy's memory, for a store only one proxy uses (SQLite): each
//! request rate a GCRA (from `governor`, in bursts of up to the rate), each hourly budget in
//! one-minute buckets over a sliding hour, so that the cost per request stays constant however
//! many requests a client makes in an hour and `Retry-After` is when enough of the oldest minutes
//! leave the window.

use async_trait::async_trait;
use faceswap_core::provider::Cost;
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::charge::{Charge, Taken};
use super::{to_milli, Budget, Limiter, Principal, RateScope, Rates, Refusal};

/// The limits of one proxy, in its memory.
#[derive(Debug)]
pub struct MemoryLimiter {
    api: RateLimit,
    provider_traffic: RateLimit,
    hourly: Arc<HourlyBudgets>,
}

impl MemoryLimiter {
    /// Counts `rates` per client, and hourly budgets over a sliding hour.
    pub fn new(rates: Rates) -> Self {
        Self {
            api: RateLimit::per_minute(rates.api),
            provider_traffic: RateLimit::per_minute(rates.provider_traffic),
            hourly: Arc::new(HourlyBudgets::new(Duration::from_secs(3600))),
        }
    }
}

#[async_trait]
impl Limiter for MemoryLimiter {
    async fn admit(&self, scope: RateScope, client: IpAddr) -> Result<(), Refusal> {
        let limit = match scope {
            RateScope::Api => &self.api,
            RateScope::ProviderTraffic => &self.provider_traffic,
        };
        limit
            .check(client)
            .map_err(|retry_after_secs| Refusal::Rate {
                per_minute: limit.per_minute,
                retry_after_secs,
            })
    }

    async fn take(
        &self,
        client: &Principal,
        budget: Budget,
        cap: f64,
        cost: Cost,
    ) -> Result<Charge, Refusal> {
        let key = (client.clone(), budget);
        let milli = to_milli(cost.amount);
        let bucket = self.hourly.take(key.clone(), cap, cost)?;
        let taken = LocalTaken {
            budgets: Arc::clone(&self.hourly),
            key,
            bucket,
        };
        Ok(Charge::new(Box::new(taken), milli))
    }

    async fn prune(&self) {
        self.api.prune();
        self.provider_traffic.prune();
        self.hourly.prune();
    }
}

/// Requests per minute per client.
struct RateLimit {
    per_minute: u32,
    limiter: RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock>,
    clock: DefaultClock,
}

impl std::fmt::Debug for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimit")
            .field("per_minute", &self.per_minute)
            .finish_non_exhaustive()
    }
}

impl RateLimit {
    /// `per_minute` requests per minute per client, in bursts of up to `per_minute`.
    fn per_minute(per_minute: u32) -> Self {
        let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        Self {
            per_minute,
            limiter: RateLimiter::keyed(Quota::per_minute(n)),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one request of `client`; `Err(seconds)` when it must wait.
    fn check(&self, client: IpAddr) -> Result<(), u64> {
        self.limiter.check_key(&client).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }

    /// Forgets clients whose allowance is full again.
    fn prune(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// Whose budget: a client's, of one kind.
type Key = (Principal, Budget);

/// The hourly budgets of every client, in thousandths of their unit, counted in one-minute
/// buckets.
#[derive(Debug)]
struct HourlyBudgets {
    buckets_per_window: u64,
    started: Instant,
    spent: Mutex<HashMap<Key, ClientSpend>>,
}

/// One client's spending: per-minute totals inside the window, and their sum.
#[derive(Debug, Default)]
struct ClientSpend {
    total: u64,
    buckets: VecDeque<(u64, u64)>,
}

const BUCKET: Duration = Duration::from_secs(60);

impl ClientSpend {
    fn expire(&mut self, now_bucket: u64, buckets_per_window: u64) {
        while let Some(&(bucket, credits)) = self.buckets.front() {
            if bucket + buckets_per_window > now_bucket {
                break;
            }
            self.total -= credits;
            self.buckets.pop_front();
        }
    }
}

/// A charge taken from [`HourlyBudgets`]: its key and minute.
struct LocalTaken {
    budgets: Arc<HourlyBudgets>,
    key: Key,
    bucket: u64,
}

#[async_trait]
impl Taken for LocalTaken {
    async fn correct(&self, charged: u64, milli: u64) {
        self.budgets.adjust(&self.key, self.bucket, charged, milli);
    }

    fn give_back_now(&self, charged: u64) {
        self.budgets.refund(&self.key, self.bucket, charged);
    }
}

impl HourlyBudgets {
    /// Budgets over `window` (whole minutes, at least one).
    fn new(window: Duration) -> Self {
        Self {
            buckets_per_window: (window.as_secs() / BUCKET.as_secs()).max(1),
            started: Instant::now(),
            spent: Mutex::new(HashMap::new()),
        }
    }

    fn now_bucket(&self) -> (u64, Duration) {
        let elapsed = self.started.elapsed();
        (elapsed.as_secs() / BUCKET.as_secs(), elapsed)
    }

    /// Takes `cost` from `key`'s budget, whose cap per window is `cap` (in the cost's unit):
    /// the minute it is counted in, or a refusal saying how many seconds until it fits.
    fn take(&self, key: Key, cap: f64, cost: Cost) -> Result<u64, Refusal> {
        let credits = to_milli(cost.amount);
        let cap_milli = to_milli(cap);
        let (now_bucket, elapsed) = self.now_bucket();
        let mut spent = self.spent.lock().unwrap_or_else(|p| p.into_inner());
        let budget = key.1;
        let entry = spent.entry(key).or_default();
        entry.expire(now_bucket, self.buckets_per_window);
        if entry.total.saturating_add(credits) > cap_milli {
            // Wait until enough of the oldest minutes leave the window.
            let mut left = entry.total;
            let mut wait = BUCKET * u32::try_from(self.buckets_per_window).unwrap_or(60);
            for &(bucket, spent_then) in &entry.buckets {
                left -= spent_then;
                if left.saturating_add(credits) <= cap_milli {
                    let frees_at = BUCKET
                        * u32::try_from(bucket + self.buckets_per_window).unwrap_or(u32::MAX);
                    wait = frees_at.saturating_sub(elapsed);
                    break;
                }
            }
            return Err(Refusal::Budget {
                budget,
                unit: cost.unit,
                cost_milli: credits,
                left_milli: cap_milli.saturating_sub(entry.total),
                cap_milli,
                retry_after_secs: wait.as_secs().max(1),
            });
        }
        entry.total += credits;
        match entry.buckets.back_mut() {
            Some((bucket, sum)) if *bucket == now_bucket => *sum += credits,
            _ => entry.buckets.push_back((now_bucket, credits)),
        }
        Ok(now_bucket)
    }

    /// Changes a charge of `charged` thousandths in `bucket` to `milli`.
    fn adjust(&self, key: &Key, bucket: u64, charged: u64, milli: u64) {
        if milli <= charged {
            return self.refund(key, bucket, charged - milli);
        }
        let more = milli - charged;
        let mut spent = self.spent.lock().unwrap_or_else(|p| p.into_inner());
        let entry = spent.entry(key.clone()).or_default();
        match entry.buckets.iter_mut().rev().find(|(b, _)| *b == bucket) {
            Some((_, sum)) => *sum += more,
            None => {
                // The bucket is gone from the window: count the difference now.
                let (now_bucket, _) = self.now_bucket();
                match entry.buckets.back_mut() {
                    Some((b, sum)) if *b == now_bucket => *sum += more,
                    _ => entry.buckets.push_back((now_bucket, more)),
                }
            }
        }
        entry.total += more;
    }

    fn refund(&self, key: &Key, bucket: u64, credits: u64) {
        let mut spent = self.spent.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = spent.get_mut(key) {
            if let Some((_, sum)) = entry.buckets.iter_mut().rev().find(|(b, _)| *b == bucket) {
                let back = credits.min(*sum);
                *sum -= back;
                entry.total -= back;
            }
        }
    }

    /// Forgets clients with nothing spent inside the window.
    fn prune(&self) {
        let (now_bucket, _) = self.now_bucket();
        let mut spent = self.spent.lock().unwrap_or_else(|p| p.into_inner());
        spent.retain(|_, entry| {
            entry.expire(now_bucket, self.buckets_per_window);
            entry.total > 0
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn a_refused_charge_waits_until_the_oldest_minutes_leave_the_hour() {
        let budgets = HourlyBudgets::new(Duration::from_secs(3600));
        let key = (
            Principal::Addr(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            Budget::Spend("a"),
        );
        let five = Cost::credits(5);
        budgets.take(key.clone(), 10.0, five).expect("fits");
        budgets.take(key.clone(), 10.0, five).expect("fits");
        let refusal = budgets
            .take(key.clone(), 10.0, Cost::credits(2))
            .expect_err("over the cap");
        assert!(
            matches!(refusal, Refusal::Budget { retry_after_secs, left_milli: 0, .. } if retry_after_secs > 3000)
        );
    }

    #[test]
    fn the_rate_refuses_past_the_burst() {
        let limit = RateLimit::per_minute(2);
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        assert!(limit.check(ip).is_ok());
        assert!(limit.check(ip).is_ok());
        let wait = limit.check(ip).expect_err("limited");
        assert!((1..=60).contains(&wait));
    }
}
