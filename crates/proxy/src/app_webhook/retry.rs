//! When a delivery is tried again, and what an answer means: the one rule.
//!
//! A 2xx answer delivers the event; 410 Gone stops every delivery to the URL (the app said it
//! wants none); anything else (another status, no answer, a time-out) is tried again after a
//! wait that doubles from `APP_WEBHOOK_RETRY_MS` up to an hour, with jitter (a random half of
//! the wait is taken off, so that the events of one outage do not all come back at once), until
//! [`GIVE_UP_AFTER`] has passed since the event was made.

use std::time::Duration;

/// How long an event is tried before it is given up.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// Queued events made before this time, at `now_ms`, are removed by the maintenance sweep:
/// twice [`GIVE_UP_AFTER`] old, long after any try (they remain only when nothing sent them, the
/// app webhook being unset meanwhile).
pub fn stale_before(now_ms: i64) -> i64 {
    now_ms.saturating_sub(millis(GIVE_UP_AFTER).saturating_mul(2))
}

/// The longest wait between two tries.
pub const MAX_WAIT: Duration = Duration::from_secs(60 * 60);

/// What an answer to a delivery means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Delivered (2xx).
    Delivered,
    /// 410 Gone: no more deliveries to this URL.
    Gone,
    /// Try again later.
    Retry,
}

/// The verdict on an answer's status; `None` for no answer (a refused connection, a time-out).
pub fn verdict(status: Option<u16>) -> Verdict {
    match status {
        Some(200..=299) => Verdict::Delivered,
        Some(410) => Verdict::Gone,
        _ => Verdict::Retry,
    }
}

/// When to try again an event made at `created_ms` that has now failed `failures` times (from
/// 1), at `now_ms`, `jitter` being a random number in `[0, 1)`; `None` when the next try would
/// come after [`GIVE_UP_AFTER`]: the event is given up.
pub fn next_attempt(
    created_ms: i64,
    failures: u32,
    now_ms: i64,
    first: Duration,
    jitter: f64,
) -> Option<i64> {
    let doubled = first
        .saturating_mul(
            1u32.checked_shl(failures.saturating_sub(1).min(31))
                .unwrap_or(u32::MAX),
        )
        .min(MAX_WAIT);
    let wait = doubled.mul_f64(1.0 - jitter.clamp(0.0, 1.0) / 2.0);
    let at = now_ms.saturating_add(millis(wait));
    (at <= created_ms.saturating_add(millis(GIVE_UP_AFTER))).then_some(at)
}

/// A random number in `[0, 1)` for [`next_attempt`]'s jitter (0 when the system has no
/// randomness to give).
pub fn jitter() -> f64 {
    let mut bytes = [0u8; 4];
    if getrandom::fill(&mut bytes).is_err() {
        return 0.0;
    }
    f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0)
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_deliver_stop_or_retry() {
        assert_eq!(verdict(Some(200)), Verdict::Delivered);
        assert_eq!(verdict(Some(204)), Verdict::Delivered);
        assert_eq!(verdict(Some(410)), Verdict::Gone);
        for status in [Some(301), Some(400), Some(404), Some(429), Some(500), None] {
            assert_eq!(verdict(status), Verdict::Retry, "{status:?}");
        }
    }

    #[test]
    fn waits_double_with_jitter_up_to_an_hour_then_give_up() {
        let first = Duration::from_secs(5);
        assert_eq!(next_attempt(0, 1, 0, first, 0.0), Some(5_000));
        assert_eq!(next_attempt(0, 2, 0, first, 0.0), Some(10_000));
        assert_eq!(next_attempt(0, 3, 1_000, first, 0.0), Some(21_000));
        // Jitter takes off up to half the wait.
        assert_eq!(next_attempt(0, 2, 0, first, 0.5), Some(7_500));
        let jittered = next_attempt(0, 2, 0, first, 0.999_999).expect("retried");
        assert!((5_000..=5_001).contains(&jittered));
        // At most an hour.
        assert_eq!(next_attempt(0, 30, 0, first, 0.0), Some(3_600_000));
        assert_eq!(next_attempt(0, u32::MAX, 0, first, 0.0), Some(3_600_000));
        // Within 24 h of the event, never after.
        let day = 24 * 3_600_000;
        assert_eq!(next_attempt(0, 30, day - 3_600_000, first, 0.0), Some(day));
        assert_eq!(next_attempt(0, 30, day - 3_599_999, first, 0.0), None);
        assert_eq!(stale_before(3 * day), day);
        for _ in 0..100 {
            let j = jitter();
            assert!((0.0..1.0).contains(&j));
        }
    }
}
