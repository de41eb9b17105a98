//! `GET /api/{provider}/tasks/{task_id}/events` (and aifaceswap's `GET /api/tasks/{task_id}/events`):
//! Server-Sent Events. A `status` event with the task's JSON at
//! connect and on each change (its id is the task's change counter, so `Last-Event-ID` resumes),
//! keep-alive comments, and the end of the stream after a terminal status. Wake-ups come from the
//! store's [`crate::store::Notifier`]; no stream polls the database.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use faceswap_core::registry::FIRST_VERSION_PROVIDER;
use faceswap_core::LegacyTaskView;

use crate::auth::Reader;
use crate::limits::Admitted;
use crate::routes::tasks::owned_key;
use crate::store::{TaskEvent, TaskKey};
use crate::telemetry;
use crate::{AppError, AppState};

/// Which JSON shape the events carry.
#[derive(Clone, Copy)]
enum Shape {
    /// The full task view.
    Full,
    /// aifaceswap's first-version view.
    Legacy,
}

struct Cursor {
    shape: Shape,
    receiver: watch::Receiver<Option<TaskEvent>>,
    shutdown: CancellationToken,
    first: Option<TaskEvent>,
    last_sent: u64,
    done: bool,
    /// Counts the stream among the open ones until it ends.
    _open: telemetry::OpenStream,
}

fn to_event(event: &TaskEvent, shape: Shape) -> Result<Event, axum::Error> {
    let status = Event::default()
        .event("status")
        .id(event.version.to_string());
    match shape {
        Shape::Full => status.json_data(&event.view),
        Shape::Legacy => status.json_data(LegacyTaskView::from(&event.view)),
    }
}

/// The event stream of one task of `provider`, or 404 `not_found`.
pub async fn events(
    state: AppState,
    provider: &'static str,
    task_id: String,
    headers: HeaderMap,
    reader: Reader,
) -> Result<Response, AppError> {
    let key = owned_key(&state, provider, task_id, &reader).await?;
    stream(state, key, &headers, Shape::Full).await
}

/// The event stream of a task of the first version's provider ([`FIRST_VERSION_PROVIDER`]), in
/// that version's shape.
pub async fn first_version_events(
    State(state): State<AppState>,
    _: Admitted,
    reader: Reader,
    Path(task_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let key = owned_key(&state, FIRST_VERSION_PROVIDER, task_id, &reader).await?;
    stream(state, key, &headers, Shape::Legacy).await
}

async fn stream(
    state: AppState,
    key: TaskKey,
    headers: &HeaderMap,
    shape: Shape,
) -> Result<Response, AppError> {
    // Subscribe before reading, so that no change between the two is missed.
    let receiver = state.store.notifier().subscribe(&key);
    let Some(current) = state.store.task(&key).await? else {
        return Err(AppError::not_found("no such task"));
    };
    let last_sent = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    let cursor = Cursor {
        shape,
        receiver,
        shutdown: state.shutdown.clone(),
        first: Some(current),
        last_sent,
        done: false,
        _open: telemetry::OpenStream::open(),
    };
    let stream = stream::unfold(cursor, |mut cursor| async move {
        if cursor.done {
            return None;
        }
        if let Some(first) = cursor.first.take() {
            if first.version > cursor.last_sent {
                cursor.last_sent = first.version;
                cursor.done = first.view.status.is_terminal();
                let event = to_event(&first, cursor.shape);
                return Some((event, cursor));
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
                let event = to_event(&event, cursor.shape);
                return Some((event, cursor));
            }
        }
    });
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(state.config.timings.sse_keepalive))
        .into_response();
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}
