//! Results that outlive the provider (`KEEP_RESULTS`): each succeeded task's result is copied
//! into the results store (beside the uploads, [`UploadStore::results`]) and served at
//! `PUBLIC_URL/results/{provider}/{task_id}`, with range requests.
//!
//! The store writes a succeeded task's `result_url` as that address and the provider's as
//! `provider_result_url` ([`crate::store::TaskStore::keep_results`]), so every reader (the task
//! view, its event stream, the app's events) gives the lasting URL from the start. The copy is
//! made by a loop beside the sweeps: succeeded tasks not yet copied are leased from the store
//! (one proxy at a time), their result read under the rules of URL inputs
//! ([`crate::fetch::FetchPolicy::fetch_result`]: https, public addresses only, no redirects,
//! `UPLOAD_MAX_BYTES`), checked to be an image or a video by its magic bytes, and stored. A copy
//! that fails is tried again, [`MAX_KEEP_ATTEMPTS`] times in all. Until a result is copied (or
//! when it could not be), its address redirects to the provider's URL. Kept results are removed
//! by the maintenance sweep after `TASK_RETENTION_DAYS`, as their tasks are.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Duration;

use crate::fetch::{FetchPolicy, FETCH_TIMEOUT};
use crate::limits::AdmittedProviderTraffic;
use crate::poller::{millis, poll_interval};
use crate::routes::now_ms;
use crate::routes::uploads::serve_stored;
use crate::store::{KeepClaim, TaskKey};
use crate::upload_store::{spool_dir, Incoming, UploadStore, SPOOL_PREFIX};
use crate::{tokens, AppError, AppState};

/// Copies of one result tried before it is left at the provider.
pub const MAX_KEEP_ATTEMPTS: u32 = 5;

/// The wait before a failed copy is tried again (doubling, as polls do, up to 30 s).
const FIRST_RETRY: Duration = Duration::from_secs(1);

/// Results copied at once by one proxy.
const COPIES_PER_ROUND: u32 = 4;

/// How often succeeded tasks are looked for.
const KEEP_INTERVAL: Duration = Duration::from_millis(500);

/// The base of kept results' URLs: `PUBLIC_URL/results`.
pub fn results_base(public_url: &str) -> String {
    format!("{public_url}/results")
}

/// Why one copy failed; never holds the result's URL (it may carry the provider's signature).
#[derive(Debug, thiserror::Error)]
enum KeepError {
    #[error(transparent)]
    Fetch(#[from] crate::fetch::ResultFetchError),
    #[error("the result is empty")]
    Empty,
    #[error("the result is not an image or video this proxy knows")]
    NotMedia,
    #[error(transparent)]
    Proxy(#[from] AppError),
}

/// Copies every due result once (also called by tests).
pub async fn keep_due(state: &AppState, results: &UploadStore) {
    let lease = millis(FETCH_TIMEOUT * 2);
    let claims = match state
        .store
        .claim_results_to_keep(now_ms(), lease, COPIES_PER_ROUND, MAX_KEEP_ATTEMPTS)
        .await
    {
        Ok(claims) => claims,
        Err(err) => {
            tracing::error!(error = %err, "kept results: claiming");
            return;
        }
    };
    let policy = FetchPolicy::new(&state.config, state.uploads.clone());
    for claim in claims {
        let key = claim.key.clone();
        let recorded = match keep_one(state, &policy, results, &claim).await {
            Ok(name) => state.store.result_kept(&key, &name).await,
            Err(err) => {
                let attempts = claim.attempts.saturating_add(1);
                tracing::warn!(provider = %key.provider, task_id = ?key.task_id, attempts, error = %err, "kept results: copy failed");
                let next =
                    now_ms().saturating_add(millis(poll_interval(FIRST_RETRY, claim.attempts)));
                state.store.result_keep_failed(&key, next).await
            }
        };
        if let Err(err) = recorded {
            tracing::error!(error = %err, "kept results: recording a copy");
        }
    }
}

/// Reads one result and stores it; returns its name in the results store.
async fn keep_one(
    state: &AppState,
    policy: &FetchPolicy,
    results: &UploadStore,
    claim: &KeepClaim,
) -> Result<String, KeepError> {
    let dir = spool_dir(&state.config.storage.upload_dir);
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(AppError::from)?;
    let temp = tempfile::Builder::new()
        .prefix(SPOOL_PREFIX)
        .tempfile_in(&dir)
        .map_err(AppError::from)?;
    let (file, path) = temp.into_parts();
    let spooled = policy.fetch_result(&claim.provider_url, file).await?;
    if spooled.len == 0 {
        return Err(KeepError::Empty);
    }
    let media = spooled.media.ok_or(KeepError::NotMedia)?;
    let name = format!(
        "{}.{}",
        tokens::new_upload_stem().map_err(AppError::from)?,
        media.extension()
    );
    results
        .put(
            &name,
            Incoming {
                path,
                file: spooled.file,
                len: spooled.len,
                media,
                duration_ms: None,
            },
        )
        .await
        .map_err(AppError::from)?;
    Ok(name)
}

/// Starts the copying loop; it runs until the runtime stops or the handle is aborted.
pub fn spawn_keeper(state: AppState, results: Arc<UploadStore>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(KEEP_INTERVAL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            keep_due(&state, &results).await;
        }
    })
}

/// `GET /results/{provider}/{task_id}`: the kept copy, with range requests; before it is copied
/// (or when it could not be), a redirect to the provider's URL; 404 for a task without a result
/// or a proxy that keeps none.
pub async fn serve(
    State(state): State<AppState>,
    _: AdmittedProviderTraffic,
    Path((provider, task_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let missing = || AppError::not_found("no such result");
    let results = state.results.as_ref().ok_or_else(missing)?;
    let copy = state
        .store
        .result_copy(&TaskKey::new(provider, task_id))
        .await?
        .ok_or_else(missing)?;
    match (copy.kept, copy.provider_url) {
        (Some(name), _) => serve_stored(results, &name, &headers, "no such result").await,
        (None, Some(url)) => Ok((
            StatusCode::TEMPORARY_REDIRECT,
            [
                (header::LOCATION, url),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
        )
            .into_response()),
        (None, None) => Err(missing()),
    }
}
