//! Which task changes become app events, and what an event says: the one rule.
//!
//! With `APP_WEBHOOK_EVENTS=terminal` (the default) a task's terminal status is sent
//! (`task.succeeded`, `task.failed`, `task.timed_out`); with `all`, its creation
//! (`task.pending`) too. The payload is `{"type","timestamp","data"}`, `data` being the task as
//! `GET /api/{provider}/tasks/{task_id}` shows it (provider, task id, status, type, result URL,
//! points, cost, error, times): never a key, token or secret, which the task view does not hold.

use faceswap_core::{TaskStatus, TaskView};
use serde::Serialize;

/// Which task changes are sent to `APP_WEBHOOK_URL` (`APP_WEBHOOK_EVENTS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum AppEvents {
    /// Only a task's terminal status (succeeded, failed, timed out).
    #[default]
    Terminal,
    /// Every change: the task's creation (pending) and its terminal status.
    All,
}

/// What the store queues: which changes, for which endpoint (the SHA-256 of `APP_WEBHOOK_URL`,
/// so that a 410 from one URL stops deliveries to it and not to the next one configured).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppOutbox {
    /// Which changes are sent.
    pub events: AppEvents,
    /// The endpoint's identity: the SHA-256 of its URL, hex.
    pub endpoint: String,
}

impl AppOutbox {
    /// The outbox of the app webhook at `url` sending `events`.
    pub fn new(url: &str, events: AppEvents) -> Self {
        Self {
            events,
            endpoint: crate::tokens::hash(url),
        }
    }
}

/// The event type of a task in `status`: `task.pending`, `task.succeeded`, `task.failed`,
/// `task.timed_out`.
pub fn event_type(status: TaskStatus) -> String {
    format!("task.{}", status.as_str())
}

/// Whether a task that now stands as `view` is sent under `events` (called for each change).
pub fn wanted(events: AppEvents, view: &TaskView) -> bool {
    match events {
        AppEvents::Terminal => view.status.is_terminal(),
        AppEvents::All => true,
    }
}

/// The body of an event.
#[derive(Serialize)]
struct Payload<'a> {
    #[serde(rename = "type")]
    kind: String,
    timestamp: String,
    data: &'a TaskView,
}

/// The JSON body of the event for a task that now stands as `view`: its type, the time of the
/// change (the task's `updated_at`) and the task.
pub fn payload(view: &TaskView) -> Result<String, serde_json::Error> {
    serde_json::to_string(&Payload {
        kind: event_type(view.status),
        timestamp: view.updated_at.clone(),
        data: view,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(status: TaskStatus) -> TaskView {
        TaskView {
            provider: "piapi".into(),
            task_id: "t1".into(),
            status,
            kind: None,
            result_url: Some("https://cdn.example/r.jpg".into()),
            provider_result_url: None,
            result_info: None,
            points: Some(2),
            cost: None,
            error: None,
            created_at: "2026-01-01T00:00:00Z".into(),
            updated_at: "2026-01-01T00:00:05Z".into(),
        }
    }

    #[test]
    fn terminal_sends_ends_and_all_sends_every_change() {
        assert!(!wanted(AppEvents::Terminal, &view(TaskStatus::Pending)));
        for status in [
            TaskStatus::Succeeded,
            TaskStatus::Failed,
            TaskStatus::TimedOut,
        ] {
            assert!(wanted(AppEvents::Terminal, &view(status)));
            assert!(wanted(AppEvents::All, &view(status)));
        }
        assert!(wanted(AppEvents::All, &view(TaskStatus::Pending)));
        assert_eq!(event_type(TaskStatus::TimedOut), "task.timed_out");
    }

    #[test]
    fn the_payload_is_the_task_view_with_its_type_and_time() {
        let json: serde_json::Value =
            serde_json::from_str(&payload(&view(TaskStatus::Succeeded)).expect("json"))
                .expect("parses");
        assert_eq!(json["type"], "task.succeeded");
        assert_eq!(json["timestamp"], "2026-01-01T00:00:05Z");
        assert_eq!(json["data"]["provider"], "piapi");
        assert_eq!(json["data"]["task_id"], "t1");
        assert_eq!(json["data"]["status"], "succeeded");
        assert_eq!(json["data"]["result_url"], "https://cdn.example/r.jpg");
        assert_eq!(json["data"]["points"], 2);
        assert!(json["data"].get("type").is_some());
    }

    #[test]
    fn outboxes_differ_by_url() {
        let a = AppOutbox::new("https://app.example/hooks", AppEvents::All);
        let b = AppOutbox::new("https://app.example/other", AppEvents::All);
        assert_ne!(a.endpoint, b.endpoint);
        assert_eq!(a.endpoint.len(), 64);
        assert!(!a.endpoint.contains("app.example"));
    }
}
