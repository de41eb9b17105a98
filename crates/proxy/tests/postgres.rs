//! What only the PostgreSQL store does: several stores on one database (migrations at once, on
//! an empty database and on one the previous proxy made; concurrent deadline sweeps and poll
//! claims; wake-ups across instances by LISTEN/NOTIFY, per provider; the LISTEN connection's
//! reconnection), connections driven on one runtime while used from others, and start-up errors
//! that never show the password.

mod common;
#[path = "common/legacy.rs"]
mod legacy;

use common::pg::{self, PgServer};
use faceswap_core::provider::TaskUpdate;
use faceswap_core::TaskStatus;
use faceswap_proxy::app_webhook::{AppEvents, AppOutbox};
use faceswap_proxy::store::postgres::PostgresStore;
use faceswap_proxy::store::{
    Delivery, NewTask, NewToken, StoreError, TaskEvent, TaskKey, TaskStore,
};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::runtime::Handle;
use tokio::sync::watch;

/// aifaceswap's success callback, as its adapter reads it.
fn success(task_id: &str) -> TaskUpdate {
    TaskUpdate {
        kind: Some(1),
        ..TaskUpdate::succeeded(Some(task_id.into()), "https://cdn.example/r.jpg".into())
    }
}

fn key(task_id: &str) -> TaskKey {
    TaskKey::new("aifaceswap", task_id)
}

/// A new token of `provider`.
fn token_of(provider: &str, token_hash: &str) -> NewToken {
    NewToken {
        token_hash: token_hash.into(),
        provider: provider.into(),
        operation: "faceswap".into(),
        secret_hash: None,
        now_ms: 0,
    }
}

/// A new aifaceswap token made at 0.
fn token(token_hash: &str) -> NewToken {
    token_of("aifaceswap", token_hash)
}

/// A task of `key.provider` made at 0, due for its first poll at `next_poll_ms`.
fn task_of(
    token_hash: &str,
    key: TaskKey,
    deadline_after_ms: i64,
    next_poll_ms: Option<i64>,
) -> NewTask {
    NewTask {
        token_hash: token_hash.into(),
        key,
        points: None,
        cost: None,
        next_poll_ms,
        deadline_after_ms,
        now_ms: 0,
        owner: None,
    }
}

/// An aifaceswap task made at 0.
fn task(token_hash: &str, task_id: &str, deadline_after_ms: i64) -> NewTask {
    task_of(token_hash, key(task_id), deadline_after_ms, None)
}

/// Two stores on one fresh database, connected at the same time (the schema is created once).
async fn two_stores() -> Option<(Arc<PgServer>, String, PostgresStore, PostgresStore)> {
    let server = pg::server()?;
    let url = server.database().await;
    let (a, b) = tokio::join!(
        PostgresStore::connect(&url, Handle::current()),
        PostgresStore::connect(&url, Handle::current())
    );
    Some((server, url, a.expect("store A"), b.expect("store B")))
}

/// The next event on `receiver`, within `within`.
async fn next_event(
    receiver: &mut watch::Receiver<Option<TaskEvent>>,
    within: Duration,
) -> TaskEvent {
    tokio::time::timeout(within, receiver.changed())
        .await
        .expect("an event in time")
        .expect("channel open");
    receiver.borrow_and_update().clone().expect("an event")
}

#[tokio::test]
async fn concurrent_sweeps_time_each_task_out_once() {
    let Some((_server, _, a, b)) = two_stores().await else {
        return;
    };
    let count = 60;
    for i in 0..count {
        let hash = format!("h{i}");
        a.create_token(&token(&hash)).await.expect("token");
        a.bind_task(&task(&hash, &format!("t{i}"), 100))
            .await
            .expect("bind");
    }
    let mut reported = Vec::new();
    for round in 0..3 {
        let (from_a, from_b) = tokio::join!(a.expire_overdue(1000), b.expire_overdue(1000));
        let (from_a, from_b) = (from_a.expect("sweep A"), from_b.expect("sweep B"));
        if round == 0 {
            assert!(!from_a.is_empty() || !from_b.is_empty());
        }
        reported.extend(from_a.into_iter().chain(from_b).map(|v| v.task_id));
    }
    let unique: HashSet<_> = reported.iter().cloned().collect();
    assert_eq!(reported.len(), count, "each task reported once in total");
    assert_eq!(unique.len(), count);
    for i in 0..count {
        let event = b
            .task(&key(&format!("t{i}")))
            .await
            .expect("task")
            .expect("exists");
        assert_eq!(event.view.status, TaskStatus::TimedOut);
        assert_eq!(event.version, 2);
    }
}

#[tokio::test]
async fn a_webhook_on_one_instance_wakes_the_streams_of_another() {
    let Some((_server, _, a, b)) = two_stores().await else {
        return;
    };
    a.create_token(&token("h")).await.expect("token");
    let mut on_b = b.notifier().subscribe(&key("t"));
    // A's own stream is open from the start, so that A's notification echoes, whenever they
    // come, reach a live channel.
    let mut on_a = a.notifier().subscribe(&key("t"));
    a.bind_task(&NewTask {
        points: Some(2),
        ..task("h", "t", 60_000)
    })
    .await
    .expect("bind on A");
    let bound = next_event(&mut on_b, Duration::from_secs(1)).await;
    assert_eq!(bound.version, 1);
    assert_eq!(bound.view.status, TaskStatus::Pending);
    let delivered = a.deliver("h", &success("t"), 10).await.expect("deliver");
    assert!(matches!(delivered, Delivery::Applied(_)));
    let event = next_event(&mut on_b, Duration::from_secs(1)).await;
    assert_eq!(event.version, 2);
    assert_eq!(event.view.status, TaskStatus::Succeeded);
    // The store that made the change published it at once, and is not woken again by its own
    // notifications (of the bind and of the delivery).
    let local = on_a.borrow_and_update().clone().expect("published by A");
    assert_eq!(local.version, 2);
    assert!(
        tokio::time::timeout(Duration::from_millis(300), on_a.changed())
            .await
            .is_err(),
        "no second event for the same version"
    );
}

#[tokio::test]
async fn a_change_made_while_the_listen_connection_is_down_still_wakes_the_stream() {
    let Some((server, url, a, b)) = two_stores().await else {
        return;
    };
    a.create_token(&token("h")).await.expect("token");
    a.bind_task(&task("h", "t", 60_000)).await.expect("bind");
    let mut on_b = b.notifier().subscribe(&key("t"));
    let database = url.rsplit('/').next().expect("database name");
    let terminated = server
        .query_text(&format!(
            "SELECT count(pg_terminate_backend(pid))::text FROM pg_stat_activity
             WHERE application_name = 'faceswap-proxy-listen' AND datname = '{database}'"
        ))
        .await;
    assert_eq!(terminated, "2", "the LISTEN connections of A and B");
    // Delivered at once: the notification goes out while B is reconnecting, or before.
    a.deliver("h", &success("t"), 10).await.expect("deliver");
    let event = loop {
        let event = next_event(&mut on_b, Duration::from_secs(5)).await;
        if event.version == 2 {
            break event;
        }
    };
    assert_eq!(event.view.status, TaskStatus::Succeeded);
    // Listening again: a later change on A reaches B.
    a.create_token(&token("h2")).await.expect("token");
    let mut second = b.notifier().subscribe(&key("t2"));
    a.bind_task(&task("h2", "t2", 60_000)).await.expect("bind");
    let event = next_event(&mut second, Duration::from_secs(2)).await;
    assert_eq!(event.view.task_id, "t2");
}

#[tokio::test]
async fn connections_run_on_the_driver_runtime_whatever_runtime_uses_them() {
    let Some(server) = pg::server() else {
        return;
    };
    let url = server.database().await;
    // The "background" runtime drives every connection.
    let background = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let store = Arc::new(
        PostgresStore::connect(&url, background.handle().clone())
            .await
            .expect("store"),
    );
    // A "worker" runtime opens pooled connections, then goes away.
    let worker_store = Arc::clone(&store);
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("worker runtime")
            .block_on(async move {
                let tasks: Vec<_> = (0..8)
                    .map(|i| {
                        let store = Arc::clone(&worker_store);
                        tokio::spawn(async move {
                            let hash = format!("w{i}");
                            store.create_token(&token(&hash)).await.expect("token");
                            store
                                .bind_task(&task(&hash, &format!("wt{i}"), 60_000))
                                .await
                                .expect("bind");
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.expect("task");
                }
            });
    })
    .join()
    .expect("worker thread");
    // Those connections still work from this runtime.
    for i in 0..8 {
        let delivered = store
            .deliver(&format!("w{i}"), &success(&format!("wt{i}")), 5)
            .await
            .expect("deliver");
        assert!(matches!(delivered, Delivery::Applied(_)), "{delivered:?}");
    }
    store.ping().await.expect("ping");
    drop(store);
    background.shutdown_background();
}

#[tokio::test]
async fn startup_errors_name_the_database_but_not_the_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let url = format!("postgres://proxy:s3cret-pw@127.0.0.1:{port}/tasks");
    let err = PostgresStore::connect(&url, Handle::current())
        .await
        .expect_err("nothing listens there");
    let text = err.to_string();
    assert!(
        text.contains(&format!("postgres://proxy@127.0.0.1:{port}/tasks")),
        "{text}"
    );
    assert!(!text.contains("s3cret-pw"), "{text}");
    let err = PostgresStore::connect("postgres://proxy:s3cret-pw@[bad/x", Handle::current())
        .await
        .expect_err("invalid URL");
    assert!(!err.to_string().contains("s3cret-pw"), "{err}");
    for url in [
        "postgres://proxy:s3cret-pw@127.0.0.1:notaport/tasks",
        "postgres://proxy:s3cret-pw@127.0.0.1/tasks?sslmode=s3cret-pw",
    ] {
        let err = PostgresStore::connect(url, Handle::current())
            .await
            .expect_err("invalid URL");
        assert!(err.to_string().contains("invalid DATABASE_URL"), "{err}");
        assert!(!err.to_string().contains("s3cret-pw"), "{err}");
    }
}

#[tokio::test]
async fn a_unix_socket_url_connects() {
    let Some(server) = pg::server() else {
        return;
    };
    let url = server.socket_database().await;
    let store = PostgresStore::connect(&url, Handle::current())
        .await
        .expect("store over the socket");
    store.ping().await.expect("ping");
    assert!(format!("{store:?}").contains(&server.dir().display().to_string()));
}

#[tokio::test]
async fn concurrent_poll_claims_from_two_stores_never_take_one_task_twice() {
    let Some((_server, _, a, b)) = two_stores().await else {
        return;
    };
    let count = 60;
    for i in 0..count {
        let hash = format!("h{i}");
        a.create_token(&token(&hash)).await.expect("token");
        a.bind_task(&task_of(
            &hash,
            key(&format!("t{i}")),
            1_000_000,
            Some(i64::from(i)),
        ))
        .await
        .expect("bind");
    }
    let (a, b) = (Arc::new(a), Arc::new(b));
    // Several claims at once from each store, small batches, until everything is leased.
    let claimers: Vec<_> = [&a, &b, &a, &b]
        .into_iter()
        .map(|store| {
            let store = Arc::clone(store);
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let claims = store.claim_polls(1000, 60_000, 7).await.expect("claim");
                    if claims.is_empty() {
                        return mine;
                    }
                    mine.extend(claims.into_iter().map(|c| c.key));
                }
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for claimer in claimers {
        claimed.extend(claimer.await.expect("claimer"));
    }
    let unique: HashSet<_> = claimed.iter().cloned().collect();
    assert_eq!(
        claimed.len(),
        count as usize,
        "each task claimed once: {claimed:?}"
    );
    assert_eq!(unique.len(), count as usize);
    // Leased: neither store gets any again before the lease ends; after it, they come back.
    assert!(a
        .claim_polls(2000, 60_000, 100)
        .await
        .expect("claim")
        .is_empty());
    assert!(b
        .claim_polls(2000, 60_000, 100)
        .await
        .expect("claim")
        .is_empty());
    let (late_a, late_b) = tokio::join!(
        a.claim_polls(61_000, 60_000, 100),
        b.claim_polls(61_000, 60_000, 100)
    );
    let (late_a, late_b) = (late_a.expect("claim A"), late_b.expect("claim B"));
    assert_eq!(late_a.len() + late_b.len(), count as usize);
    let late: HashSet<_> = late_a
        .iter()
        .chain(&late_b)
        .map(|c| c.key.clone())
        .collect();
    assert_eq!(late.len(), count as usize);
}

#[tokio::test]
async fn two_stores_queue_each_app_event_once_and_lease_it_to_one() {
    let Some((_server, _, a, b)) = two_stores().await else {
        return;
    };
    let outbox = AppOutbox::new("https://app.example/hooks", AppEvents::Terminal);
    a.queue_app_events(Some(outbox.clone()));
    b.queue_app_events(Some(outbox));
    let count = 40;
    for i in 0..count {
        let hash = format!("h{i}");
        a.create_token(&token(&hash)).await.expect("token");
        a.bind_task(&task(&hash, &format!("t{i}"), 1_000_000))
            .await
            .expect("bind");
    }
    let (a, b) = (Arc::new(a), Arc::new(b));
    // Both stores deliver every callback at once: each task ends once, so one event each.
    let deliveries: Vec<_> = (0..count)
        .flat_map(|i| [Arc::clone(&a), Arc::clone(&b)].map(|store| (i, store)))
        .map(|(i, store)| {
            tokio::spawn(async move {
                store
                    .deliver(&format!("h{i}"), &success(&format!("t{i}")), 10)
                    .await
                    .expect("deliver")
            })
        })
        .collect();
    for delivery in deliveries {
        delivery.await.expect("delivery");
    }
    let claimers: Vec<_> = [&a, &b, &a, &b]
        .into_iter()
        .map(|store| {
            let store = Arc::clone(store);
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let claims = store
                        .claim_app_events(1000, 60_000, 5)
                        .await
                        .expect("claim");
                    if claims.is_empty() {
                        return mine;
                    }
                    mine.extend(claims.into_iter().map(|c| c.id));
                }
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for claimer in claimers {
        claimed.extend(claimer.await.expect("claimer"));
    }
    let unique: HashSet<_> = claimed.iter().cloned().collect();
    assert_eq!(claimed.len(), count, "each event claimed once");
    assert_eq!(unique.len(), count);
}

#[tokio::test]
async fn notifications_name_the_provider_so_one_task_id_at_two_providers_stays_apart() {
    let Some((_server, _, a, b)) = two_stores().await else {
        return;
    };
    let piapi = TaskKey::new("piapi", "t");
    a.create_token(&token("h-a")).await.expect("token");
    a.create_token(&token_of("piapi", "h-p"))
        .await
        .expect("token");
    a.bind_task(&task("h-a", "t", 60_000)).await.expect("bind");
    a.bind_task(&task_of("h-p", piapi.clone(), 60_000, None))
        .await
        .expect("bind");
    let mut on_b = b.notifier().subscribe(&piapi);
    a.deliver("h-a", &success("t"), 10).await.expect("deliver");
    a.deliver("h-p", &TaskUpdate::failed(Some("t".into()), None), 20)
        .await
        .expect("deliver");
    let event = loop {
        let event = next_event(&mut on_b, Duration::from_secs(2)).await;
        assert_eq!(event.view.provider, "piapi", "{event:?}");
        if event.version == 2 {
            break event;
        }
    };
    assert_eq!(event.view.status, TaskStatus::Failed);
}

#[tokio::test]
async fn a_database_of_the_previous_proxy_is_upgraded_once_with_nothing_lost() {
    let Some(server) = pg::server() else {
        return;
    };
    let url = server.database().await;
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    let driver = tokio::spawn(connection);
    client
        .batch_execute(legacy::POSTGRES_SCHEMA)
        .await
        .expect("old schema");
    client.batch_execute(legacy::ROWS).await.expect("old rows");
    // Two proxies start together on it: one migrates, the other finds it done.
    let (a, b) = tokio::join!(
        PostgresStore::connect(&url, Handle::current()),
        PostgresStore::connect(&url, Handle::current())
    );
    let (a, b) = (a.expect("store A"), b.expect("store B"));
    legacy::assert_upgraded(&a).await;
    let early = b
        .task(&key("t-early"))
        .await
        .expect("task")
        .expect("exists");
    assert_eq!(early.view.status, TaskStatus::Succeeded);
    let versions: Vec<i64> = client
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            &[],
        )
        .await
        .expect("ledger")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(versions, vec![1, 2, 3, 4, 5, 6, 7, 8, 9]);
    drop(client);
    let _ = driver.await;
}

#[tokio::test]
async fn a_corrupt_row_is_an_error_never_a_default() {
    let Some(server) = pg::server() else {
        return;
    };
    let url = server.database().await;
    let store = PostgresStore::connect(&url, Handle::current())
        .await
        .expect("store");
    store.create_token(&token("h")).await.expect("token");
    store
        .bind_task(&task("h", "t", 60_000))
        .await
        .expect("bind");
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    let driver = tokio::spawn(connection);
    client
        .batch_execute("UPDATE tasks SET cost_amount = 1, cost_unit = 'euros'")
        .await
        .expect("spoil");
    assert!(
        matches!(
            store.task(&key("t")).await,
            Err(StoreError::Corrupt { column: "tasks.cost_unit", ref value }) if value == "euros"
        ),
        "an unknown unit"
    );
    client
        .batch_execute("UPDATE tasks SET cost_amount = NULL, cost_unit = NULL, status = 'done'")
        .await
        .expect("spoil");
    assert!(matches!(
        store.deliver("h", &success("t"), 10).await,
        Err(StoreError::Corrupt {
            column: "tasks.status",
            ..
        })
    ));
    drop(client);
    let _ = driver.await;
}

/// A PNG-signed file of `len` bytes whose every byte depends on its offset.
fn patterned_png(len: usize) -> Vec<u8> {
    let mut bytes: Vec<u8> = (0..len)
        .map(|i| u8::try_from((i * 7 + i / 251) % 256).expect("a byte"))
        .collect();
    bytes[..8].copy_from_slice(b"\x89PNG\r\n\x1a\n");
    bytes
}

/// The number of rows of `table` in the database at `url`.
async fn count_rows(url: &str, table: &str) -> i64 {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    let driver = tokio::spawn(connection);
    let count: i64 = client
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .await
        .expect("count")
        .get(0);
    drop(client);
    let _ = driver.await;
    count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_stored_in_the_database_and_served_by_every_proxy() {
    let Some(server) = pg::server() else { return };
    let url = server.database().await;
    let fake = common::Fake::start().await;
    let flags = ["--database-url", url.as_str()];
    let a = common::proxy(&fake, &flags).await;
    let b = common::proxy(&fake, &flags).await;
    assert_eq!(
        a.state.uploads.kind(),
        faceswap_proxy::upload_store::UploadStoreKind::Postgres
    );

    // Two and a half chunks: the ranges below cross a chunk boundary.
    let chunk = usize::try_from(faceswap_proxy::store::postgres::CHUNK_BYTES).expect("small");
    let file = patterned_png(chunk * 5 / 2);
    let answer: serde_json::Value = a
        .http
        .post(format!("{}/api/uploads", a.url))
        .header("content-type", "image/png")
        .body(file.clone())
        .send()
        .await
        .expect("upload")
        .json()
        .await
        .expect("JSON");
    assert_eq!(answer["size"], file.len());
    assert_eq!(answer["content_type"], "image/png");
    let upload_url = answer["url"].as_str().expect("url");
    let name = upload_url.rsplit('/').next().expect("name").to_owned();
    assert_eq!(count_rows(&url, "uploads").await, 1);
    assert_eq!(count_rows(&url, "upload_chunks").await, 3);
    // Nothing stays on A's disk: the spool file is gone and no upload file was written.
    let on_disk: Vec<_> = std::fs::read_dir(a.dir.path().join("uploads"))
        .expect("UPLOAD_DIR")
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name() != ".spool")
        .collect();
    assert!(on_disk.is_empty(), "{on_disk:?}");

    // B, which never saw the upload, serves it whole and in ranges.
    let whole = b.get(&format!("/uploads/{name}")).await;
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["content-type"], "image/png");
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    assert_eq!(
        whole.headers()["content-length"],
        file.len().to_string().as_str()
    );
    assert!(whole.bytes().await.expect("body")[..] == file[..]);
    let ranged = |range: String| {
        let http = b.http.clone();
        let target = format!("{}/uploads/{name}", b.url);
        async move {
            http.get(target)
                .header("range", range)
                .send()
                .await
                .expect("range")
        }
    };
    let (from, to) = (chunk - 5, chunk + 9);
    let part = ranged(format!("bytes={from}-{to}")).await;
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes {from}-{to}/{}", file.len()).as_str()
    );
    assert!(part.bytes().await.expect("body")[..] == file[from..=to]);
    let tail = ranged("bytes=-100".into()).await;
    assert_eq!(tail.status(), 206);
    assert!(tail.bytes().await.expect("body")[..] == file[file.len() - 100..]);
    let past = ranged(format!("bytes={}-", file.len())).await;
    assert_eq!(past.status(), 416);
    assert_eq!(
        past.headers()["content-range"],
        format!("bytes */{}", file.len()).as_str()
    );
    let missing = b.get(&format!("/uploads/{}.png", "0".repeat(32))).await;
    assert_eq!(missing.status(), 404);

    // The sweep of either proxy removes an old upload, chunks and all, for both.
    faceswap_proxy::maintain(&b.state).await;
    assert_eq!(count_rows(&url, "uploads").await, 1, "a new upload stays");
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    let driver = tokio::spawn(connection);
    client
        .execute(
            "UPDATE uploads SET created_ms = created_ms - 2592000000",
            &[],
        )
        .await
        .expect("age the upload");
    drop(client);
    let _ = driver.await;
    faceswap_proxy::maintain(&b.state).await;
    assert_eq!(count_rows(&url, "uploads").await, 0);
    assert_eq!(count_rows(&url, "upload_chunks").await, 0);
    assert_eq!(a.get(&format!("/uploads/{name}")).await.status(), 404);
}
