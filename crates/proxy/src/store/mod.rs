//! The task store: webhook tokens, tasks, idempotency records, and the wake-ups of waiting streams.
//!
//! [`TaskStore`] is the one interface the routes use. [`sqlite::SqliteStore`] is the embedded
//! default; [`postgres::PostgresStore`] lets several proxies share one database, with
//! LISTEN/NOTIFY feeding each proxy's [`Notifier`]. [`open`] picks one from `DATABASE_URL`.

mod notify;
pub mod postgres;
pub mod sqlite;

pub use notify::{Notifier, TaskEvent};

use async_trait::async_trait;
use faceswap_core::aifaceswap::WebhookCallback;
use faceswap_core::TaskView;
use std::sync::Arc;

/// A failure of the store itself (I/O, a corrupt row); shown to clients only as `internal`.
#[derive(Debug)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "store: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

impl From<StoreError> for crate::AppError {
    fn from(err: StoreError) -> Self {
        crate::AppError::Internal(err.to_string())
    }
}

/// Result of the store's operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// What a webhook delivery did.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// No such token (or it was discarded): 404, nothing changed.
    UnknownToken,
    /// The token belongs to another task than the callback names: 404, nothing changed.
    WrongTask,
    /// The submit has not been answered yet: the callback is held until the task id is bound.
    Held,
    /// The task moved to a terminal state.
    Applied(TaskView),
    /// A repeated or late delivery: the task was already terminal and stays as it was.
    Unchanged(TaskView),
}

/// How an `Idempotency-Key` stands when a submit begins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyBegin {
    /// First use (or an expired one): the caller goes on and records its answer.
    Started,
    /// Same key, same body, answered before: this answer (status, JSON body) again.
    Replay(u16, Vec<u8>),
    /// Same key with another body.
    Conflict,
    /// Same key and body, the first request is still running.
    InProgress,
}

/// The task store.
#[async_trait]
pub trait TaskStore: Send + Sync + 'static {
    /// Answers when the store is usable.
    async fn ping(&self) -> StoreResult<()>;

    /// Records a new webhook token (by its hash) before the upstream call.
    async fn create_token(&self, token_hash: &str, operation: &str, now_ms: i64)
        -> StoreResult<()>;

    /// Forgets a token whose submit failed; later webhooks to it get 404.
    async fn discard_token(&self, token_hash: &str) -> StoreResult<()>;

    /// Binds the provider's task id to the token and creates the pending task; a callback that
    /// arrived earlier for the same task is applied at once. The task times out `deadline_after_ms`
    /// after the token was made. Returns the task as it now stands.
    async fn bind_task(
        &self,
        token_hash: &str,
        task_id: &str,
        points: Option<u64>,
        now_ms: i64,
        deadline_after_ms: i64,
    ) -> StoreResult<TaskView>;

    /// Applies a webhook delivered to the token with this hash, in one transaction.
    async fn deliver(
        &self,
        token_hash: &str,
        callback: &WebhookCallback,
        now_ms: i64,
    ) -> StoreResult<Delivery>;

    /// True when the token exists (bound or not).
    async fn token_exists(&self, token_hash: &str) -> StoreResult<bool>;

    /// The task and its change counter (the SSE event id).
    async fn task(&self, task_id: &str) -> StoreResult<Option<TaskEvent>>;

    /// Marks every pending task past its deadline `timed_out`; returns them.
    async fn expire_overdue(&self, now_ms: i64) -> StoreResult<Vec<TaskView>>;

    /// Starts a submit under an `Idempotency-Key`.
    async fn idempotency_begin(
        &self,
        key: &str,
        fingerprint: &str,
        now_ms: i64,
        ttl_ms: i64,
        stale_ms: i64,
    ) -> StoreResult<IdempotencyBegin>;

    /// Records the answer of a submit started with [`TaskStore::idempotency_begin`].
    async fn idempotency_finish(&self, key: &str, status: u16, body: &[u8]) -> StoreResult<()>;

    /// Forgets a started key whose submit failed, so that the client may try again.
    async fn idempotency_abandon(&self, key: &str) -> StoreResult<()>;

    /// Removes expired idempotency records and unbound tokens older than `before_ms`.
    async fn prune(&self, idempotency_before_ms: i64, tokens_before_ms: i64) -> StoreResult<()>;

    /// The wake-up channel of task changes.
    fn notifier(&self) -> &Notifier;
}

/// Opens the store a `DATABASE_URL` names: `sqlite://PATH` (also `sqlite:PATH`), or
/// `postgres://...` / `postgresql://...`, whose connections are driven on `driver` (see
/// [`postgres::PostgresStore::connect`]). Errors never include a password.
pub async fn open(url: &str, driver: tokio::runtime::Handle) -> StoreResult<Arc<dyn TaskStore>> {
    if url.starts_with("sqlite:") {
        let url = url.to_owned();
        let store = tokio::task::spawn_blocking(move || sqlite::SqliteStore::from_url(&url))
            .await
            .map_err(|e| StoreError(e.to_string()))??;
        return Ok(Arc::new(store));
    }
    if postgres::is_postgres_url(url) {
        return Ok(Arc::new(
            postgres::PostgresStore::connect(url, driver).await?,
        ));
    }
    Err(StoreError(
        "DATABASE_URL must be sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE".into(),
    ))
}
