//! A database as the proxy left it before the schema was migrated by version: the tables of
//! each backend exactly as that proxy created them, and rows of every kind, among them an
//! aifaceswap callback held on a token whose submit had not been answered.
#![allow(dead_code)]

/// The SQLite schema of the previous proxy.
pub const SQLITE_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS hook_tokens (
    token_hash    TEXT PRIMARY KEY,
    operation     TEXT NOT NULL,
    task_id       TEXT,
    held_callback TEXT,
    created_ms    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tasks (
    task_id     TEXT PRIMARY KEY,
    token_hash  TEXT NOT NULL,
    operation   TEXT NOT NULL,
    status      TEXT NOT NULL,
    kind        INTEGER,
    result_url  TEXT,
    points      INTEGER,
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL,
    deadline_ms INTEGER NOT NULL,
    version     INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_pending_deadline ON tasks(deadline_ms) WHERE status = 'pending';
CREATE TABLE IF NOT EXISTS idempotency (
    key         TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    done        INTEGER NOT NULL,
    status      INTEGER,
    body        BLOB,
    created_ms  INTEGER NOT NULL
);
";

/// The PostgreSQL schema of the previous proxy.
pub const POSTGRES_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS hook_tokens (
    token_hash    TEXT PRIMARY KEY,
    operation     TEXT NOT NULL,
    task_id       TEXT,
    held_callback TEXT,
    created_ms    BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS hook_tokens_unbound ON hook_tokens(created_ms) WHERE task_id IS NULL;
CREATE TABLE IF NOT EXISTS tasks (
    task_id     TEXT PRIMARY KEY,
    token_hash  TEXT NOT NULL,
    operation   TEXT NOT NULL,
    status      TEXT NOT NULL,
    kind        BIGINT,
    result_url  TEXT,
    points      BIGINT,
    created_ms  BIGINT NOT NULL,
    updated_ms  BIGINT NOT NULL,
    deadline_ms BIGINT NOT NULL,
    version     BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_pending_deadline ON tasks(deadline_ms) WHERE status = 'pending';
CREATE TABLE IF NOT EXISTS idempotency (
    key         TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    done        BOOLEAN NOT NULL,
    status      INTEGER,
    body        BYTEA,
    created_ms  BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency(created_ms);
";

/// Rows as the previous proxy wrote them (SQL both backends accept): a succeeded task, a
/// pending one, a token holding an early callback, an unbound token, an unfinished submit.
pub const ROWS: &str = r#"
INSERT INTO hook_tokens VALUES ('h-done', 'faceswap', 't-done', NULL, 1000);
INSERT INTO tasks VALUES ('t-done', 'h-done', 'faceswap', 'succeeded', 1,
    'https://cdn.example/r.jpg', 2, 1000, 1500, 61000, 2);
INSERT INTO hook_tokens VALUES ('h-pending', 'video_faceswap', 't-pending', NULL, 2000);
INSERT INTO tasks VALUES ('t-pending', 'h-pending', 'video_faceswap', 'pending', NULL, NULL,
    30, 2000, 2000, 62000, 1);
INSERT INTO hook_tokens VALUES ('h-early', 'faceswap', NULL,
    '{"success":1,"type":1,"task_id":"t-early","result_image":"https://cdn.example/e.jpg"}',
    3000);
INSERT INTO hook_tokens VALUES ('h-unbound', 'faceswap', NULL, NULL, 4000);
INSERT INTO idempotency VALUES ('k', 'fp', FALSE, NULL, NULL, 1000);
"#;

use faceswap_core::provider::TaskUpdate;
use faceswap_core::TaskStatus;
use faceswap_proxy::store::{Delivery, IdempotencyBegin, NewTask, TaskKey, TaskStore, TokenRecord};

/// Checks that a store opened on [`ROWS`] lost nothing: every row is aifaceswap's, the held
/// callback applies at bind, the pending task still takes its callback.
pub async fn assert_upgraded(store: &dyn TaskStore) {
    let key = |task_id: &str| TaskKey::new("aifaceswap", task_id);
    let done = store
        .task(&key("t-done"))
        .await
        .expect("task")
        .expect("the old task is found under aifaceswap");
    assert_eq!(done.version, 2);
    assert_eq!(done.view.status, TaskStatus::Succeeded);
    assert_eq!(done.view.kind, Some(1));
    assert_eq!(
        done.view.result_url.as_deref(),
        Some("https://cdn.example/r.jpg")
    );
    assert_eq!(done.view.points, Some(2));
    assert_eq!(done.view.cost, None);
    assert_eq!(done.view.created_at, "1970-01-01T00:00:01Z");
    assert_eq!(done.view.updated_at, "1970-01-01T00:00:01.5Z");
    assert_eq!(
        store.token("h-done").await.expect("token"),
        Some(TokenRecord {
            provider: "aifaceswap".into(),
            task_id: Some("t-done".into()),
            secret_hash: None,
        })
    );
    assert_eq!(
        store.token("h-unbound").await.expect("token"),
        Some(TokenRecord {
            provider: "aifaceswap".into(),
            task_id: None,
            secret_hash: None,
        })
    );
    // The pending task still takes its callback.
    let applied = store
        .deliver(
            "h-pending",
            &TaskUpdate::failed(Some("t-pending".into()), Some("no face".into())),
            5000,
        )
        .await
        .expect("deliver");
    assert!(
        matches!(&applied, Delivery::Applied(v) if v.status == TaskStatus::Failed
            && v.error.as_deref() == Some("no face") && v.points == Some(30)),
        "{applied:?}"
    );
    // The callback held in aifaceswap's shape applies when the submit's answer binds the task.
    let bound = store
        .bind_task(&NewTask {
            token_hash: "h-early".into(),
            key: key("t-early"),
            points: Some(2),
            cost: None,
            next_poll_ms: None,
            deadline_after_ms: 60_000,
            now_ms: 6000,
            owner: None,
        })
        .await
        .expect("bind");
    assert_eq!(bound.status, TaskStatus::Succeeded);
    assert_eq!(bound.kind, Some(1));
    assert_eq!(
        bound.result_url.as_deref(),
        Some("https://cdn.example/e.jpg")
    );
    assert_eq!(bound.created_at, "1970-01-01T00:00:03Z");
    // The unfinished submit is still running.
    assert_eq!(
        store
            .idempotency_begin("k", "fp", 1001, 1_000_000, 1_000_000)
            .await
            .expect("begin"),
        IdempotencyBegin::InProgress
    );
}
