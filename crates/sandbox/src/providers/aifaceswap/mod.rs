//! aifaceswap's API: `POST /api/aifaceswap/v1/{op}` with `Authorization: Bearer KEY`, JSON bodies
//! (and multipart forms for `faceswap` and `extract_face`), answers in its envelope
//! (`{"code":200,"data":...,"message":"OK"}`), results by webhook
//! (`{success, type, task_id, result_image}`).

mod job;

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, State};
use axum::http::{header, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use faceswap_core::aifaceswap::{
    Aifaceswap, Envelope, ExtractedBase64Faces, ExtractedFaces, FaceBox, Operation,
    Request as ApiRequest, TaskCreated, PROVIDER,
};
use faceswap_core::base64_image::BASE64;
use faceswap_core::provider::{Adapter, Cost, ProviderOperation};
use faceswap_core::FieldError;

use crate::engine::detect::Face;
use crate::engine::fetch::Uploads;
use crate::engine::jobs::Input;
use crate::engine::tasks::{self, Task, TaskError};
use crate::engine::webhook::Delivery;
use crate::error::ApiError;
use crate::faults;
use crate::providers::{auth, form};
use crate::state::SandboxState;

/// aifaceswap's routes.
pub fn router() -> Router<SandboxState> {
    Router::new().route("/api/aifaceswap/v1/{op}", post(submit))
}

/// `POST /api/aifaceswap/v1/{op}`.
async fn submit(
    State(state): State<SandboxState>,
    Path(op): Path<String>,
    request: Request<Body>,
) -> Result<Response, ApiError> {
    if let Some(fault) = ApiError::injected(faults::before_call(&state).await) {
        return Err(fault);
    }
    if !auth::has_key(PROVIDER.auth, request.headers(), &state.config().api_key) {
        return Err(ApiError::unauthorized(&auth::how_to_send(PROVIDER.auth)));
    }
    let op = Operation::from_name(&op)
        .ok_or_else(|| ApiError::not_found(format!("unknown operation {op:?}")))?;
    let (api_request, uploads) = parse_body(&state, op, request).await?;
    for (field, url) in job::urls(&api_request) {
        state
            .fetcher()
            .policy()
            .check_input(&field, url, &uploads)?;
    }
    match api_request {
        ApiRequest::ExtractFace(r) => {
            let bytes = state
                .fetcher()
                .load("img", &r.img, state.config().max_image_bytes, &uploads)
                .await?;
            let faces = detect(Input::new("img", bytes)).await?;
            let points = ApiRequest::ExtractFace(r).credits();
            Ok(Json(Envelope::ok(ExtractedFaces { faces, points })).into_response())
        }
        ApiRequest::ExtractBase64Face(r) => {
            let bytes = BASE64
                .decode(&r.base64_img)
                .map_err(|_| FieldError::new("base64_img", "base64_img is not valid base64"))?;
            let pos = detect(Input::new("base64_img", bytes)).await?;
            Ok(Json(Envelope::ok(ExtractedBase64Faces { pos })).into_response())
        }
        request => start_task(state, request, uploads).await,
    }
}

/// Registers and starts a task; answers `{task_id, points}`.
async fn start_task(
    state: SandboxState,
    request: ApiRequest,
    uploads: Uploads,
) -> Result<Response, ApiError> {
    let work = job::job(&request)?.ok_or_else(ApiError::internal)?;
    let task_id = tasks::new_task_id().map_err(|err| {
        tracing::error!("no randomness for a task id: {err}");
        ApiError::internal()
    })?;
    let points = request.credits();
    let task = Task {
        task_id: task_id.clone(),
        provider: PROVIDER.id,
        operation: request.operation().name().to_owned(),
        cost: Cost::credits(points),
        job: work,
        uploads,
    };
    tasks::register(&state, &task);
    let run = run_task(state.clone(), task, request);
    if state.faults().webhook_before_response {
        run.await;
    } else {
        tokio::spawn(run);
    }
    Ok(Json(Envelope::ok(TaskCreated { task_id, points })).into_response())
}

/// Runs a task and posts its webhook, if the request named one.
async fn run_task(state: SandboxState, task: Task, request: ApiRequest) {
    let outcome = tasks::run(&state, &task).await;
    let Some(url) = job::webhook(&request) else {
        return;
    };
    let body = match job::callback_body(&task.task_id, request.operation(), outcome.ok()) {
        Ok(body) => body,
        Err(err) => {
            tracing::error!(task_id = %task.task_id, "webhook body not written: {err}");
            return;
        }
    };
    let delivery = Delivery {
        task_id: task.task_id,
        url,
        body,
        headers: Vec::new(),
    };
    let faults = state.faults();
    state.webhooks().deliver(delivery, &faults).await;
}

/// The faces of an image as aifaceswap's boxes.
async fn detect(input: Input) -> Result<Vec<FaceBox>, ApiError> {
    match tasks::detect_faces(input).await {
        Ok(faces) => Ok(faces.iter().map(face_box).collect()),
        Err(TaskError::Job(crate::engine::jobs::JobError::Image(err))) => {
            let message = err.to_string();
            Err(FieldError::new(err.field(), message).into())
        }
        Err(err) => {
            tracing::error!("detection failed: {err}");
            Err(ApiError::internal())
        }
    }
}

/// A box as aifaceswap writes it: `[x1, y1, x2, y2]` in whole pixels.
fn face_box(face: &Face) -> FaceBox {
    FaceBox([
        f64::from(face.x1.round()),
        f64::from(face.y1.round()),
        f64::from(face.x2.round()),
        f64::from(face.y2.round()),
    ])
}

fn is_multipart(request: &Request<Body>) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"))
}

/// Parses a JSON body, or for faceswap, extract_face and multi_faceswap a multipart form whose
/// file parts stand in for the URL fields, and validates it with faceswap-core.
async fn parse_body(
    state: &SandboxState,
    op: Operation,
    request: Request<Body>,
) -> Result<(ApiRequest, Uploads), ApiError> {
    if !is_multipart(&request) {
        let body = axum::body::to_bytes(request.into_body(), state.config().max_body_bytes)
            .await
            .map_err(|_| {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "the request body is too large",
                )
            })?;
        return Ok((ApiRequest::from_json(op, &body)?, Uploads::default()));
    }
    if !op.accepts_files() {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("{} takes a JSON body", op.name()),
        ));
    }
    let multipart = Multipart::from_request(request, state)
        .await
        .map_err(|err| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("bad multipart body: {err}"),
            )
        })?;
    let spec = op.spec();
    let (form, uploads) = form::read(multipart, spec.file_fields, spec.repeated_fields).await?;
    // Core reads the form as the proxy does (multi_faceswap: one `face_image` file per face and
    // one `index` part per entry, the first page's "Method2").
    let prepared = Aifaceswap.prepare_form(spec.route, &form)?;
    Ok((ApiRequest::from_value(op, &prepared.request)?, uploads))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_are_whole_pixels() {
        let face = Face {
            x1: 1.4,
            y1: 2.6,
            x2: 30.5,
            y2: 40.0,
            score: 3.0,
            keypoints: None,
        };
        assert_eq!(face_box(&face), FaceBox([1.0, 3.0, 31.0, 40.0]));
    }
}
