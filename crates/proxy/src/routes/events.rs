//! `GET /api/tasks/{task_id}/events`: Server-Sent Events. A `status` event with the task's JSON at
//! connect and on each change (its id is the task's change counter, so `Last-Event-ID` resumes),
//! keep-alive comments, and the end of the stream after a terminal status. Wake-ups come from the
//! store's [`crate::store::Notifier`]; no stream polls the database.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use std::convert::Infallible;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::limits::Admitted;
use crate::store::TaskEvent;
use crate::{AppError, AppState};

struct Cursor {
    receiver: watch::Receiver<Option<TaskEvent>>,
    shutdown: CancellationToken,
    first: Option<TaskEvent>,
    last_sent: u64,
    done: bool,
}

fn to_event(event: &TaskEvent) -> Event {
    Event::default()
        .event("status")
        .id(event.version.to_string())
        .json_data(faceswap_core::LegacyTaskView::from(&event.view))
        .unwrap_or_else(|_| Event::default().event("status"))
}

/// The event stream of one task, or 404 `not_found`.
pub async fn events(
    State(state): State<AppState>,
    _: Admitted,
    Path(task_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    if task_id.len() > 200 {
        return Err(AppError::not_found("no such task"));
    }
    // Subscribe before reading, so that no change between the two is missed.
    let receiver = state.store.notifier().subscribe(&task_id);
    let Some(current) = state.store.task(&task_id).await? else {
        return Err(AppError::not_found("no such task"));
    };
    let last_sent = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    let cursor = Cursor {
        receiver,
        shutdown: state.shutdown.clone(),
        first: Some(current),
        last_sent,
        done: false,
    };
    let stream = stream::unfold(cursor, |mut cursor| async move {
        if cursor.done {
            return None;
        }
        if let Some(first) = cursor.first.take() {
            if first.version > cursor.last_sent {
                cursor.last_sent = first.version;
                cursor.done = first.view.status.is_terminal();
                return Some((Ok::<_, Infallible>(to_event(&first)), cursor));
            }
            if first.view.status.is_terminal() {
                return None;
            }
        }
        loop {
            let changed = tokio::select! {
                changed = cursor.receiver.changed() => changed.is_ok(),
                () = cursor.shutdown.cancelled() => false,
            };
            if !changed {
                return None;
            }
            let latest = cursor.receiver.borrow_and_update().clone();
            if let Some(event) = latest.filter(|e| e.version > cursor.last_sent) {
                cursor.last_sent = event.version;
                cursor.done = event.view.status.is_terminal();
                return Some((Ok(to_event(&event)), cursor));
            }
        }
    });
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(state.config.sse_keepalive))
        .into_response();
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}
