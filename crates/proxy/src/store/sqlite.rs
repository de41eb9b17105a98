//! [`TaskStore`] on SQLite (WAL, synchronous FULL): one connection behind a mutex, used from
//! blocking threads, so that a commit is on disk before the answer goes out.

use async_trait::async_trait;
use faceswap_core::aifaceswap::WebhookCallback;
use faceswap_core::{TaskStatus, TaskView};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::{Delivery, IdempotencyBegin, Notifier, StoreError, StoreResult, TaskEvent, TaskStore};

const SCHEMA: &str = "
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

const TASK_COLUMNS: &str =
    "task_id, status, kind, result_url, points, created_ms, updated_ms, version";

/// The SQLite task store.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    notifier: Arc<Notifier>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

fn db_err(err: impl std::fmt::Display) -> StoreError {
    StoreError(err.to_string())
}

impl SqliteStore {
    /// Opens (creating when needed) the database at `path`, with its folder.
    pub fn open(path: &Path) -> StoreResult<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(db_err)?;
        }
        let conn = Connection::open(path).map_err(db_err)?;
        Self::init(conn)
    }

    /// A private in-memory database (unit tests).
    pub fn in_memory() -> StoreResult<Self> {
        Self::init(Connection::open_in_memory().map_err(db_err)?)
    }

    /// Opens the store named by a `sqlite://PATH` URL (also `sqlite:PATH`).
    pub fn from_url(url: &str) -> StoreResult<Self> {
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| StoreError(format!("not a sqlite URL: {url}")))?;
        let path = path.split('?').next().unwrap_or(path);
        if path == ":memory:" {
            return Self::in_memory();
        }
        Self::open(Path::new(path))
    }

    fn init(conn: Connection) -> StoreResult<Self> {
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db_err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(db_err)?;
        conn.pragma_update(None, "busy_timeout", 5000)
            .map_err(db_err)?;
        conn.execute_batch(SCHEMA).map_err(db_err)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            notifier: Arc::new(Notifier::default()),
        })
    }

    async fn with<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(db_err)?
        .map_err(db_err)
    }
}

/// RFC 3339 text of a Unix time in milliseconds.
pub fn rfc3339(ms: i64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

fn task_from_row(row: &Row<'_>) -> rusqlite::Result<TaskEvent> {
    let status: String = row.get(1)?;
    let points: Option<i64> = row.get(4)?;
    let version: i64 = row.get(7)?;
    Ok(TaskEvent {
        version: u64::try_from(version).unwrap_or(0),
        view: TaskView {
            provider: faceswap_core::aifaceswap::PROVIDER.id.to_owned(),
            cost: None,
            error: None,
            task_id: row.get(0)?,
            status: TaskStatus::from_word(&status).unwrap_or(TaskStatus::Pending),
            kind: row.get(2)?,
            result_url: row.get(3)?,
            points: points.and_then(|p| u64::try_from(p).ok()),
            created_at: rfc3339(row.get(5)?),
            updated_at: rfc3339(row.get(6)?),
        },
    })
}

fn load_task(conn: &Connection, task_id: &str) -> rusqlite::Result<Option<TaskEvent>> {
    conn.query_row(
        &format!("SELECT {TASK_COLUMNS} FROM tasks WHERE task_id = ?1"),
        params![task_id],
        task_from_row,
    )
    .optional()
}

/// Moves a pending task to the callback's terminal state; a terminal task stays as it is.
fn apply_callback(
    tx: &Transaction<'_>,
    task_id: &str,
    callback: &WebhookCallback,
    now_ms: i64,
) -> rusqlite::Result<Option<(bool, TaskEvent)>> {
    let status = if callback.success {
        TaskStatus::Succeeded
    } else {
        TaskStatus::Failed
    };
    let changed = tx.execute(
        "UPDATE tasks SET status = ?2, kind = COALESCE(?3, kind), result_url = ?4,
             updated_ms = ?5, version = version + 1
         WHERE task_id = ?1 AND status = 'pending'",
        params![
            task_id,
            status.as_str(),
            callback.kind,
            callback
                .result_image
                .as_deref()
                .filter(|_| callback.success),
            now_ms
        ],
    )?;
    Ok(load_task(tx, task_id)?.map(|event| (changed > 0, event)))
}

#[async_trait]
impl TaskStore for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        self.with(|conn| conn.query_row("SELECT 1", [], |_| Ok(())))
            .await
    }

    async fn create_token(
        &self,
        token_hash: &str,
        operation: &str,
        now_ms: i64,
    ) -> StoreResult<()> {
        let (token_hash, operation) = (token_hash.to_owned(), operation.to_owned());
        self.with(move |conn| {
            conn.execute(
                "INSERT INTO hook_tokens (token_hash, operation, created_ms) VALUES (?1, ?2, ?3)",
                params![token_hash, operation, now_ms],
            )
            .map(drop)
        })
        .await
    }

    async fn discard_token(&self, token_hash: &str) -> StoreResult<()> {
        let token_hash = token_hash.to_owned();
        self.with(move |conn| {
            conn.execute(
                "DELETE FROM hook_tokens WHERE token_hash = ?1 AND task_id IS NULL",
                params![token_hash],
            )
            .map(drop)
        })
        .await
    }

    async fn bind_task(
        &self,
        token_hash: &str,
        task_id: &str,
        points: Option<u64>,
        now_ms: i64,
        deadline_after_ms: i64,
    ) -> StoreResult<TaskView> {
        let (token_hash, task_id) = (token_hash.to_owned(), task_id.to_owned());
        let event = self
            .with(move |conn| {
                let tx = conn.transaction()?;
                let token: Option<(String, Option<String>, i64)> = tx
                    .query_row(
                        "SELECT operation, held_callback, created_ms FROM hook_tokens WHERE token_hash = ?1",
                        params![token_hash],
                        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
                    )
                    .optional()?;
                let (operation, held, created_ms) =
                    token.unwrap_or_else(|| (String::new(), None, now_ms));
                tx.execute(
                    "UPDATE hook_tokens SET task_id = ?2, held_callback = NULL WHERE token_hash = ?1",
                    params![token_hash, task_id],
                )?;
                let points = points.and_then(|p| i64::try_from(p).ok());
                tx.execute(
                    "INSERT INTO tasks (task_id, token_hash, operation, status, points, created_ms,
                         updated_ms, deadline_ms, version)
                     VALUES (?1, ?2, ?3, 'pending', ?4, ?5, ?5, ?6, 1)
                     ON CONFLICT(task_id) DO NOTHING",
                    params![
                        task_id,
                        token_hash,
                        operation,
                        points,
                        created_ms,
                        created_ms.saturating_add(deadline_after_ms)
                    ],
                )?;
                let held = held
                    .and_then(|json| WebhookCallback::from_json(json.as_bytes()).ok())
                    .filter(|callback| callback.task_id == task_id);
                let event = match held {
                    Some(callback) => apply_callback(&tx, &task_id, &callback, now_ms)?
                        .map(|(_, event)| event),
                    None => load_task(&tx, &task_id)?,
                };
                tx.commit()?;
                event.ok_or(rusqlite::Error::QueryReturnedNoRows)
            })
            .await?;
        let view = event.view.clone();
        self.notifier.publish(event);
        Ok(view)
    }

    async fn deliver(
        &self,
        token_hash: &str,
        callback: &WebhookCallback,
        now_ms: i64,
    ) -> StoreResult<Delivery> {
        let (token_hash, callback) = (token_hash.to_owned(), callback.clone());
        let (delivery, event) = self
            .with(move |conn| {
                let tx = conn.transaction()?;
                let token: Option<(Option<String>, Option<String>)> = tx
                    .query_row(
                        "SELECT task_id, held_callback FROM hook_tokens WHERE token_hash = ?1",
                        params![token_hash],
                        |row| Ok((row.get(0)?, row.get(1)?)),
                    )
                    .optional()?;
                let result = match token {
                    None => (Delivery::UnknownToken, None),
                    Some((None, held)) => {
                        if held.is_none() {
                            let json = serde_json::to_string(&callback).unwrap_or_default();
                            tx.execute(
                                "UPDATE hook_tokens SET held_callback = ?2 WHERE token_hash = ?1",
                                params![token_hash, json],
                            )?;
                        }
                        (Delivery::Held, None)
                    }
                    Some((Some(bound), _)) if bound != callback.task_id => {
                        (Delivery::WrongTask, None)
                    }
                    Some((Some(bound), _)) => match apply_callback(&tx, &bound, &callback, now_ms)?
                    {
                        Some((true, event)) => (Delivery::Applied(event.view.clone()), Some(event)),
                        Some((false, event)) => (Delivery::Unchanged(event.view), None),
                        None => (Delivery::UnknownToken, None),
                    },
                };
                tx.commit()?;
                Ok(result)
            })
            .await?;
        if let Some(event) = event {
            self.notifier.publish(event);
        }
        Ok(delivery)
    }

    async fn token_exists(&self, token_hash: &str) -> StoreResult<bool> {
        let token_hash = token_hash.to_owned();
        self.with(move |conn| {
            conn.query_row(
                "SELECT 1 FROM hook_tokens WHERE token_hash = ?1",
                params![token_hash],
                |_| Ok(()),
            )
            .optional()
            .map(|found| found.is_some())
        })
        .await
    }

    async fn task(&self, task_id: &str) -> StoreResult<Option<TaskEvent>> {
        let task_id = task_id.to_owned();
        self.with(move |conn| load_task(conn, &task_id)).await
    }

    async fn expire_overdue(&self, now_ms: i64) -> StoreResult<Vec<TaskView>> {
        let events = self
            .with(move |conn| {
                let tx = conn.transaction()?;
                let events = {
                    let mut statement = tx.prepare(&format!(
                        "UPDATE tasks SET status = 'timed_out', updated_ms = ?1, version = version + 1
                         WHERE status = 'pending' AND deadline_ms <= ?1
                         RETURNING {TASK_COLUMNS}"
                    ))?;
                    let rows = statement.query_map(params![now_ms], task_from_row)?;
                    rows.collect::<rusqlite::Result<Vec<_>>>()?
                };
                tx.commit()?;
                Ok(events)
            })
            .await?;
        let views = events.iter().map(|e| e.view.clone()).collect();
        for event in events {
            self.notifier.publish(event);
        }
        Ok(views)
    }

    async fn idempotency_begin(
        &self,
        key: &str,
        fingerprint: &str,
        now_ms: i64,
        ttl_ms: i64,
        stale_ms: i64,
    ) -> StoreResult<IdempotencyBegin> {
        let (key, fingerprint) = (key.to_owned(), fingerprint.to_owned());
        self.with(move |conn| {
            let tx = conn.transaction()?;
            let existing: Option<(String, bool, Option<i64>, Option<Vec<u8>>, i64)> = tx
                .query_row(
                    "SELECT fingerprint, done, status, body, created_ms FROM idempotency WHERE key = ?1",
                    params![key],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?)),
                )
                .optional()?;
            let outcome = match existing {
                Some((_, done, _, _, created))
                    if now_ms - created > ttl_ms || (!done && now_ms - created > stale_ms) =>
                {
                    tx.execute(
                        "UPDATE idempotency SET fingerprint = ?2, done = 0, status = NULL, body = NULL,
                             created_ms = ?3 WHERE key = ?1",
                        params![key, fingerprint, now_ms],
                    )?;
                    IdempotencyBegin::Started
                }
                Some((stored, _, _, _, _)) if stored != fingerprint => IdempotencyBegin::Conflict,
                Some((_, true, status, body, _)) => IdempotencyBegin::Replay(
                    status.and_then(|s| u16::try_from(s).ok()).unwrap_or(200),
                    body.unwrap_or_default(),
                ),
                Some((_, false, _, _, _)) => IdempotencyBegin::InProgress,
                None => {
                    tx.execute(
                        "INSERT INTO idempotency (key, fingerprint, done, created_ms) VALUES (?1, ?2, 0, ?3)",
                        params![key, fingerprint, now_ms],
                    )?;
                    IdempotencyBegin::Started
                }
            };
            tx.commit()?;
            Ok(outcome)
        })
        .await
    }

    async fn idempotency_finish(&self, key: &str, status: u16, body: &[u8]) -> StoreResult<()> {
        let (key, body) = (key.to_owned(), body.to_vec());
        self.with(move |conn| {
            conn.execute(
                "UPDATE idempotency SET done = 1, status = ?2, body = ?3 WHERE key = ?1",
                params![key, i64::from(status), body],
            )
            .map(drop)
        })
        .await
    }

    async fn idempotency_abandon(&self, key: &str) -> StoreResult<()> {
        let key = key.to_owned();
        self.with(move |conn| {
            conn.execute(
                "DELETE FROM idempotency WHERE key = ?1 AND done = 0",
                params![key],
            )
            .map(drop)
        })
        .await
    }

    async fn prune(&self, idempotency_before_ms: i64, tokens_before_ms: i64) -> StoreResult<()> {
        self.with(move |conn| {
            conn.execute(
                "DELETE FROM idempotency WHERE created_ms < ?1",
                params![idempotency_before_ms],
            )?;
            conn.execute(
                "DELETE FROM hook_tokens WHERE task_id IS NULL AND created_ms < ?1",
                params![tokens_before_ms],
            )
            .map(drop)
        })
        .await?;
        self.notifier.prune();
        Ok(())
    }

    fn notifier(&self) -> &Notifier {
        &self.notifier
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn callback(task_id: &str, success: bool) -> WebhookCallback {
        WebhookCallback {
            success,
            kind: Some(1),
            task_id: task_id.into(),
            result_image: success.then(|| "https://cdn.example/r.jpg".to_owned()),
        }
    }

    #[tokio::test]
    async fn held_callback_applies_on_bind_and_terminal_states_stay() {
        let store = SqliteStore::in_memory().expect("store");
        store
            .create_token("h1", "faceswap", 1000)
            .await
            .expect("token");
        assert_eq!(
            store
                .deliver("h1", &callback("t1", true), 1001)
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
    }

    #[tokio::test]
    async fn overdue_tasks_time_out_once() {
        let store = SqliteStore::in_memory().expect("store");
        store.create_token("h", "faceswap", 0).await.expect("token");
        store.bind_task("h", "t", None, 0, 100).await.expect("bind");
        assert!(store.expire_overdue(50).await.expect("sweep").is_empty());
        let expired = store.expire_overdue(100).await.expect("sweep");
        assert_eq!(expired.len(), 1);
        assert_eq!(expired[0].status, TaskStatus::TimedOut);
        assert!(store.expire_overdue(200).await.expect("sweep").is_empty());
        let event = store.task("t").await.expect("task").expect("exists");
        assert_eq!(event.version, 2);
    }

    #[tokio::test]
    async fn idempotency_records_replay_and_conflict() {
        let store = SqliteStore::in_memory().expect("store");
        let begin = |fp: &'static str, now| {
            let store = store.clone();
            async move {
                store
                    .idempotency_begin("k", fp, now, 1000, 100)
                    .await
                    .expect("begin")
            }
        };
        assert_eq!(begin("a", 0).await, IdempotencyBegin::Started);
        assert_eq!(begin("a", 1).await, IdempotencyBegin::InProgress);
        store
            .idempotency_finish("k", 200, b"{}")
            .await
            .expect("finish");
        assert_eq!(
            begin("a", 2).await,
            IdempotencyBegin::Replay(200, b"{}".to_vec())
        );
        assert_eq!(begin("b", 3).await, IdempotencyBegin::Conflict);
        assert_eq!(begin("b", 2000).await, IdempotencyBegin::Started);
    }

    #[test]
    fn times_are_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_500), "1970-01-01T00:00:01.5Z");
    }
}
