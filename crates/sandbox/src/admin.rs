//! The test routes under `/__sandbox/`, answering loopback callers only: the fault knobs
//! (`GET`/`PUT`/`DELETE /__sandbox/faults`) and task records (`GET /__sandbox/tasks/{task_id}`).

use axum::extract::{ConnectInfo, Path, State};
use axum::routing::get;
use axum::{Extension, Json, Router};
use bytes::Bytes;
use std::net::SocketAddr;

use crate::error::ApiError;
use crate::faults::Faults;
use crate::state::{SandboxState, TaskRecord};

/// The `/__sandbox/` routes.
pub fn router() -> Router<SandboxState> {
    Router::new()
        .route(
            "/__sandbox/faults",
            get(get_faults).put(put_faults).delete(reset_faults),
        )
        .route("/__sandbox/tasks/{task_id}", get(get_task))
}

/// The caller's address, when the server was started with connection info.
type Peer = Option<Extension<ConnectInfo<SocketAddr>>>;

/// Refuses callers that are not on this machine, or whose address is unknown.
fn loopback_only(peer: &Peer) -> Result<(), ApiError> {
    match peer {
        Some(Extension(ConnectInfo(addr))) if addr.ip().is_loopback() => Ok(()),
        _ => Err(ApiError::forbidden(
            "the /__sandbox/ routes answer loopback callers only",
        )),
    }
}

async fn get_faults(
    State(state): State<SandboxState>,
    peer: Peer,
) -> Result<Json<Faults>, ApiError> {
    loopback_only(&peer)?;
    Ok(Json(state.faults()))
}

async fn put_faults(
    State(state): State<SandboxState>,
    peer: Peer,
    body: Bytes,
) -> Result<Json<Faults>, ApiError> {
    loopback_only(&peer)?;
    let faults: Faults = faceswap_core::parse::from_json(&body)?;
    state.set_faults(faults.clone());
    Ok(Json(faults))
}

async fn reset_faults(
    State(state): State<SandboxState>,
    peer: Peer,
) -> Result<Json<Faults>, ApiError> {
    loopback_only(&peer)?;
    state.set_faults(Faults::default());
    Ok(Json(Faults::default()))
}

async fn get_task(
    State(state): State<SandboxState>,
    peer: Peer,
    Path(task_id): Path<String>,
) -> Result<Json<TaskRecord>, ApiError> {
    loopback_only(&peer)?;
    state
        .task(&task_id)
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no task {task_id:?}")))
}
