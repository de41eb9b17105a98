//! [`TaskStore`] on PostgreSQL, for several proxies sharing one database.
//!
//! The decisions are [`crate::store::rules`]', as for [`super::sqlite::SqliteStore`]; what
//! several instances add:
//! - the token row is locked (`SELECT ... FOR UPDATE`) by both `bind_task` and `deliver`, so a
//!   callback that reaches proxy A while proxy B binds the task is either held and applied by
//!   the bind, or applied after it, never lost;
//! - a task row is locked while an update is judged and written, so two deliveries (or a
//!   delivery and a poll) never both move it: the first terminal update stays;
//! - `expire_overdue` and `claim_polls` lock the due rows with `FOR UPDATE SKIP LOCKED`, so
//!   proxies sweeping or claiming at once take each task once, and never wait on each other;
//! - idempotency keys are claimed with `INSERT ... ON CONFLICT DO NOTHING`, then read under a row
//!   lock;
//! - every change to a task sends `pg_notify('faceswap_tasks', 'provider/task_id')` in its
//!   transaction, and each store's LISTEN connection ([`listen`]) wakes the local streams of
//!   that task.

mod listen;
mod pool;
mod schema;
mod uploads;

pub use pool::{describe_error, describe_pool_error, ConnectError};
pub use uploads::{PgUploads, CHUNK_BYTES};

use async_trait::async_trait;
use faceswap_core::provider::TaskUpdate;
use faceswap_core::TaskView;
use std::sync::Arc;
use tokio::runtime::Handle;
use tokio_postgres::types::ToSql;
use tokio_postgres::{GenericClient, Row};

use pool::{Conn, Connector, Pool, Statements};

use super::row::{self, task_columns, TaskRow};
use super::rules::{self, DeliveryPlan, IdempotencyRow, IdempotencyStep, TaskChange, TokenRow};
use super::Effects;
use super::{
    AppEventClaim, CounterKey, Delivery, EffectsSlot, IdempotencyBegin, KeepClaim, NewAppEvent,
    NewTask, NewToken, Notifier, PollClaim, ResultCopy, StoreError, StoreResult, TaskEvent,
    TaskKey, TaskStore, TokenRecord,
};
use crate::app_webhook::AppOutbox;

/// What the store and its LISTEN task share.
struct Shared {
    pool: Pool,
    notifier: Arc<Notifier>,
    effects: EffectsSlot,
}

/// The PostgreSQL task store.
#[derive(Clone)]
pub struct PostgresStore {
    shared: Arc<Shared>,
    _listener: Arc<listen::Listener>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field(
                "database",
                &pool::describe(self.shared.pool.manager().config()),
            )
            .finish_non_exhaustive()
    }
}

/// True for the URLs this store opens: `postgres://...` and `postgresql://...`.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://USER:PASSWORD@HOST:PORT/DB`), brings its
    /// schema up to date and starts listening for the changes other proxies make.
    ///
    /// Every connection is driven by a task on `driver`, which must stay alive (and, for a
    /// current-thread runtime, be run) as long as the store is used; the store itself may be used
    /// from any runtime. Errors never include the password.
    pub async fn connect(url: &str, driver: Handle) -> StoreResult<Self> {
        let config: tokio_postgres::Config = url.parse().map_err(StoreError::InvalidUrl)?;
        let place = pool::describe(&config);
        let pool = Connector::new(config, driver)
            .into_pool()
            .map_err(|e| StoreError::from(e).at(&place))?;
        {
            let mut conn = pool
                .get()
                .await
                .map_err(|e| StoreError::from(e).at(&place))?;
            schema::migrate(&mut conn.client)
                .await
                .map_err(|e| e.at(&place))?;
        }
        let shared = Arc::new(Shared {
            pool,
            notifier: Arc::new(Notifier::default()),
            effects: EffectsSlot::default(),
        });
        let listener = listen::start(Arc::clone(&shared))
            .await
            .map_err(|e| e.at(&place))?;
        Ok(Self {
            shared,
            _listener: Arc::new(listener),
        })
    }

    /// The uploads stored in this database (`UPLOAD_STORE=postgres`), on the same pool.
    pub fn uploads(&self) -> PgUploads {
        PgUploads::new(self.shared.pool.clone())
    }

    async fn conn(&self) -> StoreResult<deadpool::managed::Object<Connector>> {
        Ok(self.shared.pool.get().await?)
    }
}

/// Queries through a connection's cache of prepared statements.
struct Db<'a, C> {
    client: &'a C,
    statements: &'a mut Statements,
}

impl<C: GenericClient + Sync> Db<'_, C> {
    async fn query(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> StoreResult<Vec<Row>> {
        let statement = self.statements.get(self.client, sql).await?;
        Ok(self.client.query(&statement, params).await?)
    }

    async fn query_opt(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> StoreResult<Option<Row>> {
        let statement = self.statements.get(self.client, sql).await?;
        Ok(self.client.query_opt(&statement, params).await?)
    }

    async fn execute(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> StoreResult<u64> {
        let statement = self.statements.get(self.client, sql).await?;
        Ok(self.client.execute(&statement, params).await?)
    }

    /// Tells every proxy on the database (this one included) that the task changed; sent when
    /// the surrounding transaction commits.
    async fn notify(&mut self, key: &TaskKey) -> StoreResult<()> {
        let payload = schema::payload(key);
        self.execute("SELECT pg_notify($1, $2)", &[&schema::CHANNEL, &payload])
            .await
            .map(drop)
    }

    async fn load_task(&mut self, key: &TaskKey) -> StoreResult<Option<TaskEvent>> {
        const SQL: &str = concat!(
            "SELECT ",
            task_columns!(),
            " FROM tasks WHERE provider = $1 AND task_id = $2"
        );
        self.query_opt(SQL, &[&key.provider, &key.task_id])
            .await?
            .map(|row| task_row(&row)?.into_event())
            .transpose()
    }

    async fn load_token(&mut self, token_hash: &str) -> StoreResult<Option<TokenRow>> {
        let row = self
            .query_opt(
                "SELECT provider, operation, task_id, held_update, created_ms FROM hook_tokens
                 WHERE token_hash = $1 FOR UPDATE",
                &[&token_hash],
            )
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(TokenRow {
            provider: row.try_get(0)?,
            operation: row.try_get(1)?,
            task_id: row.try_get(2)?,
            held: row.try_get(3)?,
            created_ms: row.try_get(4)?,
        }))
    }

    /// Writes the app event the outbox wants of a task that now stands as `view`, if any
    /// ([`rules::app_event`]), unless its endpoint answered 410.
    async fn queue_event(
        &mut self,
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
        self.execute(
            "INSERT INTO app_events (id, endpoint, payload, created_ms, next_attempt_ms, attempts)
             SELECT $1::TEXT, $2::TEXT, $3::TEXT, $4::BIGINT, $4::BIGINT, 0
             WHERE NOT EXISTS (SELECT 1 FROM app_endpoints_gone WHERE endpoint = $2::TEXT)",
            &[&id, &endpoint, &payload, &created_ms],
        )
        .await
        .map(drop)
    }

    /// Applies `update` to the task (locked meanwhile) as [`rules::transition`] says, queuing
    /// the app event of the change; returns whether it changed, and the task, or `None` for an
    /// unknown task.
    async fn apply_update(
        &mut self,
        key: &TaskKey,
        update: &TaskUpdate,
        now_ms: i64,
        effects: &Effects,
    ) -> StoreResult<Option<(bool, TaskEvent)>> {
        const LOCK: &str = concat!(
            "SELECT ",
            task_columns!(),
            " FROM tasks WHERE provider = $1 AND task_id = $2 FOR UPDATE"
        );
        const WRITE: &str = concat!(
            "UPDATE tasks SET status = $3, kind = $4, result_url = $5, error = $6,
                 updated_ms = $7, result_info = $8, provider_result_url = $9,
                 version = version + 1
             WHERE provider = $1 AND task_id = $2 RETURNING ",
            task_columns!()
        );
        let Some(row) = self.query_opt(LOCK, &[&key.provider, &key.task_id]).await? else {
            return Ok(None);
        };
        let event = task_row(&row)?.into_event()?;
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
        let row = self
            .query_opt(
                WRITE,
                &[
                    &key.provider,
                    &key.task_id,
                    &status.as_str(),
                    &kind,
                    &result_url,
                    &error,
                    &now_ms,
                    &result_info,
                    &provider_result_url,
                ],
            )
            .await?
            .ok_or_else(|| vanished(key))?;
        self.notify(key).await?;
        let event = task_row(&row)?.into_event()?;
        self.queue_event(effects.outbox.as_ref(), &event.view, now_ms)
            .await?;
        Ok(Some((true, event)))
    }
}

fn vanished(key: &TaskKey) -> StoreError {
    StoreError::Vanished {
        provider: key.provider.clone(),
        task_id: key.task_id.clone(),
    }
}

fn task_row(row: &Row) -> StoreResult<TaskRow> {
    Ok(TaskRow {
        provider: row.try_get(0)?,
        task_id: row.try_get(1)?,
        status: row.try_get(2)?,
        kind: row.try_get(3)?,
        result_url: row.try_get(4)?,
        points: row.try_get(5)?,
        cost_amount: row.try_get(6)?,
        cost_unit: row.try_get(7)?,
        error: row.try_get(8)?,
        created_ms: row.try_get(9)?,
        updated_ms: row.try_get(10)?,
        version: row.try_get(11)?,
        result_info: row.try_get(12)?,
        provider_result_url: row.try_get(13)?,
    })
}

/// The task as it now stands, on a pooled connection (used by the LISTEN task).
async fn load_task(shared: &Shared, key: &TaskKey) -> StoreResult<Option<TaskEvent>> {
    let mut conn = shared.pool.get().await?;
    let Conn { client, statements } = &mut *conn;
    Db { client, statements }.load_task(key).await
}

#[async_trait]
impl TaskStore for PostgresStore {
    async fn ping(&self) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let Conn { client, statements } = &mut *conn;
        Db { client, statements }
            .query("SELECT 1", &[])
            .await
            .map(drop)
    }

    async fn create_token(&self, token: &NewToken) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let Conn { client, statements } = &mut *conn;
        Db { client, statements }
            .execute(
                "INSERT INTO hook_tokens (token_hash, provider, operation, secret_hash, created_ms)
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &token.token_hash,
                    &token.provider,
                    &token.operation,
                    &token.secret_hash,
                    &token.now_ms,
                ],
            )
            .await
            .map(drop)
    }

    async fn discard_token(&self, token_hash: &str) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let Conn { client, statements } = &mut *conn;
        Db { client, statements }
            .execute(
                "DELETE FROM hook_tokens WHERE token_hash = $1 AND task_id IS NULL",
                &[&token_hash],
            )
            .await
            .map(drop)
    }

    async fn token(&self, token_hash: &str) -> StoreResult<Option<TokenRecord>> {
        let mut conn = self.conn().await?;
        let Conn { client, statements } = &mut *conn;
        let row = Db { client, statements }
            .query_opt(
                "SELECT provider, task_id, secret_hash FROM hook_tokens WHERE token_hash = $1",
                &[&token_hash],
            )
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(TokenRecord {
            provider: row.try_get(0)?,
            task_id: row.try_get(1)?,
            secret_hash: row.try_get(2)?,
        }))
    }

    async fn bind_task(&self, task: &NewTask) -> StoreResult<TaskView> {
        let mut conn = self.conn().await?;
        let Conn { client, statements } = &mut *conn;
        let tx = client.transaction().await?;
        let mut db = Db {
            client: &tx,
            statements,
        };
        let key = &task.key;
        let token = rules::check_bind(db.load_token(&task.token_hash).await?, key)?;
        db.execute(
            "UPDATE hook_tokens SET task_id = $2, held_update = NULL WHERE token_hash = $1",
            &[&task.token_hash, &key.task_id],
        )
        .await?;
        let effects = self.shared.effects.get();
        let (cost_amount, cost_unit) = row::cost_columns(task.cost.as_ref());
        let created = db
            .execute(
                "INSERT INTO tasks (provider, task_id, token_hash, operation, status, points,
                 cost_amount, cost_unit, created_ms, updated_ms, deadline_ms, next_poll_ms,
                 poll_attempts, version, owner)
             VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8, $8, $9, $10, 0, 1, $11)
             ON CONFLICT (provider, task_id) DO NOTHING",
                &[
                    &key.provider,
                    &key.task_id,
                    &task.token_hash,
                    &token.operation,
                    &row::points_column(task.points)?,
                    &cost_amount,
                    &cost_unit,
                    &token.created_ms,
                    &token.created_ms.saturating_add(task.deadline_after_ms),
                    &task.next_poll_ms,
                    &task.owner,
                ],
            )
            .await?;
        if created == 1 {
            if let Some(new) = db.load_task(key).await? {
                db.queue_event(effects.outbox.as_ref(), &new.view, task.now_ms)
                    .await?;
            }
        }
        let event = match rules::held_for_bind(token.held.as_deref(), &key.task_id)? {
            Some(update) => db
                .apply_update(key, &update, task.now_ms, &effects)
                .await?
                .map(|(_, event)| event),
            None => db.load_task(key).await?,
        };
        let event = event.ok_or_else(|| vanished(key))?;
        db.notify(key).await?;
        tx.commit().await?;
        let view = event.view.clone();
        self.shared.notifier.publish(event);
        Ok(view)
    }

    async fn deliver(
        &self,
        token_hash: &str,
        update: &TaskUpdate,
        now_ms: i64,
    ) -> StoreResult<Delivery> {
        let mut conn = self.conn().await?;
        let Conn { client, statements } = &mut *conn;
        let tx = client.transaction().await?;
        let mut db = Db {
            client: &tx,
            statements,
        };
        let token = db.load_token(token_hash).await?;
        let effects = self.shared.effects.get();
        let (delivery, event) = match rules::plan_delivery(token.as_ref(), update)? {
            DeliveryPlan::UnknownToken => (Delivery::UnknownToken, None),
            DeliveryPlan::WrongTask => (Delivery::WrongTask, None),
            DeliveryPlan::Hold(held) => {
                if let Some(json) = held {
                    db.execute(
                        "UPDATE hook_tokens SET held_update = $2 WHERE token_hash = $1",
                        &[&token_hash, &json],
                    )
                    .await?;
                }
                (Delivery::Held, None)
            }
            DeliveryPlan::Apply(key) => {
                match db.apply_update(&key, update, now_ms, &effects).await? {
                    Some((true, event)) => (Delivery::Applied(event.view.clone()), Some(event)),
                    Some((false, event)) => (Delivery::Unchanged(event.view), None),
                    None => (Delivery::UnknownToken, None),
                }
            }
        };
        tx.commit().await?;
        if let Some(event) = event {
            self.shared.notifier.publish(event);
        }
        Ok(delivery)
    }

    async fn apply(
        &self,
        key: &TaskKey,
        update: &TaskUpdate,
        now_ms: i64,
    ) -> StoreResult<Option<(bool, TaskView)>> {
        let mut conn = self.conn().await?;
        let Conn { client, statements } = &mut *conn;
        let tx = client.transaction().await?;
        let applied = Db {
            client: &tx,
            statements,
        }
        .apply_update(key, update, now_ms, &self.shared.effects.get())
        .await?;
        tx.commit().await?;
        Ok(applied.map(|(changed, event)| {
            let view = event.view.clone();
            if changed {
                self.shared.notifier.publish(event);
            }
            (changed, view)
        }))
    }

    async fn task(&self, key: &TaskKey) -> StoreResult<Option<TaskEvent>> {
        load_task(&self.shared, key).await
    }

    async fn expire_overdue(&self, now_ms: i64) -> StoreResult<Vec<TaskView>> {
        // One statement, so one transaction: lock the due rows that no other sweep or delivery
        // holds, time them out, and notify each.
        const SQL: &str = concat!(
            "WITH due AS (
                 SELECT provider, task_id FROM tasks
                 WHERE status = 'pending' AND deadline_ms <= $1
                 ORDER BY provider, task_id FOR UPDATE SKIP LOCKED
             ), expired AS (
                 UPDATE tasks SET status = 'timed_out', updated_ms = $1, version = version + 1
                 FROM due
                 WHERE tasks.provider = due.provider AND tasks.task_id = due.task_id
                     AND tasks.status = 'pending'
                 RETURNING tasks.*
             )
             SELECT ",
            task_columns!(),
            ", pg_notify($2, provider || '/' || task_id) FROM expired"
        );
        let effects = self.shared.effects.get();
        let events = {
            let mut conn = self.conn().await?;
            let Conn { client, statements } = &mut *conn;
            // The statement and the app events it makes commit together.
            let tx = client.transaction().await?;
            let mut db = Db {
                client: &tx,
                statements,
            };
            let rows = db.query(SQL, &[&now_ms, &schema::CHANNEL]).await?;
            let events = rows
                .iter()
                .map(|row| task_row(row)?.into_event())
                .collect::<StoreResult<Vec<_>>>()?;
            for event in &events {
                db.queue_event(effects.outbox.as_ref(), &event.view, now_ms)
                    .await?;
            }
            tx.commit().await?;
            events
        };
        let views = events.iter().map(|e| e.view.clone()).collect();
        for event in events {
            self.shared.notifier.publish(event);
        }
        Ok(views)
    }

    async fn claim_polls(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> StoreResult<Vec<PollClaim>> {
        // One statement: the due rows no other proxy holds are locked (a concurrent claim skips
        // them, and re-checks the lease of any row committed meanwhile) and leased.
        const SQL: &str = "WITH due AS (
                 SELECT provider, task_id FROM tasks
                 WHERE status = 'pending' AND next_poll_ms <= $1
                     AND (lease_until_ms IS NULL OR lease_until_ms <= $1)
                 ORDER BY next_poll_ms, provider, task_id LIMIT $3
                 FOR UPDATE SKIP LOCKED
             )
             UPDATE tasks SET lease_until_ms = $2
             FROM due WHERE tasks.provider = due.provider AND tasks.task_id = due.task_id
             RETURNING tasks.provider, tasks.task_id, tasks.poll_attempts,
                 tasks.poll_unreadable";
        let rows = {
            let mut conn = self.conn().await?;
            let Conn { client, statements } = &mut *conn;
            Db { client, statements }
                .query(
                    SQL,
                    &[&now_ms, &now_ms.saturating_add(lease_ms), &i64::from(limit)],
                )
                .await?
        };
        rows.iter()
            .map(|row| {
                Ok(PollClaim {
                    key: TaskKey::new(row.try_get::<_, String>(0)?, row.try_get::<_, String>(1)?),
                    attempts: row::count("tasks.poll_attempts", row.try_get(2)?)?,
                    unreadable: row::count("tasks.poll_unreadable", row.try_get(3)?)?,
                })
            })
            .collect()
    }

    async fn schedule_poll(
        &self,
        key: &TaskKey,
        next_poll_ms: i64,
        unreadable: u32,
    ) -> StoreResult<()> {
        let unreadable = i64::from(unreadable);
        let mut conn = self.conn().await?;
        let Conn { client, statements } = &mut *conn;
        Db { client, statements }
            .execute(
                "UPDATE tasks SET next_poll_ms = $3, poll_attempts = poll_attempts + 1,
                     poll_unreadable = $4, lease_until_ms = NULL
                 WHERE provider = $1 AND task_id = $2",
                &[&key.provider, &key.task_id, &next_poll_ms, &unreadable],
            )
            .await
            .map(drop)
    }

    async fn idempotency_begin(
        &self,
        key: &str,
        fingerprint: &str,
        now_ms: i64,
        ttl_ms: i64,
        stale_ms: i64,
    ) -> StoreResult<IdempotencyBegin> {
        let mut conn = self.conn().await?;
        let Conn { client, statements } = &mut *conn;
        let tx = client.transaction().await?;
        let mut db = Db {
            client: &tx,
            statements,
        };
        // A record removed between the claim and the read (an abandon) is claimed again.
        let mut outcome = None;
        for _ in 0..3 {
            let claimed = db
                .query_opt(
                    "INSERT INTO idempotency (key, fingerprint, done, created_ms)
                     VALUES ($1, $2, FALSE, $3) ON CONFLICT (key) DO NOTHING RETURNING 1",
                    &[&key, &fingerprint, &now_ms],
                )
                .await?;
            if claimed.is_some() {
                outcome = Some(IdempotencyBegin::Started);
                break;
            }
            let Some(row) = db
                .query_opt(
                    "SELECT fingerprint, done, status, body, created_ms FROM idempotency
                     WHERE key = $1 FOR UPDATE",
                    &[&key],
                )
                .await?
            else {
                continue;
            };
            let row = IdempotencyRow {
                fingerprint: row.try_get(0)?,
                done: row.try_get(1)?,
                status: row.try_get::<_, Option<i32>>(2)?.map(i64::from),
                body: row.try_get(3)?,
                created_ms: row.try_get(4)?,
            };
            outcome = Some(
                match rules::idempotency_step(Some(row), fingerprint, now_ms, ttl_ms, stale_ms)? {
                    // Not reached with a row; the claim above inserts.
                    IdempotencyStep::Insert => continue,
                    IdempotencyStep::Restart => {
                        db.execute(
                            "UPDATE idempotency SET fingerprint = $2, done = FALSE, status = NULL,
                                 body = NULL, created_ms = $3 WHERE key = $1",
                            &[&key, &fingerprint, &now_ms],
                        )
                        .await?;
                        IdempotencyBegin::Started
                    }
                    IdempotencyStep::Answer(answer) => answer,
                },
            );
            break;
        }
        tx.commit().await?;
        outcome.ok_or(StoreError::Contended)
    }

    async fn idempotency_finish(&self, key: &str, status: u16, body: &[u8]) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let Conn { client, statements } = &mut *conn;
        Db { client, statements }
            .execute(
                "UPDATE idempotency SET done = TRUE, status = $2, body = $3 WHERE key = $1",
                &[&key, &i32::from(status), &body],
            )
            .await
            .map(drop)
    }

    async fn idempotency_abandon(&self, key: &str) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let Conn { client, statements } = &mut *conn;
        Db { client, statements }
            .execute(
                "DELETE FROM idempotency WHERE key = $1 AND NOT done",
                &[&key],
            )
            .await
            .map(drop)
    }

    async fn prune(&self, idempotency_before_ms: i64, tokens_before_ms: i64) -> StoreResult<()> {
        {
            let mut conn = self.conn().await?;
            let Conn { client, statements } = &mut *conn;
            let mut db = Db { client, statements };
            db.execute(
                "DELETE FROM idempotency WHERE created_ms < $1",
                &[&idempotency_before_ms],
            )
            .await?;
            db.execute(
                "DELETE FROM hook_tokens WHERE task_id IS NULL AND created_ms < $1",
                &[&tokens_before_ms],
            )
            .await?;
        }
        self.shared.notifier.prune();
        Ok(())
    }

    async fn forget_finished(
        &self,
        tokens_before_ms: i64,
        tasks_before_ms: i64,
    ) -> StoreResult<u64> {
        let removed = {
            let mut conn = self.conn().await?;
            let Conn { client, statements } = &mut *conn;
            let mut db = Db { client, statements };
            // A finished task's updated_ms is when it finished: it never changes again.
            db.execute(
                "DELETE FROM hook_tokens WHERE task_id IS NOT NULL AND EXISTS (
                    SELECT 1 FROM tasks t WHERE t.provider = hook_tokens.provider
                    AND t.task_id = hook_tokens.task_id
                    AND t.status <> 'pending' AND t.updated_ms < $1)",
                &[&tokens_before_ms.max(tasks_before_ms)],
            )
            .await?;
            db.execute(
                "DELETE FROM tasks WHERE status <> 'pending' AND updated_ms < $1",
                &[&tasks_before_ms],
            )
            .await?
        };
        self.shared.notifier.prune();
        Ok(removed)
    }

    fn shares_limits(&self) -> bool {
        true
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
        let mut conn = self.conn().await?;
        let Conn { client, statements } = &mut *conn;
        let row = Db { client, statements }
            .query_opt(
                "INSERT INTO limit_counters (scope, client, window_ms, used)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (scope, client, window_ms)
                 DO UPDATE SET used = limit_counters.used + excluded.used
                 WHERE limit_counters.used + excluded.used <= $5
                 RETURNING used",
                &[&key.scope, &key.client, &key.window_ms, &amount, &cap],
            )
            .await?;
        Ok(row.map(|row| row.get(0)))
    }

    async fn counter_give_back(&self, key: &CounterKey, amount: i64) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let Conn { client, statements } = &mut *conn;
        Db { client, statements }
            .execute(
                "UPDATE limit_counters SET used = GREATEST(used - $4, 0)
                 WHERE scope = $1 AND client = $2 AND window_ms = $3",
                &[&key.scope, &key.client, &key.window_ms, &amount],
            )
            .await
            .map(drop)
    }

    async fn counter_used(&self, key: &CounterKey) -> StoreResult<i64> {
        let mut conn = self.conn().await?;
        let Conn { client, statements } = &mut *conn;
        let row = Db { client, statements }
            .query_opt(
                "SELECT used FROM limit_counters
                 WHERE scope = $1 AND client = $2 AND window_ms = $3",
                &[&key.scope, &key.client, &key.window_ms],
            )
            .await?;
        Ok(row.map_or(0, |row| row.get(0)))
    }

    async fn prune_counters(&self, before_ms: i64) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let Conn { client, statements } = &mut *conn;
        Db { client, statements }
            .execute(
                "DELETE FROM limit_counters WHERE window_ms < $1",
                &[&before_ms],
            )
            .await
            .map(drop)
    }

    fn queue_app_events(&self, outbox: Option<AppOutbox>) {
        self.shared
            .effects
            .update(|effects| effects.outbox = outbox);
    }

    fn keep_results(&self, results_base: Option<String>) {
        self.shared
            .effects
            .update(|effects| effects.keep = results_base);
    }

    async fn claim_results_to_keep(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
        max_attempts: u32,
    ) -> StoreResult<Vec<KeepClaim>> {
        // One statement, as `claim_polls`.
        const SQL: &str = "WITH due AS (
                 SELECT provider, task_id FROM tasks
                 WHERE status = 'succeeded' AND provider_result_url IS NOT NULL
                     AND kept_result IS NULL AND keep_attempts < $4 AND keep_next_ms <= $1
                     AND (keep_lease_until_ms IS NULL OR keep_lease_until_ms <= $1)
                 ORDER BY keep_next_ms, provider, task_id LIMIT $3
                 FOR UPDATE SKIP LOCKED
             )
             UPDATE tasks SET keep_lease_until_ms = $2
             FROM due WHERE tasks.provider = due.provider AND tasks.task_id = due.task_id
             RETURNING tasks.provider, tasks.task_id, tasks.provider_result_url,
                 tasks.keep_attempts";
        let rows = {
            let mut conn = self.conn().await?;
            let Conn { client, statements } = &mut *conn;
            Db { client, statements }
                .query(
                    SQL,
                    &[
                        &now_ms,
                        &now_ms.saturating_add(lease_ms),
                        &i64::from(limit),
                        &i64::from(max_attempts),
                    ],
                )
                .await?
        };
        rows.iter()
            .map(|row| {
                Ok(KeepClaim {
                    key: TaskKey::new(row.try_get::<_, String>(0)?, row.try_get::<_, String>(1)?),
                    provider_url: row.try_get(2)?,
                    attempts: row::count("tasks.keep_attempts", row.try_get(3)?)?,
                })
            })
            .collect()
    }

    async fn result_kept(&self, key: &TaskKey, name: &str) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let Conn { client, statements } = &mut *conn;
        Db { client, statements }
            .execute(
                "UPDATE tasks SET kept_result = $3, keep_lease_until_ms = NULL
                 WHERE provider = $1 AND task_id = $2",
                &[&key.provider, &key.task_id, &name],
            )
            .await
            .map(drop)
    }

    async fn result_keep_failed(&self, key: &TaskKey, next_ms: i64) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let Conn { client, statements } = &mut *conn;
        Db { client, statements }
            .execute(
                "UPDATE tasks SET keep_attempts = keep_attempts + 1, keep_next_ms = $3,
                     keep_lease_until_ms = NULL
                 WHERE provider = $1 AND task_id = $2",
                &[&key.provider, &key.task_id, &next_ms],
            )
            .await
            .map(drop)
    }

    async fn owner(&self, key: &TaskKey) -> StoreResult<Option<String>> {
        let mut conn = self.conn().await?;
        let Conn { client, statements } = &mut *conn;
        let row = Db { client, statements }
            .query_opt(
                "SELECT owner FROM tasks WHERE provider = $1 AND task_id = $2",
                &[&key.provider, &key.task_id],
            )
            .await?;
        Ok(row
            .map(|row| row.try_get::<_, Option<String>>(0))
            .transpose()?
            .flatten())
    }

    async fn result_copy(&self, key: &TaskKey) -> StoreResult<Option<ResultCopy>> {
        let mut conn = self.conn().await?;
        let Conn { client, statements } = &mut *conn;
        let row = Db { client, statements }
            .query_opt(
                "SELECT provider_result_url, kept_result FROM tasks
                 WHERE provider = $1 AND task_id = $2",
                &[&key.provider, &key.task_id],
            )
            .await?;
        row.map(|row| {
            Ok(ResultCopy {
                provider_url: row.try_get(0)?,
                kept: row.try_get(1)?,
            })
        })
        .transpose()
    }

    async fn claim_app_events(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> StoreResult<Vec<AppEventClaim>> {
        // One statement, as `claim_polls`: the due rows no other proxy holds are locked and
        // leased.
        const SQL: &str = "WITH due AS (
                 SELECT id FROM app_events
                 WHERE next_attempt_ms <= $1
                     AND (lease_until_ms IS NULL OR lease_until_ms <= $1)
                 ORDER BY next_attempt_ms, id LIMIT $3
                 FOR UPDATE SKIP LOCKED
             )
             UPDATE app_events SET lease_until_ms = $2
             FROM due WHERE app_events.id = due.id
             RETURNING app_events.id, app_events.payload, app_events.attempts,
                 app_events.created_ms";
        let rows = {
            let mut conn = self.conn().await?;
            let Conn { client, statements } = &mut *conn;
            Db { client, statements }
                .query(
                    SQL,
                    &[&now_ms, &now_ms.saturating_add(lease_ms), &i64::from(limit)],
                )
                .await?
        };
        rows.iter()
            .map(|row| {
                Ok(AppEventClaim {
                    id: row.try_get(0)?,
                    payload: row.try_get(1)?,
                    attempts: row::count("app_events.attempts", row.try_get(2)?)?,
                    created_ms: row.try_get(3)?,
                })
            })
            .collect()
    }

    async fn app_event_done(&self, id: &str) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let Conn { client, statements } = &mut *conn;
        Db { client, statements }
            .execute("DELETE FROM app_events WHERE id = $1", &[&id])
            .await
            .map(drop)
    }

    async fn app_event_retry(&self, id: &str, next_attempt_ms: i64) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let Conn { client, statements } = &mut *conn;
        Db { client, statements }
            .execute(
                "UPDATE app_events SET attempts = attempts + 1, next_attempt_ms = $2,
                     lease_until_ms = NULL
                 WHERE id = $1",
                &[&id, &next_attempt_ms],
            )
            .await
            .map(drop)
    }

    async fn forget_app_events(&self, before_ms: i64) -> StoreResult<u64> {
        let mut conn = self.conn().await?;
        let Conn { client, statements } = &mut *conn;
        Db { client, statements }
            .execute(
                "DELETE FROM app_events WHERE created_ms < $1",
                &[&before_ms],
            )
            .await
    }

    async fn app_endpoint_gone(&self, endpoint: &str, now_ms: i64) -> StoreResult<u64> {
        let mut conn = self.conn().await?;
        let Conn { client, statements } = &mut *conn;
        let tx = client.transaction().await?;
        let mut db = Db {
            client: &tx,
            statements,
        };
        db.execute(
            "INSERT INTO app_endpoints_gone (endpoint, gone_ms) VALUES ($1, $2)
             ON CONFLICT (endpoint) DO NOTHING",
            &[&endpoint, &now_ms],
        )
        .await?;
        let removed = db
            .execute("DELETE FROM app_events WHERE endpoint = $1", &[&endpoint])
            .await?;
        tx.commit().await?;
        Ok(removed)
    }

    fn notifier(&self) -> &Notifier {
        &self.shared.notifier
    }
}
