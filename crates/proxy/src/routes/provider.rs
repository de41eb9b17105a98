//! The routes of one registered provider, made from its adapter: a submit route per operation
//! route (`POST /api/{id}/{route}`), and its tasks (`GET /api/{id}/tasks/{task_id}` and
//! `/events`). Its callbacks arrive on the shared `POST /hooks/{provider}/{token}`.

use axum::extract::{Path, Request, State};
use axum::http::HeaderMap;
use faceswap_core::provider::Adapter;

use crate::auth::{Caller, Reader};
use crate::limits::Admitted;
use crate::routes::table::{Route, Scope};
use crate::routes::{events, submit, tasks};
use crate::AppState;

/// The `/api` routes of `adapter`'s provider: a submit per operation route, its task and its
/// task's event stream.
pub fn routes(adapter: &'static dyn Adapter) -> Vec<Route> {
    let id = adapter.info().id;
    let mut paths: Vec<&'static str> = adapter.operations().iter().map(|op| op.route).collect();
    paths.dedup();
    let mut routes: Vec<Route> = paths
        .into_iter()
        .map(|route| {
            Route::post(
                Scope::Api,
                format!("/api/{id}/{route}"),
                move |State(state): State<AppState>,
                      _: Admitted,
                      Caller(caller): Caller,
                      request: Request| {
                    submit::submit(state, caller, adapter, route, request)
                },
            )
        })
        .collect();
    routes.push(Route::get(
        Scope::Api,
        format!("/api/{id}/tasks/{{task_id}}"),
        move |State(state): State<AppState>,
              _: Admitted,
              reader: Reader,
              Path(task_id): Path<String>| { tasks::get_task(state, id, task_id, reader) },
    ));
    routes.push(Route::get(
        Scope::Api,
        format!("/api/{id}/tasks/{{task_id}}/events"),
        move |State(state): State<AppState>,
              _: Admitted,
              reader: Reader,
              Path(task_id): Path<String>,
              headers: HeaderMap| { events::events(state, id, task_id, headers, reader) },
    ));
    routes
}
