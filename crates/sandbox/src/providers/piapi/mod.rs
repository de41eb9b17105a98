//! PiAPI's API: `POST /api/v1/task` (Create Task) and `GET /api/v1/task/{task_id}` (Get Task)
//! with the key in `x-api-key`, JSON bodies validated by [`faceswap_core::piapi`], answers in
//! its envelope (`{"code":200,"data":task,"message":"success"}`) and errors as
//! `{"code":status,"data":null,"message":...}`.
//!
//! `Qubico/image-toolkit` `face-swap` replaces the target's largest face; `multi-face-swap`
//! puts face `swap_faces_index[i]` of the swap image onto face `target_faces_index[i]` of the
//! target (faces counted from 0, left to right); `Qubico/video-toolkit` `face-swap` swaps every
//! face of the video for the swap image's largest face, or pairs faces by place in each frame
//! when both index lists are given. Inputs are URLs (fetched under the engine's origin policy)
//! or base64.
//!
//! When `config.webhook_config.endpoint` is set, each task POSTs `{"timestamp", "data": task}`
//! there with `config.webhook_config.secret` in `x-webhook-secret`: a `processing` one, the
//! terminal one (`completed` or `failed`, under the fault knobs), then a duplicate of it, as
//! PiAPI retries. Get Task writes a completed task's status as `Completed`, as PiAPI sometimes
//! does. The task object echoes `config` with the secret, as PiAPI's does.

mod task;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use faceswap_core::piapi::{Request, PROVIDER};
use faceswap_core::provider::Cost;
use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::engine::tasks::{self, Task};
use crate::engine::webhook::Delivery;
use crate::error::ApiError;
use crate::faults::{self, Faults};
use crate::providers::auth;
use crate::state::SandboxState;

use task::{envelope, get_task_status, webhook_status, Config, Kept, WebhookConfig};

/// PiAPI's routes.
pub fn router() -> Router<SandboxState> {
    Router::new()
        .route("/api/v1/task", post(create_task))
        .route("/api/v1/task/{task_id}", get(get_task))
}

/// An [`ApiError`] in PiAPI's shape.
fn answer_error(err: ApiError) -> Response {
    let body = json!({ "code": err.status.as_u16(), "data": Value::Null, "message": err.message });
    let mut response = (err.status, Json(body)).into_response();
    if let Some(secs) = err.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

/// The fault knobs' share of one call, then the key check.
async fn admit(state: &SandboxState, headers: &HeaderMap) -> Result<(), ApiError> {
    if let Some(fault) = ApiError::injected(faults::before_call(state).await) {
        return Err(fault);
    }
    if !auth::has_key(PROVIDER.auth, headers, &state.config().api_key) {
        return Err(ApiError::unauthorized(&auth::how_to_send(PROVIDER.auth)));
    }
    Ok(())
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `POST /api/v1/task`.
async fn create_task(
    State(state): State<SandboxState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match start_task(state, &headers, &body).await {
        Ok(answer) => answer,
        Err(err) => answer_error(err),
    }
}

async fn start_task(
    state: SandboxState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    admit(&state, headers).await?;
    let request = Request::from_json(body)?;
    let config = Config::from_json(body)?;
    if let Some(hook) = &config.webhook_config {
        state
            .fetcher()
            .policy()
            .check("config.webhook_config.endpoint", &hook.endpoint)?;
    }
    let (job, uploads) = task::job(&request)?;
    for (field, url) in job_urls(&job) {
        state
            .fetcher()
            .policy()
            .check_input(&field, &url, &uploads)?;
    }
    let task_id = tasks::new_task_id().map_err(|err| {
        tracing::error!("no randomness for a task id: {err}");
        ApiError::internal()
    })?;
    let kept = Kept::new(&request, config, now_secs())?;
    let kept_value = serde_json::to_value(&kept).map_err(|err| {
        tracing::error!("a PiAPI request not kept: {err}");
        ApiError::internal()
    })?;
    state.put_request(&task_id, kept_value);
    let task = Task {
        task_id: task_id.clone(),
        provider: PROVIDER.id,
        operation: request.name().to_owned(),
        cost: Cost::new(request.price(), PROVIDER.cost_unit),
        job,
        uploads,
    };
    tasks::register(&state, &task);
    let run = run_task(state.clone(), task, kept.clone());
    if state.faults().webhook_before_response {
        run.await;
    } else {
        tokio::spawn(run);
    }
    let record = state.task(&task_id).ok_or_else(ApiError::internal)?;
    let document = kept.document(&record, webhook_status(record.status));
    Ok(Json(envelope(document)).into_response())
}

/// Every URL the job fetches, with its field, for the origin policy.
fn job_urls(job: &tasks::Job) -> Vec<(String, String)> {
    use tasks::Job;
    let pair = |a: &crate::engine::fetch::Source, b: &crate::engine::fetch::Source| {
        vec![
            (a.field.clone(), a.url.clone()),
            (b.field.clone(), b.url.clone()),
        ]
    };
    match job {
        Job::LargestFaceSwap { source, face }
        | Job::FaceSwap { source, face }
        | Job::PairedFaceSwap { source, face, .. } => pair(source, face),
        Job::VideoFaceSwap { video, face } | Job::PairedVideoFaceSwap { video, face, .. } => {
            pair(video, face)
        }
        Job::MultiFaceSwap { .. } | Job::MultiVideoFaceSwap { .. } => Vec::new(),
    }
}

/// One webhook of a task: `{"timestamp", "data": task}` with the secret in its header.
fn delivery(task_id: &str, hook: &WebhookConfig, task: Value) -> Option<Delivery> {
    let body = json!({ "timestamp": now_secs(), "data": task });
    let body = match serde_json::to_vec(&body) {
        Ok(body) => body,
        Err(err) => {
            tracing::error!(%task_id, "webhook body not written: {err}");
            return None;
        }
    };
    let headers = match (PROVIDER.callback_secret_header, &hook.secret) {
        (Some(name), Some(secret)) => vec![(name.to_owned(), secret.clone())],
        _ => Vec::new(),
    };
    Some(Delivery {
        task_id: task_id.to_owned(),
        url: hook.endpoint.clone(),
        body,
        headers,
    })
}

/// Runs a task and posts its webhooks: `processing`, the terminal one (under every fault knob),
/// and a duplicate of it; with the `drop_webhooks` knob none.
async fn run_task(state: SandboxState, task: Task, kept: Kept) {
    let faults = state.faults();
    // The extra webhooks go out once each, in order; only `drop_webhooks` applies to them.
    let plain = Faults {
        drop_webhooks: faults.drop_webhooks,
        ..Faults::default()
    };
    let hook = kept.config.webhook_config.clone();
    if let (Some(hook), Some(record)) = (&hook, state.task(&task.task_id)) {
        let processing = kept.document(&record, "processing");
        if let Some(d) = delivery(&task.task_id, hook, processing) {
            state.webhooks().deliver(d, &plain).await;
        }
    }
    // The outcome is in the task's record.
    let _ = tasks::run(&state, &task).await;
    let (Some(hook), Some(record)) = (hook, state.task(&task.task_id)) else {
        return;
    };
    let terminal = kept.document(&record, webhook_status(record.status));
    if let Some(d) = delivery(&task.task_id, &hook, terminal) {
        state.webhooks().deliver(d.clone(), &faults).await;
        state.webhooks().deliver(d, &plain).await;
    }
}

/// `GET /api/v1/task/{task_id}`.
async fn get_task(
    State(state): State<SandboxState>,
    Path(task_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match read_task(&state, &task_id, &headers).await {
        Ok(task) => Json(envelope(task)).into_response(),
        Err(err) => answer_error(err),
    }
}

async fn read_task(
    state: &SandboxState,
    task_id: &str,
    headers: &HeaderMap,
) -> Result<Value, ApiError> {
    admit(state, headers).await?;
    let not_found = || ApiError::not_found(format!("task {task_id} not found"));
    let record = state
        .task(task_id)
        .filter(|record| record.provider == PROVIDER.id)
        .ok_or_else(not_found)?;
    let kept: Kept = state
        .request(task_id)
        .and_then(|value| serde_json::from_value(value).ok())
        .ok_or_else(not_found)?;
    Ok(kept.document(&record, get_task_status(record.status)))
}
