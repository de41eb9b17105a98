//! The HTTP routes, one module per family.

pub mod events;
pub mod form;
pub mod hooks;
pub mod info;
pub mod provider;
pub mod submit;
pub mod table;
pub mod tasks;
pub mod uploads;

use faceswap_core::provider::TaskUpdate;
use std::time::{SystemTime, UNIX_EPOCH};

/// A provider's update as it may be stored: every update, from a callback, a poll or a submit's
/// own answer, passes here first. A result URL that breaks core's URL rule (another scheme than
/// http or https, too long) fails the task instead of reaching a browser, with a log line.
pub fn checked_update(provider: &str, update: TaskUpdate) -> TaskUpdate {
    let (update, refused) = update.checked();
    if let Some(err) = refused {
        tracing::warn!(provider, task_id = ?update.task_id, error = %err.message, "result URL refused; the task fails");
    }
    update
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
