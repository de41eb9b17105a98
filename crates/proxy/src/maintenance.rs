//! The background sweeps: overdue tasks become `timed_out`; finished tasks past their retention
//! and callback tokens past their duplicate window ([`crate::retention`]), old uploads, expired
//! idempotency keys and idle limiter entries are removed; pending tasks of polled providers are
//! polled (see [`crate::poller`]); and, with `APP_WEBHOOK_URL`, queued app events are sent (see
//! [`crate::app_webhook`]).

use crate::routes::now_ms;
use crate::{poller, AppState};

/// Aborts a task when dropped: the delivery loop ends with the sweeps.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts the sweeps: the deadline and clean-up sweep every `MAINTENANCE_INTERVAL_MS`, the poll
/// sweep every `POLL_INTERVAL_MS`, and the app webhook's delivery loop, a task of its own (a slow
/// receiver never holds up the sweeps). They run until the runtime stops or the returned handle
/// is aborted.
pub fn spawn_maintenance(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let _copies = state
            .results
            .clone()
            .map(|results| AbortOnDrop(crate::results::spawn_keeper(state.clone(), results)));
        let _deliveries = state.app_webhook.clone().map(|hook| {
            AbortOnDrop(crate::app_webhook::spawn_dispatch(
                hook,
                std::sync::Arc::clone(&state.store),
            ))
        });
        let every = |period| {
            let mut ticker = tokio::time::interval(period);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticker
        };
        let mut maintenance = every(state.config.timings.sweep_interval());
        let mut polls = every(state.config.timings.poll_interval);
        loop {
            tokio::select! {
                _ = maintenance.tick() => maintain(&state).await,
                _ = polls.tick() => poller::poll_due(&state).await,
            }
        }
    })
}

/// One pass of the deadline and clean-up sweep (also called by tests).
pub async fn maintain(state: &AppState) {
    let now = now_ms();
    match state.store.expire_overdue(now).await {
        Ok(expired) => {
            for view in expired {
                tracing::info!(provider = %view.provider, task_id = ?view.task_id, "task timed out");
                crate::telemetry::task_finished(&view.provider, view.status);
            }
        }
        Err(err) => tracing::error!(error = %err, "deadline sweep"),
    }
    let deadline =
        i64::try_from(state.config.timings.task_deadline.as_millis()).unwrap_or(i64::MAX);
    if let Err(err) = state
        .store
        .prune(
            now - crate::idempotency::TTL_MS,
            now.saturating_sub(deadline.saturating_mul(2)),
        )
        .await
    {
        tracing::error!(error = %err, "store prune");
    }
    let (tokens_before, tasks_before) =
        crate::retention::cutoffs(now, state.config.timings.task_retention);
    match state
        .store
        .forget_finished(tokens_before, tasks_before)
        .await
    {
        Ok(0) => {}
        Ok(removed) => tracing::info!(removed, "finished tasks removed"),
        Err(err) => tracing::error!(error = %err, "retention sweep"),
    }
    match state
        .store
        .forget_app_events(crate::app_webhook::retry::stale_before(now))
        .await
    {
        Ok(0) => {}
        Ok(removed) => tracing::warn!(removed, "app events never sent, removed after 48 h"),
        Err(err) => tracing::error!(error = %err, "app events sweep"),
    }
    if let Some(results) = &state.results {
        match results
            .remove_older_than(state.config.timings.task_retention)
            .await
        {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "kept results removed"),
            Err(err) => tracing::error!(error = %err, "kept results sweep"),
        }
    }
    let removed =
        crate::routes::uploads::remove_old_uploads(state, state.config.timings.upload_max_age)
            .await;
    if removed > 0 {
        tracing::info!(removed, "old uploads removed");
        crate::telemetry::uploads_swept(removed);
    }
    state.limiter.prune().await;
}
