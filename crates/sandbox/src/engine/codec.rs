//! Still images in and out: JPEG, PNG or WebP decoded within limits, results encoded as PNG.

use image::{ImageFormat, ImageReader, Limits, RgbImage};
use std::io::Cursor;

/// Largest image side the sandbox decodes.
pub const MAX_IMAGE_SIDE: u32 = 8192;
/// Most memory one decode may allocate.
pub const MAX_DECODE_BYTES: u64 = 512 * 1024 * 1024;

/// Why an input image could not be decoded; names the request field it came from.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// Its first bytes could not be read.
    #[error("{field} could not be read")]
    Unreadable {
        /// The request field.
        field: String,
        /// The reader's error.
        #[source]
        source: std::io::Error,
    },
    /// Not a JPEG, PNG or WebP file.
    #[error("{field} must be a JPEG, PNG or WebP image")]
    Format {
        /// The request field.
        field: String,
    },
    /// A damaged file, or one over the limits.
    #[error("{field} could not be decoded: {source}")]
    Decode {
        /// The request field.
        field: String,
        /// The decoder's error.
        source: image::ImageError,
    },
}

impl ImageError {
    /// The request field at fault.
    pub fn field(&self) -> &str {
        match self {
            ImageError::Unreadable { field, .. }
            | ImageError::Format { field }
            | ImageError::Decode { field, .. } => field,
        }
    }
}

/// Decodes a JPEG, PNG or WebP image given as `field`.
pub fn decode_image(field: &str, bytes: &[u8]) -> Result<RgbImage, ImageError> {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|source| ImageError::Unreadable {
            field: field.to_owned(),
            source,
        })?;
    if !matches!(
        reader.format(),
        Some(ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP)
    ) {
        return Err(ImageError::Format {
            field: field.to_owned(),
        });
    }
    reader.limits(limits);
    reader
        .decode()
        .map(|img| img.to_rgb8())
        .map_err(|source| ImageError::Decode {
            field: field.to_owned(),
            source,
        })
}

/// Encodes a result as PNG.
pub fn encode_png(image: &RgbImage) -> Result<Vec<u8>, image::ImageError> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, ImageFormat::Png)?;
    Ok(out.into_inner())
}
