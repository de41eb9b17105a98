//! The per-key request budget AIPhotoCraft announces: a count per clock hour and per UTC day,
//! shown in `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (epoch seconds
//! of the end of the window that binds). Only submits spend it; task-status reads it.

use axum::http::{HeaderMap, HeaderValue};
use std::sync::Mutex;

use crate::config::RateBudget;

const HOUR: u64 = 3600;
const DAY: u64 = 24 * HOUR;

/// What the budget says after a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// The binding limit (the hourly one unless the day's is smaller).
    pub limit: u64,
    /// Requests left before the budget is spent.
    pub remaining: u64,
    /// Epoch seconds when the binding window ends.
    pub reset: u64,
}

impl Standing {
    /// Writes the three `X-RateLimit-*` headers.
    pub fn write(&self, headers: &mut HeaderMap) {
        headers.insert("x-ratelimit-limit", HeaderValue::from(self.limit));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(self.remaining));
        headers.insert("x-ratelimit-reset", HeaderValue::from(self.reset));
    }
}

#[derive(Debug, Default)]
struct Windows {
    hour_start: u64,
    hour_used: u64,
    day_start: u64,
    day_used: u64,
}

/// The counts of the current hour and day.
#[derive(Debug, Default)]
pub struct Budget {
    windows: Mutex<Windows>,
}

impl Budget {
    /// Spends one request at `now` (epoch seconds) when `spend`; `Err` when none is left, with the
    /// standing to answer with.
    pub fn take(&self, limits: RateBudget, now: u64, spend: bool) -> Result<Standing, Standing> {
        let mut w = self
            .windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let (hour_start, day_start) = (now - now % HOUR, now - now % DAY);
        if w.hour_start != hour_start {
            w.hour_start = hour_start;
            w.hour_used = 0;
        }
        if w.day_start != day_start {
            w.day_start = day_start;
            w.day_used = 0;
        }
        let left = |w: &Windows| {
            (
                limits.per_hour.saturating_sub(w.hour_used),
                limits.per_day.saturating_sub(w.day_used),
            )
        };
        let (hour_left, day_left) = left(&w);
        if spend && hour_left > 0 && day_left > 0 {
            w.hour_used += 1;
            w.day_used += 1;
        }
        let standing = |(hour_left, day_left): (u64, u64)| {
            if day_left < hour_left || (day_left == 0 && limits.per_day <= limits.per_hour) {
                Standing {
                    limit: limits.per_day,
                    remaining: day_left,
                    reset: day_start + DAY,
                }
            } else {
                Standing {
                    limit: limits.per_hour,
                    remaining: hour_left,
                    reset: hour_start + HOUR,
                }
            }
        };
        if spend && (hour_left == 0 || day_left == 0) {
            return Err(standing((hour_left, day_left)));
        }
        Ok(standing(left(&w)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hour_and_the_day_are_counted_and_reset() {
        let budget = Budget::default();
        let limits = RateBudget {
            per_hour: 2,
            per_day: 3,
        };
        let t = 10 * DAY + 5;
        assert_eq!(budget.take(limits, t, true).map(|s| s.remaining), Ok(1));
        assert_eq!(budget.take(limits, t, false).map(|s| s.remaining), Ok(1));
        let last = budget.take(limits, t + 1, true).unwrap();
        assert_eq!((last.remaining, last.reset), (0, 10 * DAY + HOUR));
        let spent = budget.take(limits, t + 2, true).unwrap_err();
        assert_eq!((spent.remaining, spent.reset), (0, 10 * DAY + HOUR));
        // The next hour: one left for the day.
        let next = budget.take(limits, t + HOUR, true).unwrap();
        assert_eq!((next.limit, next.remaining, next.reset), (3, 0, 11 * DAY));
        assert_eq!(
            budget.take(limits, t + HOUR, true).unwrap_err().reset,
            11 * DAY
        );
        assert_eq!(
            budget.take(limits, t + DAY, true).map(|s| s.remaining),
            Ok(1)
        );
    }
}
