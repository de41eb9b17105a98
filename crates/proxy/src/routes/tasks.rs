//! `GET /api/{provider}/tasks/{task_id}`: the stored task; `GET /api/tasks/{task_id}`: a task of
//! the first version's provider ([`FIRST_VERSION_PROVIDER`]) in that version's shape.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use faceswap_core::registry::FIRST_VERSION_PROVIDER;
use faceswap_core::LegacyTaskView;

use crate::auth::Reader;
use crate::limits::Admitted;
use crate::store::TaskKey;
use crate::{AppError, AppState};

/// Longest task id looked up.
pub const MAX_TASK_ID: usize = 200;

/// The key of a task route, or 404 for an unknown provider or an overlong id.
pub fn task_key(state: &AppState, provider: &str, task_id: String) -> Result<TaskKey, AppError> {
    let provider = state.provider(provider)?;
    if task_id.len() > MAX_TASK_ID {
        return Err(AppError::not_found("no such task"));
    }
    Ok(TaskKey::new(provider.id(), task_id))
}

/// The key of a task route that `reader` may read: 404 for a task of another user of the app
/// than the one its token names ([`Reader`]).
pub async fn owned_key(
    state: &AppState,
    provider: &str,
    task_id: String,
    reader: &Reader,
) -> Result<TaskKey, AppError> {
    let key = task_key(state, provider, task_id)?;
    if let Some(sub) = &reader.0 {
        if state
            .store
            .owner(&key)
            .await?
            .is_some_and(|owner| owner != *sub)
        {
            return Err(AppError::not_found("no such task"));
        }
    }
    Ok(key)
}

/// The task of `provider`, or 404 `not_found`.
pub async fn get_task(
    state: AppState,
    provider: &'static str,
    task_id: String,
    reader: Reader,
) -> Result<Response, AppError> {
    let key = owned_key(&state, provider, task_id, &reader).await?;
    match state.store.task(&key).await? {
        Some(event) => Ok(Json(event.view).into_response()),
        None => Err(AppError::not_found("no such task")),
    }
}

/// A task of the first version's provider as
/// `{"task_id","status","type","result_url","points","created_at","updated_at"}`.
pub async fn get_first_version_task(
    State(state): State<AppState>,
    _: Admitted,
    reader: Reader,
    Path(task_id): Path<String>,
) -> Result<Response, AppError> {
    let key = owned_key(&state, FIRST_VERSION_PROVIDER, task_id, &reader).await?;
    match state.store.task(&key).await? {
        Some(event) => Ok(Json(LegacyTaskView::from(&event.view)).into_response()),
        None => Err(AppError::not_found("no such task")),
    }
}
