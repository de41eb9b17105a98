//! In-process wake-ups of the streams waiting on a task. Each task has one `watch` channel that
//! holds its latest state, so a change costs one send whatever the number of waiting streams, and
//! no stream ever polls the database.

use faceswap_core::TaskView;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::watch;

/// A task state with its change counter (`version`, the SSE event id).
#[derive(Debug, Clone, PartialEq, Eq)]
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

    /// Wakes the streams of the event's task.
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
                sender.send_replace(Some(event));
            }
        }
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
