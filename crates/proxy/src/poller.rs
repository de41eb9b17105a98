//! The poll sweep: pending tasks of providers that must be polled are asked for once per task
//! (not once per waiting browser), by one proxy at a time when several share a database (the
//! store leases each due task), and resumed after a restart (the next poll time is stored).
//! Between polls the interval doubles, from `POLL_INTERVAL_MS` up to 30 s. Every poll is a
//! request of the operator's key (AIPhotoCraft counts each one against the key's hourly budget),
//! so a task whose status answers cannot be read [`MAX_UNREADABLE_POLLS`] times in a row fails,
//! saying what came back, instead of being polled until its deadline.

use faceswap_core::provider::TaskUpdate;
use futures_util::future::join_all;
use std::time::{Duration, Instant};

use crate::config::MAX_POLL_INTERVAL;
use crate::routes::form::SpooledFiles;
use crate::routes::{checked_update, now_ms};
use crate::store::{PollClaim, TaskKey};
use crate::telemetry;
use crate::upstream::{judge, now_secs};
use crate::{AppError, AppState};

/// Most tasks polled in one sweep of one proxy.
const POLLS_PER_SWEEP: u32 = 32;

/// Status answers in a row that the adapter cannot read before the task fails.
pub const MAX_UNREADABLE_POLLS: u32 = 3;

/// Why one poll did not move its task.
enum PollError {
    /// The provider answered (2xx) and its adapter could not read the answer.
    Unreadable(String),
    /// No answer to read: the provider refused, was unreachable, or its budget is spent.
    Other(AppError),
}

impl From<AppError> for PollError {
    fn from(err: AppError) -> Self {
        PollError::Other(err)
    }
}

/// Polls every due task once.
pub async fn poll_due(state: &AppState) {
    let now = now_ms();
    let lease = millis(state.config.limits.upstream_timeout * 2);
    let claims = match state.store.claim_polls(now, lease, POLLS_PER_SWEEP).await {
        Ok(claims) => claims,
        Err(err) => {
            tracing::error!(error = %err, "poll sweep");
            return;
        }
    };
    join_all(claims.into_iter().map(|claim| poll_one(state, claim))).await;
}

/// The wait before the poll after `attempts` earlier ones.
pub fn poll_interval(first: Duration, attempts: u32) -> Duration {
    first
        .saturating_mul(1u32.checked_shl(attempts.min(16)).unwrap_or(u32::MAX))
        .min(MAX_POLL_INTERVAL)
}

async fn poll_one(state: &AppState, claim: PollClaim) {
    let key = &claim.key;
    // Answers in a row that could not be read: a readable answer ends the run; a call that got
    // no answer to read (refused, unreachable, budget spent) leaves it as it was.
    let mut unreadable = claim.unreadable;
    let asked = ask(state, &claim).await;
    telemetry::poll(&key.provider, asked.is_ok());
    let outcome = match asked {
        Ok(update) if update.is_terminal() => apply(state, key, &update).await,
        Ok(_) => {
            unreadable = 0;
            Ok(())
        }
        Err(PollError::Unreadable(message)) => {
            unreadable = claim.unreadable.saturating_add(1);
            tracing::warn!(provider = %key.provider, task_id = ?key.task_id, unreadable, "poll answer unreadable");
            if unreadable >= MAX_UNREADABLE_POLLS {
                let update = TaskUpdate::failed(
                    Some(key.task_id.clone()),
                    Some(format!(
                        "{}'s task status could not be read {unreadable} times in a row: {message}",
                        key.provider
                    )),
                );
                apply(state, key, &update).await
            } else {
                Ok(())
            }
        }
        Err(PollError::Other(err)) => Err(err),
    };
    if let Err(err) = outcome {
        tracing::warn!(provider = %key.provider, task_id = ?key.task_id, error = %err.code(), "poll failed");
    }
    let wait = poll_interval(
        state.config.timings.poll_interval,
        claim.attempts.saturating_add(1),
    );
    if let Err(err) = state
        .store
        .schedule_poll(key, now_ms().saturating_add(millis(wait)), unreadable)
        .await
    {
        tracing::error!(error = %err, "poll schedule");
    }
}

/// Applies a terminal update read by a poll.
async fn apply(state: &AppState, key: &TaskKey, update: &TaskUpdate) -> Result<(), AppError> {
    if let Some((true, view)) = state.store.apply(key, update, now_ms()).await? {
        tracing::info!(provider = %key.provider, task_id = ?key.task_id, status = %view.status, "task polled");
        telemetry::task_finished(&key.provider, view.status);
    }
    Ok(())
}

/// One status call, read by the provider's adapter.
async fn ask(state: &AppState, claim: &PollClaim) -> Result<TaskUpdate, PollError> {
    let provider = state.provider(&claim.key.provider)?;
    let adapter = provider.adapter;
    let Some(request) = adapter.poll_request(&claim.key.task_id) else {
        return Ok(TaskUpdate::pending(Some(claim.key.task_id.clone())));
    };
    // While the provider's own budget is spent, polls wait (and back off) like failed ones.
    state.provider_budgets.check(adapter, now_secs())?;
    let started = Instant::now();
    let answer = state
        .upstream
        .send(&provider.target, request, &mut SpooledFiles::default())
        .await;
    telemetry::upstream_call(provider.id(), "poll", started.elapsed());
    let answer = answer?;
    state
        .provider_budgets
        .observe(adapter, &answer.headers, now_secs());
    let body = judge(answer, adapter, &provider.target)?;
    adapter
        .read_poll(&claim.key.task_id, &body)
        .map(|update| checked_update(provider.id(), update))
        .map_err(|fault| PollError::Unreadable(provider.target.redact(&fault.message)))
}

/// Milliseconds of a duration, saturating.
pub fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_double_up_to_thirty_seconds() {
        let first = Duration::from_millis(3000);
        assert_eq!(poll_interval(first, 0), first);
        assert_eq!(poll_interval(first, 1), Duration::from_millis(6000));
        assert_eq!(poll_interval(first, 3), Duration::from_millis(24000));
        assert_eq!(poll_interval(first, 4), MAX_POLL_INTERVAL);
        assert_eq!(poll_interval(first, u32::MAX), MAX_POLL_INTERVAL);
    }
}
