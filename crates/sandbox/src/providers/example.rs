//! The example provider's API (`faceswap_core::example`, behind the feature
//! `example-provider`): `POST /v1/swap` with `Authorization: Bearer KEY` and
//! `{"target_url", "face_url", "webhook_url"}` answers `{"id"}`, then POSTs
//! `{"id", "state", "output_url" | "error"}` to `webhook_url` under the webhook fault knobs.
//! Errors are `{"error": message}` with the status.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use faceswap_core::example::{Request, PROVIDER, ROUTE};
use faceswap_core::provider::Cost;
use faceswap_core::FieldError;
use serde::Deserialize;
use serde_json::json;

use crate::engine::fetch::{Source, Uploads};
use crate::engine::tasks::{self, Job, Task};
use crate::engine::webhook::Delivery;
use crate::error::ApiError;
use crate::faults;
use crate::providers::auth;
use crate::state::SandboxState;

/// The example provider's route.
pub fn router() -> Router<SandboxState> {
    Router::new().route(&format!("/{ROUTE}"), post(swap))
}

/// The body's `webhook_url`, which core's request leaves out (being the proxy's).
#[derive(Deserialize)]
struct WithWebhook {
    webhook_url: String,
}

/// `POST /v1/swap`.
async fn swap(State(state): State<SandboxState>, headers: HeaderMap, body: Bytes) -> Response {
    match start(state, &headers, &body).await {
        Ok(id) => Json(json!({ "id": id })).into_response(),
        Err(err) => (err.status, Json(json!({ "error": err.message }))).into_response(),
    }
}

async fn start(state: SandboxState, headers: &HeaderMap, body: &[u8]) -> Result<String, ApiError> {
    if let Some(fault) = ApiError::injected(faults::before_call(&state).await) {
        return Err(fault);
    }
    if !auth::has_key(PROVIDER.auth, headers, &state.config().api_key) {
        return Err(ApiError::unauthorized(&auth::how_to_send(PROVIDER.auth)));
    }
    let webhook = serde_json::from_slice::<WithWebhook>(body)
        .map_err(|_| ApiError::field(FieldError::required("webhook_url")))?
        .webhook_url;
    state.fetcher().policy().check("webhook_url", &webhook)?;
    // Core's request refuses unknown fields: read it without the webhook.
    let mut without = serde_json::from_slice::<serde_json::Value>(body)
        .map_err(|_| ApiError::field(FieldError::new("body", "the body must be JSON")))?;
    if let Some(object) = without.as_object_mut() {
        object.remove("webhook_url");
    }
    let request = Request::from_json(&serde_json::to_vec(&without).unwrap_or_default())?;
    let uploads = Uploads::default();
    let policy = state.fetcher().policy();
    policy.check_input("target_url", &request.target_url, &uploads)?;
    policy.check_input("face_url", &request.face_url, &uploads)?;
    let task_id = tasks::new_task_id().map_err(|err| {
        tracing::error!("no randomness for a task id: {err}");
        ApiError::internal()
    })?;
    let task = Task {
        task_id: task_id.clone(),
        provider: PROVIDER.id,
        operation: "swap".to_owned(),
        cost: Cost::new(2.0, PROVIDER.cost_unit),
        job: Job::LargestFaceSwap {
            source: Source::new("target_url", &request.target_url),
            face: Source::new("face_url", &request.face_url),
        },
        uploads,
    };
    tasks::register(&state, &task);
    let run = call_back(state.clone(), task, webhook);
    if state.faults().webhook_before_response {
        run.await;
    } else {
        tokio::spawn(run);
    }
    Ok(task_id)
}

/// Runs the task and POSTs its end to the webhook.
async fn call_back(state: SandboxState, task: Task, url: String) {
    let body = match tasks::run(&state, &task).await {
        Ok(output_url) => {
            json!({ "id": task.task_id, "state": "succeeded", "output_url": output_url })
        }
        Err(err) => json!({ "id": task.task_id, "state": "failed", "error": err.to_string() }),
    };
    let delivery = Delivery {
        task_id: task.task_id.clone(),
        url,
        body: body.to_string().into_bytes(),
        headers: Vec::new(),
    };
    state.webhooks().deliver(delivery, &state.faults()).await;
}
