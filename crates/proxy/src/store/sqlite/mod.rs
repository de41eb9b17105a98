//! [`TaskStore`] on SQLite (WAL, synchronous FULL): one connection behind a mutex, used from
//! blocking threads, so that a commit is on disk before the answer goes out. Every operation is
//! one transaction; the decisions are [`crate::store::rules`]'.

mod migrate;

use async_trait::async_trait;
use faceswap_core::provider::TaskUpdate;
use faceswap_core::TaskView;
use rusqlite::{params, Connection, OptionalExtension, Row};
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::row::{self, task_columns, TaskRow};
use super::rules::{self, DeliveryPlan, IdempotencyRow, IdempotencyStep, TaskChange, TokenRow};
use super::Effects;
use super::{
    AppEventClaim, CounterKey, Delivery, EffectsSlot, IdempotencyBegin, KeepClaim, NewAppEvent,
    NewTask, NewToken, Notifier, PollClaim, ResultCopy, StoreError, StoreResult, TaskEvent,
    TaskKey, TaskStore, TokenRecord,
};
use crate::app_webhook::AppOutbox;

/// The SQLite task store.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    notifier: Arc<Notifier>,
    effects: Arc<EffectsSlot>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

/// The file a `sqlite://PATH` (or `sqlite:PATH`) URL names, query aside (`:memory:` for the
/// in-memory database); `None` for another URL.
pub fn path_of_url(url: &str) -> Option<&str> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    Some(path.split('?').next().unwrap_or(path))
}

impl SqliteStore {
    /// Opens (creating when needed) the database at `path`, with its folder, and brings its
    /// schema up to date.
    pub fn open(path: &Path) -> StoreResult<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        Self::init(Connection::open(path)?)
    }

    /// A private in-memory database (unit tests).
    pub fn in_memory() -> StoreResult<Self> {
        Self::init(Connection::open_in_memory()?)
    }

    /// Opens the store named by a `sqlite://PATH` URL (also `sqlite:PATH`).
    pub fn from_url(url: &str) -> StoreResult<Self> {
        let path = path_of_url(url).ok_or(StoreError::UnsupportedUrl)?;
        if path == ":memory:" {
            return Self::in_memory();
        }
        Self::open(Path::new(path))
    }

    fn init(mut conn: Connection) -> StoreResult<Self> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "busy_timeout", 5000)?;
        migrate::migrate(&mut conn)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            notifier: Arc::new(Notifier::default()),
            effects: Arc::new(EffectsSlot::default()),
        })
    }

    async fn with<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await?
    }
}

fn task_row(row: &Row<'_>) -> rusqlite::Result<TaskRow> {
    Ok(TaskRow {
        provider: row.get(0)?,
        task_id: row.get(1)?,
        status: row.get(2)?,
        kind: row.get(3)?,
        result_url: row.get(4)?,
        points: row.get(5)?,
        cost_amount: row.get(6)?,
        cost_unit: row.get(7)?,
        error: row.get(8)?,
        created_ms: row.get(9)?,
        updated_ms: row.get(10)?,
        version: row.get(11)?,
        result_info: row.get(12)?,
        provider_result_url: row.get(13)?,
    })
}

fn load_task(conn: &Connection, key: &TaskKey) -> StoreResult<Option<TaskEvent>> {
    conn.query_row(
        concat!(
            "SELECT ",
            task_columns!(),
            " FROM tasks WHERE provider = ?1 AND task_id = ?2"
        ),
        params![key.provider, key.task_id],
        task_row,
    )
    .optional()?
    .map(TaskRow::into_event)
    .transpose()
}

fn load_token(conn: &Connection, token_hash: &str) -> StoreResult<Option<TokenRow>> {
    Ok(conn
        .query_row(
            "SELECT provider, operation, task_id, held_update, created_ms FROM hook_tokens
             WHERE token_hash = ?1",
            params![token_hash],
            |row| {
                Ok(TokenRow {
                    provider: row.get(0)?,
                    operation: row.get(1)?,
                    task_id: row.get(2)?,
                    held: row.get(3)?,
                    created_ms: row.get(4)?,
                })
            },
        )
        .optional()?)
}

/// Writes the app event the outbox wants of a task that now stands as `view`, if any
/// ([`rules::app_event`]), unless its endpoint answered 410.
fn queue_event(
    conn: &Connection,
    outbox: Option<&AppOutbox>,
    view: &TaskView,
    now_ms: i64,
) -> StoreResult<()> {
    let Some(NewAppEvent {
        id,
        endpoint,
        payload,
        created_ms,
    }) = rules::app_event(outbox, view, now_ms)?
    else {
        return Ok(());
    };
    conn.execute(
        "INSERT INTO app_events (id, endpoint, payload, created_ms, next_attempt_ms, attempts)
         SELECT ?1, ?2, ?3, ?4, ?4, 0
         WHERE NOT EXISTS (SELECT 1 FROM app_endpoints_gone WHERE endpoint = ?2)",
        params![id, endpoint, payload, created_ms],
    )?;
    Ok(())
}

/// Applies `update` to the task as [`rules::transition`] says, queuing the app event of the
/// change; returns whether it changed, and the task, or `None` for an unknown task.
fn apply_update(
    conn: &Connection,
    key: &TaskKey,
    update: &TaskUpdate,
    now_ms: i64,
    effects: &Effects,
) -> StoreResult<Option<(bool, TaskEvent)>> {
    let Some(event) = load_task(conn, key)? else {
        return Ok(None);
    };
    let Some(change) = rules::transition(&event.view, update, effects.keep.as_deref()) else {
        return Ok(Some((false, event)));
    };
    let TaskChange {
        status,
        kind,
        result_url,
        provider_result_url,
        error,
        result_info,
    } = change;
    let event = conn
        .query_row(
            concat!(
                "UPDATE tasks SET status = ?3, kind = ?4, result_url = ?5, error = ?6,
                     updated_ms = ?7, result_info = ?8, provider_result_url = ?9,
                     version = version + 1
                 WHERE provider = ?1 AND task_id = ?2 RETURNING ",
                task_columns!()
            ),
            params![
                key.provider,
                key.task_id,
                status.as_str(),
                kind,
                result_url,
                error,
                now_ms,
                result_info,
                provider_result_url
            ],
            task_row,
        )?
        .into_event()?;
    queue_event(conn, effects.outbox.as_ref(), &event.view, now_ms)?;
    Ok(Some((true, event)))
}

#[async_trait]
impl TaskStore for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        self.with(|conn| Ok(conn.query_row("SELECT 1", [], |_| Ok(()))?))
            .await
    }

    async fn create_token(&self, token: &NewToken) -> StoreResult<()> {
        let token = token.clone();
        self.with(move |conn| {
            conn.execute(
                "INSERT INTO hook_tokens (token_hash, provider, operation, secret_hash, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    token.token_hash,
                    token.provider,
                    token.operation,
                    token.secret_hash,
                    token.now_ms
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn discard_token(&self, token_hash: &str) -> StoreResult<()> {
        let token_hash = token_hash.to_owned();
        self.with(move |conn| {
            conn.execute(
                "DELETE FROM hook_tokens WHERE token_hash = ?1 AND task_id IS NULL",
                params![token_hash],
            )?;
            Ok(())
        })
        .await
    }

    async fn token(&self, token_hash: &str) -> StoreResult<Option<TokenRecord>> {
        let token_hash = token_hash.to_owned();
        self.with(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT provider, task_id, secret_hash FROM hook_tokens WHERE token_hash = ?1",
                    params![token_hash],
                    |row| {
                        Ok(TokenRecord {
                            provider: row.get(0)?,
                            task_id: row.get(1)?,
                            secret_hash: row.get(2)?,
                        })
                    },
                )
                .optional()?)
        })
        .await
    }

    async fn bind_task(&self, task: &NewTask) -> StoreResult<TaskView> {
        let task = task.clone();
        let effects = self.effects.get();
        let event = self
            .with(move |conn| {
                let tx = conn.transaction()?;
                let token = rules::check_bind(load_token(&tx, &task.token_hash)?, &task.key)?;
                tx.execute(
                    "UPDATE hook_tokens SET task_id = ?2, held_update = NULL WHERE token_hash = ?1",
                    params![task.token_hash, task.key.task_id],
                )?;
                let (cost_amount, cost_unit) = row::cost_columns(task.cost.as_ref());
                let created = tx.execute(
                    "INSERT INTO tasks (provider, task_id, token_hash, operation, status, points,
                         cost_amount, cost_unit, created_ms, updated_ms, deadline_ms,
                         next_poll_ms, poll_attempts, version, owner)
                     VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?6, ?7, ?8, ?8, ?9, ?10, 0, 1, ?11)
                     ON CONFLICT (provider, task_id) DO NOTHING",
                    params![
                        task.key.provider,
                        task.key.task_id,
                        task.token_hash,
                        token.operation,
                        row::points_column(task.points)?,
                        cost_amount,
                        cost_unit,
                        token.created_ms,
                        token.created_ms.saturating_add(task.deadline_after_ms),
                        task.next_poll_ms,
                        task.owner
                    ],
                )?;
                if created == 1 {
                    if let Some(new) = load_task(&tx, &task.key)? {
                        queue_event(&tx, effects.outbox.as_ref(), &new.view, task.now_ms)?;
                    }
                }
                let event = match rules::held_for_bind(token.held.as_deref(), &task.key.task_id)? {
                    Some(update) => apply_update(&tx, &task.key, &update, task.now_ms, &effects)?
                        .map(|(_, event)| event),
                    None => load_task(&tx, &task.key)?,
                };
                let event = event.ok_or_else(|| StoreError::Vanished {
                    provider: task.key.provider.clone(),
                    task_id: task.key.task_id.clone(),
                })?;
                tx.commit()?;
                Ok(event)
            })
            .await?;
        let view = event.view.clone();
        self.notifier.publish(event);
        Ok(view)
    }

    async fn deliver(
        &self,
        token_hash: &str,
        update: &TaskUpdate,
        now_ms: i64,
    ) -> StoreResult<Delivery> {
        let (token_hash, update) = (token_hash.to_owned(), update.clone());
        let effects = self.effects.get();
        let (delivery, event) = self
            .with(move |conn| {
                let tx = conn.transaction()?;
                let token = load_token(&tx, &token_hash)?;
                let result = match rules::plan_delivery(token.as_ref(), &update)? {
                    DeliveryPlan::UnknownToken => (Delivery::UnknownToken, None),
                    DeliveryPlan::WrongTask => (Delivery::WrongTask, None),
                    DeliveryPlan::Hold(held) => {
                        if let Some(json) = held {
                            tx.execute(
                                "UPDATE hook_tokens SET held_update = ?2 WHERE token_hash = ?1",
                                params![token_hash, json],
                            )?;
                        }
                        (Delivery::Held, None)
                    }
                    DeliveryPlan::Apply(key) => {
                        match apply_update(&tx, &key, &update, now_ms, &effects)? {
                            Some((true, event)) => {
                                (Delivery::Applied(event.view.clone()), Some(event))
                            }
                            Some((false, event)) => (Delivery::Unchanged(event.view), None),
                            None => (Delivery::UnknownToken, None),
                        }
                    }
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

    async fn apply(
        &self,
        key: &TaskKey,
        update: &TaskUpdate,
        now_ms: i64,
    ) -> StoreResult<Option<(bool, TaskView)>> {
        let (key, update) = (key.clone(), update.clone());
        let effects = self.effects.get();
        let applied = self
            .with(move |conn| {
                let tx = conn.transaction()?;
                let applied = apply_update(&tx, &key, &update, now_ms, &effects)?;
                tx.commit()?;
                Ok(applied)
            })
            .await?;
        Ok(applied.map(|(changed, event)| {
            let view = event.view.clone();
            if changed {
                self.notifier.publish(event);
            }
            (changed, view)
        }))
    }

    async fn task(&self, key: &TaskKey) -> StoreResult<Option<TaskEvent>> {
        let key = key.clone();
        self.with(move |conn| load_task(conn, &key)).await
    }

    async fn expire_overdue(&self, now_ms: i64) -> StoreResult<Vec<TaskView>> {
        let effects = self.effects.get();
        let events = self
            .with(move |conn| {
                let tx = conn.transaction()?;
                let rows = {
                    let mut statement = tx.prepare(concat!(
                        "UPDATE tasks SET status = 'timed_out', updated_ms = ?1,
                             version = version + 1
                         WHERE status = 'pending' AND deadline_ms <= ?1 RETURNING ",
                        task_columns!()
                    ))?;
                    let rows = statement.query_map(params![now_ms], task_row)?;
                    rows.collect::<rusqlite::Result<Vec<_>>>()?
                };
                let events = rows
                    .into_iter()
                    .map(TaskRow::into_event)
                    .collect::<StoreResult<Vec<_>>>()?;
                for event in &events {
                    queue_event(&tx, effects.outbox.as_ref(), &event.view, now_ms)?;
                }
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

    async fn claim_polls(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> StoreResult<Vec<PollClaim>> {
        self.with(move |conn| {
            let tx = conn.transaction()?;
            let rows = {
                let mut statement = tx.prepare(
                    "UPDATE tasks SET lease_until_ms = ?2
                     WHERE (provider, task_id) IN (
                         SELECT provider, task_id FROM tasks
                         WHERE status = 'pending' AND next_poll_ms <= ?1
                             AND (lease_until_ms IS NULL OR lease_until_ms <= ?1)
                         ORDER BY next_poll_ms, provider, task_id LIMIT ?3)
                     RETURNING provider, task_id, poll_attempts, poll_unreadable",
                )?;
                let rows = statement.query_map(
                    params![now_ms, now_ms.saturating_add(lease_ms), i64::from(limit)],
                    |row| {
                        Ok((
                            row.get::<_, String>(0)?,
                            row.get::<_, String>(1)?,
                            row.get::<_, i64>(2)?,
                            row.get::<_, i64>(3)?,
                        ))
                    },
                )?;
                rows.collect::<rusqlite::Result<Vec<_>>>()?
            };
            tx.commit()?;
            rows.into_iter()
                .map(|(provider, task_id, attempts, unreadable)| {
                    Ok(PollClaim {
                        key: TaskKey::new(provider, task_id),
                        attempts: row::count("tasks.poll_attempts", attempts)?,
                        unreadable: row::count("tasks.poll_unreadable", unreadable)?,
                    })
                })
                .collect()
        })
        .await
    }

    async fn schedule_poll(
        &self,
        key: &TaskKey,
        next_poll_ms: i64,
        unreadable: u32,
    ) -> StoreResult<()> {
        let key = key.clone();
        self.with(move |conn| {
            conn.execute(
                "UPDATE tasks SET next_poll_ms = ?3, poll_attempts = poll_attempts + 1,
                     poll_unreadable = ?4, lease_until_ms = NULL
                 WHERE provider = ?1 AND task_id = ?2",
                params![
                    key.provider,
                    key.task_id,
                    next_poll_ms,
                    i64::from(unreadable)
                ],
            )?;
            Ok(())
        })
        .await
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
            let existing = tx
                .query_row(
                    "SELECT fingerprint, done, status, body, created_ms FROM idempotency
                     WHERE key = ?1",
                    params![key],
                    |row| {
                        Ok(IdempotencyRow {
                            fingerprint: row.get(0)?,
                            done: row.get(1)?,
                            status: row.get(2)?,
                            body: row.get(3)?,
                            created_ms: row.get(4)?,
                        })
                    },
                )
                .optional()?;
            let outcome =
                match rules::idempotency_step(existing, &fingerprint, now_ms, ttl_ms, stale_ms)? {
                    IdempotencyStep::Insert => {
                        tx.execute(
                            "INSERT INTO idempotency (key, fingerprint, done, created_ms)
                             VALUES (?1, ?2, FALSE, ?3)",
                            params![key, fingerprint, now_ms],
                        )?;
                        IdempotencyBegin::Started
                    }
                    IdempotencyStep::Restart => {
                        tx.execute(
                            "UPDATE idempotency SET fingerprint = ?2, done = FALSE, status = NULL,
                                 body = NULL, created_ms = ?3 WHERE key = ?1",
                            params![key, fingerprint, now_ms],
                        )?;
                        IdempotencyBegin::Started
                    }
                    IdempotencyStep::Answer(answer) => answer,
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
                "UPDATE idempotency SET done = TRUE, status = ?2, body = ?3 WHERE key = ?1",
                params![key, i64::from(status), body],
            )?;
            Ok(())
        })
        .await
    }

    async fn idempotency_abandon(&self, key: &str) -> StoreResult<()> {
        let key = key.to_owned();
        self.with(move |conn| {
            conn.execute(
                "DELETE FROM idempotency WHERE key = ?1 AND NOT done",
                params![key],
            )?;
            Ok(())
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
            )?;
            Ok(())
        })
        .await?;
        self.notifier.prune();
        Ok(())
    }

    async fn forget_finished(
        &self,
        tokens_before_ms: i64,
        tasks_before_ms: i64,
    ) -> StoreResult<u64> {
        let removed = self
            .with(move |conn| {
                let tx = conn.transaction()?;
                // A finished task's updated_ms is when it finished: it never changes again.
                tx.execute(
                    "DELETE FROM hook_tokens WHERE task_id IS NOT NULL AND EXISTS (
                    SELECT 1 FROM tasks t WHERE t.provider = hook_tokens.provider
                    AND t.task_id = hook_tokens.task_id
                    AND t.status <> 'pending' AND t.updated_ms < ?1)",
                    params![tokens_before_ms.max(tasks_before_ms)],
                )?;
                let removed = tx.execute(
                    "DELETE FROM tasks WHERE status <> 'pending' AND updated_ms < ?1",
                    params![tasks_before_ms],
                )?;
                tx.commit()?;
                Ok(u64::try_from(removed).unwrap_or(0))
            })
            .await?;
        self.notifier.prune();
        Ok(removed)
    }

    async fn counter_take(
        &self,
        key: &CounterKey,
        amount: i64,
        cap: i64,
    ) -> StoreResult<Option<i64>> {
        if amount > cap {
            return Ok(None);
        }
        let key = key.clone();
        self.with(move |conn| {
            Ok(conn
                .query_row(
                    "INSERT INTO limit_counters (scope, client, window_ms, used)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (scope, client, window_ms)
                     DO UPDATE SET used = limit_counters.used + excluded.used
                     WHERE limit_counters.used + excluded.used <= ?5
                     RETURNING used",
                    params![key.scope, key.client, key.window_ms, amount, cap],
                    |row| row.get(0),
                )
                .optional()?)
        })
        .await
    }

    async fn counter_give_back(&self, key: &CounterKey, amount: i64) -> StoreResult<()> {
        let key = key.clone();
        self.with(move |conn| {
            conn.execute(
                "UPDATE limit_counters SET used = MAX(used - ?4, 0)
                 WHERE scope = ?1 AND client = ?2 AND window_ms = ?3",
                params![key.scope, key.client, key.window_ms, amount],
            )?;
            Ok(())
        })
        .await
    }

    async fn counter_used(&self, key: &CounterKey) -> StoreResult<i64> {
        let key = key.clone();
        self.with(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT used FROM limit_counters
                     WHERE scope = ?1 AND client = ?2 AND window_ms = ?3",
                    params![key.scope, key.client, key.window_ms],
                    |row| row.get(0),
                )
                .optional()?
                .unwrap_or(0))
        })
        .await
    }

    async fn prune_counters(&self, before_ms: i64) -> StoreResult<()> {
        self.with(move |conn| {
            conn.execute(
                "DELETE FROM limit_counters WHERE window_ms < ?1",
                params![before_ms],
            )?;
            Ok(())
        })
        .await
    }

    fn queue_app_events(&self, outbox: Option<AppOutbox>) {
        self.effects.update(|effects| effects.outbox = outbox);
    }

    fn keep_results(&self, results_base: Option<String>) {
        self.effects.update(|effects| effects.keep = results_base);
    }

    async fn claim_results_to_keep(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
        max_attempts: u32,
    ) -> StoreResult<Vec<KeepClaim>> {
        self.with(move |conn| {
            let tx = conn.transaction()?;
            let rows = {
                let mut statement = tx.prepare(
                    "UPDATE tasks SET keep_lease_until_ms = ?2
                     WHERE (provider, task_id) IN (
                         SELECT provider, task_id FROM tasks
                         WHERE status = 'succeeded' AND provider_result_url IS NOT NULL
                             AND kept_result IS NULL AND keep_attempts < ?4
                             AND keep_next_ms <= ?1
                             AND (keep_lease_until_ms IS NULL OR keep_lease_until_ms <= ?1)
                         ORDER BY keep_next_ms, provider, task_id LIMIT ?3)
                     RETURNING provider, task_id, provider_result_url, keep_attempts",
                )?;
                let rows = statement.query_map(
                    params![
                        now_ms,
                        now_ms.saturating_add(lease_ms),
                        i64::from(limit),
                        i64::from(max_attempts)
                    ],
                    |row| {
                        Ok((
                            row.get::<_, String>(0)?,
                            row.get::<_, String>(1)?,
                            row.get::<_, String>(2)?,
                            row.get::<_, i64>(3)?,
                        ))
                    },
                )?;
                rows.collect::<rusqlite::Result<Vec<_>>>()?
            };
            tx.commit()?;
            rows.into_iter()
                .map(|(provider, task_id, provider_url, attempts)| {
                    Ok(KeepClaim {
                        key: TaskKey::new(provider, task_id),
                        provider_url,
                        attempts: row::count("tasks.keep_attempts", attempts)?,
                    })
                })
                .collect()
        })
        .await
    }

    async fn result_kept(&self, key: &TaskKey, name: &str) -> StoreResult<()> {
        let (key, name) = (key.clone(), name.to_owned());
        self.with(move |conn| {
            conn.execute(
                "UPDATE tasks SET kept_result = ?3, keep_lease_until_ms = NULL
                 WHERE provider = ?1 AND task_id = ?2",
                params![key.provider, key.task_id, name],
            )?;
            Ok(())
        })
        .await
    }

    async fn result_keep_failed(&self, key: &TaskKey, next_ms: i64) -> StoreResult<()> {
        let key = key.clone();
        self.with(move |conn| {
            conn.execute(
                "UPDATE tasks SET keep_attempts = keep_attempts + 1, keep_next_ms = ?3,
                     keep_lease_until_ms = NULL
                 WHERE provider = ?1 AND task_id = ?2",
                params![key.provider, key.task_id, next_ms],
            )?;
            Ok(())
        })
        .await
    }

    async fn owner(&self, key: &TaskKey) -> StoreResult<Option<String>> {
        let key = key.clone();
        self.with(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT owner FROM tasks WHERE provider = ?1 AND task_id = ?2",
                    params![key.provider, key.task_id],
                    |row| row.get::<_, Option<String>>(0),
                )
                .optional()?
                .flatten())
        })
        .await
    }

    async fn result_copy(&self, key: &TaskKey) -> StoreResult<Option<ResultCopy>> {
        let key = key.clone();
        self.with(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT provider_result_url, kept_result FROM tasks
                     WHERE provider = ?1 AND task_id = ?2",
                    params![key.provider, key.task_id],
                    |row| {
                        Ok(ResultCopy {
                            provider_url: row.get(0)?,
                            kept: row.get(1)?,
                        })
                    },
                )
                .optional()?)
        })
        .await
    }

    async fn claim_app_events(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> StoreResult<Vec<AppEventClaim>> {
        self.with(move |conn| {
            let tx = conn.transaction()?;
            let rows = {
                let mut statement = tx.prepare(
                    "UPDATE app_events SET lease_until_ms = ?2
                     WHERE id IN (
                         SELECT id FROM app_events
                         WHERE next_attempt_ms <= ?1
                             AND (lease_until_ms IS NULL OR lease_until_ms <= ?1)
                         ORDER BY next_attempt_ms, id LIMIT ?3)
                     RETURNING id, payload, attempts, created_ms",
                )?;
                let rows = statement.query_map(
                    params![now_ms, now_ms.saturating_add(lease_ms), i64::from(limit)],
                    |row| {
                        Ok((
                            row.get::<_, String>(0)?,
                            row.get::<_, String>(1)?,
                            row.get::<_, i64>(2)?,
                            row.get::<_, i64>(3)?,
                        ))
                    },
                )?;
                rows.collect::<rusqlite::Result<Vec<_>>>()?
            };
            tx.commit()?;
            rows.into_iter()
                .map(|(id, payload, attempts, created_ms)| {
                    Ok(AppEventClaim {
                        id,
                        payload,
                        attempts: row::count("app_events.attempts", attempts)?,
                        created_ms,
                    })
                })
                .collect()
        })
        .await
    }

    async fn app_event_done(&self, id: &str) -> StoreResult<()> {
        let id = id.to_owned();
        self.with(move |conn| {
            conn.execute("DELETE FROM app_events WHERE id = ?1", params![id])?;
            Ok(())
        })
        .await
    }

    async fn app_event_retry(&self, id: &str, next_attempt_ms: i64) -> StoreResult<()> {
        let id = id.to_owned();
        self.with(move |conn| {
            conn.execute(
                "UPDATE app_events SET attempts = attempts + 1, next_attempt_ms = ?2,
                     lease_until_ms = NULL
                 WHERE id = ?1",
                params![id, next_attempt_ms],
            )?;
            Ok(())
        })
        .await
    }

    async fn forget_app_events(&self, before_ms: i64) -> StoreResult<u64> {
        self.with(move |conn| {
            let removed = conn.execute(
                "DELETE FROM app_events WHERE created_ms < ?1",
                params![before_ms],
            )?;
            Ok(u64::try_from(removed).unwrap_or(0))
        })
        .await
    }

    async fn app_endpoint_gone(&self, endpoint: &str, now_ms: i64) -> StoreResult<u64> {
        let endpoint = endpoint.to_owned();
        self.with(move |conn| {
            let tx = conn.transaction()?;
            tx.execute(
                "INSERT INTO app_endpoints_gone (endpoint, gone_ms) VALUES (?1, ?2)
                 ON CONFLICT (endpoint) DO NOTHING",
                params![endpoint, now_ms],
            )?;
            let removed = tx.execute(
                "DELETE FROM app_events WHERE endpoint = ?1",
                params![endpoint],
            )?;
            tx.commit()?;
            Ok(u64::try_from(removed).unwrap_or(0))
        })
        .await
    }

    fn notifier(&self) -> &Notifier {
        &self.notifier
    }
}
