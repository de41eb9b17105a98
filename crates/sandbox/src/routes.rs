//! The router: the six provider operations, results as a CDN serves them, and the loopback-only
//! test routes under `/__sandbox/`.

use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, Multipart, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use bytes::Bytes;
use faceswap_core::aifaceswap::{
    Envelope, ExtractedBase64Faces, ExtractedFaces, Operation, Request as ApiRequest, TaskCreated,
};
use faceswap_core::base64_image::BASE64;
use faceswap_core::provider::ProviderOperation;
use faceswap_core::{FieldError, MediaType};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::faults::{Faults, Injected};
use crate::fetch::UPLOAD_PREFIX;
use crate::jobs;
use crate::state::SandboxState;
use crate::tasks;

/// Builds the sandbox's router.
pub fn app(state: SandboxState) -> Router {
    let results = ServeDir::new(state.store().dir());
    let results = Router::new()
        .fallback_service(results)
        .layer(SetResponseHeaderLayer::overriding(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=86400, immutable"),
        ));
    let limit = state.config().max_body_bytes;
    Router::new()
        .route("/api/aifaceswap/v1/{op}", post(api_call))
        .route(
            "/healthz",
            get(|| async { Json(json!({ "status": "ok" })) }),
        )
        .route(
            "/__sandbox/faults",
            get(get_faults).put(put_faults).delete(reset_faults),
        )
        .route("/__sandbox/tasks/{task_id}", get(get_task))
        .nest("/results", results)
        .fallback(|| async { ApiError::not_found("no such route in the sandbox") })
        .layer(DefaultBodyLimit::max(limit))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Applies latency and injected 429/5xx answers.
async fn inject_faults(state: &SandboxState) -> Result<(), ApiError> {
    let (latency, injected) = state.with_faults(|f| (f.latency_ms, f.take_for_call()));
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    match injected {
        Injected::None => Ok(()),
        Injected::RateLimited(secs) => Err(ApiError {
            retry_after: Some(secs),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too many requests; retry later",
            )
        }),
        Injected::ServerError(status) => Err(ApiError::new(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "the sandbox is failing on purpose (error_next fault knob)",
        )),
    }
}

fn check_key(state: &SandboxState, headers: &HeaderMap) -> Result<(), ApiError> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default();
    let want = state.config().api_key.as_bytes();
    let equal = given.len() == want.len()
        && given
            .bytes()
            .zip(want)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if equal && !want.is_empty() {
        Ok(())
    } else {
        Err(ApiError::unauthorized())
    }
}

/// `POST /api/aifaceswap/v1/{op}`.
async fn api_call(
    State(state): State<SandboxState>,
    Path(op): Path<String>,
    request: Request<Body>,
) -> Result<Response, ApiError> {
    inject_faults(&state).await?;
    check_key(&state, request.headers())?;
    let op = Operation::from_name(&op)
        .ok_or_else(|| ApiError::not_found(format!("unknown operation {op:?}")))?;
    let (api_request, uploads) = parse_body(&state, op, request).await?;
    check_origins(&state, &api_request, &uploads)?;
    match api_request {
        ApiRequest::ExtractFace(r) => {
            let bytes = state
                .fetcher()
                .load("img", &r.img, state.config().max_image_bytes, &uploads)
                .await?;
            let faces = detect_blocking("img", bytes).await?;
            let points = ApiRequest::ExtractFace(r).credits();
            Ok(Json(Envelope::ok(ExtractedFaces { faces, points })).into_response())
        }
        ApiRequest::ExtractBase64Face(r) => {
            let bytes = BASE64
                .decode(&r.base64_img)
                .map_err(|_| FieldError::new("base64_img", "base64_img is not valid base64"))?;
            let pos = detect_blocking("base64_img", Bytes::from(bytes)).await?;
            Ok(Json(Envelope::ok(ExtractedBase64Faces { pos })).into_response())
        }
        task => {
            let task_id = tasks::new_task_id();
            let points = task.credits();
            tasks::register(&state, &task_id, &task);
            let run = tasks::run(state.clone(), task_id.clone(), task, uploads);
            if state.faults().webhook_before_response {
                run.await;
            } else {
                tokio::spawn(run);
            }
            Ok(Json(Envelope::ok(TaskCreated { task_id, points })).into_response())
        }
    }
}

async fn detect_blocking(
    field: &'static str,
    bytes: Bytes,
) -> Result<Vec<faceswap_core::aifaceswap::FaceBox>, ApiError> {
    let faces = tokio::task::spawn_blocking(move || jobs::detect(field, &bytes))
        .await
        .map_err(|_| ApiError::internal())??;
    Ok(faces.iter().map(face_box).collect())
}

/// A box as the provider writes it: `[x1, y1, x2, y2]` in whole pixels.
fn face_box(face: &crate::detect::Face) -> faceswap_core::aifaceswap::FaceBox {
    faceswap_core::aifaceswap::FaceBox([
        f64::from(face.x1.round()),
        f64::from(face.y1.round()),
        f64::from(face.x2.round()),
        f64::from(face.y2.round()),
    ])
}

/// Parses a JSON body, or for faceswap and extract_face a multipart form whose file parts stand in
/// for the URL fields, and validates it with faceswap-core.
async fn parse_body(
    state: &SandboxState,
    op: Operation,
    request: Request<Body>,
) -> Result<(ApiRequest, HashMap<String, Bytes>), ApiError> {
    let is_multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        let body = axum::body::to_bytes(request.into_body(), state.config().max_body_bytes)
            .await
            .map_err(|_| {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "the request body is too large",
                )
            })?;
        return Ok((ApiRequest::from_json(op, &body)?, HashMap::new()));
    }
    if !op.accepts_files() {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("{} takes a JSON body", op.name()),
        ));
    }
    let mut form = Multipart::from_request(request, state)
        .await
        .map_err(|err| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("bad multipart body: {err}"),
            )
        })?;
    let mut fields = Map::new();
    let mut uploads = HashMap::new();
    while let Some(field) = form.next_field().await.map_err(|err| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("bad multipart body: {err}"),
        )
    })? {
        let name = field.name().unwrap_or_default().to_owned();
        let is_file = field.file_name().is_some();
        let data = field.bytes().await.map_err(|err| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("bad multipart body: {err}"),
            )
        })?;
        if is_file && op.file_fields().contains(&name.as_str()) {
            match MediaType::sniff(&data) {
                Some(kind) if kind.is_image() => {}
                _ => {
                    return Err(ApiError {
                        field: Some(name.clone()),
                        ..ApiError::new(
                            StatusCode::UNSUPPORTED_MEDIA_TYPE,
                            format!("{name} must be a JPEG, PNG or WebP image"),
                        )
                    })
                }
            }
            let marker = format!("{UPLOAD_PREFIX}{name}");
            fields.insert(name, Value::String(marker.clone()));
            uploads.insert(marker, data);
        } else {
            let text = String::from_utf8(data.to_vec())
                .map_err(|_| FieldError::new(name.clone(), format!("{name} must be text")))?;
            fields.insert(name, Value::String(text));
        }
    }
    let body = serde_json::to_vec(&Value::Object(fields)).map_err(|_| ApiError::internal())?;
    Ok((ApiRequest::from_json(op, &body)?, uploads))
}

/// Every URL of the request must be at an allowed origin (file parts excepted).
fn check_origins(
    state: &SandboxState,
    request: &ApiRequest,
    uploads: &HashMap<String, Bytes>,
) -> Result<(), ApiError> {
    let mut urls: Vec<(String, &str)> = Vec::new();
    match request {
        ApiRequest::FaceSwap(r) => {
            urls.push(("source_image".into(), &r.source_image));
            urls.push(("face_image".into(), &r.face_image));
            urls.extend(r.webhook.as_deref().map(|w| ("webhook".into(), w)));
        }
        ApiRequest::ExtractFace(r) => urls.push(("img".into(), &r.img)),
        ApiRequest::MultiFaceSwap(r) => {
            urls.push(("source_image".into(), &r.source_image));
            for (i, u) in r.face_image.iter().enumerate() {
                urls.push((format!("face_image[{i}]"), u));
            }
            urls.extend(r.webhook.as_deref().map(|w| ("webhook".into(), w)));
        }
        ApiRequest::VideoFaceSwap(r) => {
            urls.push(("source_video".into(), &r.source_video));
            urls.push(("face_image".into(), &r.face_image));
            urls.extend(r.webhook.as_deref().map(|w| ("webhook".into(), w)));
        }
        ApiRequest::MultiVideoFaceSwap(r) => {
            urls.push(("source_video".into(), &r.source_video));
            for (i, info) in r.ref_info.iter().enumerate() {
                urls.push((format!("ref_info[{i}].face_url"), &info.face_url));
            }
            urls.extend(r.webhook.as_deref().map(|w| ("webhook".into(), w)));
        }
        ApiRequest::ExtractBase64Face(_) => {}
    }
    for (field, url) in urls {
        if !uploads.contains_key(url) {
            state.fetcher().policy().check(&field, url)?;
        }
    }
    Ok(())
}

/// The `/__sandbox/` routes answer only callers on this machine.
fn loopback_only(request_peer: Option<&ConnectInfo<SocketAddr>>) -> Result<(), ApiError> {
    match request_peer {
        Some(ConnectInfo(addr)) if addr.ip().is_loopback() => Ok(()),
        _ => Err(ApiError::forbidden(
            "the /__sandbox/ routes answer loopback callers only",
        )),
    }
}

async fn get_faults(
    State(state): State<SandboxState>,
    peer: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
) -> Result<Json<Faults>, ApiError> {
    loopback_only(peer.as_ref().map(|p| &p.0))?;
    Ok(Json(state.faults()))
}

async fn put_faults(
    State(state): State<SandboxState>,
    peer: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    body: Bytes,
) -> Result<Json<Faults>, ApiError> {
    loopback_only(peer.as_ref().map(|p| &p.0))?;
    let faults: Faults = faceswap_core::parse::from_json(&body)?;
    state.set_faults(faults.clone());
    Ok(Json(faults))
}

async fn reset_faults(
    State(state): State<SandboxState>,
    peer: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
) -> Result<Json<Faults>, ApiError> {
    loopback_only(peer.as_ref().map(|p| &p.0))?;
    state.set_faults(Faults::default());
    Ok(Json(Faults::default()))
}

async fn get_task(
    State(state): State<SandboxState>,
    peer: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    Path(task_id): Path<String>,
) -> Result<Json<crate::state::TaskRecord>, ApiError> {
    loopback_only(peer.as_ref().map(|p| &p.0))?;
    state
        .task(&task_id)
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no task {task_id:?}")))
}
