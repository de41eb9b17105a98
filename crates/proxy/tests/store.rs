//! Store conformance: the same behaviour tests run against `SqliteStore` and `PostgresStore`
//! (a throwaway PostgreSQL server, see `common/pg.rs`), through `Arc<dyn TaskStore>`; then what
//! only SQLite shows (a database of the previous proxy upgraded, a corrupt row reported).

mod common;
#[path = "common/legacy.rs"]
mod legacy;

use common::pg::{self, PgServer};
use faceswap_core::provider::{Cost, CostUnit, ResultInfo, TaskUpdate};
use faceswap_core::TaskStatus;
use faceswap_proxy::app_webhook::{AppEvents, AppOutbox};
use faceswap_proxy::store::postgres::PostgresStore;
use faceswap_proxy::store::sqlite::SqliteStore;
use faceswap_proxy::store::{
    AppEventClaim, CounterKey, Delivery, IdempotencyBegin, NewTask, NewToken, PollClaim,
    StoreError, TaskKey, TaskStore, TokenRecord,
};
use std::sync::Arc;

/// aifaceswap, the provider of most tests.
const AIFACESWAP: &str = "aifaceswap";

fn key(task_id: &str) -> TaskKey {
    TaskKey::new(AIFACESWAP, task_id)
}

/// A new aifaceswap token.
fn token(token_hash: &str, now_ms: i64) -> NewToken {
    NewToken {
        token_hash: token_hash.into(),
        provider: AIFACESWAP.into(),
        operation: "faceswap".into(),
        secret_hash: None,
        now_ms,
    }
}

/// An aifaceswap task to bind.
fn task(
    token_hash: &str,
    task_id: &str,
    points: Option<u64>,
    now_ms: i64,
    deadline_after_ms: i64,
) -> NewTask {
    NewTask {
        token_hash: token_hash.into(),
        key: key(task_id),
        points,
        cost: None,
        next_poll_ms: None,
        deadline_after_ms,
        now_ms,
        owner: None,
    }
}

/// An aifaceswap callback as the adapter reads it: type 1, and the result URL on success.
fn callback(task_id: &str, success: bool) -> TaskUpdate {
    let mut update = if success {
        TaskUpdate::succeeded(Some(task_id.into()), "https://cdn.example/r.jpg".into())
    } else {
        TaskUpdate::failed(Some(task_id.into()), None)
    };
    update.kind = Some(1);
    update
}

async fn token_exists(store: &dyn TaskStore, token_hash: &str) -> bool {
    store.token(token_hash).await.expect("token").is_some()
}

fn sqlite() -> Arc<dyn TaskStore> {
    Arc::new(SqliteStore::in_memory().expect("sqlite store"))
}

/// A PostgreSQL store on a fresh database, with the server it runs on (kept alive by the test).
async fn postgres() -> Option<(Arc<PgServer>, Arc<dyn TaskStore>)> {
    let server = pg::server()?;
    let url = server.database().await;
    let store = PostgresStore::connect(&url, tokio::runtime::Handle::current())
        .await
        .expect("postgres store");
    Some((server, Arc::new(store)))
}

/// One test per store for each behaviour.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite_store {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::sqlite()).await;
                }
            )*
        }
        mod postgres_store {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some((_server, store)) = super::postgres().await else { return };
                    super::$name(store).await;
                }
            )*
        }
    };
}

conformance!(
    held_callback_applies_on_bind_and_terminal_states_stay,
    a_bound_task_is_delivered_once_and_a_late_failure_changes_nothing,
    overdue_tasks_time_out_once,
    idempotency_replays_conflicts_waits_and_abandons,
    concurrent_idempotency_begins_start_once,
    prune_removes_old_keys_and_unbound_tokens,
    changes_wake_local_subscribers_in_order,
    the_same_task_id_at_two_providers_is_two_tasks,
    a_held_neutral_update_applies_at_bind_and_progress_is_not_held,
    progress_updates_change_nothing,
    updates_from_polls_apply_once,
    poll_claims_lease_due_pending_tasks,
    binding_needs_the_token_of_the_task,
    limit_counters_take_within_the_cap_and_give_back,
    finished_tasks_lose_their_tokens_then_themselves,
    app_events_are_queued_with_their_change_and_leased,
    every_change_is_queued_under_all_and_timeouts_too,
    a_gone_endpoint_gets_nothing_more,
    kept_results_are_listed_leased_and_recorded,
    a_task_keeps_its_owner,
);

/// The user a task was submitted by is kept with it; a task without one has none.
async fn a_task_keeps_its_owner(store: Arc<dyn TaskStore>) {
    for (hash, task_id, owner) in [("h1", "t1", Some("alice")), ("h2", "t2", None)] {
        store.create_token(&token(hash, 0)).await.expect("token");
        store
            .bind_task(&NewTask {
                owner: owner.map(str::to_owned),
                ..task(hash, task_id, None, 0, 1_000_000)
            })
            .await
            .expect("bind");
    }
    assert_eq!(
        store.owner(&key("t1")).await.expect("owner").as_deref(),
        Some("alice")
    );
    assert_eq!(store.owner(&key("t2")).await.expect("owner"), None);
    assert_eq!(store.owner(&key("none")).await.expect("owner"), None);
}

/// `KEEP_RESULTS`: a success's result URL is the copy's, the provider's beside it; the task is
/// leased for copying until its copy is recorded, and a failed copy is tried again when due, up
/// to the number of tries asked.
async fn kept_results_are_listed_leased_and_recorded(store: Arc<dyn TaskStore>) {
    store.keep_results(Some("https://proxy.example/results".into()));
    for (hash, task_id, success) in [("h1", "t1", true), ("h2", "t2", false)] {
        store.create_token(&token(hash, 0)).await.expect("token");
        store
            .bind_task(&task(hash, task_id, None, 0, 1_000_000))
            .await
            .expect("bind");
        store
            .deliver(hash, &callback(task_id, success), 10)
            .await
            .expect("deliver");
    }
    let view = store
        .task(&key("t1"))
        .await
        .expect("task")
        .expect("t1")
        .view;
    assert_eq!(
        view.result_url.as_deref(),
        Some("https://proxy.example/results/aifaceswap/t1")
    );
    assert_eq!(
        view.provider_result_url.as_deref(),
        Some("https://cdn.example/r.jpg")
    );
    let claims = store
        .claim_results_to_keep(100, 1000, 10, 2)
        .await
        .expect("claim");
    assert_eq!(claims.len(), 1, "only the success: {claims:?}");
    assert_eq!(claims[0].key, key("t1"));
    assert_eq!(claims[0].provider_url, "https://cdn.example/r.jpg");
    assert_eq!(claims[0].attempts, 0);
    assert!(
        store
            .claim_results_to_keep(200, 1000, 10, 2)
            .await
            .expect("claim")
            .is_empty(),
        "leased"
    );
    store
        .result_keep_failed(&key("t1"), 5_000)
        .await
        .expect("failed");
    assert!(
        store
            .claim_results_to_keep(4_999, 1000, 10, 2)
            .await
            .expect("claim")
            .is_empty(),
        "not due"
    );
    let again = store
        .claim_results_to_keep(5_000, 1000, 10, 2)
        .await
        .expect("claim");
    assert_eq!(again[0].attempts, 1);
    store
        .result_keep_failed(&key("t1"), 6_000)
        .await
        .expect("failed");
    assert!(
        store
            .claim_results_to_keep(10_000, 1000, 10, 2)
            .await
            .expect("claim")
            .is_empty(),
        "two tries asked, two made"
    );
    store
        .result_kept(&key("t1"), "0123456789abcdef0123456789abcdef.png")
        .await
        .expect("kept");
    let copy = store
        .result_copy(&key("t1"))
        .await
        .expect("copy")
        .expect("t1");
    assert_eq!(
        copy.kept.as_deref(),
        Some("0123456789abcdef0123456789abcdef.png")
    );
    assert_eq!(
        copy.provider_url.as_deref(),
        Some("https://cdn.example/r.jpg")
    );
    assert!(store
        .result_copy(&key("none"))
        .await
        .expect("copy")
        .is_none());
    let failed = store
        .result_copy(&key("t2"))
        .await
        .expect("copy")
        .expect("t2");
    assert_eq!((failed.kept, failed.provider_url), (None, None));
}

/// An outbox of `events` for the app at `url`.
fn outbox(events: AppEvents) -> AppOutbox {
    AppOutbox::new("https://app.example/hooks", events)
}

/// The queued events due at `now` (leased for 1 s), by type.
async fn claim_types(store: &dyn TaskStore, now: i64) -> Vec<(String, AppEventClaim)> {
    store
        .claim_app_events(now, 1000, 100)
        .await
        .expect("claim events")
        .into_iter()
        .map(|claim| {
            let json: serde_json::Value = serde_json::from_str(&claim.payload).expect("json");
            (json["type"].as_str().expect("type").to_owned(), claim)
        })
        .collect()
}

/// The outbox: nothing without an app webhook; the terminal change of a task queued with it,
/// leased to one claimer until its lease ends, tried again when due, removed when done.
async fn app_events_are_queued_with_their_change_and_leased(store: Arc<dyn TaskStore>) {
    store.create_token(&token("h0", 0)).await.expect("token");
    store
        .bind_task(&task("h0", "t0", None, 0, 1_000_000))
        .await
        .expect("bind");
    store
        .deliver("h0", &callback("t0", true), 10)
        .await
        .expect("deliver");
    assert!(
        claim_types(store.as_ref(), 100).await.is_empty(),
        "no app webhook: no event"
    );

    store.queue_app_events(Some(outbox(AppEvents::Terminal)));
    store.create_token(&token("h1", 0)).await.expect("token");
    store
        .bind_task(&task("h1", "t1", Some(3), 0, 1_000_000))
        .await
        .expect("bind");
    assert!(
        claim_types(store.as_ref(), 100).await.is_empty(),
        "pending is not terminal"
    );
    store
        .deliver("h1", &callback("t1", true), 200)
        .await
        .expect("deliver");
    // A repeated delivery changes nothing, so queues nothing.
    store
        .deliver("h1", &callback("t1", true), 210)
        .await
        .expect("deliver again");
    let claims = claim_types(store.as_ref(), 300).await;
    assert_eq!(claims.len(), 1, "{claims:?}");
    let (kind, claim) = &claims[0];
    assert_eq!(kind, "task.succeeded");
    assert!(
        claim.id.starts_with("msg_") && claim.id.len() == 36,
        "{}",
        claim.id
    );
    assert_eq!((claim.attempts, claim.created_ms), (0, 200));
    let json: serde_json::Value = serde_json::from_str(&claim.payload).expect("json");
    assert_eq!(json["data"]["task_id"], "t1");
    assert_eq!(json["data"]["provider"], AIFACESWAP);
    assert_eq!(json["data"]["result_url"], "https://cdn.example/r.jpg");
    assert_eq!(json["data"]["points"], 3);
    // Leased: nobody else claims it until the lease ends.
    assert!(claim_types(store.as_ref(), 500).await.is_empty());
    store
        .app_event_retry(&claim.id, 5_000)
        .await
        .expect("retry");
    assert!(
        claim_types(store.as_ref(), 4_999).await.is_empty(),
        "not due yet"
    );
    let again = claim_types(store.as_ref(), 5_000).await;
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].1.id.as_str(), again[0].1.attempts),
        (claim.id.as_str(), 1)
    );
    assert_eq!(
        again[0].1.payload, claim.payload,
        "the same body on every try"
    );
    // A lease that ended (a proxy that died mid-try) is taken over.
    assert_eq!(claim_types(store.as_ref(), 6_001).await.len(), 1);
    store.app_event_done(&claim.id).await.expect("done");
    assert!(claim_types(store.as_ref(), 100_000).await.is_empty());
    // Events nobody sent are removed by the sweep, older ones first.
    store
        .deliver("h1", &callback("t1", true), 300)
        .await
        .expect("repeat");
    store.create_token(&token("h9", 0)).await.expect("token");
    store
        .bind_task(&task("h9", "t9", None, 0, 1_000_000))
        .await
        .expect("bind");
    store
        .deliver("h9", &callback("t9", false), 7_000)
        .await
        .expect("deliver");
    assert_eq!(store.forget_app_events(7_000).await.expect("forget"), 0);
    assert_eq!(store.forget_app_events(7_001).await.expect("forget"), 1);
    assert!(claim_types(store.as_ref(), 100_000).await.is_empty());
}

/// `all`: the creation and the end of a task (a held callback applied at bind: both); the
/// deadline sweep's `timed_out` too.
async fn every_change_is_queued_under_all_and_timeouts_too(store: Arc<dyn TaskStore>) {
    store.queue_app_events(Some(outbox(AppEvents::All)));
    store.create_token(&token("h1", 0)).await.expect("token");
    store
        .deliver("h1", &callback("t1", false), 5)
        .await
        .expect("held");
    store
        .bind_task(&task("h1", "t1", None, 10, 1_000_000))
        .await
        .expect("bind");
    store.create_token(&token("h2", 0)).await.expect("token");
    store
        .bind_task(&task("h2", "t2", None, 20, 100))
        .await
        .expect("bind");
    // A repeated bind creates nothing.
    store
        .bind_task(&task("h2", "t2", None, 30, 100))
        .await
        .expect("bind again");
    let expired = store.expire_overdue(1_000).await.expect("expire");
    assert_eq!(expired.len(), 1);
    let mut seen: Vec<(String, String)> = claim_types(store.as_ref(), 2_000)
        .await
        .into_iter()
        .map(|(kind, claim)| {
            let json: serde_json::Value = serde_json::from_str(&claim.payload).expect("json");
            (
                json["data"]["task_id"].as_str().expect("id").to_owned(),
                kind,
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("t1".into(), "task.failed".into()),
            ("t1".into(), "task.pending".into()),
            ("t2".into(), "task.pending".into()),
            ("t2".into(), "task.timed_out".into()),
        ]
    );
}

/// 410: the endpoint's queued events go, and none are queued for it again; another URL's are.
async fn a_gone_endpoint_gets_nothing_more(store: Arc<dyn TaskStore>) {
    store.queue_app_events(Some(outbox(AppEvents::All)));
    store.create_token(&token("h1", 0)).await.expect("token");
    store
        .bind_task(&task("h1", "t1", None, 0, 1_000_000))
        .await
        .expect("bind");
    let endpoint = outbox(AppEvents::All).endpoint;
    assert_eq!(
        store.app_endpoint_gone(&endpoint, 10).await.expect("gone"),
        1
    );
    store
        .deliver("h1", &callback("t1", true), 20)
        .await
        .expect("deliver");
    assert!(claim_types(store.as_ref(), 100).await.is_empty());
    // Another URL is another endpoint.
    store.queue_app_events(Some(AppOutbox::new(
        "https://app.example/v2",
        AppEvents::All,
    )));
    store.create_token(&token("h2", 0)).await.expect("token");
    store
        .bind_task(&task("h2", "t2", None, 0, 1_000_000))
        .await
        .expect("bind");
    assert_eq!(claim_types(store.as_ref(), 100).await.len(), 1);
}

/// Retention: a finished task's token goes first (a later callback is unknown), the task after;
/// a pending task stays, however old.
async fn finished_tasks_lose_their_tokens_then_themselves(store: Arc<dyn TaskStore>) {
    for (token_hash, task_id) in [("done", "t-done"), ("open", "t-open")] {
        store
            .create_token(&token(token_hash, 0))
            .await
            .expect("token");
        store
            .bind_task(&task(token_hash, task_id, None, 0, 1_000_000))
            .await
            .expect("bind");
    }
    let delivered = store
        .deliver("done", &callback("t-done", true), 100)
        .await
        .expect("deliver");
    assert!(matches!(delivered, Delivery::Applied(_)), "{delivered:?}");
    // Nothing finished before 100: nothing goes.
    assert_eq!(store.forget_finished(100, 100).await.expect("forget"), 0);
    assert!(matches!(
        store
            .deliver("done", &callback("t-done", true), 150)
            .await
            .expect("deliver"),
        Delivery::Unchanged(_)
    ));
    // Past the duplicate window: the token goes, the task stays.
    assert_eq!(store.forget_finished(101, 50).await.expect("forget"), 0);
    assert!(!token_exists(store.as_ref(), "done").await);
    assert!(matches!(
        store
            .deliver("done", &callback("t-done", true), 200)
            .await
            .expect("deliver"),
        Delivery::UnknownToken
    ));
    assert!(store.task(&key("t-done")).await.expect("task").is_some());
    // Past the retention: the task goes; the pending one and its token stay.
    assert_eq!(
        store.forget_finished(10_000, 10_000).await.expect("forget"),
        1
    );
    assert!(store.task(&key("t-done")).await.expect("task").is_none());
    assert!(store.task(&key("t-open")).await.expect("task").is_some());
    assert!(token_exists(store.as_ref(), "open").await);
}

fn counter(scope: &str, client: &str, window_ms: i64) -> CounterKey {
    CounterKey {
        scope: scope.into(),
        client: client.into(),
        window_ms,
    }
}

async fn limit_counters_take_within_the_cap_and_give_back(store: Arc<dyn TaskStore>) {
    let key = counter("spend:piapi", "203.0.113.9", 3_600_000);
    assert_eq!(store.counter_used(&key).await.expect("used"), 0);
    assert_eq!(
        store.counter_take(&key, 30, 100).await.expect("take"),
        Some(30)
    );
    assert_eq!(
        store.counter_take(&key, 70, 100).await.expect("take"),
        Some(100)
    );
    assert_eq!(
        store.counter_take(&key, 1, 100).await.expect("take"),
        None,
        "full"
    );
    assert_eq!(
        store.counter_used(&key).await.expect("used"),
        100,
        "a refusal adds nothing"
    );
    store.counter_give_back(&key, 30).await.expect("give back");
    assert_eq!(
        store.counter_take(&key, 30, 100).await.expect("take"),
        Some(100)
    );
    // More than the whole cap never fits, even in an empty window.
    let fresh = counter("spend:piapi", "203.0.113.9", 7_200_000);
    assert_eq!(
        store.counter_take(&fresh, 101, 100).await.expect("take"),
        None
    );
    assert_eq!(store.counter_used(&fresh).await.expect("used"), 0);
    // Giving back more than was taken stops at zero.
    store
        .counter_give_back(&key, 1_000)
        .await
        .expect("give back");
    assert_eq!(store.counter_used(&key).await.expect("used"), 0);
    // Pruning removes the windows that started before the bound, and only those.
    store.counter_take(&fresh, 5, 100).await.expect("take");
    store.prune_counters(7_200_000).await.expect("prune");
    assert_eq!(store.counter_used(&key).await.expect("used"), 0);
    assert_eq!(store.counter_used(&fresh).await.expect("used"), 5);
}

/// Two stores on one database (two proxies) take from the same counter of one client, and
/// from separate counters for two clients, concurrently, never beyond the cap.
async fn two_stores_share_one_clients_counters(a: Arc<dyn TaskStore>, b: Arc<dyn TaskStore>) {
    let alice = counter("rate", "203.0.113.1", 60_000);
    let bob = counter("rate", "203.0.113.2", 60_000);
    let mut takes = Vec::new();
    for i in 0..20 {
        let store = Arc::clone(if i % 2 == 0 { &a } else { &b });
        let alice = alice.clone();
        takes.push(tokio::spawn(async move {
            store.counter_take(&alice, 1, 7).await.expect("take")
        }));
    }
    let mut taken = 0;
    for take in takes {
        taken += usize::from(take.await.expect("joined").is_some());
    }
    assert_eq!(taken, 7, "the cap holds across both stores");
    assert_eq!(a.counter_used(&alice).await.expect("used"), 7);
    assert_eq!(b.counter_used(&alice).await.expect("used"), 7);
    assert_eq!(b.counter_take(&alice, 1, 7).await.expect("take"), None);
    // Another client has a counter of its own.
    assert_eq!(b.counter_take(&bob, 1, 7).await.expect("take"), Some(1));
    assert_eq!(a.counter_take(&bob, 1, 7).await.expect("take"), Some(2));
    // What one store gives back, the other may take.
    a.counter_give_back(&alice, 1).await.expect("give back");
    assert_eq!(b.counter_take(&alice, 1, 7).await.expect("take"), Some(7));
}

#[tokio::test]
async fn two_sqlite_stores_on_one_file_share_limit_counters() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("tasks.db");
    let a = SqliteStore::open(&path).expect("store A");
    let b = SqliteStore::open(&path).expect("store B");
    two_stores_share_one_clients_counters(Arc::new(a), Arc::new(b)).await;
}

#[tokio::test]
async fn two_postgres_stores_on_one_database_share_limit_counters() {
    let Some(server) = pg::server() else { return };
    let url = server.database().await;
    let (a, b) = tokio::join!(
        PostgresStore::connect(&url, tokio::runtime::Handle::current()),
        PostgresStore::connect(&url, tokio::runtime::Handle::current())
    );
    let (a, b) = (a.expect("store A"), b.expect("store B"));
    assert!(
        a.shares_limits(),
        "PostgreSQL counts limits in the database"
    );
    two_stores_share_one_clients_counters(Arc::new(a), Arc::new(b)).await;
}

async fn held_callback_applies_on_bind_and_terminal_states_stay(store: Arc<dyn TaskStore>) {
    store.create_token(&token("h1", 1000)).await.expect("token");
    assert!(token_exists(store.as_ref(), "h1").await);
    assert_eq!(
        store
            .deliver("h1", &callback("t1", true), 1001)
            .await
            .expect("deliver"),
        Delivery::Held
    );
    // A second early delivery keeps the first.
    assert_eq!(
        store
            .deliver("h1", &callback("t1", false), 1001)
            .await
            .expect("deliver"),
        Delivery::Held
    );
    let view = store
        .bind_task(&task("h1", "t1", Some(2), 1002, 10_000))
        .await
        .expect("bind");
    assert_eq!(view.provider, AIFACESWAP);
    assert_eq!(view.status, TaskStatus::Succeeded);
    assert_eq!(view.points, Some(2));
    assert_eq!(view.kind, Some(1));
    assert_eq!(
        view.result_url.as_deref(),
        Some("https://cdn.example/r.jpg")
    );
    assert_eq!(view.error, None);
    assert_eq!(view.created_at, "1970-01-01T00:00:01Z");
    assert_eq!(view.updated_at, "1970-01-01T00:00:01.002Z");
    let late = store
        .deliver("h1", &callback("t1", false), 1003)
        .await
        .expect("deliver");
    assert!(matches!(late, Delivery::Unchanged(v) if v.status == TaskStatus::Succeeded));
    assert_eq!(
        store
            .deliver("h1", &callback("t2", true), 1004)
            .await
            .expect("deliver"),
        Delivery::WrongTask
    );
    assert_eq!(
        store
            .deliver("nope", &callback("t1", true), 1004)
            .await
            .expect("deliver"),
        Delivery::UnknownToken
    );
    assert!(!token_exists(store.as_ref(), "nope").await);
}

async fn a_bound_task_is_delivered_once_and_a_late_failure_changes_nothing(
    store: Arc<dyn TaskStore>,
) {
    store.create_token(&token("h", 0)).await.expect("token");
    let view = store
        .bind_task(&task("h", "t", Some(5), 10, 60_000))
        .await
        .expect("bind");
    assert_eq!(view.status, TaskStatus::Pending);
    let event = store.task(&key("t")).await.expect("task").expect("exists");
    assert_eq!(event.version, 1);
    let applied = store
        .deliver("h", &callback("t", true), 20)
        .await
        .expect("deliver");
    assert!(matches!(&applied, Delivery::Applied(v) if v.status == TaskStatus::Succeeded));
    let again = store
        .deliver("h", &callback("t", true), 30)
        .await
        .expect("deliver");
    assert!(matches!(&again, Delivery::Unchanged(v) if v.status == TaskStatus::Succeeded));
    let failure = store
        .deliver("h", &callback("t", false), 40)
        .await
        .expect("deliver");
    assert!(matches!(&failure, Delivery::Unchanged(v) if v.status == TaskStatus::Succeeded));
    let event = store.task(&key("t")).await.expect("task").expect("exists");
    assert_eq!(event.version, 2, "one change only");
    assert_eq!(event.view.status, TaskStatus::Succeeded);
    assert!(store.task(&key("missing")).await.expect("task").is_none());
    // A discarded token is unknown; a bound token cannot be discarded.
    store.create_token(&token("gone", 0)).await.expect("token");
    store.discard_token("gone").await.expect("discard");
    assert!(!token_exists(store.as_ref(), "gone").await);
    store.discard_token("h").await.expect("discard");
    assert!(token_exists(store.as_ref(), "h").await);
}

async fn overdue_tasks_time_out_once(store: Arc<dyn TaskStore>) {
    store.create_token(&token("h", 0)).await.expect("token");
    store
        .bind_task(&task("h", "t", None, 0, 100))
        .await
        .expect("bind");
    assert!(store.expire_overdue(50).await.expect("sweep").is_empty());
    let expired = store.expire_overdue(100).await.expect("sweep");
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].status, TaskStatus::TimedOut);
    assert_eq!(expired[0].provider, AIFACESWAP);
    assert!(store.expire_overdue(200).await.expect("sweep").is_empty());
    let event = store.task(&key("t")).await.expect("task").expect("exists");
    assert_eq!(event.version, 2);
    // A webhook after the deadline does not revive it.
    let late = store
        .deliver("h", &callback("t", true), 300)
        .await
        .expect("deliver");
    assert!(matches!(late, Delivery::Unchanged(v) if v.status == TaskStatus::TimedOut));
}

async fn idempotency_replays_conflicts_waits_and_abandons(store: Arc<dyn TaskStore>) {
    let begin = |key: &'static str, fp: &'static str, now| {
        let store = Arc::clone(&store);
        async move {
            store
                .idempotency_begin(key, fp, now, 1000, 100)
                .await
                .expect("begin")
        }
    };
    assert_eq!(begin("k", "a", 0).await, IdempotencyBegin::Started);
    assert_eq!(begin("k", "a", 1).await, IdempotencyBegin::InProgress);
    store
        .idempotency_finish("k", 201, b"{\"x\":1}")
        .await
        .expect("finish");
    assert_eq!(
        begin("k", "a", 2).await,
        IdempotencyBegin::Replay(201, b"{\"x\":1}".to_vec())
    );
    assert_eq!(begin("k", "b", 3).await, IdempotencyBegin::Conflict);
    // A finished record is not abandoned.
    store.idempotency_abandon("k").await.expect("abandon");
    assert_eq!(
        begin("k", "a", 4).await,
        IdempotencyBegin::Replay(201, b"{\"x\":1}".to_vec())
    );
    // Expired: a new start, with another body.
    assert_eq!(begin("k", "b", 2000).await, IdempotencyBegin::Started);
    // An abandoned start may be tried again at once.
    assert_eq!(begin("j", "a", 0).await, IdempotencyBegin::Started);
    store.idempotency_abandon("j").await.expect("abandon");
    assert_eq!(begin("j", "a", 1).await, IdempotencyBegin::Started);
    // A start left unfinished past the stale limit is taken over.
    assert_eq!(begin("j", "a", 500).await, IdempotencyBegin::Started);
}

async fn concurrent_idempotency_begins_start_once(store: Arc<dyn TaskStore>) {
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .idempotency_begin("same", "fp", 0, 1000, 100)
                    .await
                    .expect("begin")
            })
        })
        .collect();
    let mut started = 0;
    for attempt in attempts {
        match attempt.await.expect("task") {
            IdempotencyBegin::Started => started += 1,
            IdempotencyBegin::InProgress => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(started, 1);
}

async fn prune_removes_old_keys_and_unbound_tokens(store: Arc<dyn TaskStore>) {
    store.create_token(&token("old", 0)).await.expect("token");
    store.create_token(&token("new", 500)).await.expect("token");
    store.create_token(&token("bound", 0)).await.expect("token");
    store
        .bind_task(&task("bound", "t", None, 0, 10_000))
        .await
        .expect("bind");
    assert_eq!(
        store
            .idempotency_begin("k-old", "a", 0, 1_000_000, 1_000_000)
            .await
            .expect("begin"),
        IdempotencyBegin::Started
    );
    assert_eq!(
        store
            .idempotency_begin("k-new", "a", 500, 1_000_000, 1_000_000)
            .await
            .expect("begin"),
        IdempotencyBegin::Started
    );
    let receiver = store.notifier().subscribe(&key("t"));
    drop(receiver);
    store.prune(100, 100).await.expect("prune");
    assert!(!token_exists(store.as_ref(), "old").await);
    assert!(token_exists(store.as_ref(), "new").await);
    assert!(token_exists(store.as_ref(), "bound").await);
    assert_eq!(store.notifier().channel_count(), 0);
    assert_eq!(
        store
            .idempotency_begin("k-old", "a", 600, 1_000_000, 1_000_000)
            .await
            .expect("begin"),
        IdempotencyBegin::Started,
        "the old record is gone"
    );
    assert_eq!(
        store
            .idempotency_begin("k-new", "a", 600, 1_000_000, 1_000_000)
            .await
            .expect("begin"),
        IdempotencyBegin::InProgress,
        "the new record stays"
    );
}

async fn changes_wake_local_subscribers_in_order(store: Arc<dyn TaskStore>) {
    store.create_token(&token("h", 0)).await.expect("token");
    let mut receiver = store.notifier().subscribe(&key("t"));
    store
        .bind_task(&task("h", "t", None, 0, 10_000))
        .await
        .expect("bind");
    tokio::time::timeout(std::time::Duration::from_secs(5), receiver.changed())
        .await
        .expect("woken in time")
        .expect("open");
    let event = receiver.borrow_and_update().clone().expect("event");
    assert_eq!(event.version, 1);
    assert_eq!(event.view.status, TaskStatus::Pending);
    store
        .deliver("h", &callback("t", true), 5)
        .await
        .expect("deliver");
    loop {
        tokio::time::timeout(std::time::Duration::from_secs(5), receiver.changed())
            .await
            .expect("woken in time")
            .expect("open");
        let event = receiver.borrow_and_update().clone().expect("event");
        if event.version == 2 {
            assert_eq!(event.view.status, TaskStatus::Succeeded);
            break;
        }
        assert_eq!(event.version, 1, "never backwards");
    }
}

async fn the_same_task_id_at_two_providers_is_two_tasks(store: Arc<dyn TaskStore>) {
    let piapi = TaskKey::new("piapi", "t");
    store.create_token(&token("h-a", 0)).await.expect("token");
    store
        .create_token(&NewToken {
            token_hash: "h-p".into(),
            provider: "piapi".into(),
            operation: "face-swap".into(),
            secret_hash: Some("secret-hash".into()),
            now_ms: 0,
        })
        .await
        .expect("token");
    let mut on_piapi = store.notifier().subscribe(&piapi);
    store
        .bind_task(&task("h-a", "t", Some(2), 10, 60_000))
        .await
        .expect("bind aifaceswap");
    let bound = store
        .bind_task(&NewTask {
            token_hash: "h-p".into(),
            key: piapi.clone(),
            points: None,
            cost: Some(Cost::new(0.01, CostUnit::Usd)),
            next_poll_ms: None,
            deadline_after_ms: 60_000,
            now_ms: 10,
            owner: None,
        })
        .await
        .expect("bind piapi");
    assert_eq!(bound.provider, "piapi");
    assert_eq!(bound.cost, Some(Cost::new(0.01, CostUnit::Usd)));
    assert_eq!(
        store.token("h-p").await.expect("token"),
        Some(TokenRecord {
            provider: "piapi".into(),
            task_id: Some("t".into()),
            secret_hash: Some("secret-hash".into()),
        })
    );
    let applied = store
        .deliver("h-a", &callback("t", true), 20)
        .await
        .expect("deliver");
    assert!(matches!(&applied, Delivery::Applied(v) if v.provider == AIFACESWAP));
    assert!(
        on_piapi
            .borrow()
            .as_ref()
            .is_some_and(|e| e.view.provider == "piapi" && e.version == 1),
        "the aifaceswap change is not the piapi task's"
    );
    let piapi_task = store.task(&piapi).await.expect("task").expect("exists");
    assert_eq!(piapi_task.view.status, TaskStatus::Pending, "untouched");
    assert_eq!(piapi_task.version, 1);
    let failed = store
        .deliver(
            "h-p",
            &TaskUpdate::failed(Some("t".into()), Some("no face found".into())),
            30,
        )
        .await
        .expect("deliver");
    assert!(
        matches!(&failed, Delivery::Applied(v) if v.provider == "piapi"
            && v.status == TaskStatus::Failed
            && v.error.as_deref() == Some("no face found")
            && v.cost == Some(Cost::new(0.01, CostUnit::Usd))),
        "{failed:?}"
    );
    let aifaceswap_task = store.task(&key("t")).await.expect("task").expect("exists");
    assert_eq!(aifaceswap_task.view.status, TaskStatus::Succeeded);
    assert_eq!(aifaceswap_task.view.points, Some(2));
    // The piapi stream holds its own task's newest state, never aifaceswap's.
    let event = on_piapi.borrow_and_update().clone().expect("an event");
    assert_eq!(event.view.provider, "piapi");
    assert_eq!(event.version, 2);
}

async fn a_held_neutral_update_applies_at_bind_and_progress_is_not_held(store: Arc<dyn TaskStore>) {
    let piapi_token = |hash: &str| NewToken {
        token_hash: hash.into(),
        provider: "piapi".into(),
        operation: "face-swap".into(),
        secret_hash: None,
        now_ms: 100,
    };
    let piapi_task = |hash: &str, task_id: &str| NewTask {
        token_hash: hash.into(),
        key: TaskKey::new("piapi", task_id),
        points: None,
        cost: Some(Cost::new(0.5, CostUnit::Usd)),
        next_poll_ms: None,
        deadline_after_ms: 60_000,
        now_ms: 200,
        owner: None,
    };
    store.create_token(&piapi_token("h1")).await.expect("token");
    for update in [
        TaskUpdate::pending(Some("t1".into())),
        TaskUpdate::failed(Some("t1".into()), Some("NSFW input".into())),
        TaskUpdate::succeeded(Some("t1".into()), "https://r.example/late".into()),
    ] {
        assert_eq!(
            store.deliver("h1", &update, 150).await.expect("deliver"),
            Delivery::Held
        );
    }
    let view = store
        .bind_task(&piapi_task("h1", "t1"))
        .await
        .expect("bind");
    assert_eq!(view.status, TaskStatus::Failed, "the first terminal update");
    assert_eq!(view.error.as_deref(), Some("NSFW input"));
    assert_eq!(view.result_url, None);
    assert_eq!(view.cost, Some(Cost::new(0.5, CostUnit::Usd)));
    assert_eq!(view.updated_at, "1970-01-01T00:00:00.2Z");
    // A progress report alone is not held: the bound task is pending.
    store.create_token(&piapi_token("h2")).await.expect("token");
    assert_eq!(
        store
            .deliver("h2", &TaskUpdate::pending(Some("t2".into())), 150)
            .await
            .expect("deliver"),
        Delivery::Held
    );
    let view = store
        .bind_task(&piapi_task("h2", "t2"))
        .await
        .expect("bind");
    assert_eq!(view.status, TaskStatus::Pending);
    let event = store
        .task(&TaskKey::new("piapi", "t2"))
        .await
        .expect("task")
        .expect("exists");
    assert_eq!(event.version, 1);
    // An update held for another task than the one bound is dropped.
    store.create_token(&piapi_token("h3")).await.expect("token");
    store
        .deliver(
            "h3",
            &TaskUpdate::succeeded(Some("other".into()), "https://r.example/x".into()),
            150,
        )
        .await
        .expect("deliver");
    let view = store
        .bind_task(&piapi_task("h3", "t3"))
        .await
        .expect("bind");
    assert_eq!(view.status, TaskStatus::Pending);
}

async fn progress_updates_change_nothing(store: Arc<dyn TaskStore>) {
    store.create_token(&token("h", 0)).await.expect("token");
    store
        .bind_task(&task("h", "t", None, 0, 60_000))
        .await
        .expect("bind");
    let receiver = store.notifier().subscribe(&key("t"));
    let progress = store
        .deliver("h", &TaskUpdate::pending(Some("t".into())), 10)
        .await
        .expect("deliver");
    assert!(
        matches!(&progress, Delivery::Unchanged(v) if v.status == TaskStatus::Pending
            && v.updated_at == "1970-01-01T00:00:00Z"),
        "{progress:?}"
    );
    // A progress report without a task id goes to the bound task, and changes nothing either.
    let progress = store
        .deliver("h", &TaskUpdate::pending(None), 11)
        .await
        .expect("deliver");
    assert!(matches!(&progress, Delivery::Unchanged(_)));
    let (changed, view) = store
        .apply(&key("t"), &TaskUpdate::pending(None), 12)
        .await
        .expect("apply")
        .expect("known task");
    assert!(!changed);
    assert_eq!(view.status, TaskStatus::Pending);
    let event = store.task(&key("t")).await.expect("task").expect("exists");
    assert_eq!(event.version, 1);
    // (On PostgreSQL the bind's own notification may still arrive: version 1 again.)
    assert!(
        receiver.borrow().as_ref().is_none_or(|e| e.version == 1),
        "no stream is told of a change by a progress report"
    );
    // A terminal update without a task id applies to the bound task.
    let applied = store
        .deliver("h", &TaskUpdate::failed(None, None), 13)
        .await
        .expect("deliver");
    assert!(matches!(&applied, Delivery::Applied(v) if v.status == TaskStatus::Failed));
    let progress = store
        .deliver("h", &TaskUpdate::pending(Some("t".into())), 14)
        .await
        .expect("deliver");
    assert!(matches!(&progress, Delivery::Unchanged(v) if v.status == TaskStatus::Failed));
}

async fn updates_from_polls_apply_once(store: Arc<dyn TaskStore>) {
    store.create_token(&token("h", 0)).await.expect("token");
    store
        .bind_task(&task("h", "t", None, 0, 60_000))
        .await
        .expect("bind");
    let mut receiver = store.notifier().subscribe(&key("t"));
    let info = ResultInfo {
        width: Some(1024),
        height: Some(768),
        size: Some(183_552),
    };
    let success =
        TaskUpdate::succeeded(None, "https://cdn.example/p.jpg".into()).with_result_info(info);
    let (changed, view) = store
        .apply(&key("t"), &success, 50)
        .await
        .expect("apply")
        .expect("known task");
    assert!(changed);
    assert_eq!(view.status, TaskStatus::Succeeded);
    assert_eq!(
        view.result_url.as_deref(),
        Some("https://cdn.example/p.jpg")
    );
    assert_eq!(
        view.result_info,
        Some(info),
        "the result's metadata is kept"
    );
    let stored = store.task(&key("t")).await.expect("task").expect("known");
    assert_eq!(stored.view.result_info, Some(info));
    assert!(receiver.has_changed().expect("open"), "streams are woken");
    assert_eq!(
        receiver.borrow_and_update().as_ref().map(|e| e.version),
        Some(2)
    );
    let (changed, view) = store
        .apply(&key("t"), &TaskUpdate::failed(None, None), 60)
        .await
        .expect("apply")
        .expect("known task");
    assert!(!changed);
    assert_eq!(view.status, TaskStatus::Succeeded);
    assert!(store
        .apply(&key("unknown"), &success, 70)
        .await
        .expect("apply")
        .is_none());
    assert!(store
        .apply(&TaskKey::new("piapi", "t"), &success, 70)
        .await
        .expect("apply")
        .is_none());
}

async fn poll_claims_lease_due_pending_tasks(store: Arc<dyn TaskStore>) {
    let polled = |hash: &str, task_id: &str, next_poll_ms: Option<i64>| NewTask {
        token_hash: hash.into(),
        key: key(task_id),
        points: None,
        cost: None,
        next_poll_ms,
        deadline_after_ms: 1_000_000,
        now_ms: 0,
        owner: None,
    };
    for (hash, task_id, next) in [
        ("h1", "t1", Some(100)),
        ("h2", "t2", Some(200)),
        ("h3", "t3", None),
        ("h4", "t4", Some(100)),
    ] {
        store.create_token(&token(hash, 0)).await.expect("token");
        store
            .bind_task(&polled(hash, task_id, next))
            .await
            .expect("bind");
    }
    // t4 ends before its poll is due: it is never claimed.
    store
        .deliver("h4", &callback("t4", true), 50)
        .await
        .expect("deliver");
    let claim = |now: i64, limit: u32| {
        let store = Arc::clone(&store);
        async move {
            store
                .claim_polls(now, 1000, limit)
                .await
                .expect("claim polls")
        }
    };
    let claimed = |key: TaskKey, attempts: u32| PollClaim {
        key,
        attempts,
        unreadable: 0,
    };
    assert!(claim(50, 10).await.is_empty(), "nothing due yet");
    assert_eq!(claim(150, 10).await, vec![claimed(key("t1"), 0)]);
    assert!(claim(160, 10).await.is_empty(), "t1 is leased");
    assert_eq!(claim(250, 10).await, vec![claimed(key("t2"), 0)]);
    // The poll of t1 is done: its next one is due at 300.
    store
        .schedule_poll(&key("t1"), 300, 0)
        .await
        .expect("schedule");
    assert!(claim(299, 10).await.is_empty());
    assert_eq!(claim(300, 10).await, vec![claimed(key("t1"), 1)]);
    // A lease that ran out (its proxy stopped) frees the task: t2's ended at 1250.
    assert!(claim(1249, 10).await.is_empty());
    assert_eq!(claim(1250, 10).await, vec![claimed(key("t2"), 0)]);
    // The limit bounds a claim; the earliest due comes first.
    // t1's answer could not be read, twice in a row: the count comes back with its claim.
    store
        .schedule_poll(&key("t1"), 5000, 2)
        .await
        .expect("schedule");
    store
        .schedule_poll(&key("t2"), 4000, 0)
        .await
        .expect("schedule");
    assert_eq!(claim(6000, 1).await, vec![claimed(key("t2"), 1)]);
    assert_eq!(
        claim(6000, 1).await,
        vec![PollClaim {
            unreadable: 2,
            ..claimed(key("t1"), 2)
        }]
    );
    // An ended task is not claimed again.
    store
        .apply(&key("t1"), &TaskUpdate::failed(None, None), 6001)
        .await
        .expect("apply");
    store
        .schedule_poll(&key("t1"), 7000, 0)
        .await
        .expect("schedule");
    store
        .schedule_poll(&key("t2"), 7000, 0)
        .await
        .expect("schedule");
    assert_eq!(claim(100_000, 10).await, vec![claimed(key("t2"), 2)]);
}

async fn binding_needs_the_token_of_the_task(store: Arc<dyn TaskStore>) {
    let bind = |task: NewTask| {
        let store = Arc::clone(&store);
        async move { store.bind_task(&task).await }
    };
    assert!(matches!(
        bind(task("missing", "t", None, 0, 1000)).await,
        Err(StoreError::Bind(_))
    ));
    store.create_token(&token("h", 0)).await.expect("token");
    let mut other_provider = task("h", "t", None, 0, 1000);
    other_provider.key = TaskKey::new("piapi", "t");
    assert!(matches!(
        bind(other_provider).await,
        Err(StoreError::Bind(_))
    ));
    bind(task("h", "t", None, 0, 1000)).await.expect("bind");
    // Binding again is harmless; another task on the same token is refused.
    let again = bind(task("h", "t", None, 0, 1000)).await.expect("rebind");
    assert_eq!(again.status, TaskStatus::Pending);
    assert!(matches!(
        bind(task("h", "u", None, 0, 1000)).await,
        Err(StoreError::Bind(_))
    ));
    let event = store.task(&key("t")).await.expect("task").expect("exists");
    assert_eq!(event.version, 1);
    assert!(store.task(&key("u")).await.expect("task").is_none());
}

/// A SQLite database file the previous proxy made, with rows of every kind.
fn legacy_sqlite_file() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary folder");
    let conn = rusqlite::Connection::open(dir.path().join("tasks.db")).expect("open");
    conn.execute_batch(legacy::SQLITE_SCHEMA)
        .expect("old schema");
    conn.execute_batch(legacy::ROWS).expect("old rows");
    dir
}

#[tokio::test]
async fn a_sqlite_database_of_the_previous_proxy_is_upgraded_with_nothing_lost() {
    let dir = legacy_sqlite_file();
    let path = dir.path().join("tasks.db");
    let store = SqliteStore::open(&path).expect("upgraded");
    legacy::assert_upgraded(&store).await;
    drop(store);
    // Opened again: recorded once per migration, nothing re-run, the changes kept.
    let store = SqliteStore::open(&path).expect("reopened");
    let bound = store
        .task(&key("t-early"))
        .await
        .expect("task")
        .expect("exists");
    assert_eq!(bound.view.status, TaskStatus::Succeeded);
    drop(store);
    let conn = rusqlite::Connection::open(&path).expect("open");
    let versions: Vec<(i64, String)> = conn
        .prepare("SELECT version, name FROM schema_migrations ORDER BY version")
        .expect("prepare")
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(
        versions,
        vec![
            (1, "initial".to_owned()),
            (2, "provider_keys".to_owned()),
            (3, "limits".to_owned()),
            (4, "uploads".to_owned()),
            (5, "upload_duration".to_owned()),
            (6, "task_results".to_owned()),
            (7, "app_events".to_owned()),
            (8, "kept_results".to_owned()),
            (9, "task_owner".to_owned())
        ]
    );
}

#[tokio::test]
async fn a_sqlite_database_migrated_by_a_newer_proxy_is_refused() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("tasks.db");
    drop(SqliteStore::open(&path).expect("new"));
    let conn = rusqlite::Connection::open(&path).expect("open");
    conn.execute(
        "INSERT INTO schema_migrations (version, name) VALUES (99, 'future')",
        [],
    )
    .expect("insert");
    drop(conn);
    assert!(matches!(
        SqliteStore::open(&path),
        Err(StoreError::NewerSchema { found: 99, .. })
    ));
}

#[tokio::test]
async fn a_corrupt_row_is_an_error_never_a_default() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("tasks.db");
    let store = SqliteStore::open(&path).expect("store");
    store.create_token(&token("h", 0)).await.expect("token");
    store
        .bind_task(&task("h", "t", None, 0, 1000))
        .await
        .expect("bind");
    let conn = rusqlite::Connection::open(&path).expect("open");
    conn.execute("UPDATE tasks SET status = 'done'", [])
        .expect("spoil");
    match store.task(&key("t")).await {
        Err(StoreError::Corrupt { column, value }) => {
            assert_eq!(column, "tasks.status");
            assert_eq!(value, "done");
        }
        other => panic!("{other:?}"),
    }
    conn.execute(
        "UPDATE tasks SET status = 'pending', cost_amount = 1, cost_unit = 'euros'",
        [],
    )
    .expect("spoil");
    assert!(matches!(
        store.task(&key("t")).await,
        Err(StoreError::Corrupt {
            column: "tasks.cost_unit",
            ..
        })
    ));
    let err = store.task(&key("t")).await.expect_err("corrupt");
    assert!(
        matches!(faceswap_proxy::AppError::from(err),
            faceswap_proxy::AppError::Internal(detail) if detail.to_string().contains("euros")),
        "logged as an internal error"
    );
}
