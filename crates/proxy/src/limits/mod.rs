//! Per-client limits: a request rate per scope ([`RateScope`]) and hourly budgets ([`Budget`]: a
//! spend per provider, in the provider's unit computed with faceswap-core's prices, and the upload
//! bytes). A client is its address as [`crate::client_addr`] resolves it (the peer, or what a
//! trusted load balancer forwarded for).
//!
//! One [`Limiter`] counts them all, chosen once when the state is built ([`choose`]):
//! [`MemoryLimiter`] in this proxy's memory on a store only one proxy uses (SQLite), or
//! [`SharedLimiter`] in the database on a store several proxies share (PostgreSQL). The routes
//! only see this module's functions and extractors. A limiter refuses with a [`Refusal`], and
//! [`Refusal`] alone words the 429 (`refusal.rs`). What becomes of a charge once its upstream
//! call ends is [`crate::settlement`]'s rule; [`Charge`] carries it out on either limiter.

mod charge;
mod memory;
mod refusal;
mod shared;

pub use charge::Charge;
pub use memory::MemoryLimiter;
pub use refusal::Refusal;
pub use shared::SharedLimiter;

use async_trait::async_trait;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use faceswap_core::provider::{Cost, CostUnit};
use std::net::IpAddr;
use std::sync::Arc;

use crate::store::TaskStore;
use crate::{AppError, AppState, Config};

pub use crate::client_addr::client_of;

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

/// Requests per minute per client in each [`RateScope`], fixed when a limiter is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rates {
    /// [`RateScope::Api`].
    pub api: u32,
    /// [`RateScope::ProviderTraffic`].
    pub provider_traffic: u32,
}

impl Rates {
    /// The rates `RATE_LIMIT_PER_MIN` sets.
    pub fn from_config(config: &Config) -> Self {
        Self {
            api: config.limits.rate_limit_per_min,
            provider_traffic: config
                .limits
                .rate_limit_per_min
                .saturating_mul(PROVIDER_TRAFFIC_FACTOR),
        }
    }

    /// Requests per minute per client in `scope`.
    pub fn of(self, scope: RateScope) -> u32 {
        match scope {
            RateScope::Api => self.api,
            RateScope::ProviderTraffic => self.provider_traffic,
        }
    }
}

/// Whom an hourly budget, an `Idempotency-Key` and a task's charge belong to: the client's
/// address, or, with `AUTH_JWKS_URL` or `AUTH_HS256_SECRET`, the user of the app its verified
/// token names (`sub`), so that users behind one address have budgets of their own.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Principal {
    /// The client's address ([`client_of`]).
    Addr(IpAddr),
    /// The `sub` of a verified token.
    User(String),
}

impl std::fmt::Display for Principal {
    /// As counters and idempotency keys are stored: the address as written (as before users
    /// existed), or `user:` and the `sub`, which no address starts with.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Principal::Addr(addr) => write!(f, "{addr}"),
            Principal::User(sub) => write!(f, "user:{sub}"),
        }
    }
}

/// An hourly budget of a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Budget {
    /// The spend at one provider (its id), in the provider's unit.
    Spend(&'static str),
    /// The bytes uploaded (`UPLOAD_BYTES_PER_HOUR`).
    Uploads,
}

/// Counts the per-client limits. Object-safe: [`AppState`] holds one as `Arc<dyn Limiter>`.
#[async_trait]
pub trait Limiter: Send + Sync + 'static {
    /// Counts one request of `client` in `scope`, or refuses it with the seconds to wait.
    async fn admit(&self, scope: RateScope, client: IpAddr) -> Result<(), Refusal>;

    /// Takes `cost` from `client`'s `budget` of the hour, whose cap is `cap` (in the cost's
    /// unit), or refuses it with what is left and the seconds until it fits.
    async fn take(
        &self,
        client: &Principal,
        budget: Budget,
        cap: f64,
        cost: Cost,
    ) -> Result<Charge, Refusal>;

    /// Forgets what no longer counts (the maintenance sweep).
    async fn prune(&self);
}

/// The limiter for `store`, chosen once: in the database when several proxies may share it
/// ([`TaskStore::shares_limits`]), else in this proxy's memory.
pub fn choose(store: &Arc<dyn TaskStore>, config: &Config) -> Arc<dyn Limiter> {
    let rates = Rates::from_config(config);
    if store.shares_limits() {
        Arc::new(SharedLimiter::new(Arc::clone(store), rates))
    } else {
        Arc::new(MemoryLimiter::new(rates))
    }
}

/// Counts one request of `client` in `scope`: `Ok` when it is within its rate, else 429
/// `rate_limited` with the seconds to wait.
pub async fn admit(state: &AppState, scope: RateScope, client: IpAddr) -> Result<(), AppError> {
    Ok(state.limiter.admit(scope, client).await?)
}

/// Charges `cost` to `client` at `provider` (cap per hour `cap`, in the cost's unit): 429
/// `spend_cap_exceeded` with `Retry-After` when it does not fit.
pub async fn charge(
    state: &AppState,
    client: &Principal,
    provider: &'static str,
    cap: f64,
    cost: Cost,
) -> Result<Charge, AppError> {
    Ok(state
        .limiter
        .take(client, Budget::Spend(provider), cap, cost)
        .await?)
}

/// Takes `bytes` from `client`'s upload budget of the hour (`UPLOAD_BYTES_PER_HOUR`): 429
/// `rate_limited` with `Retry-After` when they do not fit. Given back by settling it
/// ([`crate::settlement::Settlement::GiveBack`]) when the upload is not stored after all.
pub async fn take_upload(
    state: &AppState,
    client: &Principal,
    bytes: u64,
) -> Result<Charge, AppError> {
    let cap = state.config.limits.upload_bytes_per_hour as f64;
    let amount = Cost::new(bytes as f64, CostUnit::Requests);
    Ok(state
        .limiter
        .take(client, Budget::Uploads, cap, amount)
        .await?)
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

#[cfg(test)]
mod conformance;
