//! `POST /api/{provider}/{route}`: validate with the provider's adapter, apply the limits and the
//! idempotency key, make a callback token for task operations, call the provider once, bind the
//! task it started, and answer its JSON (unchanged, unless the adapter removes an echoed secret).

use axum::body::to_bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use faceswap_core::media::DIMENSIONS_PREFIX;
use faceswap_core::provider::{
    billed_duration, Adapter, CallbackTarget, FormInput, OperationSpec, Prepared, ResultDelivery,
    SubmitOutcome,
};
use faceswap_core::FieldError;
use futures_util::StreamExt;
use std::time::{Duration, Instant};

use crate::fetch::{fetch_url_inputs, FetchPolicy};
use crate::idempotency::{self, Begin, Fingerprint};
use crate::limits::{self, Principal};
use crate::poller::millis;
use crate::providers::{Mode, ServedProvider};
use crate::routes::form::{read_form, SpooledFiles};
use crate::routes::{checked_update, now_ms};
use crate::settlement::{settle, unaccepted, CallEnd, Settlement};
use crate::store::{NewTask, NewToken, TaskKey};
use crate::upstream::{fault_error, judge, now_secs};
use crate::{telemetry, tokens};
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
    let timeout = state.config.limits.upstream_timeout;
    adapter
        .longest_upstream_wait()
        .map_or(timeout, |wait| wait.max(timeout))
}

/// Forwards one submit of an admitted `client` to `route` of the provider `adapter`. The whole
/// submit, body upload included, ends with 504 `upstream_timeout` after twice the longest
/// upstream call of the provider and a minute.
pub async fn submit(
    state: AppState,
    client: Principal,
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
    client: Principal,
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
    let (prepared, mut files, pending) = if is_multipart(&request) {
        if operations.iter().all(|op| op.file_fields.is_empty()) {
            return Err(AppError::UnsupportedMediaType {
                message: format!("{} takes a JSON body, not a multipart form", first.name),
                field: None,
            });
        }
        let multipart = Multipart::from_request(request, state)
            .await
            .map_err(|e| AppError::from(FieldError::new("body", e.body_text())))?;
        let spool_dir = state.config.storage.upload_dir.join(".spool");
        let (form, files) = read_form(
            &operations,
            multipart,
            &spool_dir,
            state.config.limits.upload_max_bytes,
            &mut fingerprint,
        )
        .await?;
        // Every field is checked (and the request priced) before any URL input is read; the
        // URL inputs of a files-only provider are read once the submit is within its limits.
        let prepared = adapter.prepare_form(route, &form)?;
        let pending = adapter.files_only().then(|| PendingFetch {
            route,
            operations: operations.clone(),
            form,
            spool_dir,
        });
        (prepared, files, pending)
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
        let limit = usize::try_from(state.config.limits.json_max_bytes).unwrap_or(usize::MAX);
        let body = to_bytes(request.into_body(), limit).await.map_err(|_| {
            AppError::too_large(format!("the JSON body is larger than {limit} bytes"))
        })?;
        fingerprint.update(&body);
        (
            adapter.prepare_json(route, &body)?,
            SpooledFiles::default(),
            None,
        )
    };

    let prepared = price_video(state, adapter, prepared).await?;
    check_own_images(state, adapter, &prepared).await?;

    let stale_ms = millis(longest_call(state, adapter) * 2);
    let key = match idempotency::begin(
        state.store.as_ref(),
        &client,
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
    let mut ended = None;
    let result = Box::pin(forward(
        state, provider, &client, prepared, &mut files, pending, &mut ended,
    ))
    .await;
    if let Some(key) = key {
        // A failure after the request reached the provider with no answer saying what became of
        // it (a timeout, a dropped connection) is kept under the key like an answer: the provider
        // may have started a task, so a retry with the same key must not call it again. Any other
        // failure frees the key for a retry.
        let recorded = match (&result, ended) {
            (Ok(body), _) => state.store.idempotency_finish(&key, 200, body).await,
            (Err(err), Some(CallEnd::Unknown)) => {
                let (status, body) = err.stored_answer();
                state.store.idempotency_finish(&key, status, &body).await
            }
            (Err(_), _) => state.store.idempotency_abandon(&key).await,
        };
        if let Err(err) = recorded {
            tracing::error!(error = %err, "idempotency record");
        }
    }
    result.map(|body| json_response(200, body))
}

/// Prices a request's video by what the proxy knows of it: core's rule
/// ([`billed_duration`]), given the duration read from the container of the proxy's own upload
/// (`PUBLIC_URL/uploads/{name}`) when the URL names one.
async fn price_video(
    state: &AppState,
    adapter: &dyn Adapter,
    prepared: Prepared,
) -> Result<Prepared, AppError> {
    let Some(video) = adapter.video_input(&prepared) else {
        return Ok(prepared);
    };
    let own = format!("{}/uploads/", state.config.listen.public_url());
    let known_ms = match video.url.strip_prefix(&own) {
        Some(name) => state
            .uploads
            .meta(name)
            .await?
            .and_then(|meta| meta.duration_ms),
        None => None,
    };
    let seconds = billed_duration(video.declared, known_ms)?;
    Ok(adapter.with_duration(&prepared, seconds)?)
}

/// Checks the images a request names by the URL of one of the proxy's own uploads against the
/// provider's size limit ([`Adapter::limited_images`]), reading each image's header from the
/// upload store: an image the provider would refuse is refused here, before anything is spent.
/// Other URLs cannot be measured without fetching them and are left to the provider.
async fn check_own_images(
    state: &AppState,
    adapter: &dyn Adapter,
    prepared: &Prepared,
) -> Result<(), AppError> {
    let own = format!("{}/uploads/", state.config.listen.public_url());
    for image in adapter.limited_images(prepared) {
        let Some(name) = image.url.strip_prefix(&own) else {
            continue;
        };
        let Some(meta) = state.uploads.meta(name).await? else {
            continue;
        };
        let prefix = u64::try_from(DIMENSIONS_PREFIX).unwrap_or(u64::MAX);
        let mut stream = state.uploads.read(&meta, 0..meta.size.min(prefix)).await?;
        let mut head = Vec::new();
        while let Some(chunk) = stream.next().await {
            head.extend_from_slice(&chunk?);
        }
        image.max.check(image.field, &head)?;
    }
    Ok(())
}

/// A task operation's callback token, recorded before the upstream call.
struct Token {
    hash: String,
    callback: CallbackTarget,
    /// The user of the app its task will belong to, if the proxy has users.
    owner: Option<String>,
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
        url: format!(
            "{}/hooks/{}/{token}",
            state.config.listen.public_url(),
            info.id
        ),
        secret,
    };
    Ok(Token {
        hash,
        callback,
        owner: None,
    })
}

/// The URL inputs of a files-only provider's form, read once the submit is charged: a client
/// over its limits makes the proxy download nothing.
struct PendingFetch {
    route: &'static str,
    operations: Vec<&'static OperationSpec>,
    form: FormInput,
    spool_dir: std::path::PathBuf,
}

impl PendingFetch {
    /// Reads the URL inputs into `files` and prepares the form with them.
    async fn read(
        mut self,
        state: &AppState,
        adapter: &dyn Adapter,
        files: &mut SpooledFiles,
    ) -> Result<Prepared, AppError> {
        let policy = FetchPolicy::new(&state.config, state.uploads.clone());
        fetch_url_inputs(
            &policy,
            &self.operations,
            &mut self.form,
            files,
            &self.spool_dir,
        )
        .await?;
        Ok(adapter.prepare_form(self.route, &self.form)?)
    }
}

/// Charges and sends a checked submit; `ended` tells how far the upstream call got, once it ran.
async fn forward(
    state: &AppState,
    provider: &ServedProvider,
    client: &Principal,
    prepared: Prepared,
    files: &mut SpooledFiles,
    pending: Option<PendingFetch>,
    ended: &mut Option<CallEnd>,
) -> Result<Bytes, AppError> {
    let adapter = provider.adapter;
    // A provider whose own budget is spent is not called (nor is anything charged) until its reset.
    state.provider_budgets.check(adapter, now_secs())?;
    let mut charge = limits::charge(
        state,
        client,
        adapter.info().id,
        provider.settings.spend_cap_per_hour,
        prepared.cost,
    )
    .await?;
    let prepared = match pending {
        None => prepared,
        Some(pending) => match pending.read(state, adapter, files).await {
            Ok(prepared) => prepared,
            Err(err) => {
                charge.settle(Settlement::GiveBack).await;
                return Err(err);
            }
        },
    };
    let prepared = &prepared;
    let token = match prepared.operation.starts_task {
        true => Some(Token {
            owner: match client {
                Principal::User(sub) => Some(sub.clone()),
                Principal::Addr(_) => None,
            },
            ..make_token(state, provider, prepared).await?
        }),
        false => None,
    };
    let callback = token
        .as_ref()
        .filter(|_| adapter.info().delivery.calls_back())
        .map(|token| &token.callback);
    let (result, end) = call(
        state,
        provider,
        prepared,
        callback,
        token.as_ref(),
        files,
        &mut charge,
    )
    .await;
    *ended = Some(end);
    let settlement = settle(end);
    charge.settle(settlement).await;
    let spent = match settlement {
        Settlement::GiveBack => 0.0,
        Settlement::Keep => prepared.cost.amount,
        Settlement::CorrectTo(amount) => amount,
    };
    telemetry::spent(adapter.info().id, prepared.cost.unit, spent);
    match result {
        Ok(body) => Ok(body),
        Err(err) => {
            // A task the provider may have made keeps its token: its callback is still heard.
            if let (Some(token), CallEnd::NotSent | CallEnd::Refused) = (token, end) {
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

/// The upstream call of a charged submit, and how far it got ([`crate::settlement`]). The charge
/// stands from the moment the request is sent.
async fn call(
    state: &AppState,
    provider: &ServedProvider,
    prepared: &Prepared,
    callback: Option<&CallbackTarget>,
    token: Option<&Token>,
    files: &mut SpooledFiles,
    charge: &mut limits::Charge,
) -> (Result<Bytes, AppError>, CallEnd) {
    let adapter = provider.adapter;
    let mut request =
        match adapter.upstream_request(prepared, callback, &provider.settings.adapter_settings) {
            Ok(request) => request,
            Err(err) => return (Err(err.into()), CallEnd::NotSent),
        };
    // A request may ask for longer than the proxy's timeout, never beyond the adapter's longest
    // wait.
    request.timeout = request
        .timeout
        .map(|asked| asked.min(longest_call(state, adapter)));
    charge.sending();
    let started = Instant::now();
    let answer = state.upstream.call(&provider.target, request, files).await;
    telemetry::upstream_call(provider.id(), prepared.operation.name, started.elapsed());
    let answer = match answer {
        Ok(answer) => answer,
        Err(unanswered) => {
            let end = match unanswered.sent {
                true => CallEnd::Unknown,
                false => CallEnd::NotSent,
            };
            return (Err(unanswered.error), end);
        }
    };
    state
        .provider_budgets
        .observe(adapter, &answer.headers, now_secs());
    let status = answer.status.as_u16();
    let body = match judge(answer, adapter, &provider.target) {
        Ok(body) => body,
        Err(err) => return (Err(err), unaccepted(status)),
    };
    let outcome = match adapter.read_submit(prepared, &body) {
        Ok(outcome) => outcome,
        Err(fault) => {
            let end = match fault.unreadable {
                true => CallEnd::Unknown,
                false => CallEnd::Refused,
            };
            return (Err(fault_error(fault, None, &provider.target)), end);
        }
    };
    let charged = match &outcome {
        SubmitOutcome::Started {
            points: Some(points),
            ..
        } => Some(*points as f64),
        _ => None,
    };
    if let Some(token) = token {
        if let Err(err) = bind(state, provider, prepared, token, outcome).await {
            // The provider has the task: its charge stands.
            return (Err(err), CallEnd::Accepted { charged });
        }
    }
    (
        Ok(Bytes::from(adapter.browser_answer(&body))),
        CallEnd::Accepted { charged },
    )
}

/// How long after its submit a task of `provider` is first polled: `None` when it is never
/// polled. A provider that calls back waits for the callback first (`{ID}_POLL_AFTER_MS`). A
/// provider that is only polled waits `{ID}_POLL_AFTER_MS` where the operator set it, else its
/// typical task time (a poll before the result only spends a request of the key's budget), and
/// in sandbox mode only the poll interval. Never less than the poll interval.
pub fn first_poll_after(state: &AppState, provider: &ServedProvider) -> Option<Duration> {
    let interval = state.config.timings.poll_interval;
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
    token: &Token,
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
            token_hash: token.hash.clone(),
            key: key.clone(),
            points,
            cost: Some(prepared.cost),
            next_poll_ms: first_poll.map(|wait| now.saturating_add(millis(wait))),
            deadline_after_ms: millis(state.config.timings.task_deadline),
            now_ms: now,
            owner: token.owner.clone(),
        })
        .await?;
    tracing::info!(provider = %view.provider, task_id = ?view.task_id, status = %view.status, "task submitted");
    telemetry::task_started(provider.id());
    // A callback held until this bind may have finished it already.
    if view.status.is_terminal() {
        telemetry::task_finished(provider.id(), view.status);
    }
    if let Some(update) = finished {
        if let Some((true, view)) = state.store.apply(&key, &update, now).await? {
            telemetry::task_finished(provider.id(), view.status);
        }
    }
    Ok(())
}
