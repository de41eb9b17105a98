//! `POST /api/aifaceswap/v1/{op}`: validate with faceswap-core, apply the limits and the
//! idempotency key, make a webhook token for task operations, call the provider once, and answer
//! its JSON unchanged.

use axum::body::to_bytes;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use faceswap_core::aifaceswap::{
    CreditInputs, Envelope, Operation, Request as ApiRequest, TaskCreated,
};
use faceswap_core::provider::ProviderOperation;
use faceswap_core::FieldError;
use std::net::IpAddr;
use std::time::Duration;

use crate::idempotency::{self, Begin, Fingerprint};
use crate::limits::Admitted;
use crate::routes::form::read_form;
use crate::routes::now_ms;
use crate::store::TaskStore;
use crate::tokens;
use crate::upstream::UpstreamBody;
use crate::{AppError, AppState};

/// What goes upstream once validated.
enum Prepared {
    Json(ApiRequest),
    Form(crate::routes::form::SpooledForm),
}

fn json_response(status: u16, body: impl Into<axum::body::Body>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Whether the request's body is a multipart form (by its `Content-Type`, without allocating).
pub fn is_multipart(request: &Request) -> bool {
    const MULTIPART: &[u8] = b"multipart/form-data";
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| {
            value
                .as_bytes()
                .trim_ascii_start()
                .get(..MULTIPART.len())
                .is_some_and(|start| start.eq_ignore_ascii_case(MULTIPART))
        })
}

/// `POST /api/aifaceswap/v1/{op}` as an axum handler.
pub async fn submit(
    State(state): State<AppState>,
    Admitted(client): Admitted,
    Path(op_name): Path<String>,
    request: Request,
) -> Result<Response, AppError> {
    let op = Operation::from_name(&op_name)
        .ok_or_else(|| AppError::not_found(format!("no operation named {op_name:?}")))?;
    submit_operation(&state, client, op, request).await
}

/// Forwards one operation for an admitted `client` (the handler above, and the gateway's direct
/// path for JSON submits). The whole submit, body upload included, ends with 504
/// `upstream_timeout` after twice the upstream timeout and a minute.
pub async fn submit_operation(
    state: &AppState,
    client: IpAddr,
    op: Operation,
    request: Request,
) -> Result<Response, AppError> {
    let limit = state.config.upstream_timeout * 2 + Duration::from_secs(60);
    // Boxed, like `forward` below: these futures are kilobytes, and every layer that holds one
    // by value copies it again.
    tokio::time::timeout(limit, Box::pin(submit_within(state, client, op, request)))
        .await
        .map_err(|_| AppError::UpstreamTimeout)?
}

async fn submit_within(
    state: &AppState,
    client: IpAddr,
    op: Operation,
    request: Request,
) -> Result<Response, AppError> {
    let key = idempotency::key_from(request.headers())?;
    let mut fingerprint = Fingerprint::new(op.name());

    // Validate everything before anything is spent or sent.
    let (prepared, credits) = if is_multipart(&request) {
        if !op.accepts_files() {
            return Err(AppError::UnsupportedMediaType {
                message: format!("{} takes a JSON body, not a multipart form", op.name()),
                field: None,
            });
        }
        // Boxed: the form reader's future is large, and JSON bodies should not carry it.
        let form = Box::pin(spool_form(state, op, request, &mut fingerprint)).await?;
        (Prepared::Form(form), op.credits(&CreditInputs::default()))
    } else {
        let limit = usize::try_from(state.config.json_max_bytes).unwrap_or(usize::MAX);
        let body = to_bytes(request.into_body(), limit).await.map_err(|_| {
            AppError::too_large(format!("the JSON body is larger than {limit} bytes"))
        })?;
        let api_request = ApiRequest::from_json(op, &body)?;
        fingerprint.update(&body);
        let credits = api_request.credits();
        (Prepared::Json(api_request), credits)
    };

    let stale_ms = i64::try_from(state.config.upstream_timeout.as_millis() * 2).unwrap_or(i64::MAX);
    let key = match idempotency::begin(state.store.as_ref(), key, fingerprint, now_ms(), stale_ms)
        .await?
    {
        Begin::Replay(status, body) => return Ok(json_response(status, body)),
        Begin::Proceed(key) => key,
    };
    let result = Box::pin(forward(state, op, prepared, client, credits)).await;
    if let Some(key) = key {
        let recorded = match &result {
            Ok(body) => state.store.idempotency_finish(&key, 200, body).await,
            Err(_) => state.store.idempotency_abandon(&key).await,
        };
        if let Err(err) = recorded {
            tracing::error!(error = %err, "idempotency record");
        }
    }
    result.map(|body| json_response(200, body))
}

/// Reads a multipart submit into spooled files, validated.
async fn spool_form(
    state: &AppState,
    op: Operation,
    request: Request,
    fingerprint: &mut Fingerprint,
) -> Result<crate::routes::form::SpooledForm, AppError> {
    let multipart = Multipart::from_request(request, state)
        .await
        .map_err(|e| AppError::from(FieldError::new("body", e.body_text())))?;
    read_form(
        op,
        multipart,
        &state.config.upload_dir.join(".spool"),
        state.config.upload_max_bytes,
        fingerprint,
    )
    .await
}

async fn forward(
    state: &AppState,
    op: Operation,
    prepared: Prepared,
    client: std::net::IpAddr,
    credits: u64,
) -> Result<Bytes, AppError> {
    let charge = state.spend_cap.charge(client, credits)?;
    let token = if op.starts_task() {
        let token = tokens::new_token().map_err(|e| AppError::Internal(format!("random: {e}")))?;
        let token_hash = tokens::hash(&token);
        state
            .store
            .create_token(&token_hash, op.name(), now_ms())
            .await?;
        Some((token, token_hash))
    } else {
        None
    };
    let webhook = token
        .as_ref()
        .map(|(token, _)| format!("{}/hooks/aifaceswap/{token}", state.config.public_url));
    let body = match prepared {
        Prepared::Json(mut api_request) => {
            // The browser's webhook is replaced by ours (or removed).
            api_request.set_webhook(webhook);
            UpstreamBody::Json(
                api_request
                    .to_json()
                    .map_err(|e| AppError::Internal(format!("request JSON: {e}")))?,
            )
        }
        Prepared::Form(form) => UpstreamBody::Form(form.into_upstream(webhook)?),
    };
    let answer = state.upstream.call(op, body).await;
    let token_hash = token.map(|(_, hash)| hash);
    let answer = match (answer, &token_hash) {
        (Ok(body), Some(token_hash)) => bind(state.store.as_ref(), state, token_hash, &body)
            .await
            .map(|()| body),
        (answer, _) => answer,
    };
    match answer {
        Ok(body) => {
            charge.keep();
            Ok(body)
        }
        Err(err) => {
            if let Some(token_hash) = token_hash {
                if let Err(e) = state.store.discard_token(&token_hash).await {
                    tracing::error!(error = %e, "discard token");
                }
            }
            tracing::info!(operation = op.name(), error = %err.code(), "submit failed");
            Err(err)
        }
    }
}

async fn bind(
    store: &dyn TaskStore,
    state: &AppState,
    token_hash: &str,
    body: &[u8],
) -> Result<(), AppError> {
    let created = serde_json::from_slice::<Envelope<TaskCreated>>(body)
        .ok()
        .and_then(|envelope| envelope.data)
        .filter(|data| !data.task_id.trim().is_empty())
        .ok_or_else(|| AppError::UpstreamError("the provider's answer has no task_id".into()))?;
    let deadline = i64::try_from(state.config.task_deadline.as_millis()).unwrap_or(i64::MAX);
    let view = store
        .bind_task(
            token_hash,
            &created.task_id,
            Some(created.points),
            now_ms(),
            deadline,
        )
        .await?;
    tracing::info!(task_id = ?view.task_id, status = %view.status, "task submitted");
    Ok(())
}
