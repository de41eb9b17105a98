//! Shared state of every handler: configuration, HTTP client, result store, fault knobs and the
//! record of tasks.

use faceswap_core::provider::Cost;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Semaphore;

use crate::config::SandboxConfig;
use crate::engine::fetch::{Fetcher, OriginPolicy};
use crate::engine::store::ResultStore;
use crate::engine::webhook::WebhookSender;
use crate::faults::Faults;

/// Where a task stands in the sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    /// Still running.
    Pending,
    /// Done; `result_url` is set.
    Succeeded,
    /// Failed; `error` says why.
    Failed,
}

/// What the sandbox remembers about a task, whatever its provider
/// (`GET /__sandbox/tasks/{task_id}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskRecord {
    /// The task's id.
    pub task_id: String,
    /// The provider whose API started it.
    pub provider: &'static str,
    /// The operation's name on that provider's wire.
    pub operation: String,
    /// Where it stands.
    pub status: TaskState,
    /// What it costs, in the provider's unit.
    pub cost: Cost,
    /// URL of the result once it succeeded (`result_image` in JSON, as the record has always
    /// named it).
    #[serde(rename = "result_image")]
    pub result_url: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
}

/// State shared by the handlers; cheap to clone.
#[derive(Debug, Clone)]
pub struct SandboxState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: SandboxConfig,
    base_url: String,
    fetcher: Fetcher,
    webhooks: WebhookSender,
    store: ResultStore,
    faults: Mutex<Faults>,
    tasks: Mutex<HashMap<String, TaskRecord>>,
    requests: Mutex<HashMap<String, serde_json::Value>>,
    jobs: Semaphore,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl SandboxState {
    /// State for `config`; result links start with `config.public_url`, or else with `base_url`
    /// (the address the server is reachable at, no trailing slash).
    pub fn new(config: SandboxConfig, base_url: impl Into<String>) -> std::io::Result<Self> {
        let policy = OriginPolicy::new(&config.allowed_fetch_origins);
        let fetcher = Fetcher::new(policy, config.fetch_timeout).map_err(std::io::Error::other)?;
        let webhooks = WebhookSender::new(fetcher.clone(), config.webhook_timeout);
        let base_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| base_url.into())
            .trim_end_matches('/')
            .to_owned();
        let store = ResultStore::new(&config.data_dir);
        // Two cores: at most two heavy jobs at once.
        let permits = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4));
        Ok(Self {
            inner: Arc::new(Inner {
                faults: Mutex::new(config.faults.clone()),
                config,
                base_url,
                fetcher,
                webhooks,
                store,
                tasks: Mutex::new(HashMap::new()),
                requests: Mutex::new(HashMap::new()),
                jobs: Semaphore::new(permits),
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SandboxConfig {
        &self.inner.config
    }

    /// The base URL result links start with.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The HTTP client with the origin policy.
    pub fn fetcher(&self) -> &Fetcher {
        &self.inner.fetcher
    }

    /// The webhook sender.
    pub fn webhooks(&self) -> &WebhookSender {
        &self.inner.webhooks
    }

    /// The result store.
    pub fn store(&self) -> &ResultStore {
        &self.inner.store
    }

    /// Limits how many heavy jobs run at once.
    pub fn jobs(&self) -> &Semaphore {
        &self.inner.jobs
    }

    /// The fault knobs now in force.
    pub fn faults(&self) -> Faults {
        lock(&self.inner.faults).clone()
    }

    /// Replaces the fault knobs.
    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.inner.faults) = faults;
    }

    /// Changes the fault knobs in place and returns what `f` returns.
    pub fn with_faults<R>(&self, f: impl FnOnce(&mut Faults) -> R) -> R {
        f(&mut lock(&self.inner.faults))
    }

    /// The record of a task.
    pub fn task(&self, task_id: &str) -> Option<TaskRecord> {
        lock(&self.inner.tasks).get(task_id).cloned()
    }

    /// Stores or replaces a task's record.
    pub fn put_task(&self, record: TaskRecord) {
        lock(&self.inner.tasks).insert(record.task_id.clone(), record);
    }

    /// What a provider module kept of a task's request, to answer about the task later (PiAPI's
    /// Get Task echoes the task's model, input and config).
    pub fn request(&self, task_id: &str) -> Option<serde_json::Value> {
        lock(&self.inner.requests).get(task_id).cloned()
    }

    /// Keeps what a provider module needs of a task's request.
    pub fn put_request(&self, task_id: &str, request: serde_json::Value) {
        lock(&self.inner.requests).insert(task_id.to_owned(), request);
    }

    /// The public URL of a stored result file.
    pub fn result_url(&self, file_name: &str) -> String {
        format!("{}/results/{file_name}", self.inner.base_url)
    }
}
