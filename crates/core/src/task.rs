//! The proxy's view of a task, as `GET /api/tasks/{task_id}` and the SSE `status` event carry it.

use alloc::string::String;
use core::fmt;
use core::time::Duration;
use serde::{Deserialize, Serialize};

use crate::provider::{Cost, ResultInfo};

/// How long a task may go without its result before the proxy ends it `timed_out`: the default
/// of the proxy's `TASK_DEADLINE_MS` (2 h).
pub const DEFAULT_TASK_DEADLINE: Duration = Duration::from_secs(2 * 60 * 60);

/// How much longer than [`DEFAULT_TASK_DEADLINE`] the browser library's `waitForResult` waits by
/// default: the proxy marks an overdue task at its next maintenance sweep (every 30 s by
/// default), and a wait that polls hears of it within its longest pause (10 s); a minute covers
/// both.
pub const WAIT_MARGIN: Duration = Duration::from_secs(60);

/// `waitForResult`'s time limit when its options give no `timeoutMs`:
/// [`DEFAULT_TASK_DEADLINE`] and [`WAIT_MARGIN`], so a proxy with the default deadline ends the
/// task (`timed_out`, with the task attached) before the wait gives up on its own.
pub const DEFAULT_WAIT_LIMIT: Duration =
    Duration::from_secs(DEFAULT_TASK_DEADLINE.as_secs() + WAIT_MARGIN.as_secs());

/// Longest task id accepted from a provider, in bytes (providers' ids are UUIDs or hex).
pub const MAX_TASK_ID_BYTES: usize = 128;

/// True when a provider's task id is safe in a path and a log: 1 to [`MAX_TASK_ID_BYTES`]
/// letters, digits, `-` and `_`.
pub fn is_safe_task_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_TASK_ID_BYTES
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Where a task stands. `Succeeded`, `Failed` and `TimedOut` are terminal: nothing moves a task
/// out of them.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Submitted; no result yet.
    Pending,
    /// The provider delivered a result.
    Succeeded,
    /// The provider reported failure.
    Failed,
    /// No callback arrived before the deadline.
    TimedOut,
}

impl TaskStatus {
    /// The status word used in JSON and in the store.
    pub const fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Pending => "pending",
            TaskStatus::Succeeded => "succeeded",
            TaskStatus::Failed => "failed",
            TaskStatus::TimedOut => "timed_out",
        }
    }

    /// The status for a stored word.
    pub fn from_word(word: &str) -> Option<Self> {
        [Self::Pending, Self::Succeeded, Self::Failed, Self::TimedOut]
            .into_iter()
            .find(|s| s.as_str() == word)
    }

    /// True when the task can no longer change.
    pub const fn is_terminal(self) -> bool {
        !matches!(self, TaskStatus::Pending)
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored task, as `GET /api/{provider}/tasks/{task_id}` answers it:
/// `{"provider","task_id","status","type","result_url","result_info","points","cost","error","created_at","updated_at"}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskView {
    /// The provider's id (`aifaceswap`).
    pub provider: String,
    /// The provider's task id.
    pub task_id: String,
    /// Where the task stands.
    pub status: TaskStatus,
    /// The provider's task type number, once the webhook told it.
    #[serde(rename = "type")]
    pub kind: Option<i64>,
    /// URL of the result, once succeeded: the proxy's copy (`PUBLIC_URL/results/...`) when it
    /// keeps results, else the provider's.
    pub result_url: Option<String>,
    /// The provider's own URL of the result, when the proxy keeps a copy (`KEEP_RESULTS`);
    /// absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_result_url: Option<String>,
    /// What the provider reported about the result file (`{width, height, size}`, each where
    /// reported), once succeeded; absent when it reported nothing.
    #[serde(default)]
    pub result_info: Option<ResultInfo>,
    /// What the provider said the task costs, in its own unit (aifaceswap's credits).
    pub points: Option<u64>,
    /// The price the proxy charged the client's spend cap, in the provider's unit.
    pub cost: Option<Cost>,
    /// Why the task failed, in the provider's words, where it said.
    pub error: Option<String>,
    /// RFC 3339 time the task was submitted.
    pub created_at: String,
    /// RFC 3339 time of the last change.
    pub updated_at: String,
}

/// The task as `GET /api/tasks/{task_id}` (aifaceswap's own route) answers it:
/// `{"task_id","status","type","result_url","points","created_at","updated_at"}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegacyTaskView<'a> {
    /// The provider's task id.
    pub task_id: &'a str,
    /// Where the task stands.
    pub status: TaskStatus,
    /// The provider's task type number.
    #[serde(rename = "type")]
    pub kind: Option<i64>,
    /// URL of the result, once succeeded.
    pub result_url: Option<&'a str>,
    /// Credits the task cost.
    pub points: Option<u64>,
    /// RFC 3339 time the task was submitted.
    pub created_at: &'a str,
    /// RFC 3339 time of the last change.
    pub updated_at: &'a str,
}

impl<'a> From<&'a TaskView> for LegacyTaskView<'a> {
    fn from(view: &'a TaskView) -> Self {
        Self {
            task_id: &view.task_id,
            status: view.status,
            kind: view.kind,
            result_url: view.result_url.as_deref(),
            points: view.points,
            created_at: &view.created_at,
            updated_at: &view.updated_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn task_ids_are_safe_in_paths_and_logs() {
        assert!(is_safe_task_id("0f8e-42_AB"));
        assert!(is_safe_task_id(&"a".repeat(MAX_TASK_ID_BYTES)));
        for bad in ["", "../x", "a/b", "a b", "t\n", "é"] {
            assert!(!is_safe_task_id(bad), "{bad:?}");
        }
        assert!(!is_safe_task_id(&"a".repeat(MAX_TASK_ID_BYTES + 1)));
    }

    #[test]
    fn statuses_round_trip_and_only_pending_is_open() {
        for s in [
            TaskStatus::Pending,
            TaskStatus::Succeeded,
            TaskStatus::Failed,
            TaskStatus::TimedOut,
        ] {
            assert_eq!(TaskStatus::from_word(s.as_str()), Some(s));
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{s}\""));
            assert_eq!(s.is_terminal(), s != TaskStatus::Pending);
        }
    }
}
