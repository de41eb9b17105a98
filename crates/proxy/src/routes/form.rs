//! The multipart form of faceswap (`source_image`, `face_image`) and extract_face (`img`): each
//! file field is either a file, spooled to an unnamed temporary file and checked by its magic
//! bytes (jpeg, png or webp), or a text URL checked by faceswap-core's URL rule. The browser's
//! `webhook` and any other field are dropped. The form then streams to the provider from disk.

use axum::extract::multipart::{Field, Multipart, MultipartError};
use axum::http::StatusCode;
use faceswap_core::aifaceswap::Operation;
use faceswap_core::url::check_http_url;
use faceswap_core::FieldError;
use reqwest::multipart::{Form, Part};
use std::path::Path;
use tokio_util::io::ReaderStream;

use crate::idempotency::Fingerprint;
use crate::spool::{spool, SpoolError, Spooled};
use crate::AppError;

/// Longest text field accepted in a form.
const MAX_TEXT: usize = 8 * 1024;

enum Value {
    Url(String),
    File(Spooled),
}

/// A validated form, its files on disk (unnamed: they vanish when dropped, even after a crash).
pub struct SpooledForm {
    fields: Vec<(&'static str, Value)>,
}

fn multipart_error(err: MultipartError, field: Option<&str>) -> AppError {
    if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge {
            message: "the form is larger than allowed".into(),
            field: field.map(str::to_owned),
        }
    } else {
        FieldError::new("body", format!("the multipart form is malformed: {err}")).into()
    }
}

async fn read_text(field: Field<'_>, name: &str) -> Result<String, AppError> {
    let mut field = field;
    let mut text = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| multipart_error(e, Some(name)))?
    {
        if text.len() + chunk.len() > MAX_TEXT {
            return Err(FieldError::new(name, format!("{name} is too long for a URL")).into());
        }
        text.extend_from_slice(&chunk);
    }
    String::from_utf8(text)
        .map_err(|_| FieldError::new(name, format!("{name} is not valid UTF-8")).into())
}

/// Reads and validates the form of `op`, spooling files under `dir` (at most `max_bytes` each).
pub async fn read_form(
    op: Operation,
    mut multipart: Multipart,
    dir: &Path,
    max_bytes: u64,
    fingerprint: &mut Fingerprint,
) -> Result<SpooledForm, AppError> {
    let mut fields: Vec<(&'static str, Value)> = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(e, None))?
    {
        let Some(name) = field
            .name()
            .and_then(|n| op.file_fields().iter().copied().find(|f| *f == n))
        else {
            // The browser's webhook and unknown fields are never forwarded.
            drain(field).await?;
            continue;
        };
        if fields.iter().any(|(n, _)| *n == name) {
            return Err(FieldError::new(name, format!("{name} is given twice")).into());
        }
        fingerprint.update(name.as_bytes());
        if field.file_name().is_some() {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| AppError::Internal(format!("spool folder: {e}")))?;
            let file = tempfile::tempfile_in(dir)
                .map_err(|e| AppError::Internal(format!("spool file: {e}")))?;
            let spooled = spool(
                field,
                file,
                max_bytes,
                Some(fingerprint),
                |e: &MultipartError| e.status() == StatusCode::PAYLOAD_TOO_LARGE,
            )
            .await
            .map_err(|err| spool_error(err, name, max_bytes))?;
            match spooled.media {
                Some(media) if media.is_image() => {}
                _ => {
                    return Err(AppError::UnsupportedMediaType {
                        message: format!("{name} must be a jpeg, png or webp image"),
                        field: Some(name.to_owned()),
                    })
                }
            }
            fields.push((name, Value::File(spooled)));
        } else {
            let text = read_text(field, name).await?;
            check_http_url(name, &text)?;
            fingerprint.update(text.as_bytes());
            fields.push((name, Value::Url(text)));
        }
    }
    for &name in op.file_fields() {
        if !fields.iter().any(|(n, _)| *n == name) {
            return Err(FieldError::required(name).into());
        }
    }
    Ok(SpooledForm { fields })
}

async fn drain(mut field: Field<'_>) -> Result<(), AppError> {
    while field
        .chunk()
        .await
        .map_err(|e| multipart_error(e, None))?
        .is_some()
    {}
    Ok(())
}

/// The error for a file field that could not be spooled.
pub fn spool_error(err: SpoolError, field: &str, max_bytes: u64) -> AppError {
    match err {
        SpoolError::TooLarge | SpoolError::Body(true) => AppError::PayloadTooLarge {
            message: format!("{field} is larger than {max_bytes} bytes"),
            field: Some(field.to_owned()),
        },
        SpoolError::Body(false) => {
            FieldError::new(field, format!("{field} could not be read completely")).into()
        }
        SpoolError::Io(e) => AppError::Internal(format!("spool write: {e}")),
    }
}

impl SpooledForm {
    /// The form for the provider, with `webhook` added when given.
    pub fn into_upstream(self, webhook: Option<String>) -> Result<Form, AppError> {
        let mut form = Form::new();
        for (name, value) in self.fields {
            form = match value {
                Value::Url(url) => form.text(name, url),
                Value::File(spooled) => {
                    let media = spooled.media;
                    let body = reqwest::Body::wrap_stream(ReaderStream::new(spooled.file));
                    let mut part = Part::stream_with_length(body, spooled.len);
                    if let Some(media) = media {
                        part = part
                            .file_name(format!("{name}.{}", media.extension()))
                            .mime_str(media.content_type())
                            .map_err(|e| AppError::Internal(format!("mime: {e}")))?;
                    }
                    form.part(name, part)
                }
            };
        }
        if let Some(url) = webhook {
            form = form.text("webhook", url);
        }
        Ok(form)
    }
}
