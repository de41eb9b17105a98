//! `POST /api/{provider}/{route}`: validate with the provider's adapter, apply the limits and the
//! idempotency key, make a callback token for task operations, call the provider once, bind the
//! task it started, and answer its JSON (unchanged, unless the adapter removes an echoed secret).

use axum::body::to_bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use faceswap_core::provider::{
    Adapter, CallbackTarget, OperationSpec, Prepared, ResultDelivery, SubmitOutcome,
};
use faceswap_core::FieldError;
use std::net::IpAddr;
use std::time::Duration;

use crate::fetch::{fetch_url_inputs, FetchPolicy};
use crate::idempotency::{self, Begin, Fingerprint};
use crate::limits;
use crate::poller::millis;
use crate::providers::{Mode, ServedProvider};
use crate::routes::form::{read_form, SpooledFiles};
use crate::routes::{checked_update, now_ms};
use crate::store::{NewTask, NewToken, TaskKey};
use crate::tokens;
use crate::upstream::{fault_error, judge, now_secs};
use crate::{AppError, AppState};

fn json_response(status: u16, body: impl Into<axum::body::Body>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Whether the request's `Content-Type` is the media type `essence` (parameters aside).
fn has_media_type(request: &Request, essence: &[u8]) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| {
            let value = value.as_bytes();
            let end = value.iter().position(|&b| b == b';').unwrap_or(value.len());
            value
                .get(..end)
                .is_some_and(|media| media.trim_ascii().eq_ignore_ascii_case(essence))
        })
}

/// Whether the request's body is a multipart form (by its `Content-Type`).
pub fn is_multipart(request: &Request) -> bool {
    has_media_type(request, b"multipart/form-data")
}

/// Whether the request's body is labelled JSON. Only `application/json` is: a browser must ask
/// (preflight) before sending it from another origin, which `text/plain` or a form would not.
pub fn is_json(request: &Request) -> bool {
    has_media_type(request, b"application/json")
}

/// The longest one upstream call of `adapter` may take: the proxy's upstream timeout, or the
/// adapter's longest wait where that is longer ([`Adapter::longest_upstream_wait`]).
fn longest_call(state: &AppState, adapter: &dyn Adapter) -> Duration {
    let timeout = state.config.upstream_timeout;
    adapter
        .longest_upstream_wait()
        .map_or(timeout, |wait| wait.max(timeout))
}

/// Forwards one submit of an admitted `client` to `route` of the provider `adapter`. The whole
/// submit, body upload included, ends with 504 `upstream_timeout` after twice the longest
/// upstream call of the provider and a minute.
pub async fn submit(
    state: AppState,
    client: IpAddr,
    adapter: &'static dyn Adapter,
    route: &'static str,
    request: Request,
) -> Result<Response, AppError> {
    let limit = longest_call(&state, adapter) * 2 + Duration::from_secs(60);
    tokio::time::timeout(
        limit,
        submit_within(&state, client, adapter, route, request),
    )
    .await
    .map_err(|_| AppError::UpstreamTimeout)?
}

async fn submit_within(
    state: &AppState,
    client: IpAddr,
    adapter: &'static dyn Adapter,
    route: &'static str,
    request: Request,
) -> Result<Response, AppError> {
    let provider = state.provider(adapter.info().id)?;
    let key = idempotency::key_from(request.headers())?;
    let mut fingerprint = Fingerprint::new(&format!("{}/{route}", adapter.info().id));
    let operations: Vec<&OperationSpec> = adapter
        .operations()
        .iter()
        .filter(|op| op.route == route)
        .collect();
    let first = operations
        .first()
        .ok_or_else(|| AppError::not_found("no such operation"))?;

    // Validate everything before anything is spent or sent.
    let (prepared, mut files) = if is_multipart(&request) {
        if operations.iter().all(|op| op.file_fields.is_empty()) {
            return Err(AppError::UnsupportedMediaType {
                message: format!("{} takes a JSON body, not a multipart form", first.name),
                field: None,
            });
        }
        let multipart = Multipart::from_request(request, state)
            .await
            .map_err(|e| AppError::from(FieldError::new("body", e.body_text())))?;
        let spool_dir = state.config.upload_dir.join(".spool");
        let (mut form, mut files) = read_form(
            &operations,
            multipart,
            &spool_dir,
            state.config.upload_max_bytes,
            &mut fingerprint,
        )
        .await?;
        if adapter.files_only() {
            // Every field is checked before any URL input is read.
            adapter.prepare_form(route, &form)?;
            let policy = FetchPolicy::new(&state.config, state.uploads.clone());
            fetch_url_inputs(&policy, &operations, &mut form, &mut files, &spool_dir).await?;
        }
        (adapter.prepare_form(route, &form)?, files)
    } else {
        if !operations.iter().any(|op| op.accepts_json) {
            return Err(AppError::UnsupportedMediaType {
                message: format!("{} takes a multipart form, not JSON", first.name),
                field: None,
            });
        }
        if !is_json(&request) {
            return Err(AppError::UnsupportedMediaType {
                message: format!(
                    "{} takes a JSON body sent as Content-Type: application/json",
                    first.name
                ),
                field: None,
            });
        }
        let limit = usize::try_from(state.config.json_max_bytes).unwrap_or(usize::MAX);
        let body = to_bytes(request.into_body(), limit).await.map_err(|_| {
            AppError::too_large(format!("the JSON body is larger than {limit} bytes"))
        })?;
        fingerprint.update(&body);
        (adapter.prepare_json(route, &body)?, SpooledFiles::default())
    };

    let stale_ms = millis(longest_call(state, adapter) * 2);
    let key = match idempotency::begin(
        state.store.as_ref(),
        client,
        key,
        fingerprint,
        now_ms(),
        stale_ms,
    )
    .await?
    {
        Begin::Replay(status, body) => return Ok(json_response(status, body)),
        Begin::Proceed(key) => key,
    };
    let result = Box::pin(forward(state, provider, client, &prepared, &mut files)).await;
    if let Some(key) = key {
        let recorded = match &result {
            Ok(body) => state.store.idempotency_finish(&key, 200, body).await,
            Err(_) => state.store.idempotency_abandon(&key).await,
        };
        if let Err(err) = recorded {
            tracing::error!(error = %err, "idempotency record");
        }
    }
    result.map(|body| json_response(200, body))
}

/// A task operation's callback token, recorded before the upstream call.
struct Token {
    hash: String,
    callback: CallbackTarget,
}

async fn make_token(
    state: &AppState,
    provider: &ServedProvider,
    prepared: &Prepared,
) -> Result<Token, AppError> {
    let info = provider.adapter.info();
    let token = tokens::new_token()?;
    let secret = match info.callback_secret_header {
        Some(_) => Some(tokens::new_token()?),
        None => None,
    };
    let hash = tokens::hash(&token);
    state
        .store
        .create_token(&NewToken {
            token_hash: hash.clone(),
            provider: info.id.to_owned(),
            operation: prepared.operation.name.to_owned(),
            secret_hash: secret.as_deref().map(tokens::hash),
            now_ms: now_ms(),
        })
        .await?;
    let callback = CallbackTarget {
        url: format!("{}/hooks/{}/{token}", state.config.public_url, info.id),
        secret,
    };
    Ok(Token { hash, callback })
}

async fn forward(
    state: &AppState,
    provider: &ServedProvider,
    client: IpAddr,
    prepared: &Prepared,
    files: &mut SpooledFiles,
) -> Result<Bytes, AppError> {
    let adapter = provider.adapter;
    // A provider whose own budget is spent is not called (nor is anything charged) until its reset.
    state.provider_budgets.check(adapter, now_secs())?;
    let charge = limits::charge(
        state,
        client,
        adapter.info().id,
        provider.settings.spend_cap_per_hour,
        prepared.cost,
    )
    .await?;
    let token = match prepared.operation.starts_task {
        true => Some(make_token(state, provider, prepared).await?),
        false => None,
    };
    let callback = token
        .as_ref()
        .filter(|_| adapter.info().delivery.calls_back())
        .map(|token| &token.callback);
    let result: Result<Bytes, AppError> = async {
        let mut request =
            adapter.upstream_request(prepared, callback, &provider.settings.adapter_settings)?;
        // A request may ask for longer than the proxy's timeout, never beyond the adapter's
        // longest wait.
        request.timeout = request
            .timeout
            .map(|asked| asked.min(longest_call(state, adapter)));
        let answer = state
            .upstream
            .send(&provider.target, request, files)
            .await?;
        state
            .provider_budgets
            .observe(adapter, &answer.headers, now_secs());
        let body = judge(answer, adapter, &provider.target)?;
        let outcome = adapter
            .read_submit(prepared, &body)
            .map_err(|fault| fault_error(fault, None, &provider.target))?;
        if let Some(token) = &token {
            bind(state, provider, prepared, &token.hash, outcome).await?;
        }
        Ok(Bytes::from(adapter.browser_answer(&body)))
    }
    .await;
    match result {
        Ok(body) => {
            charge.keep();
            Ok(body)
        }
        Err(err) => {
            charge.give_back().await;
            if let Some(token) = token {
                if let Err(e) = state.store.discard_token(&token.hash).await {
                    tracing::error!(error = %e, "discard token");
                }
            }
            tracing::info!(
                provider = adapter.info().id,
                operation = prepared.operation.name,
                error = %err.code(),
                "submit failed"
            );
            Err(err)
        }
    }
}

/// How long after its submit a task of `provider` is first polled: `None` when it is never
/// polled. A provider that calls back waits for the callback first (`{ID}_POLL_AFTER_MS`). A
/// provider that is only polled waits `{ID}_POLL_AFTER_MS` where the operator set it, else its
/// typical task time (a poll before the result only spends a request of the key's budget), and
/// in sandbox mode only the poll interval. Never less than the poll interval.
pub fn first_poll_after(state: &AppState, provider: &ServedProvider) -> Option<Duration> {
    let interval = state.config.poll_interval;
    let wait = match provider.adapter.info().delivery {
        ResultDelivery::Callback => return None,
        ResultDelivery::CallbackThenPolling => provider.settings.poll_after.unwrap_or_default(),
        ResultDelivery::Polling => {
            provider
                .settings
                .poll_after
                .unwrap_or_else(|| match provider.mode {
                    Mode::Sandbox => interval,
                    Mode::Live => provider.adapter.typical_task_time().unwrap_or(interval),
                })
        }
    };
    Some(match provider.adapter.info().delivery {
        ResultDelivery::Polling => wait.max(interval),
        _ => wait,
    })
}

/// Stores the task a submit started (or finished), bound to its token.
async fn bind(
    state: &AppState,
    provider: &ServedProvider,
    prepared: &Prepared,
    token_hash: &str,
    outcome: SubmitOutcome,
) -> Result<(), AppError> {
    let (task_id, points, finished) = match outcome {
        SubmitOutcome::Started { task_id, points } => (task_id, points, None),
        SubmitOutcome::Finished { task_id, update } => {
            (task_id, None, Some(checked_update(provider.id(), update)))
        }
        SubmitOutcome::Immediate => {
            return Err(AppError::UpstreamError(
                "the provider's answer has no task_id".into(),
            ))
        }
    };
    let now = now_ms();
    let first_poll = first_poll_after(state, provider);
    let key = TaskKey::new(provider.id(), task_id);
    let view = state
        .store
        .bind_task(&NewTask {
            token_hash: token_hash.to_owned(),
            key: key.clone(),
            points,
            cost: Some(prepared.cost),
            next_poll_ms: first_poll.map(|wait| now.saturating_add(millis(wait))),
            deadline_after_ms: millis(state.config.task_deadline),
            now_ms: now,
        })
        .await?;
    tracing::info!(provider = %view.provider, task_id = ?view.task_id, status = %view.status, "task submitted");
    if let Some(update) = finished {
        state.store.apply(&key, &update, now).await?;
    }
    Ok(())
}
