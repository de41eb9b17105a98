//! Inputs that may be a URL string or a Blob: reading them, checking a Blob's type by its magic
//! bytes before anything is sent, and turning Blobs into URLs through the proxy's uploads.

use crate::drive::settle;
use alloc::{string::String, vec::Vec};
use faceswap_core::media::{MaxResolution, DIMENSIONS_PREFIX};
use faceswap_core::provider::form::file_stand_in;
use faceswap_core::MediaType;
use js_sys::Uint8Array;
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
use web_sys::{AbortSignal, Blob, FormData};

use crate::error::ClientError;
use crate::js;
use crate::provider_client::ProviderClient;

/// What a media field holds.
pub enum Source {
    /// A URL the provider can fetch.
    Url(String),
    /// A file to send: as a multipart part or through an upload.
    Blob(Blob),
}

/// Which kind of media a field takes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// JPEG, PNG or WebP.
    Image,
    /// MP4, WebM or QuickTime.
    Video,
}

impl Source {
    /// The URL to validate with: the string itself, or for a Blob the stand-in URL of the
    /// provider's field `field` (faceswap-core's one rule for a file standing in for a URL), so
    /// nothing is uploaded for a request that would be refused.
    pub fn url_for_validation(&self, field: &str) -> String {
        match self {
            Source::Url(url) => url.clone(),
            Source::Blob(_) => file_stand_in(field),
        }
    }
}

/// Reads `field` of `object` as a URL string or a Blob.
pub fn source_field(object: &JsValue, field: &str) -> Result<Source, ClientError> {
    source_value(js::required(object, field)?, field)
}

/// Reads one value (an array entry, say) as a URL string or a Blob; `field` names it in errors.
pub fn source_value(value: JsValue, field: &str) -> Result<Source, ClientError> {
    if let Some(url) = value.as_string() {
        return Ok(Source::Url(url));
    }
    value.dyn_into::<Blob>().map(Source::Blob).map_err(|_| {
        ClientError::invalid_field(
            field,
            faceswap_core::text!(field, " must be a URL string or a Blob"),
        )
    })
}

/// Checks by its first bytes that a Blob in `field` is the right kind of media.
pub async fn check_blob(blob: &Blob, kind: Kind, field: &str) -> Result<MediaType, ClientError> {
    let head = blob
        .slice_with_i32_and_i32(0, faceswap_core::media::SNIFF_LEN as i32)
        .map_err(|_| {
            ClientError::invalid_field(field, faceswap_core::text!(field, " cannot be read"))
        })?;
    let buffer = settle(head.array_buffer()).await.map_err(|_| {
        ClientError::invalid_field(field, faceswap_core::text!(field, " cannot be read"))
    })?;
    let bytes = Uint8Array::new(&buffer).to_vec();
    let wanted = match kind {
        Kind::Image => "a JPEG, PNG or WebP image",
        Kind::Video => "an MP4, WebM or QuickTime video",
    };
    match MediaType::sniff(&bytes) {
        Some(media) if media.is_image() == (kind == Kind::Image) => Ok(media),
        _ => Err(ClientError::invalid_field(
            field,
            faceswap_core::text!(field, " must be ", wanted),
        )),
    }
}

/// Checks an image Blob's width and height against a provider's limit, read from the image's
/// header (its first [`DIMENSIONS_PREFIX`] bytes), never by decoding it; an image whose header
/// does not say within them is left to the provider.
pub async fn check_image_size(
    blob: &Blob,
    field: &str,
    limit: MaxResolution,
) -> Result<(), ClientError> {
    let end = (blob.size() as usize).min(DIMENSIONS_PREFIX) as i32;
    let head = blob.slice_with_i32_and_i32(0, end).map_err(|_| {
        ClientError::invalid_field(field, faceswap_core::text!(field, " cannot be read"))
    })?;
    let buffer = settle(head.array_buffer()).await.map_err(|_| {
        ClientError::invalid_field(field, faceswap_core::text!(field, " cannot be read"))
    })?;
    limit
        .check(field, &Uint8Array::new(&buffer).to_vec())
        .map_err(ClientError::invalid)
}

/// The URL of `source`, uploading a Blob through the proxy first.
pub async fn resolve_url(
    client: &ProviderClient,
    source: &Source,
    signal: Option<&AbortSignal>,
) -> Result<String, ClientError> {
    match source {
        Source::Url(url) => Ok(url.clone()),
        Source::Blob(blob) => {
            let uploaded = client.upload(blob, signal).await?;
            js::get(&uploaded, "url")
                .as_string()
                .ok_or_else(|| ClientError::upstream("the upload answer has no url"))
        }
    }
}

/// Adds `source` to a multipart form as a file part or a text part named `name`.
pub fn append_to_form(
    form: &FormData,
    name: &str,
    source: &Source,
    media: Option<MediaType>,
) -> Result<(), ClientError> {
    let result = match source {
        Source::Url(url) => form.append_with_str(name, url),
        Source::Blob(blob) => {
            let ext = media.map_or("bin", MediaType::extension);
            form.append_with_blob_and_filename(name, blob, &faceswap_core::text!(name, ".", ext))
        }
    };
    result.map_err(|_| {
        ClientError::invalid_field(
            name,
            faceswap_core::text!(name, " cannot be added to the form"),
        )
    })
}

/// One image or video of a request.
pub struct Medium {
    /// A URL, or a Blob to send as a file or to upload.
    pub source: Source,
    /// What it must be.
    pub kind: Kind,
    /// Its name in the JS request, for errors (`faceImage[1]`, `refInfo[0].faceUrl`).
    pub field: String,
}

/// Checks every Blob among `media` by its magic bytes; returns each Blob's type.
pub async fn check_media(media: &[Medium]) -> Result<Vec<Option<MediaType>>, ClientError> {
    let mut types = Vec::new();
    for medium in media {
        types.push(match &medium.source {
            Source::Blob(blob) => Some(check_blob(blob, medium.kind, &medium.field).await?),
            Source::Url(_) => None,
        });
    }
    Ok(types)
}

/// The URL of each of `media`, uploading Blobs through the proxy.
pub async fn resolve_media(
    client: &ProviderClient,
    media: &[Medium],
    signal: Option<&AbortSignal>,
) -> Result<Vec<String>, ClientError> {
    let mut urls = Vec::new();
    for medium in media {
        urls.push(resolve_url(client, &medium.source, signal).await?);
    }
    Ok(urls)
}

/// Reads `field` as an array of URL strings or Blobs.
pub fn source_list(object: &JsValue, field: &str) -> Result<Vec<Source>, ClientError> {
    // A loop, like `integer_list`: collecting into a `Result` costs more wasm.
    let mut sources = Vec::new();
    for (i, value) in js::array_field(object, field)?.iter().enumerate() {
        sources.push(source_value(
            value,
            &faceswap_core::text!(field, "[", i, "]"),
        )?);
    }
    Ok(sources)
}
