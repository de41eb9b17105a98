//! Multipart submits, for every provider: each file field an operation lists is either a file,
//! spooled to an unnamed temporary file and checked by its magic bytes (jpeg, png or webp), or a
//! text URL; the operation's text fields are read as text; anything else (a browser's `webhook`,
//! unknown fields) is dropped. The adapter validates the result as a [`FormInput`]; the files
//! stream to the provider from disk.

use axum::extract::multipart::{Field, Multipart, MultipartError};
use axum::http::StatusCode;
use faceswap_core::provider::form::repeated_key;
use faceswap_core::provider::{FormInput, FormValue, OperationSpec};
use faceswap_core::{url, FieldError};
use reqwest::multipart::Part;
use std::path::Path;
use tokio_util::io::ReaderStream;

use crate::error::InternalError;
use crate::idempotency::Fingerprint;
use crate::spool::{spool, SpoolError, Spooled};
use crate::AppError;

/// Longest text field accepted in a form, other than a URL (a URL field follows core's URL rule,
/// [`url::MAX_URL_BYTES`]).
const MAX_TEXT: usize = 8 * 1024;

/// The files of a form, on disk (unnamed: they vanish when dropped, even after a crash).
#[derive(Debug, Default)]
pub struct SpooledFiles {
    files: Vec<(String, Spooled)>,
}

impl SpooledFiles {
    /// Keeps `spooled` as the file of `field` (a URL input the proxy read).
    pub fn insert(&mut self, field: String, spooled: Spooled) {
        self.files.retain(|(name, _)| *name != field);
        self.files.push((field, spooled));
    }

    /// The file sent under `field`, as an upstream part streamed from disk.
    pub fn part(&mut self, field: &str) -> Result<Part, AppError> {
        let index = self
            .files
            .iter()
            .position(|(name, _)| name == field)
            .ok_or_else(|| AppError::Internal(InternalError::MissingFile(field.to_owned())))?;
        let (name, spooled) = self.files.swap_remove(index);
        let body = reqwest::Body::wrap_stream(ReaderStream::new(spooled.file));
        let part = Part::stream_with_length(body, spooled.len);
        match spooled.media {
            Some(media) => part
                .file_name(format!("{name}.{}", media.extension()))
                .mime_str(media.content_type())
                .map_err(AppError::from),
            None => Ok(part),
        }
    }
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

/// Reads a text field; a URL (a file field sent as text) is cut off by core's URL rule, so the
/// error is the one a JSON body gets.
async fn read_text(field: Field<'_>, name: &str, kind: &FieldKind) -> Result<String, AppError> {
    let mut field = field;
    let mut text = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| multipart_error(e, Some(name)))?
    {
        let too_long = match kind {
            FieldKind::File if text.len() + chunk.len() > url::MAX_URL_BYTES => {
                Some(url::too_long(name))
            }
            FieldKind::Text if text.len() + chunk.len() > MAX_TEXT => {
                Some(FieldError::new(name, format!("{name} is too long")))
            }
            _ => None,
        };
        if let Some(err) = too_long {
            return Err(err.into());
        }
        text.extend_from_slice(&chunk);
    }
    String::from_utf8(text)
        .map_err(|_| FieldError::new(name, format!("{name} is not valid UTF-8")).into())
}

/// What a field of the form is, for the operations served on one route.
enum FieldKind {
    File,
    Text,
}

fn kind_of(operations: &[&OperationSpec], name: &str) -> Option<FieldKind> {
    if operations.iter().any(|op| op.file_fields.contains(&name)) {
        Some(FieldKind::File)
    } else if operations
        .iter()
        .any(|op| op.form_text_fields.contains(&name))
    {
        Some(FieldKind::Text)
    } else {
        None
    }
}

/// Reads the form of a route served by `operations`, spooling files under `dir` (at most
/// `max_bytes` each).
pub async fn read_form(
    operations: &[&OperationSpec],
    mut multipart: Multipart,
    dir: &Path,
    max_bytes: u64,
    fingerprint: &mut Fingerprint,
) -> Result<(FormInput, SpooledFiles), AppError> {
    let mut input = FormInput::default();
    let mut files = SpooledFiles::default();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(e, None))?
    {
        let Some(name) = field.name().map(str::to_owned) else {
            drain(field).await?;
            continue;
        };
        let Some(kind) = kind_of(operations, &name) else {
            // The browser's webhook and unknown fields are never forwarded.
            drain(field).await?;
            continue;
        };
        // A field an operation takes once per entry (aifaceswap's multi_faceswap: `face_image`,
        // `index`) may repeat; any other is refused the second time.
        let repeated = operations
            .iter()
            .any(|op| op.repeated_fields.contains(&name.as_str()));
        let earlier = input.values(&name).count();
        if earlier > 0 && !repeated {
            return Err(FieldError::new(&name, format!("{name} is given twice")).into());
        }
        fingerprint.update(name.as_bytes());
        let is_file = matches!(kind, FieldKind::File) && field.file_name().is_some();
        if is_file {
            let spooled = spool_file(field, &name, dir, max_bytes, fingerprint).await?;
            let media = match spooled.media {
                Some(media) if media.is_image() => media,
                _ if spooled.len == 0 => {
                    return Err(FieldError::new(&name, format!("{name} is an empty file")).into())
                }
                _ => {
                    return Err(AppError::UnsupportedMediaType {
                        message: format!("{name} must be a jpeg, png or webp image"),
                        field: Some(name),
                    })
                }
            };
            input.fields.push((name.clone(), FormValue::File(media)));
            // The n-th file of a repeated field is kept (and sent on) under `name[n]`.
            let key = if repeated {
                repeated_key(&name, earlier)
            } else {
                name
            };
            files.files.push((key, spooled));
        } else {
            let text = read_text(field, &name, &kind).await?;
            fingerprint.update(text.as_bytes());
            input.fields.push((name, FormValue::Text(text)));
        }
    }
    Ok((input, files))
}

async fn spool_file(
    field: Field<'_>,
    name: &str,
    dir: &Path,
    max_bytes: u64,
    fingerprint: &mut Fingerprint,
) -> Result<Spooled, AppError> {
    tokio::fs::create_dir_all(dir).await?;
    let file = tempfile::tempfile_in(dir)?;
    spool(
        field,
        file,
        max_bytes,
        Some(fingerprint),
        |e: &MultipartError| e.status() == StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await
    .map_err(|err| spool_error(err, name, max_bytes))
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
        SpoolError::Io(e) => AppError::from(e),
    }
}
