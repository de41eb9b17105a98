//! The store's decisions, as plain functions of the rows read: both backends read rows, call
//! these, and write what they say. What a callback delivery does, whether an update changes a
//! task, and how an `Idempotency-Key` stands live here once.

use faceswap_core::provider::TaskUpdate;
use faceswap_core::{TaskStatus, TaskView};

use super::{IdempotencyBegin, NewAppEvent, StoreError, StoreResult, TaskKey};
use crate::app_webhook::{event, AppOutbox};

/// A token row as a backend read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenRow {
    /// The provider it belongs to.
    pub provider: String,
    /// The operation's wire name.
    pub operation: String,
    /// The bound task, once the submit was answered.
    pub task_id: Option<String>,
    /// The held update (a [`TaskUpdate`] as JSON), while unbound.
    pub held: Option<String>,
    /// When it was made.
    pub created_ms: i64,
}

/// What a callback delivery does to the token and its task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DeliveryPlan {
    /// No such token: nothing changes.
    UnknownToken,
    /// The token is bound to another task than the update names: nothing changes.
    WrongTask,
    /// The submit has not been answered: write `Some(json)` as the held update, or keep the
    /// token as it is (`None`: an update is held already, or this one is a progress report).
    Hold(Option<String>),
    /// Apply the update to the bound task.
    Apply(TaskKey),
}

/// What a delivered update does, given the token row it names.
///
/// Only a terminal update is held, and only the first: a later early delivery keeps it.
pub(crate) fn plan_delivery(
    token: Option<&TokenRow>,
    update: &TaskUpdate,
) -> StoreResult<DeliveryPlan> {
    let Some(token) = token else {
        return Ok(DeliveryPlan::UnknownToken);
    };
    match &token.task_id {
        None if update.is_terminal() && token.held.is_none() => {
            Ok(DeliveryPlan::Hold(Some(serde_json::to_string(update)?)))
        }
        None => Ok(DeliveryPlan::Hold(None)),
        Some(bound) if update.task_id.as_ref().is_some_and(|id| id != bound) => {
            Ok(DeliveryPlan::WrongTask)
        }
        Some(bound) => Ok(DeliveryPlan::Apply(TaskKey::new(&token.provider, bound))),
    }
}

/// The checked token of a bind: it exists, is the task's provider's, and is unbound or bound to
/// this same task (a repeated bind).
pub(crate) fn check_bind(token: Option<TokenRow>, key: &TaskKey) -> StoreResult<TokenRow> {
    let token = token.ok_or(StoreError::Bind("no such token"))?;
    if token.provider != key.provider {
        return Err(StoreError::Bind("the token belongs to another provider"));
    }
    if token.task_id.as_ref().is_some_and(|id| *id != key.task_id) {
        return Err(StoreError::Bind("the token is bound to another task"));
    }
    Ok(token)
}

/// The held update to apply when `task_id` is bound: the stored one, unless it names another
/// task. A held value that does not read as an update is corrupt.
pub(crate) fn held_for_bind(held: Option<&str>, task_id: &str) -> StoreResult<Option<TaskUpdate>> {
    let Some(json) = held else {
        return Ok(None);
    };
    let update: TaskUpdate = serde_json::from_str(json)
        .map_err(|_| StoreError::corrupt("hook_tokens.held_update", json))?;
    Ok(update
        .task_id
        .as_deref()
        .is_none_or(|id| id == task_id)
        .then_some(update))
}

/// What a terminal update writes to a pending task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TaskChange {
    /// The terminal status.
    pub status: TaskStatus,
    /// The task type: the update's, else what the task had.
    pub kind: Option<i64>,
    /// The result URL, on success: the proxy's copy when it keeps results.
    pub result_url: Option<String>,
    /// The provider's result URL, on success, when the proxy keeps results.
    pub provider_result_url: Option<String>,
    /// The provider's reason, on failure.
    pub error: Option<String>,
    /// The result's metadata as its column's JSON, on success.
    pub result_info: Option<String>,
}

/// The change `update` makes to `task`: none for a progress report, and none to a task that has
/// ended already (the first terminal update stays). When the proxy keeps results (`keep`: the
/// base of its results, `PUBLIC_URL/results`), a success's result URL is the copy's,
/// [`kept_result_url`], and the provider's is kept beside it.
pub(crate) fn transition(
    task: &TaskView,
    update: &TaskUpdate,
    keep: Option<&str>,
) -> Option<TaskChange> {
    if task.status.is_terminal() || !update.is_terminal() {
        return None;
    }
    let succeeded = update.status == TaskStatus::Succeeded;
    let provider_url = update.result_url.clone().filter(|_| succeeded);
    let (result_url, provider_result_url) = match (keep, provider_url) {
        (Some(base), Some(url)) => (
            Some(kept_result_url(base, &task.provider, &task.task_id)),
            Some(url),
        ),
        (_, url) => (url, None),
    };
    Some(TaskChange {
        status: update.status,
        kind: update.kind.or(task.kind),
        result_url,
        provider_result_url,
        error: update
            .error
            .clone()
            .filter(|_| update.status == TaskStatus::Failed),
        result_info: update
            .result_info
            .as_ref()
            .filter(|_| succeeded)
            .and_then(|info| serde_json::to_string(info).ok()),
    })
}

/// Where the proxy serves its copy of a task's result: `{base}/{provider}/{task_id}`, `base`
/// being `PUBLIC_URL/results` (task ids are safe in paths: [`faceswap_core::task::is_safe_task_id`]).
pub fn kept_result_url(base: &str, provider: &str, task_id: &str) -> String {
    format!("{base}/{provider}/{task_id}")
}

/// The app event to queue, in the transaction of the change, for a task that now stands as
/// `view`: `None` without an app webhook or for a change it does not want ([`event::wanted`]).
pub(crate) fn app_event(
    outbox: Option<&AppOutbox>,
    view: &TaskView,
    now_ms: i64,
) -> StoreResult<Option<NewAppEvent>> {
    let Some(outbox) = outbox.filter(|outbox| event::wanted(outbox.events, view)) else {
        return Ok(None);
    };
    Ok(Some(NewAppEvent {
        id: crate::tokens::new_event_id()?,
        endpoint: outbox.endpoint.clone(),
        payload: event::payload(view)?,
        created_ms: now_ms,
    }))
}

/// An idempotency record as a backend read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IdempotencyRow {
    /// The fingerprint of the request that made it.
    pub fingerprint: String,
    /// True once the answer was recorded.
    pub done: bool,
    /// The answer's status, once done.
    pub status: Option<i64>,
    /// The answer's body, once done.
    pub body: Option<Vec<u8>>,
    /// When the request began.
    pub created_ms: i64,
}

/// What a backend does when a submit begins under an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IdempotencyStep {
    /// No record: insert one (the submit is [`IdempotencyBegin::Started`]).
    Insert,
    /// An expired record, or a start left unfinished past the stale limit: overwrite it with
    /// this request (the submit is [`IdempotencyBegin::Started`]).
    Restart,
    /// Answer this, leaving the record as it is.
    Answer(IdempotencyBegin),
}

/// How a key stands, from its stored record.
pub(crate) fn idempotency_step(
    row: Option<IdempotencyRow>,
    fingerprint: &str,
    now_ms: i64,
    ttl_ms: i64,
    stale_ms: i64,
) -> StoreResult<IdempotencyStep> {
    let Some(row) = row else {
        return Ok(IdempotencyStep::Insert);
    };
    let age = now_ms.saturating_sub(row.created_ms);
    if age > ttl_ms || (!row.done && age > stale_ms) {
        return Ok(IdempotencyStep::Restart);
    }
    if row.fingerprint != fingerprint {
        return Ok(IdempotencyStep::Answer(IdempotencyBegin::Conflict));
    }
    if !row.done {
        return Ok(IdempotencyStep::Answer(IdempotencyBegin::InProgress));
    }
    let status = match row.status {
        Some(status) => {
            u16::try_from(status).map_err(|_| StoreError::corrupt("idempotency.status", status))?
        }
        None => return Err(StoreError::corrupt("idempotency.status", "NULL when done")),
    };
    let body = row
        .body
        .ok_or_else(|| StoreError::corrupt("idempotency.body", "NULL when done"))?;
    Ok(IdempotencyStep::Answer(IdempotencyBegin::Replay(
        status, body,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use faceswap_core::provider::ResultInfo;

    fn token(task_id: Option<&str>, held: Option<&str>) -> TokenRow {
        TokenRow {
            provider: "piapi".into(),
            operation: "faceswap".into(),
            task_id: task_id.map(str::to_owned),
            held: held.map(str::to_owned),
            created_ms: 0,
        }
    }

    fn view(status: TaskStatus) -> TaskView {
        TaskView {
            provider: "piapi".into(),
            task_id: "t".into(),
            status,
            kind: Some(3),
            result_url: None,
            provider_result_url: None,
            result_info: None,
            points: None,
            cost: None,
            error: None,
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    #[test]
    fn deliveries_hold_only_the_first_terminal_update_of_an_unbound_token() {
        let done = TaskUpdate::succeeded(Some("t".into()), "https://r.example/x".into());
        let progress = TaskUpdate::pending(Some("t".into()));
        assert_eq!(
            plan_delivery(None, &done).expect("plan"),
            DeliveryPlan::UnknownToken
        );
        let DeliveryPlan::Hold(Some(json)) =
            plan_delivery(Some(&token(None, None)), &done).expect("plan")
        else {
            panic!("a terminal update is held");
        };
        assert_eq!(
            held_for_bind(Some(&json), "t").expect("held"),
            Some(done.clone())
        );
        assert_eq!(
            plan_delivery(Some(&token(None, Some(&json))), &done).expect("plan"),
            DeliveryPlan::Hold(None)
        );
        assert_eq!(
            plan_delivery(Some(&token(None, None)), &progress).expect("plan"),
            DeliveryPlan::Hold(None)
        );
    }

    #[test]
    fn deliveries_to_a_bound_token_apply_unless_they_name_another_task() {
        let bound = token(Some("t"), None);
        let other = TaskUpdate::succeeded(Some("u".into()), "https://r.example/x".into());
        assert_eq!(
            plan_delivery(Some(&bound), &other).expect("plan"),
            DeliveryPlan::WrongTask
        );
        for update in [
            TaskUpdate::failed(Some("t".into()), None),
            TaskUpdate::failed(None, None),
        ] {
            assert_eq!(
                plan_delivery(Some(&bound), &update).expect("plan"),
                DeliveryPlan::Apply(TaskKey::new("piapi", "t"))
            );
        }
    }

    #[test]
    fn held_updates_for_another_task_are_dropped_and_garbage_is_corrupt() {
        let json =
            serde_json::to_string(&TaskUpdate::failed(Some("u".into()), None)).expect("json");
        assert_eq!(held_for_bind(Some(&json), "t").expect("held"), None);
        assert_eq!(held_for_bind(None, "t").expect("held"), None);
        assert!(matches!(
            held_for_bind(Some("{\"success\":1}"), "t"),
            Err(StoreError::Corrupt { .. })
        ));
    }

    #[test]
    fn binds_need_the_token_of_the_same_provider_and_task() {
        let key = TaskKey::new("piapi", "t");
        assert!(check_bind(None, &key).is_err());
        assert!(check_bind(Some(token(None, None)), &TaskKey::new("aifaceswap", "t")).is_err());
        assert!(check_bind(Some(token(Some("u"), None)), &key).is_err());
        assert!(check_bind(Some(token(Some("t"), None)), &key).is_ok());
        assert!(check_bind(Some(token(None, None)), &key).is_ok());
    }

    #[test]
    fn only_a_terminal_update_moves_a_pending_task() {
        let failure = TaskUpdate {
            result_url: Some("https://ignored.example".into()),
            result_info: Some(ResultInfo {
                width: Some(1),
                ..ResultInfo::default()
            }),
            ..TaskUpdate::failed(None, Some("no face".into()))
        };
        assert_eq!(
            transition(&view(TaskStatus::Pending), &failure, None),
            Some(TaskChange {
                status: TaskStatus::Failed,
                kind: Some(3),
                result_url: None,
                provider_result_url: None,
                error: Some("no face".into()),
                result_info: None,
            })
        );
        let success = TaskUpdate {
            kind: Some(4),
            error: Some("ignored".into()),
            ..TaskUpdate::succeeded(None, "https://r.example/x".into()).with_result_info(
                ResultInfo {
                    width: Some(640),
                    height: Some(480),
                    size: Some(9),
                },
            )
        };
        assert_eq!(
            transition(&view(TaskStatus::Pending), &success, None),
            Some(TaskChange {
                status: TaskStatus::Succeeded,
                kind: Some(4),
                result_url: Some("https://r.example/x".into()),
                provider_result_url: None,
                error: None,
                result_info: Some(r#"{"width":640,"height":480,"size":9}"#.into()),
            })
        );
        assert_eq!(
            transition(&view(TaskStatus::Pending), &TaskUpdate::pending(None), None),
            None
        );
        for ended in [
            TaskStatus::Succeeded,
            TaskStatus::Failed,
            TaskStatus::TimedOut,
        ] {
            assert_eq!(transition(&view(ended), &success, None), None);
        }
        // Kept results: the copy's URL, the provider's beside it; a failure has neither.
        let kept = transition(
            &view(TaskStatus::Pending),
            &success,
            Some("https://proxy.example/results"),
        )
        .expect("a change");
        assert_eq!(
            kept.result_url.as_deref(),
            Some("https://proxy.example/results/piapi/t")
        );
        assert_eq!(
            kept.provider_result_url.as_deref(),
            Some("https://r.example/x")
        );
        let failed = transition(
            &view(TaskStatus::Pending),
            &failure,
            Some("https://proxy.example/results"),
        )
        .expect("a change");
        assert_eq!(
            (failed.result_url, failed.provider_result_url),
            (None, None)
        );
    }

    #[test]
    fn idempotency_keys_start_replay_conflict_wait_and_expire() {
        let row = |done: bool, created_ms| IdempotencyRow {
            fingerprint: "a".into(),
            done,
            status: done.then_some(201),
            body: done.then(|| b"{}".to_vec()),
            created_ms,
        };
        let step = |row, fp, now| idempotency_step(row, fp, now, 1000, 100).expect("step");
        assert_eq!(step(None, "a", 0), IdempotencyStep::Insert);
        assert_eq!(
            step(Some(row(false, 0)), "a", 1),
            IdempotencyStep::Answer(IdempotencyBegin::InProgress)
        );
        assert_eq!(
            step(Some(row(true, 0)), "a", 1),
            IdempotencyStep::Answer(IdempotencyBegin::Replay(201, b"{}".to_vec()))
        );
        assert_eq!(
            step(Some(row(true, 0)), "b", 1),
            IdempotencyStep::Answer(IdempotencyBegin::Conflict)
        );
        assert_eq!(
            step(Some(row(false, 0)), "a", 101),
            IdempotencyStep::Restart
        );
        assert_eq!(
            step(Some(row(true, 0)), "b", 1001),
            IdempotencyStep::Restart
        );
        let broken = IdempotencyRow {
            status: None,
            ..row(true, 0)
        };
        assert!(matches!(
            idempotency_step(Some(broken), "a", 1, 1000, 100),
            Err(StoreError::Corrupt { .. })
        ));
    }
}
