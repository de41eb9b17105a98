//! The HTTP routes, one module per family.

pub mod events;
pub mod form;
pub mod hooks;
pub mod info;
pub mod provider;
pub mod submit;
pub mod tasks;
pub mod uploads;

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
