//! In-process wake-ups of the streams waiting on a task. Each task has one `watch` channel that
//! holds its latest state, so a change costs one send whatever the number of waiting streams, and
//! no stream ever polls the database.

use faceswap_core::TaskView;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::watch;

/// A task state with its change counter (`version`, the SSE event id).
#[derive(Debug, Clone, PartialEq)]
pub struct TaskEvent {
    /// Increases by one with every change of the task.
    pub version: u64,
    /// The task as it now stands.
    pub view: TaskView,
}

/// Per-task channels of [`TaskEvent`]s.
#[derive(Debug, Default)]
pub struct Notifier {
    channels: Mutex<HashMap<String, watch::Sender<Option<TaskEvent>>>>,
}

impl Notifier {
    /// A receiver that sees every later change of `task_id`.
    pub fn subscribe(&self, task_id: &str) -> watch::Receiver<Option<TaskEvent>> {
        let mut channels = self
            .channels
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match channels.get(task_id) {
            Some(sender) => sender.subscribe(),
            None => {
                let (sender, receiver) = watch::channel(None);
                channels.insert(task_id.to_owned(), sender);
                receiver
            }
        }
    }

    /// Wakes the streams of the event's task, unless the channel already holds this version or a
    /// newer one: the same change may be published twice (by the store that made it and again
    /// from a PostgreSQL notification), and a late, older state never replaces a newer one.
    pub fn publish(&self, event: TaskEvent) {
        let mut channels = self
            .channels
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let task_id = event.view.task_id.clone();
        if let Some(sender) = channels.get(&task_id) {
            if sender.receiver_count() == 0 {
                channels.remove(&task_id);
            } else {
                sender.send_if_modified(|current| match current {
                    Some(held) if held.version >= event.version => false,
                    _ => {
                        *current = Some(event);
                        true
                    }
                });
            }
        }
    }

    /// True when some stream waits on `task_id`.
    pub fn is_watched(&self, task_id: &str) -> bool {
        self.channels
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(task_id)
            .is_some_and(|sender| sender.receiver_count() > 0)
    }

    /// The tasks some stream waits on.
    pub fn watched_tasks(&self) -> Vec<String> {
        self.channels
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .filter(|(_, sender)| sender.receiver_count() > 0)
            .map(|(task_id, _)| task_id.clone())
            .collect()
    }

    /// Drops the channels nobody listens to any more.
    pub fn prune(&self) {
        let mut channels = self
            .channels
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        channels.retain(|_, sender| sender.receiver_count() > 0);
    }

    /// Number of tasks with a channel (for tests and metrics).
    pub fn channel_count(&self) -> usize {
        self.channels
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faceswap_core::TaskStatus;

    fn event(version: u64, status: TaskStatus) -> TaskEvent {
        TaskEvent {
            version,
            view: TaskView {
                provider: faceswap_core::aifaceswap::PROVIDER.id.to_owned(),
                cost: None,
                error: None,
                task_id: "t".into(),
                status,
                kind: None,
                result_url: None,
                points: None,
                created_at: String::new(),
                updated_at: String::new(),
            },
        }
    }

    #[test]
    fn publish_keeps_events_monotonic_and_sends_each_version_once() {
        let notifier = Notifier::default();
        assert!(!notifier.is_watched("t"));
        let mut receiver = notifier.subscribe("t");
        assert!(notifier.is_watched("t"));
        assert_eq!(notifier.watched_tasks(), vec!["t".to_owned()]);
        notifier.publish(event(2, TaskStatus::Succeeded));
        assert!(receiver.has_changed().unwrap_or(false));
        receiver.mark_unchanged();
        // The echo of the same version, and an older state, change nothing.
        notifier.publish(event(2, TaskStatus::Succeeded));
        notifier.publish(event(1, TaskStatus::Pending));
        assert!(!receiver.has_changed().unwrap_or(true));
        assert_eq!(
            receiver.borrow().as_ref().map(|e| e.version),
            Some(2),
            "the newest state stays"
        );
        drop(receiver);
        assert!(!notifier.is_watched("t"));
        assert!(notifier.watched_tasks().is_empty());
    }
}
