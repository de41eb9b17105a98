//! The proxy's own routes as one table: [`crate::app`] builds its router from it, and the OpenAPI
//! document ([`crate::openapi`]) is checked against it, so a route cannot be served without being
//! documented. The catch-alls (the JSON 404 of unknown `/api` paths), the demo page and the
//! built library are not in it: they are no API.

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{self, MethodRouter};

use crate::providers::Providers;
use crate::routes::{events, hooks, info, provider, tasks, uploads};
use crate::AppState;

/// Where a route sits in the router: under `/api` (rate limit, CORS, the origin rule, body
/// limits) or beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// An `/api` route.
    Api,
    /// A route outside `/api` (`/hooks`, `/uploads/{name}`, `/healthz`).
    Other,
}

/// One route: its method, its path in axum's syntax (`/api/tasks/{task_id}`), its scope and its
/// handler.
#[derive(Debug)]
pub struct Route {
    /// The HTTP method.
    pub method: Method,
    /// The path, with `{name}` parameters.
    pub path: String,
    /// Under `/api` or not.
    pub scope: Scope,
    /// The handler.
    pub handler: MethodRouter<AppState>,
}

impl Route {
    /// A `GET` route.
    pub fn get<H, T>(scope: Scope, path: impl Into<String>, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        Self {
            method: Method::GET,
            path: path.into(),
            scope,
            handler: routing::get(handler),
        }
    }

    /// A `POST` route.
    pub fn post<H, T>(scope: Scope, path: impl Into<String>, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        Self {
            method: Method::POST,
            path: path.into(),
            scope,
            handler: routing::post(handler),
        }
    }
}

/// Every route of a proxy serving `providers`: each served provider's
/// ([`provider::routes`]), the first version's task routes, uploads, configuration, the OpenAPI
/// document, callbacks, stored uploads, kept results and health.
pub fn table(providers: &Providers) -> Vec<Route> {
    let mut routes: Vec<Route> = providers
        .iter()
        .flat_map(|served| provider::routes(served.adapter))
        .collect();
    routes.extend([
        Route::get(
            Scope::Api,
            "/api/tasks/{task_id}",
            tasks::get_first_version_task,
        ),
        Route::get(
            Scope::Api,
            "/api/tasks/{task_id}/events",
            events::first_version_events,
        ),
        Route::post(Scope::Api, "/api/uploads", uploads::upload),
        Route::get(Scope::Api, "/api/config", info::config),
        Route::get(Scope::Api, "/api/openapi.json", info::openapi),
        Route::post(Scope::Other, "/hooks/{provider}/{token}", hooks::callback),
        Route::get(Scope::Other, "/uploads/{name}", uploads::serve),
        Route::get(
            Scope::Other,
            "/results/{provider}/{task_id}",
            crate::results::serve,
        ),
        Route::get(Scope::Other, "/healthz", info::healthz),
    ]);
    routes
}

/// The method and path of every route of [`table`].
pub fn paths(providers: &Providers) -> Vec<(Method, String)> {
    table(providers)
        .into_iter()
        .map(|route| (route.method, route.path))
        .collect()
}
