//! The task store: webhook tokens, tasks, idempotency records, and the wake-ups of waiting streams.
//!
//! [`TaskStore`] is the one interface the routes use. [`sqlite::SqliteStore`] is the embedded
//! default; [`postgres::PostgresStore`] lets several proxies share one database, with
//! LISTEN/NOTIFY feeding each proxy's [`Notifier`]. [`open`] picks one from `DATABASE_URL`.
//!
//! Tasks are keyed by [`TaskKey`] (provider and task id). What the two backends share lives once:
//! the schema in the SQL files of `crates/proxy/migrations/` (`migrations`), applied in order by
//! both; the decisions (what a delivery does, whether an update changes a task, how an
//! idempotency key stands) as plain functions (`rules`); the reading of stored values, where an
//! unknown value is [`StoreError::Corrupt`] (`row`). The backends only run SQL.
//!
//! With an app webhook ([`TaskStore::queue_app_events`]), every change the app wants is written
//! to the outbox, the `app_events` table, in the transaction that makes it, and leased from there
//! by the delivery loop ([`crate::app_webhook`]).

mod error;
mod migrations;
mod notify;
pub mod postgres;
mod row;
mod rules;
pub mod sqlite;

pub use error::{StoreError, StoreResult};
pub use notify::{Notifier, TaskEvent};

use async_trait::async_trait;
use faceswap_core::provider::{Cost, TaskUpdate};
use faceswap_core::TaskView;
use std::sync::{Arc, RwLock};

use crate::app_webhook::AppOutbox;

/// A task's identity: tasks are stored per provider.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskKey {
    /// The provider's id (`aifaceswap`).
    pub provider: String,
    /// The provider's task id.
    pub task_id: String,
}

impl TaskKey {
    /// The key of `task_id` at `provider`.
    pub fn new(provider: impl Into<String>, task_id: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            task_id: task_id.into(),
        }
    }
}

/// A callback token, recorded (by its hash) before the upstream call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// The provider the token belongs to; a callback on another provider's path is unknown.
    pub provider: String,
    /// The operation's wire name.
    pub operation: String,
    /// SHA-256 of the per-task callback secret, hex, for providers that echo one.
    pub secret_hash: Option<String>,
    /// When it was made.
    pub now_ms: i64,
}

/// What the store knows of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// The provider it belongs to.
    pub provider: String,
    /// The task bound to it, once the submit was answered.
    pub task_id: Option<String>,
    /// SHA-256 of its callback secret, hex, where the provider has one.
    pub secret_hash: Option<String>,
}

/// A submitted task to bind to its token.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTask {
    /// SHA-256 of the task's token, hex.
    pub token_hash: String,
    /// The task.
    pub key: TaskKey,
    /// What the provider says it costs, in its own unit.
    pub points: Option<u64>,
    /// What the proxy charged for it.
    pub cost: Option<Cost>,
    /// When the proxy first polls it; `None` for providers that are never polled.
    pub next_poll_ms: Option<i64>,
    /// The task times out this long after its token was made.
    pub deadline_after_ms: i64,
    /// Now.
    pub now_ms: i64,
    /// The user it belongs to (the `sub` of the submit's token), when the proxy has users.
    pub owner: Option<String>,
}

/// What a callback delivery did.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// No such token (or it was discarded): 404, nothing changed.
    UnknownToken,
    /// The token belongs to another task than the callback names: 404, nothing changed.
    WrongTask,
    /// The submit has not been answered yet: the update is held until the task id is bound.
    Held,
    /// The task moved to a terminal state.
    Applied(TaskView),
    /// A repeated or late delivery, or a progress report: the task stays as it was.
    Unchanged(TaskView),
}

/// A pending task whose poll is due, leased to this proxy until the lease ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollClaim {
    /// The task.
    pub key: TaskKey,
    /// How many polls were made before this one.
    pub attempts: u32,
    /// How many answers in a row before this one could not be read.
    pub unreadable: u32,
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

/// One per-client counter of a fixed window (see `migrations/0003_limits.sql`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CounterKey {
    /// `rate`, or `spend:{provider}`.
    pub scope: String,
    /// The client's address.
    pub client: String,
    /// The start of the window, in ms since the epoch.
    pub window_ms: i64,
}

/// An app event to queue in the outbox, in the transaction of its task's change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAppEvent {
    /// Its `webhook-id`: `msg_` and 128 random bits.
    pub id: String,
    /// The endpoint it is for (the SHA-256 of `APP_WEBHOOK_URL`).
    pub endpoint: String,
    /// The signed body, JSON.
    pub payload: String,
    /// When the change was made: tries end 24 h later.
    pub created_ms: i64,
}

/// A queued app event leased to this proxy for one try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppEventClaim {
    /// Its `webhook-id`.
    pub id: String,
    /// The body, JSON.
    pub payload: String,
    /// How many tries failed before this one.
    pub attempts: u32,
    /// When the change was made.
    pub created_ms: i64,
}

/// What a store does beside a task change, as set at start: the app events it queues, and
/// where kept results are served (`PUBLIC_URL/results`, with `KEEP_RESULTS`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Effects {
    /// The outbox app events are queued for, if any.
    pub outbox: Option<AppOutbox>,
    /// The base URL of kept results, if the proxy keeps them.
    pub keep: Option<String>,
}

/// A store's [`Effects`], read by every change.
#[derive(Debug, Default)]
pub(crate) struct EffectsSlot(RwLock<Effects>);

impl EffectsSlot {
    /// The effects of a change now.
    pub(crate) fn get(&self) -> Effects {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Changes the effects of later changes.
    pub(crate) fn update(&self, change: impl FnOnce(&mut Effects)) {
        change(
            &mut self
                .0
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
    }
}

/// What the store knows of a succeeded task's result, for `GET /results/...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultCopy {
    /// The provider's URL of the result.
    pub provider_url: Option<String>,
    /// The name of the proxy's copy in the results store, once copied.
    pub kept: Option<String>,
}

/// A succeeded task whose result is to be copied, leased to this proxy until the lease ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeepClaim {
    /// The task.
    pub key: TaskKey,
    /// The provider's URL of its result.
    pub provider_url: String,
    /// How many copies failed before this one.
    pub attempts: u32,
}

/// The task store.
#[async_trait]
pub trait TaskStore: Send + Sync + 'static {
    /// Answers when the store is usable.
    async fn ping(&self) -> StoreResult<()>;

    /// Records a new callback token (by its hash) before the upstream call.
    async fn create_token(&self, token: &NewToken) -> StoreResult<()>;

    /// Forgets a token whose submit failed; later callbacks to it get 404.
    async fn discard_token(&self, token_hash: &str) -> StoreResult<()>;

    /// The token with this hash, bound or not.
    async fn token(&self, token_hash: &str) -> StoreResult<Option<TokenRecord>>;

    /// Binds the provider's task id to the token and creates the pending task; an update that
    /// arrived earlier for the same task is applied at once. Returns the task as it now stands.
    /// Binding again to the same task changes nothing; an unknown token, another provider's
    /// token or a token bound to another task is [`StoreError::Bind`].
    async fn bind_task(&self, task: &NewTask) -> StoreResult<TaskView>;

    /// Applies a callback delivered to the token with this hash, in one transaction.
    ///
    /// Before the task is bound, the first terminal update is held on the token (a progress
    /// report is answered [`Delivery::Held`] but not stored); once bound, an update naming
    /// another task is [`Delivery::WrongTask`], a terminal update moves a pending task
    /// ([`Delivery::Applied`]), and anything else leaves it as it is ([`Delivery::Unchanged`]).
    async fn deliver(
        &self,
        token_hash: &str,
        update: &TaskUpdate,
        now_ms: i64,
    ) -> StoreResult<Delivery>;

    /// Applies an update read by a poll or from a synchronous answer to a bound task; returns
    /// whether it changed the task, and the task, or `None` for an unknown task.
    async fn apply(
        &self,
        key: &TaskKey,
        update: &TaskUpdate,
        now_ms: i64,
    ) -> StoreResult<Option<(bool, TaskView)>>;

    /// The task and its change counter (the SSE event id).
    async fn task(&self, key: &TaskKey) -> StoreResult<Option<TaskEvent>>;

    /// Marks every pending task past its deadline `timed_out`; returns them.
    async fn expire_overdue(&self, now_ms: i64) -> StoreResult<Vec<TaskView>>;

    /// Leases up to `limit` pending tasks whose poll is due and whose lease is free, for
    /// `lease_ms`, the earliest due first: while several proxies share a database, one polls a
    /// task at a time. A task that has ended is never claimed.
    async fn claim_polls(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> StoreResult<Vec<PollClaim>>;

    /// Ends this proxy's lease of a polled task and sets its next poll time (the attempt count
    /// goes up by one) and how many answers in a row could not be read (0 after a readable
    /// one).
    async fn schedule_poll(
        &self,
        key: &TaskKey,
        next_poll_ms: i64,
        unreadable: u32,
    ) -> StoreResult<()>;

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

    /// Retention: removes the callback tokens (and their secrets) of tasks that finished before
    /// `tokens_before_ms`, so that a later callback is unknown (404), and the finished tasks
    /// (with their tokens) that finished before `tasks_before_ms`; a pending task is never
    /// removed. Returns how many tasks were removed.
    async fn forget_finished(
        &self,
        tokens_before_ms: i64,
        tasks_before_ms: i64,
    ) -> StoreResult<u64>;

    /// Whether several proxies may share this store, so that limits must be counted in it
    /// (PostgreSQL) rather than in each proxy's memory (SQLite).
    fn shares_limits(&self) -> bool {
        false
    }

    /// Adds `amount` to the counter, in one atomic statement, when the sum stays within `cap`;
    /// returns the new sum, or `None` (nothing added) when it would not fit.
    async fn counter_take(
        &self,
        key: &CounterKey,
        amount: i64,
        cap: i64,
    ) -> StoreResult<Option<i64>>;

    /// Gives `amount` back to the counter (a spend the provider refused); never below zero. A
    /// negative amount adds it, past the cap (a provider's own, higher figure of what it charged).
    async fn counter_give_back(&self, key: &CounterKey, amount: i64) -> StoreResult<()>;

    /// What the counter has taken (0 for none).
    async fn counter_used(&self, key: &CounterKey) -> StoreResult<i64>;

    /// Removes the counters of windows that started before `before_ms`.
    async fn prune_counters(&self, before_ms: i64) -> StoreResult<()>;

    /// Queues, from now on, every task change `outbox` wants as an app event, in the
    /// transaction of the change; `None` (the default) queues none.
    fn queue_app_events(&self, outbox: Option<AppOutbox>);

    /// Leases up to `limit` queued app events whose next try is due and whose lease is free, for
    /// `lease_ms`, the earliest due first: while several proxies share a database, one sends an
    /// event at a time.
    async fn claim_app_events(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> StoreResult<Vec<AppEventClaim>>;

    /// Removes a queued app event: delivered, or given up.
    async fn app_event_done(&self, id: &str) -> StoreResult<()>;

    /// Ends this proxy's lease of a queued app event after a failed try: one more failure, the
    /// next try at `next_attempt_ms`.
    async fn app_event_retry(&self, id: &str, next_attempt_ms: i64) -> StoreResult<()>;

    /// Removes the queued app events made before `before_ms` (events nobody sent: the app
    /// webhook was unset meanwhile); returns how many.
    async fn forget_app_events(&self, before_ms: i64) -> StoreResult<u64>;

    /// Records that `endpoint` answered 410 Gone: its queued events are removed and no more are
    /// queued for it. Returns how many were removed.
    async fn app_endpoint_gone(&self, endpoint: &str, now_ms: i64) -> StoreResult<u64>;

    /// From now on, writes a succeeded task's result URL as the proxy's copy's, under
    /// `results_base` (`PUBLIC_URL/results`), and the provider's as `provider_result_url`, and
    /// lists the task for copying ([`TaskStore::claim_results_to_keep`]); `None` (the default)
    /// keeps no result.
    fn keep_results(&self, results_base: Option<String>);

    /// Leases up to `limit` succeeded tasks whose result is not copied yet, whose copy is due
    /// and failed fewer than `max_attempts` times, for `lease_ms`: one proxy copies a result at
    /// a time.
    async fn claim_results_to_keep(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
        max_attempts: u32,
    ) -> StoreResult<Vec<KeepClaim>>;

    /// Records the copy of a task's result, stored as `name` in the results store.
    async fn result_kept(&self, key: &TaskKey, name: &str) -> StoreResult<()>;

    /// Records a failed copy (one more attempt) and when to try again.
    async fn result_keep_failed(&self, key: &TaskKey, next_ms: i64) -> StoreResult<()>;

    /// The user a task belongs to ([`NewTask::owner`]); `None` for an unknown task or one
    /// without an owner.
    async fn owner(&self, key: &TaskKey) -> StoreResult<Option<String>>;

    /// The result of a task: the provider's URL and the copy's name, or `None` for an unknown
    /// task.
    async fn result_copy(&self, key: &TaskKey) -> StoreResult<Option<ResultCopy>>;

    /// The wake-up channel of task changes.
    fn notifier(&self) -> &Notifier;
}

/// Opens the store a `DATABASE_URL` names: `sqlite://PATH` (also `sqlite:PATH`), or
/// `postgres://...` / `postgresql://...`, whose connections are driven on `driver` (see
/// [`postgres::PostgresStore::connect`]). Errors never include a password.
pub async fn open(url: &str, driver: tokio::runtime::Handle) -> StoreResult<Arc<dyn TaskStore>> {
    if url.starts_with("sqlite:") {
        let url = url.to_owned();
        let store =
            tokio::task::spawn_blocking(move || sqlite::SqliteStore::from_url(&url)).await??;
        return Ok(Arc::new(store));
    }
    if postgres::is_postgres_url(url) {
        return Ok(Arc::new(
            postgres::PostgresStore::connect(url, driver).await?,
        ));
    }
    Err(StoreError::UnsupportedUrl)
}
