//! The neutral results of reading a provider's answers: what a submit started, and how a task
//! moved (from a callback, a poll or a synchronous answer).

use alloc::{format, string::String};
use serde::{Deserialize, Serialize};

use crate::url::check_http_url;
use crate::{FieldError, TaskStatus};

/// One change of a task as a provider reported it, whatever the channel.
///
/// `status` is [`TaskStatus::Pending`] for a progress report that ends nothing (PiAPI sends
/// several webhooks per task); the store applies only terminal updates and keeps the first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskUpdate {
    /// The provider's task id, when the answer names it (callbacks do; a poll's task is known).
    pub task_id: Option<String>,
    /// Where the task stands now.
    pub status: TaskStatus,
    /// URL of the result image or video, on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_url: Option<String>,
    /// The provider's task type number, where it has one (aifaceswap's `type`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<i64>,
    /// Why the task failed, in the provider's words, shortened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What the provider said about the result file (AceData's `image_width`, `image_height`,
    /// `image_size`), where it said anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_info: Option<ResultInfo>,
}

/// What a provider reports about a task's result file, in neutral names: the one place result
/// metadata travels, from the adapter through the store to the task view (`result_info`) and the
/// library's `Task` (`resultInfo`). Every member is optional; a provider fills what it reports.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultInfo {
    /// Width of the result in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u64>,
    /// Height of the result in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
    /// Size of the result file, as the provider reports it (AceData's `image_size`, whose unit
    /// its page does not name; bytes is the project's reading).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

impl ResultInfo {
    /// The metadata, or `None` when it holds nothing.
    pub fn non_empty(self) -> Option<Self> {
        (self != Self::default()).then_some(self)
    }
}

impl TaskUpdate {
    /// A success with its result URL.
    pub fn succeeded(task_id: Option<String>, result_url: String) -> Self {
        Self {
            task_id,
            status: TaskStatus::Succeeded,
            result_url: Some(result_url),
            kind: None,
            error: None,
            result_info: None,
        }
    }

    /// The same update with the provider's metadata of the result, when it has any.
    pub fn with_result_info(mut self, info: ResultInfo) -> Self {
        self.result_info = info.non_empty();
        self
    }

    /// A failure, with the provider's reason where it gave one.
    pub fn failed(task_id: Option<String>, error: Option<String>) -> Self {
        Self {
            task_id,
            status: TaskStatus::Failed,
            result_url: None,
            kind: None,
            error,
            result_info: None,
        }
    }

    /// A report that the task is still running.
    pub fn pending(task_id: Option<String>) -> Self {
        Self {
            task_id,
            status: TaskStatus::Pending,
            result_url: None,
            kind: None,
            error: None,
            result_info: None,
        }
    }

    /// True when the update ends the task.
    pub fn is_terminal(&self) -> bool {
        self.status.is_terminal()
    }

    /// Holds the result URL to the URL rule of every input ([`check_http_url`]), whatever the
    /// provider: a browser is only ever handed an absolute http(s) URL of bounded length. An
    /// update whose `result_url` breaks the rule becomes a failure saying why, with the rule's
    /// error (to log); any other update is returned as it is.
    pub fn checked(self) -> (Self, Option<FieldError>) {
        let Some(url) = self.result_url.as_deref() else {
            return (self, None);
        };
        match check_http_url("result_url", url) {
            Ok(()) => (self, None),
            Err(err) => {
                let failed = Self {
                    kind: self.kind,
                    ..Self::failed(
                        self.task_id,
                        Some(format!(
                            "the provider's result was refused: {}",
                            err.message
                        )),
                    )
                };
                (failed, Some(err))
            }
        }
    }
}

/// What a provider's answer to a submit means.
#[derive(Debug, Clone, PartialEq)]
pub enum SubmitOutcome {
    /// A task started; its result comes by callback or polling.
    Started {
        /// The provider's task id.
        task_id: String,
        /// What the provider says it costs, in its unit, where it says.
        points: Option<u64>,
    },
    /// A task that is already finished in the submit's answer (AceData's synchronous mode).
    Finished {
        /// The provider's task id.
        task_id: String,
        /// How it ended.
        update: TaskUpdate,
    },
    /// An answer that is the whole result (aifaceswap's extract operations): no task.
    Immediate,
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::borrow::ToOwned;

    #[test]
    fn result_urls_follow_the_url_rule() {
        let ok = TaskUpdate::succeeded(Some("t".into()), "https://cdn.example/r.png".into());
        assert_eq!(ok.clone().checked(), (ok, None));
        let failed = TaskUpdate::failed(Some("t".into()), Some("no face".into()));
        assert_eq!(failed.clone().checked(), (failed, None));
        for bad in [
            "javascript:alert(document.domain)".to_owned(),
            "data:text/html,<script>alert(1)</script>".to_owned(),
            format!(
                "https://cdn.example/{}",
                "a".repeat(crate::url::MAX_URL_BYTES)
            ),
        ] {
            let (update, err) = TaskUpdate::succeeded(Some("t".into()), bad.clone()).checked();
            assert_eq!(update.status, TaskStatus::Failed, "{bad}");
            assert_eq!(update.result_url, None, "{bad}");
            assert_eq!(update.task_id.as_deref(), Some("t"));
            let err = err.expect("an error to log");
            assert_eq!(err.field, "result_url");
            let reason = update.error.expect("a reason");
            assert!(
                reason.starts_with("the provider's result was refused: result_url"),
                "{reason}"
            );
        }
    }
}
