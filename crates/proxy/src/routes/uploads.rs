//! `POST /api/uploads` (multipart field `file`, or a raw body) within the client's
//! `UPLOAD_BYTES_PER_HOUR`, spooled under `UPLOAD_DIR`, checked by magic bytes (a video also by
//! its container, read from start to end: [`container`]) and handed with the video's duration to
//! the [`UploadStore`](crate::upload_store::UploadStore), and
//! `GET /uploads/{name}` serving it back from there with its type and single range requests
//! ([`range::resolve`]). Old uploads are removed by [`remove_old_uploads`].

use axum::body::Body;
use axum::extract::multipart::MultipartError;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use faceswap_core::{FieldError, MediaType};
use serde::Serialize;

use crate::auth::Caller;
use crate::limits::{self, Admitted, AdmittedProviderTraffic};
use crate::routes::form::spool_error;
use crate::settlement::Settlement;
use crate::spool::{spool, Spooled};
use crate::upload_store::container::{self, ContainerError, VideoFacts};
use crate::upload_store::range::{self, RangeAnswer};
use crate::upload_store::{disk, is_spool_leftover, spool_dir, Incoming, UploadStore};
use crate::{tokens, AppError, AppState};

/// The answer of an upload.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Uploaded {
    /// Where the file is served, under `PUBLIC_URL/uploads/`.
    pub url: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its type, from its magic bytes.
    pub content_type: &'static str,
}

async fn spool_named<S, E>(
    state: &AppState,
    stream: S,
    too_large: impl Fn(&E) -> bool,
) -> Result<(tempfile::TempPath, Spooled), AppError>
where
    S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
{
    let dir = spool_dir(&state.config.storage.upload_dir);
    tokio::fs::create_dir_all(&dir).await?;
    let temp = tempfile::Builder::new()
        .prefix(crate::upload_store::SPOOL_PREFIX)
        .tempfile_in(&dir)?;
    let (file, path) = temp.into_parts();
    let spooled = spool(
        stream,
        file,
        state.config.limits.upload_max_bytes,
        None,
        too_large,
    )
    .await
    .map_err(|err| spool_error(err, "file", state.config.limits.upload_max_bytes))?;
    Ok((path, spooled))
}

/// Stores one file and answers where it is served.
pub async fn upload(
    State(state): State<AppState>,
    _: Admitted,
    Caller(client): Caller,
    request: Request,
) -> Result<Response, AppError> {
    let is_multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if !is_multipart && declared.is_some_and(|len| len > state.config.limits.upload_max_bytes) {
        return Err(AppError::PayloadTooLarge {
            message: format!(
                "file is larger than {} bytes",
                state.config.limits.upload_max_bytes
            ),
            field: Some("file".into()),
        });
    }
    // A client whose hour of uploads is spent is refused before anything is read (a raw body
    // that says its length must fit whole; a form's length counts more than its file).
    let wanted = match (is_multipart, declared) {
        (false, Some(len)) => len.clamp(1, state.config.limits.upload_max_bytes.max(1)),
        _ => 1,
    };
    limits::take_upload(&state, &client, wanted)
        .await?
        .settle(Settlement::GiveBack)
        .await;
    let (path, spooled) = if is_multipart {
        let mut multipart = Multipart::from_request(request, &state)
            .await
            .map_err(|e| AppError::from(FieldError::new("body", e.body_text())))?;
        let mut found = None;
        while let Some(field) = multipart.next_field().await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::too_large("the upload is larger than allowed")
            } else {
                FieldError::new("body", format!("the multipart form is malformed: {e}")).into()
            }
        })? {
            if field.name() == Some("file") && found.is_none() {
                found = Some(
                    spool_named(&state, field, |e: &MultipartError| {
                        e.status() == StatusCode::PAYLOAD_TOO_LARGE
                    })
                    .await?,
                );
            } else {
                let mut field = field;
                while let Ok(Some(_)) = field.chunk().await {}
            }
        }
        found.ok_or_else(|| AppError::from(FieldError::required("file")))?
    } else {
        let stream = request.into_body().into_data_stream();
        spool_named(&state, stream, |e: &axum::Error| {
            e.to_string().contains("length limit")
        })
        .await?
    };
    if spooled.len == 0 {
        return Err(FieldError::new("file", "file is empty").into());
    }
    let Some(media) = spooled.media else {
        return Err(AppError::UnsupportedMediaType {
            message: "file must be a jpeg, png, webp, mp4, webm or mov file".into(),
            field: Some("file".into()),
        });
    };
    let size = spooled.len;
    // A video is stored only when its container parses from start to end.
    let facts = probe_spooled(&path, media, size).await?;
    let charge = limits::take_upload(&state, &client, size).await?;
    let stem = tokens::new_upload_stem()?;
    let name = format!("{stem}.{}", media.extension());
    let incoming = Incoming {
        path,
        file: spooled.file,
        len: size,
        media,
        duration_ms: facts.and_then(|facts| facts.duration_ms),
    };
    if let Err(err) = state.uploads.put(&name, incoming).await {
        charge.settle(Settlement::GiveBack).await;
        return Err(err.into());
    }
    charge.settle(Settlement::Keep).await;
    tracing::info!(size, content_type = media.content_type(), "upload stored");
    crate::telemetry::uploads_stored(1);
    Ok(Json(Uploaded {
        url: format!("{}/uploads/{name}", state.config.listen.public_url()),
        size,
        content_type: media.content_type(),
    })
    .into_response())
}

/// Reads the spooled file at `path` as its container (videos only, off the runtime): 415
/// `unsupported_media_type` naming `file` when it does not parse from start to end.
async fn probe_spooled(
    path: &std::path::Path,
    media: MediaType,
    len: u64,
) -> Result<Option<VideoFacts>, AppError> {
    let file = std::fs::File::open(path)?;
    let probed = tokio::task::spawn_blocking(move || container::probe(media, file, len)).await;
    let refused = |why: String| AppError::UnsupportedMediaType {
        message: format!("file {why}"),
        field: Some("file".into()),
    };
    match probed {
        Ok(Ok(facts)) => Ok(facts),
        Ok(Err(ContainerError::Io(err))) => Err(err.into()),
        Ok(Err(err)) => Err(refused(err.to_string())),
        // A parser that panics on a crafted file has not read it.
        Err(_) => Err(refused(format!(
            "is not a complete {} file",
            media.extension()
        ))),
    }
}

/// Serves a stored upload: the whole file, or one byte range (206, or 416 past the end). Counted
/// in the providers' generous rate ([`AdmittedProviderTraffic`]): providers fetch inputs here.
pub async fn serve(
    State(state): State<AppState>,
    _: AdmittedProviderTraffic,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    serve_stored(&state.uploads, &name, &headers, "no such upload").await
}

/// Answers a GET of the file `name` of `store` (uploads, or kept results): the whole file, or
/// one byte range (206, or 416 past the end); 404 saying `missing` when it is not stored.
pub async fn serve_stored(
    store: &UploadStore,
    name: &str,
    headers: &HeaderMap,
    missing: &'static str,
) -> Result<Response, AppError> {
    let meta = store
        .meta(name)
        .await?
        .ok_or_else(|| AppError::not_found(missing))?;
    let wanted = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let (status, bytes) = match range::resolve(wanted, meta.size) {
        RangeAnswer::Full => (StatusCode::OK, 0..meta.size),
        RangeAnswer::Partial(bytes) => (StatusCode::PARTIAL_CONTENT, bytes),
        RangeAnswer::Unsatisfiable => {
            let mut response = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            response.headers_mut().insert(
                header::CONTENT_RANGE,
                header_value(format!("bytes */{}", meta.size))?,
            );
            return Ok(response);
        }
    };
    let mut response = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, meta.media.content_type())
        .header(header::CONTENT_LENGTH, bytes.end - bytes.start)
        .header(header::ACCEPT_RANGES, "bytes")
        .header("x-content-type-options", "nosniff")
        .header(header::CACHE_CONTROL, "private, max-age=3600");
    if status == StatusCode::PARTIAL_CONTENT {
        response = response.header(
            header::CONTENT_RANGE,
            format!("bytes {}-{}/{}", bytes.start, bytes.end - 1, meta.size),
        );
    }
    let body = store.read(&meta, bytes).await?;
    response
        .body(Body::from_stream(body))
        .map_err(|err| AppError::from(std::io::Error::other(err)))
}

fn header_value(text: String) -> Result<HeaderValue, AppError> {
    HeaderValue::try_from(text).map_err(|err| AppError::from(std::io::Error::other(err)))
}

/// Removes uploads stored more than `max_age` ago, and spool files abandoned as long ago;
/// returns how many.
pub async fn remove_old_uploads(state: &AppState, max_age: std::time::Duration) -> u64 {
    let spool = spool_dir(&state.config.storage.upload_dir);
    let spooled = disk::remove_old_files(&spool, max_age, is_spool_leftover).await;
    let stored = match state.uploads.remove_older_than(max_age).await {
        Ok(removed) => removed,
        Err(err) => {
            tracing::error!(error = %err, "upload sweep");
            0
        }
    };
    stored + spooled as u64
}
