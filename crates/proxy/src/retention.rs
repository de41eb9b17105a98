//! How long finished tasks and their callback tokens are kept: the one rule.
//!
//! A provider may deliver one result more than once (a retry after a lost answer, PiAPI's
//! repeated terminal webhook). For [`DUPLICATE_WINDOW`] after its task finished, a token still
//! answers such a delivery with 2xx and changes nothing; after that it is removed, with its
//! callback secret, and a delivery to it is unknown (404). The finished task itself, with its
//! result URL, is removed after `TASK_RETENTION_DAYS`. Pending tasks are never removed here (the
//! deadline sweep finishes them first, as `timed_out`).

use std::time::Duration;

/// How long a finished task's callback token keeps answering repeated deliveries: one day, far
/// longer than any of the providers' retry schedules (minutes to hours), and short enough that a
/// token found later in a log or a provider's dashboard opens nothing.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// The cut-offs of one sweep at `now_ms`, in milliseconds since the epoch: tokens of tasks
/// finished before the first are removed, and tasks finished before the second.
pub fn cutoffs(now_ms: i64, retention: Duration) -> (i64, i64) {
    let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    let tasks_before = now_ms.saturating_sub(ms(retention));
    let tokens_before = now_ms
        .saturating_sub(ms(DUPLICATE_WINDOW))
        .max(tasks_before);
    (tokens_before, tasks_before)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_go_after_the_duplicate_window_and_tasks_after_the_retention() {
        let day = 86_400_000;
        let now = 100 * day;
        let (tokens, tasks) = cutoffs(now, Duration::from_secs(30 * 86_400));
        assert_eq!(tokens, now - day);
        assert_eq!(tasks, now - 30 * day);
        // A retention shorter than the window removes the tokens with their tasks.
        let (tokens, tasks) = cutoffs(now, Duration::from_secs(3600));
        assert_eq!((tokens, tasks), (now - 3_600_000, now - 3_600_000));
    }
}
