//! AceData's API: `POST /face/swap` with `Authorization: Bearer KEY`, the JSON body validated by
//! [`faceswap_core::acedata`], errors in AceData's envelope
//! `{"success":false,"error":{"code","message"},"trace_id"}`.
//!
//! The source image's face goes onto the target's largest face. Without `callback_url` the
//! answer waits for the image: `{image_url, image_width, image_height, image_size, task_id}`.
//! With it, the answer is `{task_id}` at once, and the result is POSTed there later as AceData
//! describes its callback: the answer's fields and `task_id`, `{task_id, image_url, image_width,
//! image_height, image_size}`, no `success` (a failure: `{task_id, error}`, the sandbox's shape),
//! under the webhook fault knobs; `undocumented_shapes` adds `success`. The fault knobs answer as AceData does:
//! `rate_limit_next` as 429 `too_many_requests`, `refuse_next` as 403 `forbidden`, `error_next`
//! as 500 `api_error` (504 `timeout` with `error_status` 504), `latency_ms` slows every call.

mod answer;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use faceswap_core::acedata::{Request, PROVIDER, SUBMIT_PATH};
use faceswap_core::provider::Cost;
use faceswap_core::FieldError;
use serde::Deserialize;
use serde_json::json;

use crate::engine::fetch::{Source, Uploads};
use crate::engine::tasks::{self, Job, Task, TaskError};
use crate::engine::webhook::Delivery;
use crate::error::ApiError;
use crate::faults;
use crate::providers::auth;
use crate::state::SandboxState;

pub use answer::{error_answer, error_code};

/// AceData's routes.
pub fn router() -> Router<SandboxState> {
    Router::new().route(&format!("/{SUBMIT_PATH}"), post(face_swap))
}

/// The `callback_url` of a request, which core drops (being the caller's) and the sandbox
/// honours.
#[derive(Deserialize)]
struct WithCallback {
    #[serde(default)]
    callback_url: Option<String>,
}

/// `POST /face/swap`.
async fn face_swap(State(state): State<SandboxState>, headers: HeaderMap, body: Bytes) -> Response {
    match swap(state, &headers, &body).await {
        Ok(answer) => answer,
        Err(err) => error_answer(&err),
    }
}

async fn swap(state: SandboxState, headers: &HeaderMap, body: &[u8]) -> Result<Response, ApiError> {
    if let Some(fault) = ApiError::injected(faults::before_call(&state).await) {
        return Err(fault);
    }
    if !auth::has_key(PROVIDER.auth, headers, &state.config().api_key) {
        return Err(ApiError::unauthorized(&auth::how_to_send(PROVIDER.auth)));
    }
    let request = Request::from_json(body)?;
    let callback = serde_json::from_slice::<WithCallback>(body)
        .map_err(|_| {
            ApiError::field(FieldError::new(
                "callback_url",
                "callback_url must be a URL",
            ))
        })?
        .callback_url;
    if let Some(url) = &callback {
        state.fetcher().policy().check("callback_url", url)?;
    }
    let policy = state.fetcher().policy();
    let no_uploads = Uploads::default();
    policy.check_input("source_image_url", &request.source_image_url, &no_uploads)?;
    policy.check_input("target_image_url", &request.target_image_url, &no_uploads)?;
    let task_id = tasks::new_task_id().map_err(|err| {
        tracing::error!("no randomness for a task id: {err}");
        ApiError::internal()
    })?;
    let task = Task {
        task_id: task_id.clone(),
        provider: PROVIDER.id,
        operation: "face_swap".to_owned(),
        cost: Cost::new(1.0, PROVIDER.cost_unit),
        job: Job::LargestFaceSwap {
            source: Source::new("target_image_url", &request.target_image_url),
            face: Source::new("source_image_url", &request.source_image_url),
        },
        uploads: no_uploads,
    };
    tasks::register(&state, &task);
    match callback {
        None => {
            let outcome = tasks::run(&state, &task).await;
            answer::result(&state, &task_id, outcome)
                .await
                .map(|result| Json(result).into_response())
        }
        Some(url) => {
            let run = call_back(state.clone(), task, url);
            if state.faults().webhook_before_response {
                run.await;
            } else {
                tokio::spawn(run);
            }
            Ok(Json(json!({ "task_id": task_id })).into_response())
        }
    }
}

/// Runs a task and POSTs its end to `url`, under the webhook fault knobs.
async fn call_back(state: SandboxState, task: Task, url: String) {
    let outcome = tasks::run(&state, &task).await;
    // As the page describes it: the answer's fields and `task_id`, no `success`. A failure
    // carries AceData's error object (the sandbox's shape: the page shows none). The
    // `undocumented_shapes` knob adds a `success` flag to both.
    let with_success = state.faults().undocumented_shapes;
    let body = match answer::result(&state, &task.task_id, outcome).await {
        Ok(mut result) => {
            if with_success {
                result["success"] = json!(true);
            }
            result
        }
        Err(err) => {
            let mut failure = json!({
                "task_id": task.task_id,
                "error": { "code": error_code(&err), "message": err.message },
            });
            if with_success {
                failure["success"] = json!(false);
            }
            failure
        }
    };
    let body = match serde_json::to_vec(&body) {
        Ok(body) => body,
        Err(err) => {
            tracing::error!(task_id = %task.task_id, "callback body not written: {err}");
            return;
        }
    };
    let delivery = Delivery {
        task_id: task.task_id.clone(),
        url,
        body,
        headers: Vec::new(),
    };
    state.webhooks().deliver(delivery, &state.faults()).await;
}

/// Why a task failed, as AceData would answer it: a fault in an input (no face, an image that
/// does not decode or cannot be fetched) is 400 naming the field; the rest is AceData's own
/// failure, 500 `api_error`.
fn task_error(err: &TaskError) -> ApiError {
    match err {
        TaskError::Fetch(fetch) => {
            ApiError::new(axum::http::StatusCode::BAD_REQUEST, fetch.to_string())
                .with_field(fetch.field.clone())
        }
        TaskError::Job(job) => ApiError::new(axum::http::StatusCode::BAD_REQUEST, job.to_string()),
        other => ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            other.to_string(),
        ),
    }
}
