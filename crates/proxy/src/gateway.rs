//! The service every connection is served by. JSON submits, the hot path, go straight to the submit
//! handler; every other request goes through the router ([`app`]).
//!
//! A JSON submit is `POST /api/aifaceswap/v1/{op}` where `{op}` is spelled exactly as one of the six
//! operations and the body is not a multipart form. It gets what the router would give it, in the
//! same order: the global body limit, the request span and its log events, the rate limit, the
//! submit itself, and the CORS and `Vary` headers. A test sends the same requests both ways and
//! compares the answers.
//!
//! Why: for each request the router clones the route's middleware stack, decodes the path
//! parameters into a map, and moves the handler's future through several layers of boxes. On a
//! forwarded request that was about a tenth of the proxy's own work.

use axum::extract::{ConnectInfo, Request};
use axum::http::{header, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::future::RouteFuture;
use axum::serve::{IncomingStream, Listener};
use axum::Router;
use faceswap_core::aifaceswap::Operation;
use faceswap_core::provider::ProviderOperation;
use futures_util::future::Either;
use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use tracing::Instrument;

use crate::app::{body_limit, request_span};
use crate::limits::Admitted;
use crate::routes::submit::{is_multipart, submit_operation};
use crate::{app, AppError, AppState};

/// The path prefix of the operations.
const OPERATIONS: &str = "/api/aifaceswap/v1/";

/// What every connection's service shares.
struct Shared {
    router: Router,
    state: AppState,
    body_limit: usize,
}

/// Makes the service of each accepted connection; give it to `axum::serve`.
#[derive(Clone)]
pub struct Gateway(Arc<Shared>);

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").finish_non_exhaustive()
    }
}

impl Gateway {
    /// The gateway in front of [`app`]`(state)`.
    pub fn new(state: AppState) -> Self {
        Self(Arc::new(Shared {
            router: app(state.clone()),
            body_limit: body_limit(&state.config),
            state,
        }))
    }

    /// The service of a connection from `peer`.
    pub fn for_peer(&self, peer: SocketAddr) -> PeerService {
        PeerService {
            shared: Arc::clone(&self.0),
            peer,
        }
    }
}

impl<L> tower::Service<IncomingStream<'_, L>> for Gateway
where
    L: Listener<Addr = SocketAddr>,
{
    type Response = PeerService;
    type Error = Infallible;
    type Future = Ready<Result<PeerService, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, stream: IncomingStream<'_, L>) -> Self::Future {
        ready(Ok(self.for_peer(*stream.remote_addr())))
    }
}

/// The service of one connection (cloned per request by hyper's glue: one counter increment).
#[derive(Clone)]
pub struct PeerService {
    shared: Arc<Shared>,
    peer: SocketAddr,
}

impl std::fmt::Debug for PeerService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerService")
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

/// The answer of a direct submit.
type DirectFuture = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl tower::Service<Request> for PeerService {
    type Response = Response;
    type Error = Infallible;
    type Future = Either<DirectFuture, RouteFuture<Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        match direct_operation(&request) {
            Some(op) => Either::Left(Box::pin(submit_direct(
                Arc::clone(&self.shared),
                self.peer,
                op,
                request,
            ))),
            None => {
                request.extensions_mut().insert(ConnectInfo(self.peer));
                Either::Right(self.shared.router.clone().call(request))
            }
        }
    }
}

/// The operation of a JSON submit, or `None` when the router should take the request.
fn direct_operation(request: &Request) -> Option<Operation> {
    if request.method() != Method::POST || is_multipart(request) {
        return None;
    }
    let name = request.uri().path().strip_prefix(OPERATIONS)?;
    Operation::from_name(name)
}

/// A JSON submit, with what the router's layers would add.
async fn submit_direct(
    shared: Arc<Shared>,
    peer: SocketAddr,
    op: Operation,
    request: Request,
) -> Result<Response, Infallible> {
    let started = Instant::now();
    let span = request_span(&request);
    async move {
        tracing::debug!("started processing request");
        let response = answer(&shared, peer, op, request).await;
        log_answer(&response, started);
        Ok(response)
    }
    .instrument(span)
    .await
}

async fn answer(shared: &Shared, peer: SocketAddr, op: Operation, request: Request) -> Response {
    let state = &shared.state;
    let origin = request.headers().get(header::ORIGIN).cloned();
    // The router's body limit comes first: a declared length over it is refused before the
    // request is counted or read.
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<usize>().ok());
    let answer = if declared.is_some_and(|length| length > shared.body_limit) {
        Err(AppError::too_large(
            "the request body is larger than allowed",
        ))
    } else {
        match Admitted::check(state, peer.ip()) {
            Ok(Admitted(client)) => submit_operation(state, client, op, request).await,
            Err(refused) => Err(refused),
        }
    };
    let mut response = answer.unwrap_or_else(IntoResponse::into_response);
    state
        .allowed_origins
        .decorate(origin.as_ref(), response.headers_mut());
    response
}

/// The events tower-http's `TraceLayer` logs when an answer is ready.
fn log_answer(response: &Response, started: Instant) {
    let status = response.status();
    let millis = started.elapsed().as_millis();
    tracing::debug!(
        latency = %format_args!("{millis} ms"),
        status = status.as_u16(),
        "finished processing request"
    );
    if status.is_server_error() {
        tracing::error!(
            classification = %format_args!("Status code: {status}"),
            latency = %format_args!("{millis} ms"),
            "response failed"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn request(method: Method, path: &str, content_type: &str) -> Request {
        Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::empty())
            .expect("request")
    }

    #[test]
    fn only_exact_json_submits_take_the_direct_path() {
        let json = "application/json";
        for op in Operation::ALL {
            let path = format!("{OPERATIONS}{}", op.name());
            assert_eq!(
                direct_operation(&request(Method::POST, &path, json)),
                Some(*op)
            );
            assert_eq!(
                direct_operation(&request(Method::POST, &format!("{path}?x=1"), json)),
                Some(*op)
            );
            // Forms, other methods and other spellings go through the router.
            for (method, path, content_type) in [
                (
                    Method::POST,
                    path.clone(),
                    "multipart/form-data; boundary=x",
                ),
                (
                    Method::POST,
                    path.clone(),
                    " Multipart/Form-Data; boundary=x",
                ),
                (Method::GET, path.clone(), json),
                (Method::OPTIONS, path.clone(), json),
                (Method::POST, format!("{path}/"), json),
                (Method::POST, path.replacen('a', "%61", 1), json),
                (Method::POST, path.to_uppercase(), json),
                (Method::POST, format!("/x{path}"), json),
            ] {
                assert_eq!(
                    direct_operation(&request(method.clone(), &path, content_type)),
                    None,
                    "{method} {path} {content_type}"
                );
            }
        }
        assert_eq!(
            direct_operation(&request(Method::POST, "/api/aifaceswap/v1/nope", json)),
            None
        );
    }
}
