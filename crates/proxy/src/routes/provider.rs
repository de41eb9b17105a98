//! The routes of one registered provider, made from its adapter: a submit route per operation
//! route (`POST /api/{id}/{route}`), and its tasks (`GET /api/{id}/tasks/{task_id}` and
//! `/events`). Its callbacks arrive on the shared `POST /hooks/{provider}/{token}`.

use axum::extract::{Path, Request, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::Router;
use faceswap_core::provider::Adapter;

use crate::auth::{Caller, Reader};
use crate::limits::Admitted;
use crate::routes::{events, submit, tasks};
use crate::AppState;

/// The `/api` routes of `adapter`'s provider.
pub fn api_router(adapter: &'static dyn Adapter) -> Router<AppState> {
    let id = adapter.info().id;
    let mut routes: Vec<&'static str> = adapter.operations().iter().map(|op| op.route).collect();
    routes.dedup();
    let router = routes.into_iter().fold(Router::new(), |router, route| {
        router.route(
            &format!("/api/{id}/{route}"),
            post(
                move |State(state): State<AppState>,
                      _: Admitted,
                      Caller(caller): Caller,
                      request: Request| {
                    submit::submit(state, caller, adapter, route, request)
                },
            ),
        )
    });
    router
        .route(
            &format!("/api/{id}/tasks/{{task_id}}"),
            get(
                move |State(state): State<AppState>,
                      _: Admitted,
                      reader: Reader,
                      Path(task_id): Path<String>| {
                    tasks::get_task(state, id, task_id, reader)
                },
            ),
        )
        .route(
            &format!("/api/{id}/tasks/{{task_id}}/events"),
            get(
                move |State(state): State<AppState>,
                      _: Admitted,
                      reader: Reader,
                      Path(task_id): Path<String>,
                      headers: HeaderMap| {
                    events::events(state, id, task_id, headers, reader)
                },
            ),
        )
}
