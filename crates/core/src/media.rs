//! Media types recognised by their magic bytes, never by a name or a declared Content-Type.

/// A file type the project accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaType {
    /// JPEG image.
    Jpeg,
    /// PNG image.
    Png,
    /// WebP image.
    Webp,
    /// MPEG-4 video (ISO base media file).
    Mp4,
    /// WebM video (Matroska with the `webm` doctype).
    Webm,
    /// QuickTime movie.
    Mov,
}

/// How many leading bytes [`MediaType::sniff`] needs to recognise every type.
pub const SNIFF_LEN: usize = 64;

impl MediaType {
    /// Recognises a file from its first bytes (at least [`SNIFF_LEN`] when the file has them).
    pub fn sniff(head: &[u8]) -> Option<Self> {
        if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
            return Some(Self::Jpeg);
        }
        if head.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Some(Self::Png);
        }
        if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
            return Some(Self::Webp);
        }
        if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
            // EBML header: accept only the webm doctype, not arbitrary Matroska.
            return contains(head, b"webm").then_some(Self::Webm);
        }
        if head.len() >= 12 && &head[4..8] == b"ftyp" {
            return Some(if &head[8..12] == b"qt  " {
                Self::Mov
            } else {
                Self::Mp4
            });
        }
        if head.len() >= 8 && matches!(&head[4..8], b"moov" | b"mdat" | b"wide" | b"free") {
            return Some(Self::Mov);
        }
        None
    }

    /// The MIME type to serve the file with.
    pub const fn content_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Mp4 => "video/mp4",
            Self::Webm => "video/webm",
            Self::Mov => "video/quicktime",
        }
    }

    /// The file name extension, without the dot.
    pub const fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Webp => "webp",
            Self::Mp4 => "mp4",
            Self::Webm => "webm",
            Self::Mov => "mov",
        }
    }

    /// The type that a file name extension stands for (case-insensitive).
    pub fn from_extension(ext: &str) -> Option<Self> {
        let ext = ext.to_ascii_lowercase();
        [
            Self::Jpeg,
            Self::Png,
            Self::Webp,
            Self::Mp4,
            Self::Webm,
            Self::Mov,
        ]
        .into_iter()
        .find(|t| t.extension() == ext || (ext == "jpeg" && *t == Self::Jpeg))
    }

    /// True for the still-image types.
    pub const fn is_image(self) -> bool {
        matches!(self, Self::Jpeg | Self::Png | Self::Webp)
    }
}

/// An image's width and height in pixels, read from its header without decoding it (JPEG, PNG
/// and WebP, by [`crate::image_header`]); `None` when `bytes` is not such an image or is cut off
/// before the header says its size. A JPEG's size sits in its frame header, which may follow
/// metadata: pass the whole file, or at least [`DIMENSIONS_PREFIX`] bytes of it.
pub fn image_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    crate::image_header::dimensions(bytes)
}

/// How many leading bytes of an image are enough for [`image_dimensions`] in all but unusual
/// files (a JPEG whose metadata is larger); callers that stream read this much first.
pub const DIMENSIONS_PREFIX: usize = 256 * 1024;

/// A limit on an image's pixels that a provider documents (PiAPI: "under 2048 x 2048 resolution
/// each").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxResolution {
    /// The widest allowed, in pixels.
    pub width: u32,
    /// The tallest allowed, in pixels.
    pub height: u32,
}

impl MaxResolution {
    /// Checks an image's header against the limit: an error naming `field` when the image is
    /// larger; `Ok` when it fits or its size cannot be read from `bytes` (the provider then
    /// judges it).
    pub fn check(self, field: &str, bytes: &[u8]) -> Result<(), crate::FieldError> {
        match image_dimensions(bytes) {
            Some((width, height)) => self.check_size(field, width, height),
            None => Ok(()),
        }
    }

    /// Checks a known size against the limit.
    pub fn check_size(self, field: &str, width: u32, height: u32) -> Result<(), crate::FieldError> {
        if width <= self.width && height <= self.height {
            return Ok(());
        }
        Err(crate::FieldError::new(
            field,
            crate::text!(
                field,
                " is ",
                width,
                " x ",
                height,
                " pixels; the provider takes images of at most ",
                self.width,
                " x ",
                self.height
            ),
        ))
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn recognises_each_type() {
        assert_eq!(
            MediaType::sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]),
            Some(MediaType::Jpeg)
        );
        assert_eq!(
            MediaType::sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some(MediaType::Png)
        );
        assert_eq!(
            MediaType::sniff(b"RIFF\x10\0\0\0WEBPVP8 "),
            Some(MediaType::Webp)
        );
        assert_eq!(
            MediaType::sniff(b"\0\0\0\x20ftypisom\0\0\x02\0"),
            Some(MediaType::Mp4)
        );
        assert_eq!(
            MediaType::sniff(b"\0\0\0\x14ftypqt  \0\0\x02\0"),
            Some(MediaType::Mov)
        );
        assert_eq!(
            MediaType::sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm"),
            Some(MediaType::Webm)
        );
    }

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        bytes.extend_from_slice(&width.to_be_bytes());
        bytes.extend_from_slice(&height.to_be_bytes());
        bytes.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        bytes
    }

    #[test]
    fn dimensions_come_from_the_header() {
        assert_eq!(image_dimensions(&png(640, 480)), Some((640, 480)));
        // A JPEG: SOI, then a SOF0 frame header with height 300 and width 400.
        let jpeg = [
            0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x01, 0x2C, 0x01, 0x90, 0x03, 0x01, 0x22,
            0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01,
        ];
        assert_eq!(image_dimensions(&jpeg), Some((400, 300)));
        assert_eq!(image_dimensions(b"GIF89a\x01\0\x01\0\0\0"), None);
        assert_eq!(image_dimensions(&png(640, 480)[..12]), None);
        let limit = MaxResolution {
            width: 2048,
            height: 2048,
        };
        assert!(limit.check("img", &png(2048, 2048)).is_ok());
        assert!(limit.check("img", b"not an image").is_ok());
        let err = limit.check("img", &png(2048, 2049)).unwrap_err();
        assert_eq!(err.field, "img");
        assert!(err.message.contains("2048 x 2049"), "{}", err.message);
    }

    #[test]
    fn rejects_other_files() {
        assert_eq!(MediaType::sniff(b"GIF89a\0\0\0\0\0\0"), None);
        assert_eq!(MediaType::sniff(b"%PDF-1.7\n"), None);
        assert_eq!(
            MediaType::sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska"),
            None
        );
        assert_eq!(MediaType::sniff(b""), None);
        assert_eq!(MediaType::sniff(b"RIFF\0\0\0\0WAVE"), None);
    }

    #[test]
    fn extensions_round_trip() {
        for t in [
            MediaType::Jpeg,
            MediaType::Png,
            MediaType::Webp,
            MediaType::Mp4,
            MediaType::Webm,
            MediaType::Mov,
        ] {
            assert_eq!(MediaType::from_extension(t.extension()), Some(t));
        }
        assert_eq!(MediaType::from_extension("JPEG"), Some(MediaType::Jpeg));
        assert_eq!(MediaType::from_extension("gif"), None);
    }
}
