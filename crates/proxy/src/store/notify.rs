//! In-process wake-ups of the streams waiting on a task. Each task has one `watch` channel that
//! holds its latest state, so a change costs one send whatever the number of waiting streams, and
//! no stream ever polls the database.

use faceswap_core::TaskView;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::watch;

use super::TaskKey;

/// A task state with its change counter (`version`, the SSE event id).
#[derive(Debug, Clone, PartialEq)]
pub struct TaskEvent {
    /// Increases by one with every change of the task.
    pub version: u64,
    /// The task as it now stands.
    pub view: TaskView,
}

impl TaskEvent {
    /// The key of the event's task.
    pub fn key(&self) -> TaskKey {
        TaskKey::new(&self.view.provider, &self.view.task_id)
    }
}

/// Per-task channels of [`TaskEvent`]s, by [`TaskKey`].
#[derive(Debug, Default)]
pub struct Notifier {
    channels: Mutex<HashMap<TaskKey, watch::Sender<Option<TaskEvent>>>>,
}

impl Notifier {
    /// A receiver that sees every later change of the task.
    pub fn subscribe(&self, key: &TaskKey) -> watch::Receiver<Option<TaskEvent>> {
        let mut channels = self
            .channels
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match channels.get(key) {
            Some(sender) => sender.subscribe(),
            None => {
                let (sender, receiver) = watch::channel(None);
                channels.insert(key.clone(), sender);
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
        let key = event.key();
        if let Some(sender) = channels.get(&key) {
            if sender.receiver_count() == 0 {
                channels.remove(&key);
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

    /// True when some stream waits on the task.
    pub fn is_watched(&self, key: &TaskKey) -> bool {
        self.channels
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(key)
            .is_some_and(|sender| sender.receiver_count() > 0)
    }

    /// The tasks some stream waits on.
    pub fn watched_tasks(&self) -> Vec<TaskKey> {
        self.channels
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .filter(|(_, sender)| sender.receiver_count() > 0)
            .map(|(key, _)| key.clone())
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

    fn event(provider: &str, version: u64, status: TaskStatus) -> TaskEvent {
        TaskEvent {
            version,
            view: TaskView {
                provider: provider.into(),
                cost: None,
                error: None,
                task_id: "t".into(),
                status,
                kind: None,
                result_url: None,
                provider_result_url: None,
                result_info: None,
                points: None,
                created_at: String::new(),
                updated_at: String::new(),
            },
        }
    }

    #[test]
    fn publish_keeps_events_monotonic_and_sends_each_version_once() {
        let notifier = Notifier::default();
        let key = TaskKey::new("aifaceswap", "t");
        assert!(!notifier.is_watched(&key));
        let mut receiver = notifier.subscribe(&key);
        assert!(notifier.is_watched(&key));
        assert_eq!(notifier.watched_tasks(), vec![key.clone()]);
        // The same task id at another provider is another task.
        notifier.publish(event("piapi", 5, TaskStatus::Failed));
        assert!(!receiver.has_changed().unwrap_or(true));
        assert!(!notifier.is_watched(&TaskKey::new("piapi", "t")));
        notifier.publish(event("aifaceswap", 2, TaskStatus::Succeeded));
        assert!(receiver.has_changed().unwrap_or(false));
        receiver.mark_unchanged();
        // The echo of the same version, and an older state, change nothing.
        notifier.publish(event("aifaceswap", 2, TaskStatus::Succeeded));
        notifier.publish(event("aifaceswap", 1, TaskStatus::Pending));
        assert!(!receiver.has_changed().unwrap_or(true));
        assert_eq!(
            receiver.borrow().as_ref().map(|e| e.version),
            Some(2),
            "the newest state stays"
        );
        drop(receiver);
        assert!(!notifier.is_watched(&key));
        assert!(notifier.watched_tasks().is_empty());
    }
}
