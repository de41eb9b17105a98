//! Multipart submits: file parts become core's [`FormInput`] files (standing in for URLs by
//! [`faceswap_core::provider::form::file_stand_in`]) and the engine's [`Uploads`]; other parts are
//! text.

use axum::extract::multipart::MultipartError;
use axum::extract::Multipart;
use axum::http::StatusCode;
use faceswap_core::provider::form::repeated_key;
use faceswap_core::provider::{FormInput, FormValue};
use faceswap_core::MediaType;

use crate::engine::fetch::Uploads;
use crate::error::ApiError;

/// Why a multipart body was refused.
#[derive(Debug, thiserror::Error)]
pub enum FormError {
    /// Not a readable multipart body.
    #[error("bad multipart body: {0}")]
    Body(#[from] MultipartError),
    /// A part without a name.
    #[error("bad multipart body: a part has no name")]
    Unnamed,
    /// A file part that is not a JPEG, PNG or WebP image.
    #[error("{0} must be a JPEG, PNG or WebP image")]
    NotImage(String),
    /// A text part that is not UTF-8.
    #[error("{0} must be text")]
    NotText(String),
}

impl From<FormError> for ApiError {
    fn from(err: FormError) -> Self {
        let message = err.to_string();
        match err {
            FormError::Body(_) | FormError::Unnamed => {
                ApiError::new(StatusCode::BAD_REQUEST, message)
            }
            FormError::NotImage(field) => {
                ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, message).with_field(field)
            }
            FormError::NotText(field) => {
                ApiError::new(StatusCode::BAD_REQUEST, message).with_field(field)
            }
        }
    }
}

/// Reads every part: a file part under one of `file_fields` must be an image and is kept in the
/// uploads (the n-th file of a field in `repeated` under core's `repeated_key`, `face_image[0]`);
/// every other part is text.
pub async fn read(
    mut multipart: Multipart,
    file_fields: &[&str],
    repeated: &[&str],
) -> Result<(FormInput, Uploads), FormError> {
    let mut form = FormInput::default();
    let mut uploads = Uploads::default();
    while let Some(part) = multipart.next_field().await? {
        let name = part.name().ok_or(FormError::Unnamed)?.to_owned();
        let is_file = part.file_name().is_some();
        let data = part.bytes().await?;
        if is_file && file_fields.contains(&name.as_str()) {
            let kind = MediaType::sniff(&data)
                .filter(|kind| kind.is_image())
                .ok_or_else(|| FormError::NotImage(name.clone()))?;
            let key = if repeated.contains(&name.as_str()) {
                repeated_key(&name, form.values(&name).count())
            } else {
                name.clone()
            };
            uploads.insert(key, data);
            form.fields.push((name, FormValue::File(kind)));
        } else {
            let text =
                String::from_utf8(data.to_vec()).map_err(|_| FormError::NotText(name.clone()))?;
            form.fields.push((name, FormValue::Text(text)));
        }
    }
    Ok((form, uploads))
}
