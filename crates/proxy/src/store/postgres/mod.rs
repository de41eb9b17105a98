//! [`TaskStore`] on PostgreSQL, for several proxies sharing one database.
//!
//! The semantics are those of [`super::sqlite::SqliteStore`]; what several instances add:
//! - the token row is locked (`SELECT ... FOR UPDATE`) by both `bind_task` and `deliver`, so a
//!   webhook that reaches proxy A while proxy B binds the task is either held and applied by the
//!   bind, or applied after it, never lost;
//! - a terminal task is never moved back: updates are `... WHERE status = 'pending'`, which
//!   PostgreSQL re-checks on the newest row version after waiting for a concurrent writer;
//! - `expire_overdue` locks the due rows with `FOR UPDATE SKIP LOCKED`, so proxies sweeping at
//!   once time each task out exactly once, and never deadlock on each other;
//! - idempotency keys are claimed with `INSERT ... ON CONFLICT DO NOTHING`, then read under a row
//!   lock;
//! - every change to a task sends `pg_notify('faceswap_tasks', task_id)` in its transaction, and
//!   each store's LISTEN connection ([`listen`]) wakes the local streams of that task.

mod listen;
mod pool;
mod schema;

use async_trait::async_trait;
use faceswap_core::aifaceswap::WebhookCallback;
use faceswap_core::{TaskStatus, TaskView};
use std::sync::Arc;
use tokio::runtime::Handle;
use tokio_postgres::types::ToSql;
use tokio_postgres::{GenericClient, Row};

use pool::{pg_err, pool_err, Conn, Connector, Pool, Statements};

use super::sqlite::rfc3339;
use super::{Delivery, IdempotencyBegin, Notifier, StoreError, StoreResult, TaskEvent, TaskStore};

/// What the store and its LISTEN task share.
struct Shared {
    pool: Pool,
    notifier: Arc<Notifier>,
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
    /// Connects to the database at `url` (`postgres://USER:PASSWORD@HOST:PORT/DB`), creates the
    /// schema where it is missing and starts listening for the changes other proxies make.
    ///
    /// Every connection is driven by a task on `driver`, which must stay alive (and, for a
    /// current-thread runtime, be run) as long as the store is used; the store itself may be used
    /// from any runtime. Errors never include the password.
    pub async fn connect(url: &str, driver: Handle) -> StoreResult<Self> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError(format!("invalid DATABASE_URL: {}", pg_err(e).0)))?;
        let place = pool::describe(&config);
        let at = |err: StoreError| StoreError(format!("{place}: {}", err.0));
        let pool = Connector::new(config, driver).into_pool()?;
        {
            let mut conn = pool.get().await.map_err(pool_err).map_err(at)?;
            schema::create(&mut conn.client).await.map_err(at)?;
        }
        let shared = Arc::new(Shared {
            pool,
            notifier: Arc::new(Notifier::default()),
        });
        let listener = listen::start(Arc::clone(&shared)).await.map_err(at)?;
        Ok(Self {
            shared,
            _listener: Arc::new(listener),
        })
    }

    async fn conn(&self) -> StoreResult<deadpool::managed::Object<Connector>> {
        self.shared.pool.get().await.map_err(pool_err)
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
        self.client.query(&statement, params).await.map_err(pg_err)
    }

    async fn query_opt(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> StoreResult<Option<Row>> {
        let statement = self.statements.get(self.client, sql).await?;
        self.client
            .query_opt(&statement, params)
            .await
            .map_err(pg_err)
    }

    async fn execute(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> StoreResult<u64> {
        let statement = self.statements.get(self.client, sql).await?;
        self.client
            .execute(&statement, params)
            .await
            .map_err(pg_err)
    }

    /// Tells every proxy on the database (this one included) that the task changed; sent when
    /// the surrounding transaction commits.
    async fn notify(&mut self, task_id: &str) -> StoreResult<()> {
        self.execute("SELECT pg_notify($1, $2)", &[&schema::CHANNEL, &task_id])
            .await
            .map(drop)
    }

    async fn load_task(&mut self, task_id: &str) -> StoreResult<Option<TaskEvent>> {
        const SQL: &str =
            "SELECT task_id, status, kind, result_url, points, created_ms, updated_ms, version
             FROM tasks WHERE task_id = $1";
        self.query_opt(SQL, &[&task_id])
            .await?
            .map(|row| task_from_row(&row))
            .transpose()
    }

    /// Moves a pending task to the callback's terminal state; a terminal task stays as it is.
    /// Returns whether it changed, and the task.
    async fn apply_callback(
        &mut self,
        task_id: &str,
        callback: &WebhookCallback,
        now_ms: i64,
    ) -> StoreResult<Option<(bool, TaskEvent)>> {
        const SQL: &str =
            "UPDATE tasks SET status = $2, kind = COALESCE($3, kind), result_url = $4,
                 updated_ms = $5, version = version + 1
             WHERE task_id = $1 AND status = 'pending'
             RETURNING task_id, status, kind, result_url, points, created_ms, updated_ms, version";
        let status = if callback.success {
            TaskStatus::Succeeded
        } else {
            TaskStatus::Failed
        };
        let result_url = callback
            .result_image
            .as_deref()
            .filter(|_| callback.success);
        let changed = self
            .query_opt(
                SQL,
                &[
                    &task_id,
                    &status.as_str(),
                    &callback.kind,
                    &result_url,
                    &now_ms,
                ],
            )
            .await?;
        if let Some(row) = changed {
            self.notify(task_id).await?;
            return Ok(Some((true, task_from_row(&row)?)));
        }
        Ok(self.load_task(task_id).await?.map(|event| (false, event)))
    }
}

fn row_err(err: tokio_postgres::Error) -> StoreError {
    StoreError(format!("PostgreSQL row: {err}"))
}

fn task_from_row(row: &Row) -> StoreResult<TaskEvent> {
    let status: String = row.try_get(1).map_err(row_err)?;
    let points: Option<i64> = row.try_get(4).map_err(row_err)?;
    let version: i64 = row.try_get(7).map_err(row_err)?;
    Ok(TaskEvent {
        version: u64::try_from(version).unwrap_or(0),
        view: TaskView {
            provider: faceswap_core::aifaceswap::PROVIDER.id.to_owned(),
            cost: None,
            error: None,
            task_id: row.try_get(0).map_err(row_err)?,
            status: TaskStatus::from_word(&status).unwrap_or(TaskStatus::Pending),
            kind: row.try_get(2).map_err(row_err)?,
            result_url: row.try_get(3).map_err(row_err)?,
            points: points.and_then(|p| u64::try_from(p).ok()),
            created_at: rfc3339(row.try_get(5).map_err(row_err)?),
            updated_at: rfc3339(row.try_get(6).map_err(row_err)?),
        },
    })
}

/// The task as it now stands, on a pooled connection (used by the LISTEN task).
async fn load_task(shared: &Shared, task_id: &str) -> StoreResult<Option<TaskEvent>> {
    let mut conn = shared.pool.get().await.map_err(pool_err)?;
    let Conn { client, statements } = &mut *conn;
    Db { client, statements }.load_task(task_id).await
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

    async fn create_token(
        &self,
        token_hash: &str,
        operation: &str,
        now_ms: i64,
    ) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let Conn { client, statements } = &mut *conn;
        Db { client, statements }
            .execute(
                "INSERT INTO hook_tokens (token_hash, operation, created_ms) VALUES ($1, $2, $3)",
                &[&token_hash, &operation, &now_ms],
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

    async fn bind_task(
        &self,
        token_hash: &str,
        task_id: &str,
        points: Option<u64>,
        now_ms: i64,
        deadline_after_ms: i64,
    ) -> StoreResult<TaskView> {
        let mut conn = self.conn().await?;
        let Conn { client, statements } = &mut *conn;
        let tx = client.transaction().await.map_err(pg_err)?;
        let mut db = Db {
            client: &tx,
            statements,
        };
        let token = db
            .query_opt(
                "SELECT operation, held_callback, created_ms FROM hook_tokens
                 WHERE token_hash = $1 FOR UPDATE",
                &[&token_hash],
            )
            .await?;
        let (operation, held, created_ms): (String, Option<String>, i64) = match token {
            Some(row) => (
                row.try_get(0).map_err(row_err)?,
                row.try_get(1).map_err(row_err)?,
                row.try_get(2).map_err(row_err)?,
            ),
            None => (String::new(), None, now_ms),
        };
        db.execute(
            "UPDATE hook_tokens SET task_id = $2, held_callback = NULL WHERE token_hash = $1",
            &[&token_hash, &task_id],
        )
        .await?;
        let points = points.and_then(|p| i64::try_from(p).ok());
        db.execute(
            "INSERT INTO tasks (task_id, token_hash, operation, status, points, created_ms,
                 updated_ms, deadline_ms, version)
             VALUES ($1, $2, $3, 'pending', $4, $5, $5, $6, 1)
             ON CONFLICT (task_id) DO NOTHING",
            &[
                &task_id,
                &token_hash,
                &operation,
                &points,
                &created_ms,
                &created_ms.saturating_add(deadline_after_ms),
            ],
        )
        .await?;
        let held = held
            .and_then(|json| WebhookCallback::from_json(json.as_bytes()).ok())
            .filter(|callback| callback.task_id == task_id);
        let event = match held {
            Some(callback) => db
                .apply_callback(task_id, &callback, now_ms)
                .await?
                .map(|(_, event)| event),
            None => db.load_task(task_id).await?,
        };
        let event = event.ok_or_else(|| StoreError(format!("task {task_id:?} vanished")))?;
        db.notify(task_id).await?;
        tx.commit().await.map_err(pg_err)?;
        let view = event.view.clone();
        self.shared.notifier.publish(event);
        Ok(view)
    }

    async fn deliver(
        &self,
        token_hash: &str,
        callback: &WebhookCallback,
        now_ms: i64,
    ) -> StoreResult<Delivery> {
        let mut conn = self.conn().await?;
        let Conn { client, statements } = &mut *conn;
        let tx = client.transaction().await.map_err(pg_err)?;
        let mut db = Db {
            client: &tx,
            statements,
        };
        let token = db
            .query_opt(
                "SELECT task_id, held_callback FROM hook_tokens WHERE token_hash = $1 FOR UPDATE",
                &[&token_hash],
            )
            .await?;
        let token: Option<(Option<String>, Option<String>)> = match token {
            Some(row) => Some((
                row.try_get(0).map_err(row_err)?,
                row.try_get(1).map_err(row_err)?,
            )),
            None => None,
        };
        let (delivery, event) = match token {
            None => (Delivery::UnknownToken, None),
            Some((None, held)) => {
                if held.is_none() {
                    let json = serde_json::to_string(callback)
                        .map_err(|e| StoreError(format!("callback JSON: {e}")))?;
                    db.execute(
                        "UPDATE hook_tokens SET held_callback = $2 WHERE token_hash = $1",
                        &[&token_hash, &json],
                    )
                    .await?;
                }
                (Delivery::Held, None)
            }
            Some((Some(bound), _)) if bound != callback.task_id => (Delivery::WrongTask, None),
            Some((Some(bound), _)) => match db.apply_callback(&bound, callback, now_ms).await? {
                Some((true, event)) => (Delivery::Applied(event.view.clone()), Some(event)),
                Some((false, event)) => (Delivery::Unchanged(event.view), None),
                None => (Delivery::UnknownToken, None),
            },
        };
        tx.commit().await.map_err(pg_err)?;
        if let Some(event) = event {
            self.shared.notifier.publish(event);
        }
        Ok(delivery)
    }

    async fn token_exists(&self, token_hash: &str) -> StoreResult<bool> {
        let mut conn = self.conn().await?;
        let Conn { client, statements } = &mut *conn;
        Db { client, statements }
            .query_opt(
                "SELECT 1 FROM hook_tokens WHERE token_hash = $1",
                &[&token_hash],
            )
            .await
            .map(|row| row.is_some())
    }

    async fn task(&self, task_id: &str) -> StoreResult<Option<TaskEvent>> {
        load_task(&self.shared, task_id).await
    }

    async fn expire_overdue(&self, now_ms: i64) -> StoreResult<Vec<TaskView>> {
        // One statement, so one transaction: lock the due rows that no other sweep or delivery
        // holds, time them out, and notify each.
        const SQL: &str = "WITH due AS (
                 SELECT task_id FROM tasks WHERE status = 'pending' AND deadline_ms <= $1
                 ORDER BY task_id FOR UPDATE SKIP LOCKED
             ), expired AS (
                 UPDATE tasks SET status = 'timed_out', updated_ms = $1, version = version + 1
                 FROM due WHERE tasks.task_id = due.task_id AND tasks.status = 'pending'
                 RETURNING tasks.task_id, tasks.status, tasks.kind, tasks.result_url,
                     tasks.points, tasks.created_ms, tasks.updated_ms, tasks.version
             )
             SELECT task_id, status, kind, result_url, points, created_ms, updated_ms, version,
                 pg_notify($2, task_id)
             FROM expired";
        let rows = {
            let mut conn = self.conn().await?;
            let Conn { client, statements } = &mut *conn;
            Db { client, statements }
                .query(SQL, &[&now_ms, &schema::CHANNEL])
                .await?
        };
        let events = rows
            .iter()
            .map(task_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let views = events.iter().map(|e| e.view.clone()).collect();
        for event in events {
            self.shared.notifier.publish(event);
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
        let mut conn = self.conn().await?;
        let Conn { client, statements } = &mut *conn;
        let tx = client.transaction().await.map_err(pg_err)?;
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
            let stored: String = row.try_get(0).map_err(row_err)?;
            let done: bool = row.try_get(1).map_err(row_err)?;
            let status: Option<i32> = row.try_get(2).map_err(row_err)?;
            let body: Option<Vec<u8>> = row.try_get(3).map_err(row_err)?;
            let created: i64 = row.try_get(4).map_err(row_err)?;
            let expired = now_ms - created > ttl_ms || (!done && now_ms - created > stale_ms);
            outcome = Some(if expired {
                db.execute(
                    "UPDATE idempotency SET fingerprint = $2, done = FALSE, status = NULL,
                         body = NULL, created_ms = $3 WHERE key = $1",
                    &[&key, &fingerprint, &now_ms],
                )
                .await?;
                IdempotencyBegin::Started
            } else if stored != fingerprint {
                IdempotencyBegin::Conflict
            } else if done {
                IdempotencyBegin::Replay(
                    status.and_then(|s| u16::try_from(s).ok()).unwrap_or(200),
                    body.unwrap_or_default(),
                )
            } else {
                IdempotencyBegin::InProgress
            });
            break;
        }
        tx.commit().await.map_err(pg_err)?;
        outcome.ok_or_else(|| StoreError("idempotency record kept changing".into()))
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

    fn notifier(&self) -> &Notifier {
        &self.shared.notifier
    }
}
