//! Fault knobs for tests: added latency, 429 with `Retry-After`, 5xx answers, content refusals
//! (403), failed tasks, and duplicate, early, late, out-of-order or missing webhooks. Set from
//! `SANDBOX_*` environment variables or through the loopback-only `/__sandbox/faults` route.

use serde::{Deserialize, Serialize};
use std::time::Duration;

use crate::state::SandboxState;

/// The fault knobs. The default injects nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Milliseconds added before every API answer (`SANDBOX_LATENCY_MS`).
    pub latency_ms: u64,
    /// The next this many API calls answer 429 (`SANDBOX_RATE_LIMIT_NEXT`).
    pub rate_limit_next: u32,
    /// `Retry-After` seconds sent with a 429 (`SANDBOX_RETRY_AFTER_SECS`; 0 means 1).
    pub retry_after_secs: u64,
    /// The next this many API calls answer with `error_status` (`SANDBOX_ERROR_NEXT`).
    pub error_next: u32,
    /// The 5xx status of those answers (`SANDBOX_ERROR_STATUS`; 0 means 500).
    pub error_status: u16,
    /// The next this many API calls are refused as content the provider will not process: 403
    /// (AceData's `forbidden`) (`SANDBOX_REFUSE_NEXT`).
    pub refuse_next: u32,
    /// The next this many tasks end in failure (`success: 0`) whatever their input
    /// (`SANDBOX_FAIL_TASKS_NEXT`).
    pub fail_tasks_next: u32,
    /// Every webhook is delivered this many extra times (`SANDBOX_DUPLICATE_WEBHOOKS`).
    pub duplicate_webhooks: u32,
    /// Milliseconds to wait before delivering a webhook (`SANDBOX_WEBHOOK_DELAY_MS`).
    pub webhook_delay_ms: u64,
    /// The task runs and its webhook is delivered before the submit is answered
    /// (`SANDBOX_WEBHOOK_BEFORE_RESPONSE`).
    pub webhook_before_response: bool,
    /// No webhook is sent at all, so results must be polled where the provider can be polled
    /// (PiAPI's Get Task) (`SANDBOX_DROP_WEBHOOKS`).
    pub drop_webhooks: bool,
    /// Webhooks are delivered out of order: each is held back until the next task's webhook
    /// has gone out (or 2 s have passed) (`SANDBOX_REORDER_WEBHOOKS`).
    pub reorder_webhooks: bool,
    /// Answers in shapes the providers' pages do not print, which the adapters also read
    /// (`SANDBOX_UNDOCUMENTED_SHAPES`): AIPhotoCraft's finished task-status wrapped as
    /// `{"success":true,"data":{"task_id","status":"completed","image_url"}}` instead of the
    /// page's `{"image_url"}`, and AceData's callback with a `success` flag. Off by default: the
    /// sandbox answers as the pages print.
    pub undocumented_shapes: bool,
    /// The next this many AIPhotoCraft task-status answers are unreadable (`{}`), as an answer
    /// that no status can be read from (`SANDBOX_UNREADABLE_STATUS_NEXT`).
    pub unreadable_status_next: u32,
}

impl Faults {
    /// Reads the `SANDBOX_*` variables listed on each field; unset means none, and so does an
    /// unreadable value (with a warning in the log).
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`Faults::from_env`] with a custom variable lookup.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let num = |name: &str| match get(name).map(|v| v.trim().parse::<u64>()) {
            None => 0,
            Some(Ok(value)) => value,
            Some(Err(err)) => {
                tracing::warn!("{name} is not a whole number ({err}): the knob stays off");
                0
            }
        };
        let flag = |name: &str| {
            get(name).is_some_and(|v| {
                matches!(
                    v.trim().to_ascii_lowercase().as_str(),
                    "1" | "true" | "yes" | "on"
                )
            })
        };
        let small = |name: &str| u32::try_from(num(name)).unwrap_or(u32::MAX);
        Self {
            latency_ms: num("SANDBOX_LATENCY_MS"),
            rate_limit_next: small("SANDBOX_RATE_LIMIT_NEXT"),
            retry_after_secs: num("SANDBOX_RETRY_AFTER_SECS"),
            error_next: small("SANDBOX_ERROR_NEXT"),
            error_status: u16::try_from(num("SANDBOX_ERROR_STATUS")).unwrap_or(0),
            refuse_next: small("SANDBOX_REFUSE_NEXT"),
            fail_tasks_next: small("SANDBOX_FAIL_TASKS_NEXT"),
            duplicate_webhooks: small("SANDBOX_DUPLICATE_WEBHOOKS"),
            webhook_delay_ms: num("SANDBOX_WEBHOOK_DELAY_MS"),
            webhook_before_response: flag("SANDBOX_WEBHOOK_BEFORE_RESPONSE"),
            reorder_webhooks: flag("SANDBOX_REORDER_WEBHOOKS"),
            drop_webhooks: flag("SANDBOX_DROP_WEBHOOKS"),
            undocumented_shapes: flag("SANDBOX_UNDOCUMENTED_SHAPES"),
            unreadable_status_next: small("SANDBOX_UNREADABLE_STATUS_NEXT"),
        }
    }

    /// The status of injected server errors: `error_status` when it is a 5xx, else 500.
    pub fn server_error_status(&self) -> u16 {
        if (500..600).contains(&self.error_status) {
            self.error_status
        } else {
            500
        }
    }

    /// Seconds for `Retry-After`, at least 1.
    pub fn retry_after(&self) -> u64 {
        self.retry_after_secs.max(1)
    }
}

/// What the fault knobs decide for one API call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Injected {
    /// Answer normally.
    None,
    /// Answer 429 with this `Retry-After`.
    RateLimited(u64),
    /// Answer this 5xx status.
    ServerError(u16),
    /// Answer 403: the content is refused.
    Refused,
}

impl Faults {
    /// Takes one API call's share of the counters.
    pub fn take_for_call(&mut self) -> Injected {
        if self.rate_limit_next > 0 {
            self.rate_limit_next -= 1;
            return Injected::RateLimited(self.retry_after());
        }
        if self.error_next > 0 {
            self.error_next -= 1;
            return Injected::ServerError(self.server_error_status());
        }
        if self.refuse_next > 0 {
            self.refuse_next -= 1;
            return Injected::Refused;
        }
        Injected::None
    }

    /// Takes one task's share of `fail_tasks_next`: true when this task must fail.
    pub fn take_task_failure(&mut self) -> bool {
        if self.fail_tasks_next > 0 {
            self.fail_tasks_next -= 1;
            true
        } else {
            false
        }
    }
}

/// What every provider's API call goes through first: the `latency_ms` wait, then one call's
/// share of the counters. Each provider module answers an injected fault in its own shape.
pub async fn before_call(state: &SandboxState) -> Injected {
    let (latency, injected) = state.with_faults(|f| (f.latency_ms, f.take_for_call()));
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    injected
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn reads_variables_and_counts_down() {
        let vars: HashMap<&str, &str> = [
            ("SANDBOX_LATENCY_MS", "250"),
            ("SANDBOX_RATE_LIMIT_NEXT", "1"),
            ("SANDBOX_RETRY_AFTER_SECS", "7"),
            ("SANDBOX_ERROR_NEXT", "1"),
            ("SANDBOX_ERROR_STATUS", "503"),
            ("SANDBOX_REFUSE_NEXT", "1"),
            ("SANDBOX_REORDER_WEBHOOKS", "true"),
            ("SANDBOX_DUPLICATE_WEBHOOKS", "x"),
        ]
        .into_iter()
        .collect();
        let mut faults = Faults::from_lookup(|k| vars.get(k).map(|v| v.to_string()));
        assert_eq!(faults.latency_ms, 250);
        assert!(faults.reorder_webhooks);
        assert_eq!(faults.duplicate_webhooks, 0);
        assert_eq!(faults.take_for_call(), Injected::RateLimited(7));
        assert_eq!(faults.take_for_call(), Injected::ServerError(503));
        assert_eq!(faults.take_for_call(), Injected::Refused);
        assert_eq!(faults.take_for_call(), Injected::None);
        assert_eq!(Faults::from_lookup(|_| None), Faults::default());
        assert_eq!(Faults::default().server_error_status(), 500);
        assert_eq!(Faults::default().retry_after(), 1);
    }

    #[test]
    fn json_knobs_reject_unknown_names() {
        let faults: Faults = serde_json::from_str(r#"{"fail_tasks_next":2}"#).expect("json");
        assert_eq!(faults.fail_tasks_next, 2);
        assert!(serde_json::from_str::<Faults>(r#"{"latency":5}"#).is_err());
    }
}
