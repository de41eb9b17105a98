//! Store conformance: the same behaviour tests run against `SqliteStore` and `PostgresStore`
//! (a throwaway PostgreSQL server, see `common/pg.rs`), through `Arc<dyn TaskStore>`.

mod common;

use common::pg::{self, PgServer};
use faceswap_core::aifaceswap::WebhookCallback;
use faceswap_core::TaskStatus;
use faceswap_proxy::store::postgres::PostgresStore;
use faceswap_proxy::store::sqlite::SqliteStore;
use faceswap_proxy::store::{Delivery, IdempotencyBegin, TaskStore};
use std::sync::Arc;

fn callback(task_id: &str, success: bool) -> WebhookCallback {
    WebhookCallback {
        success,
        kind: Some(1),
        task_id: task_id.into(),
        result_image: success.then(|| "https://cdn.example/r.jpg".to_owned()),
    }
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
);

async fn held_callback_applies_on_bind_and_terminal_states_stay(store: Arc<dyn TaskStore>) {
    store
        .create_token("h1", "faceswap", 1000)
        .await
        .expect("token");
    assert!(store.token_exists("h1").await.expect("exists"));
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
        .bind_task("h1", "t1", Some(2), 1002, 10_000)
        .await
        .expect("bind");
    assert_eq!(view.status, TaskStatus::Succeeded);
    assert_eq!(view.points, Some(2));
    assert_eq!(view.kind, Some(1));
    assert_eq!(
        view.result_url.as_deref(),
        Some("https://cdn.example/r.jpg")
    );
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
    assert!(!store.token_exists("nope").await.expect("exists"));
}

async fn a_bound_task_is_delivered_once_and_a_late_failure_changes_nothing(
    store: Arc<dyn TaskStore>,
) {
    store.create_token("h", "faceswap", 0).await.expect("token");
    let view = store
        .bind_task("h", "t", Some(5), 10, 60_000)
        .await
        .expect("bind");
    assert_eq!(view.status, TaskStatus::Pending);
    let event = store.task("t").await.expect("task").expect("exists");
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
    let event = store.task("t").await.expect("task").expect("exists");
    assert_eq!(event.version, 2, "one change only");
    assert_eq!(event.view.status, TaskStatus::Succeeded);
    assert!(store.task("missing").await.expect("task").is_none());
    // A discarded token is unknown; a bound token cannot be discarded.
    store
        .create_token("gone", "faceswap", 0)
        .await
        .expect("token");
    store.discard_token("gone").await.expect("discard");
    assert!(!store.token_exists("gone").await.expect("exists"));
    store.discard_token("h").await.expect("discard");
    assert!(store.token_exists("h").await.expect("exists"));
}

async fn overdue_tasks_time_out_once(store: Arc<dyn TaskStore>) {
    store.create_token("h", "faceswap", 0).await.expect("token");
    store.bind_task("h", "t", None, 0, 100).await.expect("bind");
    assert!(store.expire_overdue(50).await.expect("sweep").is_empty());
    let expired = store.expire_overdue(100).await.expect("sweep");
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].status, TaskStatus::TimedOut);
    assert!(store.expire_overdue(200).await.expect("sweep").is_empty());
    let event = store.task("t").await.expect("task").expect("exists");
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
    store
        .create_token("old", "faceswap", 0)
        .await
        .expect("token");
    store
        .create_token("new", "faceswap", 500)
        .await
        .expect("token");
    store
        .create_token("bound", "faceswap", 0)
        .await
        .expect("token");
    store
        .bind_task("bound", "t", None, 0, 10_000)
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
    let receiver = store.notifier().subscribe("t");
    drop(receiver);
    store.prune(100, 100).await.expect("prune");
    assert!(!store.token_exists("old").await.expect("exists"));
    assert!(store.token_exists("new").await.expect("exists"));
    assert!(store.token_exists("bound").await.expect("exists"));
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
    store.create_token("h", "faceswap", 0).await.expect("token");
    let mut receiver = store.notifier().subscribe("t");
    store
        .bind_task("h", "t", None, 0, 10_000)
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
