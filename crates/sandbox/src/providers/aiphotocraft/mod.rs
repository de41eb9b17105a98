//! AIPhotoCraft's API: `POST /api/faceswap/{basicswap,faceswap2,swap1from2,swapfacesameimage}`
//! (multipart, image files only) and `GET /api/task-status/{task_id}`, with the key in
//! `X-Api-Key`.
//!
//! Every call, submit or task-status, spends one request of the key's budget, as the page says
//! ("Rate limits are applied on a per-API-key basis, not per-endpoint"; answered in
//! `X-RateLimit-Limit`, `-Remaining`, `-Reset` on every answer; 429 `rate_limit_exceeded` with
//! `details.reset_at` once spent). A submit checks the key, validates the form with
//! faceswap-core, counts the faces of each file (`no_face_detected`, `face_count_mismatch`), then
//! answers `{"success":true,"data":{"task_id","status":"pending"}}` (the page prints no submit
//! answer: this shape is the sandbox's) and runs the swap.
//!
//! Task-status answers a finished task as the page prints it, `{"image_url": "..."}`. The page
//! shows nothing else: a running task answers `{"task_id","status":"pending"}` and a failed one
//! `{"task_id","status":"failed","error":{"code","message"}}` (the sandbox's shapes). The
//! `undocumented_shapes` fault knob wraps every status as
//! `{"success":true,"data":{"task_id","status","image_url"}}`; `unreadable_status_next` answers
//! `{}`. Errors are `{"success":false,"error":{"code","message","details"}}`, `details` naming
//! the field as the page does: `{"parameter": ...}`, or `{"image": ...}` for a fault in an image.

mod budget;
mod job;

use axum::extract::{FromRequest, Multipart, Path, Request as HttpRequest, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use faceswap_core::aiphotocraft::{ErrorCode, Operation, Request, PROVIDER};
use faceswap_core::provider::{Cost, FormValue, ProviderOperation};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::engine::fetch::Uploads;
use crate::engine::jobs::{Input, JobError};
use crate::engine::tasks::{self, Task, TaskError};
use crate::error::ApiError;
use crate::faults::{self, Injected};
use crate::providers::form::{self, FormError};
use crate::state::{SandboxState, TaskState};

pub use budget::{Budget, Standing};

/// AIPhotoCraft's routes, with their own request budget.
pub fn router() -> Router<SandboxState> {
    Router::new()
        .route("/api/faceswap/{op}", post(submit))
        .route("/api/task-status/{task_id}", get(task_status))
        .layer(Extension(Arc::new(Budget::default())))
}

/// An error in AIPhotoCraft's shape.
#[derive(Debug)]
struct Refusal {
    code: ErrorCode,
    status: StatusCode,
    message: String,
    details: Value,
    standing: Option<Standing>,
}

impl Refusal {
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            status: StatusCode::from_u16(code.status()).unwrap_or(StatusCode::BAD_REQUEST),
            message: message.into(),
            details: json!({}),
            standing: None,
        }
    }

    /// A refusal naming the field at fault as the page does: `details.image` for a fault found
    /// in an image (no face, wrong face count, unreadable format), `details.parameter` else.
    fn field(code: ErrorCode, field: &str, message: impl Into<String>) -> Self {
        let details = match code {
            ErrorCode::NoFaceDetected
            | ErrorCode::FaceCountMismatch
            | ErrorCode::InvalidImageFormat => json!({ "image": field }),
            _ => json!({ "parameter": field }),
        };
        Self {
            details,
            ..Self::new(code, message)
        }
    }
}

impl From<ApiError> for Refusal {
    fn from(err: ApiError) -> Self {
        let code = match err.status.as_u16() {
            415 => ErrorCode::InvalidImageFormat,
            500.. => ErrorCode::ServerError,
            _ => ErrorCode::InvalidParameter,
        };
        let status = err.status;
        let mut refusal = match err.field {
            Some(field) => Self::field(code, &field, err.message),
            None => Self::new(code, err.message),
        };
        refusal.status = status;
        refusal
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = json!({"success": false, "error": {
            "code": self.code.as_str(), "message": self.message, "details": self.details}});
        let mut response = (self.status, Json(body)).into_response();
        if let Some(standing) = self.standing {
            standing.write(response.headers_mut());
            if self.code == ErrorCode::RateLimitExceeded {
                let wait = standing.reset.saturating_sub(now_secs()).max(1);
                response
                    .headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, wait.into());
            }
        }
        response
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The fault knobs' share of one call, then the key check.
async fn admit(state: &SandboxState, headers: &HeaderMap) -> Result<(), Refusal> {
    match faults::before_call(state).await {
        Injected::None => {}
        Injected::RateLimited(secs) => {
            let mut refusal = Refusal::new(ErrorCode::RateLimitExceeded, "Rate limit exceeded");
            refusal.details = json!({ "reset_at": now_secs() + secs });
            return Err(refusal);
        }
        Injected::ServerError(status) => {
            let mut refusal = Refusal::new(
                ErrorCode::ServerError,
                "the sandbox is failing on purpose (error_next fault knob)",
            );
            refusal.status = StatusCode::from_u16(status).unwrap_or(refusal.status);
            return Err(refusal);
        }
        Injected::Refused => {
            // AIPhotoCraft documents no content refusal: the knob answers 403 with its
            // parameter word.
            let mut refusal = Refusal::new(
                ErrorCode::InvalidParameter,
                "the sandbox refuses this content on purpose (refuse_next fault knob)",
            );
            refusal.status = StatusCode::FORBIDDEN;
            return Err(refusal);
        }
    }
    let faceswap_core::provider::AuthScheme::Header(name) = PROVIDER.auth else {
        return Err(Refusal::new(ErrorCode::ServerError, "no key header"));
    };
    let given = headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    match given {
        None | Some("") => Err(Refusal::new(
            ErrorCode::ApiKeyRequired,
            "An API key is required: send it in X-Api-Key",
        )),
        Some(_)
            if !crate::providers::auth::has_key(
                PROVIDER.auth,
                headers,
                &state.config().api_key,
            ) =>
        {
            Err(Refusal::new(
                ErrorCode::InvalidApiKey,
                "The API key is invalid",
            ))
        }
        Some(_) => Ok(()),
    }
}

/// `POST /api/faceswap/{op}`.
async fn submit(
    State(state): State<SandboxState>,
    Extension(budget): Extension<Arc<Budget>>,
    Path(op): Path<String>,
    request: HttpRequest,
) -> Response {
    let headers = request.headers().clone();
    let answer = async {
        admit(&state, &headers).await?;
        let standing = budget
            .take(state.config().rate_budget, now_secs(), true)
            .map_err(|standing| Refusal {
                details: json!({ "reset_at": standing.reset }),
                standing: Some(standing),
                ..Refusal::new(ErrorCode::RateLimitExceeded, "Rate limit exceeded")
            })?;
        let multipart = Multipart::from_request(request, &state)
            .await
            .map_err(|rejection| {
                Refusal::new(
                    ErrorCode::InvalidParameter,
                    format!(
                        "the body must be a multipart form: {}",
                        rejection.body_text()
                    ),
                )
            })
            .map_err(|refusal| Refusal {
                standing: Some(standing),
                ..refusal
            })?;
        start(&state, &op, multipart)
            .await
            .map(|body| (standing, body))
            .map_err(|refusal| Refusal {
                standing: Some(standing),
                ..refusal
            })
    }
    .await;
    match answer {
        Ok((standing, body)) => {
            let mut response = Json(body).into_response();
            standing.write(response.headers_mut());
            response
        }
        Err(refusal) => refusal.into_response(),
    }
}

async fn start(state: &SandboxState, op: &str, multipart: Multipart) -> Result<Value, Refusal> {
    let op = Operation::from_name(op).ok_or_else(|| {
        let mut refusal = Refusal::new(
            ErrorCode::InvalidParameter,
            format!("unknown operation {op:?}"),
        );
        refusal.status = StatusCode::NOT_FOUND;
        refusal
    })?;
    let (form, uploads) = form::read(multipart, op.file_fields(), &[])
        .await
        .map_err(|err| match err {
            FormError::NotImage(field) => Refusal::field(
                ErrorCode::InvalidImageFormat,
                &field,
                format!("{field} must be a JPEG, PNG or WebP image"),
            ),
            other => ApiError::from(other).into(),
        })?;
    // The provider takes files only: a text part under a file field is refused.
    for &field in op.file_fields() {
        if let Some(FormValue::Text(_)) = form.get(field) {
            return Err(Refusal::field(
                ErrorCode::InvalidParameter,
                field,
                format!("{field} must be an image file"),
            ));
        }
    }
    let request = Request::from_object(op, &form.to_json_object())
        .map_err(|err| Refusal::field(ErrorCode::InvalidParameter, &err.field, err.message))?;
    check_faces(op, &uploads).await?;
    let task_id = tasks::new_task_id().map_err(|err| {
        tracing::error!("no randomness for a task id: {err}");
        Refusal::new(ErrorCode::ServerError, "internal error in the sandbox")
    })?;
    let task = Task {
        task_id: task_id.clone(),
        provider: PROVIDER.id,
        operation: op.name().to_owned(),
        cost: Cost::new(1.0, PROVIDER.cost_unit),
        job: job::job(&request),
        uploads,
    };
    tasks::register(state, &task);
    let run_state = state.clone();
    let run = async move {
        // The outcome is in the task's record, which task-status reads.
        let _ = tasks::run(&run_state, &task).await;
    };
    if state.faults().webhook_before_response {
        run.await;
    } else {
        tokio::spawn(run);
    }
    Ok(json!({"success": true, "data": {"task_id": task_id, "status": "pending"}}))
}

/// Counts the faces of each file as the operation needs them.
async fn check_faces(op: Operation, uploads: &Uploads) -> Result<(), Refusal> {
    for &field in op.file_fields() {
        let bytes = uploads
            .for_url(&faceswap_core::provider::form::file_stand_in(field))
            .cloned()
            .ok_or_else(|| {
                Refusal::field(
                    ErrorCode::InvalidParameter,
                    field,
                    format!("{field} is required"),
                )
            })?;
        let faces = match tasks::detect_faces(Input::new(field, bytes)).await {
            Ok(faces) => faces,
            Err(TaskError::Job(JobError::Image(err))) => {
                return Err(Refusal::field(
                    ErrorCode::InvalidImageFormat,
                    field,
                    err.to_string(),
                ))
            }
            Err(err) => {
                tracing::error!("face detection failed: {err}");
                return Err(Refusal::new(
                    ErrorCode::ServerError,
                    "face detection failed",
                ));
            }
        };
        if let Some((code, message)) =
            job::face_count_error(field, job::faces_needed(op, field), faces.len())
        {
            return Err(Refusal::field(code, field, message));
        }
    }
    Ok(())
}

/// `GET /api/task-status/{task_id}`.
async fn task_status(
    State(state): State<SandboxState>,
    Extension(budget): Extension<Arc<Budget>>,
    Path(task_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(refusal) = admit(&state, &headers).await {
        return refusal.into_response();
    }
    // A poll is a request of the key's budget like any other.
    let standing = match budget.take(state.config().rate_budget, now_secs(), true) {
        Ok(standing) => standing,
        Err(standing) => {
            return Refusal {
                details: json!({ "reset_at": standing.reset }),
                standing: Some(standing),
                ..Refusal::new(ErrorCode::RateLimitExceeded, "Rate limit exceeded")
            }
            .into_response()
        }
    };
    let Some(record) = state.task(&task_id).filter(|r| r.provider == PROVIDER.id) else {
        let mut refusal = Refusal::new(
            ErrorCode::InvalidParameter,
            format!("task {task_id} not found"),
        );
        refusal.status = StatusCode::NOT_FOUND;
        refusal.standing = Some(standing);
        return refusal.into_response();
    };
    let (unreadable, undocumented) = state.with_faults(|faults| {
        let unreadable = faults.unreadable_status_next > 0;
        faults.unreadable_status_next = faults.unreadable_status_next.saturating_sub(1);
        (unreadable, faults.undocumented_shapes)
    });
    let body = if unreadable {
        json!({})
    } else {
        status_body(&record, undocumented)
    };
    let mut response = Json(body).into_response();
    standing.write(response.headers_mut());
    response
}

/// A task-status answer: a finished task as the page prints it (`{"image_url"}`), or, with the
/// `undocumented_shapes` knob, every status wrapped in `{"success":true,"data":{...}}`.
fn status_body(record: &crate::state::TaskRecord, undocumented: bool) -> Value {
    let mut data = json!({"task_id": record.task_id});
    match record.status {
        TaskState::Pending => data["status"] = json!("pending"),
        TaskState::Succeeded if !undocumented => {
            return json!({ "image_url": record.result_url });
        }
        TaskState::Succeeded => {
            data["status"] = json!("completed");
            data["image_url"] = json!(record.result_url);
        }
        TaskState::Failed => {
            data["status"] = json!("failed");
            data["error"] = json!({"code": "server_error", "message": record.error});
        }
    }
    if undocumented {
        json!({"success": true, "data": data})
    } else {
        data
    }
}
