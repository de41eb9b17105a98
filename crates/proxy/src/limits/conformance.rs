//! The behaviour both limiters share, run against each the same way (as the store's conformance
//! suite is): [`MemoryLimiter`], and [`SharedLimiter`] on SQLite's counters at a fixed time.

use faceswap_core::provider::{Cost, CostUnit};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::settlement::Settlement;
use crate::store::sqlite::SqliteStore;

const RATES: Rates = Rates {
    api: 2,
    provider_traffic: 3,
};

/// Each limiter, named.
fn limiters() -> Vec<(&'static str, Arc<dyn Limiter>)> {
    let store: Arc<dyn TaskStore> = Arc::new(SqliteStore::in_memory().expect("store"));
    // Mid-minute and mid-hour: a test's requests fall in one window.
    let noon = || 10 * shared::SPEND_WINDOW_MS + 630_000;
    vec![
        ("memory", Arc::new(MemoryLimiter::new(RATES))),
        (
            "shared",
            Arc::new(SharedLimiter::with_clock(store, RATES, noon)),
        ),
    ]
}

fn ip() -> IpAddr {
    "203.0.113.9".parse().expect("ip")
}

/// The budgets' owner of the client at [`ip`].
fn who() -> Principal {
    Principal::Addr(ip())
}

/// Takes `cost` until it fits: a charge dropped unsent may be given back by a spawned task.
async fn eventually_take(limiter: &dyn Limiter, budget: Budget, cap: f64, cost: Cost) -> Charge {
    for _ in 0..200 {
        if let Ok(charge) = limiter.take(&who(), budget, cap, cost).await {
            return charge;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{budget:?}: {cost:?} never fit again");
}

#[tokio::test]
async fn each_scope_refuses_past_its_rate_and_says_when_to_come_back() {
    for (name, limiter) in limiters() {
        for scope in [RateScope::Api, RateScope::ProviderTraffic] {
            for _ in 0..RATES.of(scope) {
                limiter.admit(scope, ip()).await.expect(name);
            }
            match limiter.admit(scope, ip()).await {
                Err(Refusal::Rate {
                    per_minute,
                    retry_after_secs,
                }) => {
                    assert_eq!(per_minute, RATES.of(scope), "{name}");
                    assert!((1..=60).contains(&retry_after_secs), "{name}");
                }
                other => panic!("{name} {scope:?}: {other:?}"),
            }
        }
        let other: IpAddr = "203.0.113.10".parse().expect("ip");
        limiter.admit(RateScope::Api, other).await.expect(name);
        limiter.prune().await;
    }
}

#[tokio::test]
async fn a_charge_sent_upstream_stands_when_dropped_and_settles_as_told() {
    for (name, limiter) in limiters() {
        let limiter = limiter.as_ref();
        let a = Budget::Spend("a");
        let two = Cost::credits(2);
        // Dropped before it was sent (a submit abandoned early): given back, perhaps by a
        // spawned task: the whole cap fits again once it is.
        drop(limiter.take(&who(), a, 6.0, two).await.expect(name));
        eventually_take(limiter, a, 6.0, Cost::credits(6))
            .await
            .give_back()
            .await;
        // Dropped while the call was out (the whole submit timed out): it stands.
        let mut charge = limiter.take(&who(), a, 6.0, two).await.expect(name);
        charge.sending();
        drop(charge);
        // A refusal gives back; the provider's own figure corrects.
        let mut refused = limiter.take(&who(), a, 6.0, two).await.expect(name);
        refused.sending();
        refused.settle(Settlement::GiveBack).await;
        let mut corrected = limiter.take(&who(), a, 6.0, two).await.expect(name);
        corrected.sending();
        corrected.settle(Settlement::CorrectTo(3.0)).await;
        // 2 + 3 spent: one credit is left.
        match limiter.take(&who(), a, 6.0, two).await {
            Err(Refusal::Budget {
                budget,
                unit: CostUnit::Credits,
                cost_milli: 2_000,
                left_milli: 1_000,
                cap_milli: 6_000,
                retry_after_secs,
            }) => {
                assert_eq!(budget, a, "{name}");
                assert!(retry_after_secs >= 1, "{name}");
            }
            other => panic!("{name}: {other:?}"),
        }
        limiter
            .take(&who(), a, 6.0, Cost::credits(1))
            .await
            .expect(name)
            .keep();
        // A correction below the charge gives the difference back.
        let b = Budget::Spend("b");
        let mut cheaper = limiter.take(&who(), b, 2.0, two).await.expect(name);
        cheaper.sending();
        cheaper.settle(Settlement::CorrectTo(0.5)).await;
        limiter
            .take(
                &Principal::Addr(ip()),
                b,
                2.0,
                Cost::new(1.5, CostUnit::Credits),
            )
            .await
            .expect(name)
            .keep();
    }
}

#[tokio::test]
async fn each_budget_is_its_own_in_its_own_unit() {
    for (name, limiter) in limiters() {
        let cent = Cost::new(0.01, CostUnit::Usd);
        for _ in 0..3 {
            let who = who();
            let charge = limiter.take(&who, Budget::Spend("usd"), 0.03, cent);
            charge.await.expect(name).keep();
        }
        let over = limiter.take(&who(), Budget::Spend("usd"), 0.03, cent).await;
        match AppError::from(over.expect_err(name)) {
            AppError::SpendCapExceeded { message, .. } => {
                assert!(
                    message.contains("only 0 of the 0.03 usd"),
                    "{name}: {message}"
                );
            }
            other => panic!("{name}: {other:?}"),
        }
        // Another provider, and the uploads, are untouched.
        limiter
            .take(
                &Principal::Addr(ip()),
                Budget::Spend("credits"),
                5.0,
                Cost::credits(5),
            )
            .await
            .expect(name)
            .keep();
        let bytes = |n: u64| Cost::new(n as f64, CostUnit::Requests);
        limiter
            .take(&who(), Budget::Uploads, 10.0, bytes(10))
            .await
            .expect(name)
            .give_back()
            .await;
        limiter
            .take(&who(), Budget::Uploads, 10.0, bytes(10))
            .await
            .expect(name)
            .keep();
        let over = limiter.take(&who(), Budget::Uploads, 10.0, bytes(1)).await;
        assert!(
            matches!(
                AppError::from(over.expect_err(name)),
                AppError::RateLimited { .. }
            ),
            "{name}: uploads are a rate"
        );
    }
}
