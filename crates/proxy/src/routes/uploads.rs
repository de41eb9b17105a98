//! `POST /api/uploads` (multipart field `file`, or a raw body) streamed to `UPLOAD_DIR`, checked by
//! magic bytes, and `GET /uploads/{name}` serving it back with its type and range requests.
//! Old uploads are removed by [`remove_old_uploads`].

use axum::extract::multipart::MultipartError;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use faceswap_core::{FieldError, MediaType};
use serde::Serialize;
use std::path::{Path as FsPath, PathBuf};
use std::time::{Duration, SystemTime};
use tower::ServiceExt;
use tower_http::services::ServeFile;

use crate::limits::Admitted;
use crate::routes::form::spool_error;
use crate::spool::{spool, Spooled};
use crate::{tokens, AppError, AppState};

/// The answer of an upload.
#[derive(Debug, Serialize)]
pub struct Uploaded {
    /// Where the file is served, under `PUBLIC_URL/uploads/`.
    pub url: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its type, from its magic bytes.
    pub content_type: &'static str,
}

fn spool_dir(upload_dir: &FsPath) -> PathBuf {
    upload_dir.join(".spool")
}

async fn spool_named<S, E>(
    state: &AppState,
    stream: S,
    too_large: impl Fn(&E) -> bool,
) -> Result<(tempfile::TempPath, Spooled), AppError>
where
    S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
{
    let dir = spool_dir(&state.config.upload_dir);
    tokio::fs::create_dir_all(&dir).await?;
    let temp = tempfile::NamedTempFile::new_in(&dir)?;
    let (file, path) = temp.into_parts();
    let spooled = spool(stream, file, state.config.upload_max_bytes, None, too_large)
        .await
        .map_err(|err| spool_error(err, "file", state.config.upload_max_bytes))?;
    Ok((path, spooled))
}

/// Stores one file and answers where it is served.
pub async fn upload(
    State(state): State<AppState>,
    _: Admitted,
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
    if !is_multipart && declared.is_some_and(|len| len > state.config.upload_max_bytes) {
        return Err(AppError::PayloadTooLarge {
            message: format!(
                "file is larger than {} bytes",
                state.config.upload_max_bytes
            ),
            field: Some("file".into()),
        });
    }
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
    let stem = tokens::new_upload_stem()?;
    let name = format!("{stem}.{}", media.extension());
    let size = spooled.len;
    drop(spooled.file);
    path.persist(state.config.upload_dir.join(&name))?;
    tracing::info!(size, content_type = media.content_type(), "upload stored");
    Ok(Json(Uploaded {
        url: format!("{}/uploads/{name}", state.config.public_url),
        size,
        content_type: media.content_type(),
    })
    .into_response())
}

/// The media type of a stored upload's name (`<32 hex>.<ext>`), if it is one.
pub(crate) fn stored_type(name: &str) -> Option<MediaType> {
    let (stem, ext) = name.split_once('.')?;
    let valid_stem =
        stem.len() == 32 && stem.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let media = MediaType::from_extension(ext)?;
    (valid_stem && media.extension() == ext).then_some(media)
}

/// Serves a stored upload (Range, If-Modified-Since, HEAD).
pub async fn serve(
    State(state): State<AppState>,
    Path(name): Path<String>,
    request: Request,
) -> Result<Response, AppError> {
    let media = stored_type(&name).ok_or_else(|| AppError::not_found("no such upload"))?;
    let path = state.config.upload_dir.join(&name);
    if !tokio::fs::try_exists(&path).await.unwrap_or(false) {
        return Err(AppError::not_found("no such upload"));
    }
    let mut response = match ServeFile::new(path).oneshot(request).await {
        Ok(response) => response.into_response(),
        Err(infallible) => match infallible {},
    };
    let headers = response.headers_mut();
    if headers.contains_key(header::CONTENT_TYPE) {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(media.content_type()),
        );
    }
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    Ok(response)
}

/// Removes uploads (and abandoned spool files) last modified more than `max_age` ago.
pub async fn remove_old_uploads(dir: &FsPath, max_age: Duration) -> usize {
    let mut removed = 0;
    for folder in [dir.to_path_buf(), spool_dir(dir)] {
        let Ok(mut entries) = tokio::fs::read_dir(&folder).await else {
            continue;
        };
        while let Ok(Some(entry)) = entries.next_entry().await {
            let Ok(meta) = entry.metadata().await else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            let old = meta
                .modified()
                .ok()
                .and_then(|m| SystemTime::now().duration_since(m).ok())
                .is_some_and(|age| age >= max_age);
            if old && tokio::fs::remove_file(entry.path()).await.is_ok() {
                removed += 1;
            }
        }
    }
    removed
}
