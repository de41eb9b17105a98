//! Per-client limits: a request rate (GCRA, from `governor`) and a budget per hour and provider,
//! in the provider's unit, computed with faceswap-core's prices. A client is its address as
//! [`crate::client_addr`] resolves it (the peer, or what a trusted load balancer forwarded for).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use faceswap_core::provider::{Cost, CostUnit};

use crate::routes::now_ms;
use crate::settlement::Settlement;
use crate::shared_limits::{self, SharedCharge};
use crate::{AppError, AppState};

pub use crate::client_addr::client_of;

/// Requests per minute per client.
pub struct RateLimit {
    limiter: RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock>,
    clock: DefaultClock,
}

impl std::fmt::Debug for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimit").finish_non_exhaustive()
    }
}

impl RateLimit {
    /// `per_minute` requests per minute per client, in bursts of up to `per_minute`.
    pub fn per_minute(per_minute: u32) -> Self {
        let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(n)),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one request of `client`; `Err(seconds)` when it must wait.
    pub fn check(&self, client: IpAddr) -> Result<(), u64> {
        self.limiter.check_key(&client).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }

    /// Forgets clients whose allowance is full again.
    pub fn prune(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// The request rates the proxy counts, each per client and per minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateScope {
    /// `/api`: what browsers call (`RATE_LIMIT_PER_MIN`).
    Api,
    /// `/hooks` and `/uploads/{name}`: what providers' machines call (callbacks, the inputs they
    /// fetch), many tasks' worth from one address: [`PROVIDER_TRAFFIC_FACTOR`] times the API's.
    ProviderTraffic,
}

/// How many times the API's rate a client may send to `/hooks` and `/uploads/{name}`.
pub const PROVIDER_TRAFFIC_FACTOR: u32 = 10;

impl RateScope {
    /// The scope's name in the shared counters.
    fn name(self) -> &'static str {
        match self {
            RateScope::Api => "rate",
            RateScope::ProviderTraffic => "rate_provider",
        }
    }

    /// Requests per minute per client in this scope.
    pub fn per_minute(self, config: &crate::Config) -> u32 {
        match self {
            RateScope::Api => config.rate_limit_per_min,
            RateScope::ProviderTraffic => config
                .rate_limit_per_min
                .saturating_mul(PROVIDER_TRAFFIC_FACTOR),
        }
    }
}

/// Counts one request of `client` in `scope`: `Ok` when it is within its rate, else 429
/// `rate_limited` with the seconds to wait. On a store several proxies share, the count is the
/// database's ([`crate::shared_limits`]); else this proxy's own.
pub async fn admit(state: &AppState, scope: RateScope, client: IpAddr) -> Result<(), AppError> {
    let per_minute = scope.per_minute(&state.config);
    if state.store.shares_limits() {
        return shared_limits::admit(
            state.store.as_ref(),
            scope.name(),
            client,
            per_minute,
            now_ms(),
        )
        .await;
    }
    let limiter = match scope {
        RateScope::Api => &state.rate_limit,
        RateScope::ProviderTraffic => &state.provider_traffic_rate,
    };
    limiter.check(client).map_err(|secs| AppError::RateLimited {
        retry_after_secs: secs,
        message: format!(
            "too many requests: at most {per_minute} per minute; try again in {} s",
            secs.max(1)
        ),
        provider_code: None,
    })
}

/// The client of an API request that is within its rate. Every `/api` handler takes it first:
/// extracting it counts the request, and a client over its rate gets 429 `rate_limited` with
/// `Retry-After` before anything else is read.
///
/// An extractor rather than a middleware layer: a layer clones the routes it wraps for every
/// request, which cost more than the limit itself.
#[derive(Debug, Clone, Copy)]
pub struct Admitted(pub IpAddr);

impl Admitted {
    /// Counts one API request of `client` ([`admit`] in [`RateScope::Api`]).
    pub async fn check(state: &AppState, client: IpAddr) -> Result<Self, AppError> {
        admit(state, RateScope::Api, client)
            .await
            .map(|()| Self(client))
    }
}

impl FromRequestParts<AppState> for Admitted {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        Self::check(state, client_of(parts)).await
    }
}

/// The client of a `/hooks` or `/uploads/{name}` request within [`RateScope::ProviderTraffic`]:
/// taken first by those handlers, before anything is looked up or read.
#[derive(Debug, Clone, Copy)]
pub struct AdmittedProviderTraffic(pub IpAddr);

impl FromRequestParts<AppState> for AdmittedProviderTraffic {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let client = client_of(parts);
        admit(state, RateScope::ProviderTraffic, client)
            .await
            .map(|()| Self(client))
    }
}

/// A spend taken for one upstream call. Until [`Charge::sending`] it is given back if dropped
/// (the submit was abandoned before anything reached the provider); from then on it stands unless
/// [`Charge::settle`] says otherwise ([`crate::settlement`]), so a submit cut off mid-call (the
/// whole submit's timeout) keeps it.
#[derive(Debug)]
pub enum Charge<'a> {
    /// From this proxy's own [`SpendCap`] (SQLite: one proxy).
    Local(LocalCharge<'a>),
    /// From the counters of the database several proxies share.
    Shared(SharedCharge),
}

impl Charge<'_> {
    /// The request is about to be written to the provider: from now on, dropping the charge
    /// keeps it.
    pub fn sending(&mut self) {
        match self {
            Charge::Local(charge) => charge.kept = true,
            Charge::Shared(charge) => charge.sending(),
        }
    }

    /// Settles the charge as [`crate::settlement::settle`] decided.
    pub async fn settle(self, settlement: Settlement) {
        match (self, settlement) {
            (Charge::Local(charge), Settlement::GiveBack) => charge.correct_to(0),
            (Charge::Local(charge), Settlement::Keep) => charge.keep(),
            (Charge::Local(charge), Settlement::CorrectTo(amount)) => {
                charge.correct_to(to_milli(amount))
            }
            (Charge::Shared(charge), Settlement::GiveBack) => charge.give_back().await,
            (Charge::Shared(charge), Settlement::Keep) => charge.keep(),
            (Charge::Shared(charge), Settlement::CorrectTo(amount)) => {
                charge.correct_to(to_milli(amount)).await
            }
        }
    }
}

/// Charges `cost` to `client` at `provider` (cap per hour `cap`, in the cost's unit): in the
/// shared database when the store is shared, else in this proxy's [`SpendCap`].
pub async fn charge<'a>(
    state: &'a AppState,
    client: IpAddr,
    provider: &'static str,
    cap: f64,
    cost: Cost,
) -> Result<Charge<'a>, AppError> {
    if state.store.shares_limits() {
        let store = Arc::clone(&state.store);
        let charge = shared_limits::charge(store, client, provider, cap, cost, now_ms()).await?;
        return Ok(Charge::Shared(charge));
    }
    state
        .spend_cap
        .charge(client, provider, cap, cost)
        .map(Charge::Local)
}

/// The key of the upload budget in a [`SpendCap`] (no provider is named so).
const UPLOADS: &str = "uploads";

/// Takes `bytes` from `client`'s upload budget of the hour (`UPLOAD_BYTES_PER_HOUR`), shared
/// through the database like the spend caps where the store shares limits: 429 `rate_limited`
/// with `Retry-After` when they do not fit. Given back by settling it
/// ([`Settlement::GiveBack`]) when the upload is not stored after all.
pub async fn take_upload(
    state: &AppState,
    client: IpAddr,
    bytes: u64,
) -> Result<Charge<'_>, AppError> {
    let cap = state.config.upload_bytes_per_hour;
    let amount = Cost::new(bytes as f64, CostUnit::Requests);
    let taken = if state.store.shares_limits() {
        let store = Arc::clone(&state.store);
        shared_limits::take_upload(store, client, cap as f64, amount, now_ms())
            .await
            .map(Charge::Shared)
    } else {
        state
            .upload_budget
            .charge(client, UPLOADS, cap as f64, amount)
            .map(Charge::Local)
    };
    taken.map_err(|err| match err {
        AppError::SpendCapExceeded {
            retry_after_secs, ..
        } => AppError::RateLimited {
            retry_after_secs,
            message: format!(
                "uploads are limited to {cap} bytes per hour per client; try again in \
                 {retry_after_secs} s"
            ),
            provider_code: None,
        },
        other => other,
    })
}

/// Spending per hour per client and provider, in the provider's unit: charged when a submit goes
/// upstream and refunded when it fails. Spending is counted in one-minute buckets, so the cost
/// per request stays constant however many requests a client makes in an hour.
#[derive(Debug)]
pub struct SpendCap {
    buckets_per_window: u64,
    started: Instant,
    spent: Mutex<HashMap<(IpAddr, &'static str), ClientSpend>>,
}

/// Amounts are counted in thousandths of a unit, so that dollar prices add up exactly.
const MILLI: f64 = 1000.0;

/// An amount in thousandths of its unit.
pub(crate) fn to_milli(amount: f64) -> u64 {
    // Saturating float-to-int cast: a negative or NaN price is free, a huge one is capped.
    (amount * MILLI).round() as u64
}

/// Thousandths back to the unit.
pub(crate) fn from_milli(milli: u64) -> f64 {
    milli as f64 / MILLI
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

/// A charge of this proxy's own [`SpendCap`], refunded on drop unless [`LocalCharge::keep`] is
/// called.
#[derive(Debug)]
pub struct LocalCharge<'a> {
    cap: &'a SpendCap,
    client: (IpAddr, &'static str),
    bucket: u64,
    credits: u64,
    kept: bool,
}

impl LocalCharge<'_> {
    /// The provider accepted the call: the credits stay spent.
    pub fn keep(mut self) {
        self.kept = true;
    }

    /// Keeps `milli` thousandths instead of the amount charged (0: all given back; more than
    /// charged: the difference is added, even past the cap, since it was spent).
    fn correct_to(mut self, milli: u64) {
        self.kept = true;
        self.cap
            .adjust(self.client, self.bucket, self.credits, milli);
    }
}

impl Drop for LocalCharge<'_> {
    fn drop(&mut self) {
        if !self.kept {
            self.cap.refund(self.client, self.bucket, self.credits);
        }
    }
}

impl SpendCap {
    /// Spending per client and provider over `window` (whole minutes, at least one).
    pub fn new(window: Duration) -> Self {
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

    /// Charges `cost` to `client` at `provider`, whose cap per window is `cap` (in the cost's
    /// unit), or says how many seconds until the budget allows it.
    pub fn charge(
        &self,
        client: IpAddr,
        provider: &'static str,
        cap: f64,
        cost: Cost,
    ) -> Result<LocalCharge<'_>, AppError> {
        let key = (client, provider);
        let credits = to_milli(cost.amount);
        let unit = cost.unit.as_str();
        let cap_milli = to_milli(cap);
        let (now_bucket, elapsed) = self.now_bucket();
        let mut spent = self.spent.lock().unwrap_or_else(|p| p.into_inner());
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
            return Err(AppError::SpendCapExceeded {
                retry_after_secs: wait.as_secs().max(1),
                message: format!(
                    "this request costs {} {unit} but only {} of the {} {unit} per hour are left",
                    from_milli(credits),
                    from_milli(cap_milli.saturating_sub(entry.total)),
                    from_milli(cap_milli),
                ),
            });
        }
        entry.total += credits;
        match entry.buckets.back_mut() {
            Some((bucket, sum)) if *bucket == now_bucket => *sum += credits,
            _ => entry.buckets.push_back((now_bucket, credits)),
        }
        Ok(LocalCharge {
            cap: self,
            client: key,
            bucket: now_bucket,
            credits,
            kept: false,
        })
    }

    /// Changes a charge of `charged` thousandths in `bucket` to `milli`.
    fn adjust(&self, client: (IpAddr, &'static str), bucket: u64, charged: u64, milli: u64) {
        if milli <= charged {
            return self.refund(client, bucket, charged - milli);
        }
        let more = milli - charged;
        let mut spent = self.spent.lock().unwrap_or_else(|p| p.into_inner());
        let entry = spent.entry(client).or_default();
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

    fn refund(&self, client: (IpAddr, &'static str), bucket: u64, credits: u64) {
        let mut spent = self.spent.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = spent.get_mut(&client) {
            if let Some((_, sum)) = entry.buckets.iter_mut().rev().find(|(b, _)| *b == bucket) {
                let back = credits.min(*sum);
                *sum -= back;
                entry.total -= back;
            }
        }
    }

    /// Forgets clients with nothing spent inside the window.
    pub fn prune(&self) {
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
    fn spend_cap_charges_refunds_and_refuses() {
        let cap = SpendCap::new(Duration::from_secs(3600));
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let five = Cost::credits(5);
        cap.charge(ip, "a", 10.0, five).expect("fits").keep();
        drop(cap.charge(ip, "a", 10.0, five).expect("fits")); // refunded
        cap.charge(ip, "a", 10.0, five).expect("fits").keep();
        let err = cap
            .charge(ip, "a", 10.0, Cost::credits(2))
            .expect_err("over the cap");
        assert!(
            matches!(err, AppError::SpendCapExceeded { retry_after_secs, .. } if retry_after_secs > 3000)
        );
        // Another provider has a budget of its own, in its own unit.
        let cent = Cost::new(0.01, faceswap_core::provider::CostUnit::Usd);
        for _ in 0..3 {
            cap.charge(ip, "b", 0.03, cent)
                .expect("three cents fit")
                .keep();
        }
        assert!(cap.charge(ip, "b", 0.03, cent).is_err());
    }

    #[tokio::test]
    async fn a_charge_sent_upstream_stands_when_dropped_and_settles_as_told() {
        let cap = SpendCap::new(Duration::from_secs(3600));
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let two = Cost::credits(2);
        // Dropped before it was sent (a submit abandoned early): given back.
        drop(Charge::Local(cap.charge(ip, "a", 6.0, two).expect("fits")));
        // Dropped while the call was out (the whole submit timed out): it stands.
        let mut charge = Charge::Local(cap.charge(ip, "a", 6.0, two).expect("fits"));
        charge.sending();
        drop(charge);
        // A refusal gives back; the provider's own figure corrects.
        let mut refused = Charge::Local(cap.charge(ip, "a", 6.0, two).expect("fits"));
        refused.sending();
        refused.settle(Settlement::GiveBack).await;
        let mut corrected = Charge::Local(cap.charge(ip, "a", 6.0, two).expect("fits"));
        corrected.sending();
        corrected.settle(Settlement::CorrectTo(3.0)).await;
        // 2 + 3 spent: one credit is left.
        assert!(cap.charge(ip, "a", 6.0, two).is_err());
        cap.charge(ip, "a", 6.0, Cost::credits(1))
            .expect("one left")
            .keep();
        // A correction below the charge gives the difference back.
        let mut cheaper = Charge::Local(cap.charge(ip, "b", 2.0, two).expect("fits"));
        cheaper.sending();
        cheaper.settle(Settlement::CorrectTo(0.5)).await;
        cap.charge(ip, "b", 2.0, Cost::new(1.5, CostUnit::Credits))
            .expect("1.5 left")
            .keep();
    }

    #[test]
    fn rate_limit_refuses_past_the_burst() {
        let limit = RateLimit::per_minute(2);
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        assert!(limit.check(ip).is_ok());
        assert!(limit.check(ip).is_ok());
        let wait = limit.check(ip).expect_err("limited");
        assert!((1..=60).contains(&wait));
    }
}
