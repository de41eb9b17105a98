//! `GET /api/tasks/{task_id}`: the stored task.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use faceswap_core::LegacyTaskView;

use crate::limits::Admitted;
use crate::{AppError, AppState};

/// Longest task id looked up.
const MAX_TASK_ID: usize = 200;

/// The task, or 404 `not_found`.
pub async fn get_task(
    State(state): State<AppState>,
    _: Admitted,
    Path(task_id): Path<String>,
) -> Result<Response, AppError> {
    if task_id.len() > MAX_TASK_ID {
        return Err(AppError::not_found("no such task"));
    }
    match state.store.task(&task_id).await? {
        Some(event) => Ok(Json(LegacyTaskView::from(&event.view)).into_response()),
        None => Err(AppError::not_found("no such task")),
    }
}
