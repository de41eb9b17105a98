//! An image's width and height from its header, without decoding it: JPEG (the first frame
//! header, `SOFn`, outside embedded images), PNG (`IHDR`) and WebP (`VP8 `, `VP8L`, `VP8X`).
//!
//! Written here rather than taken from a crate because the browser library runs it: the
//! `imagesize` crate reads through `std::io`, whose errors link Rust's `Debug` formatting into the
//! wasm (about 9 KB before compression, measured with twiggy). The layouts are the formats' own:
//! PNG's IHDR (ISO/IEC 15948 11.2.2), JPEG's frame header (ITU T.81 B.2.2), WebP's container
//! (RFC 9649 section 2.7).

/// The width and height of a JPEG, PNG or WebP image in `bytes`; `None` for anything else, or a
/// file cut off before its header says its size.
pub fn dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        png(bytes)
    } else if bytes.starts_with(b"\xFF\xD8\xFF") {
        jpeg(bytes)
    } else if bytes.len() >= 16 && bytes.starts_with(b"RIFF") && bytes.get(8..12)? == b"WEBP" {
        webp(bytes)
    } else {
        None
    }
}

fn be16(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 2)?;
    Some(u32::from(b[0]) << 8 | u32::from(b[1]))
}

fn le16(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 2)?;
    Some(u32::from(b[1]) << 8 | u32::from(b[0]))
}

fn le24(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 3)?;
    Some(u32::from(b[2]) << 16 | u32::from(b[1]) << 8 | u32::from(b[0]))
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 4)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// The IHDR chunk, always first: width and height at bytes 16 and 20.
fn png(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.get(12..16)? != b"IHDR" {
        return None;
    }
    Some((be32(bytes, 16)?, be32(bytes, 20)?))
}

/// Walks the markers after SOI to the first frame header outside an embedded image: `SOFn`
/// (C0-CF but C4 DHT, C8 JPG and CC DAC) holds precision, height and width.
fn jpeg(bytes: &[u8]) -> Option<(u32, u32)> {
    let mut at = 2;
    let mut depth = 0u32;
    loop {
        if *bytes.get(at)? != 0xFF {
            return None;
        }
        let marker = *bytes.get(at + 1)?;
        match marker {
            // Fill bytes before a marker.
            0xFF => at += 1,
            0xD8 => {
                depth += 1;
                at += 2;
            }
            0xD9 => {
                depth = depth.checked_sub(1)?;
                at += 2;
            }
            // Markers without a length: TEM, RSTn.
            0x01 | 0xD0..=0xD7 => at += 2,
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) && depth == 0 => {
                return Some((be16(bytes, at + 7)?, be16(bytes, at + 5)?));
            }
            _ => at += 2 + usize::try_from(be16(bytes, at + 2)?).ok()?,
        }
    }
}

/// The first chunk says the kind: lossy `VP8 ` (14-bit sizes at 26), lossless `VP8L` (packed
/// 14-bit sizes less one at 21), extended `VP8X` (24-bit sizes less one at 24).
fn webp(bytes: &[u8]) -> Option<(u32, u32)> {
    match bytes.get(12..16)? {
        b"VP8 " => Some((le16(bytes, 26)? & 0x3FFF, le16(bytes, 28)? & 0x3FFF)),
        b"VP8L" => {
            let packed = le16(bytes, 21)? | le16(bytes, 23)? << 16;
            Some(((packed & 0x3FFF) + 1, ((packed >> 14) & 0x3FFF) + 1))
        }
        b"VP8X" => Some((le24(bytes, 24)? + 1, le24(bytes, 27)? + 1)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::{vec, vec::Vec};

    /// What the `imagesize` crate reads, for comparison.
    fn theirs(bytes: &[u8]) -> Option<(u32, u32)> {
        let size = imagesize::blob_size(bytes).ok()?;
        Some((size.width as u32, size.height as u32))
    }

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        bytes.extend_from_slice(&width.to_be_bytes());
        bytes.extend_from_slice(&height.to_be_bytes());
        bytes.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        bytes
    }

    fn jpeg(width: u16, height: u16, with_exif: bool) -> Vec<u8> {
        let mut bytes = vec![0xFF, 0xD8];
        if with_exif {
            // APP1 of 10 bytes of payload, holding an embedded SOI/SOF that must be skipped.
            bytes.extend_from_slice(&[0xFF, 0xE1, 0x00, 0x0C, 0xFF, 0xD8, 0xFF, 0xC0]);
            bytes.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        }
        bytes.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08]);
        bytes.extend_from_slice(&height.to_be_bytes());
        bytes.extend_from_slice(&width.to_be_bytes());
        bytes.extend_from_slice(&[0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01]);
        bytes
    }

    fn webp(chunk: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut bytes = b"RIFF\0\0\0\0WEBP".to_vec();
        bytes.extend_from_slice(chunk);
        bytes.extend_from_slice(&[0, 0, 0, 0]);
        bytes.extend_from_slice(payload);
        bytes
    }

    #[test]
    fn every_format_reads_as_imagesize_reads_it() {
        let lossy = webp(
            b"VP8 ",
            &[0, 0, 0, 0x9D, 0x01, 0x2A, 0x80, 0x02, 0xE0, 0x01],
        );
        // 640 x 480 lossless: (w-1) | (h-1) << 14 after the signature byte 0x2F.
        let packed: u32 = 639 | 479 << 14;
        let mut lossless_payload = vec![0x2F];
        lossless_payload.extend_from_slice(&packed.to_le_bytes());
        let lossless = webp(b"VP8L", &lossless_payload);
        let extended = webp(b"VP8X", &[0, 0, 0, 0, 0x7F, 0x02, 0x00, 0xDF, 0x01, 0x00]);
        for (bytes, size) in [
            (png(640, 480), (640, 480)),
            (jpeg(400, 300, false), (400, 300)),
            (jpeg(4000, 3000, true), (4000, 3000)),
            (lossy, (640, 480)),
            (lossless, (640, 480)),
            (extended, (640, 480)),
        ] {
            assert_eq!(dimensions(&bytes), Some(size));
            assert_eq!(theirs(&bytes), Some(size));
        }
    }

    #[test]
    fn other_or_cut_off_files_have_no_size() {
        assert_eq!(dimensions(b"GIF89a\x01\0\x01\0\0\0"), None);
        assert_eq!(dimensions(&png(640, 480)[..20]), None);
        assert_eq!(dimensions(&jpeg(400, 300, true)[..20]), None);
        assert_eq!(dimensions(&[0xFF, 0xD8, 0xFF]), None);
        assert_eq!(dimensions(b"RIFF\0\0\0\0WEBPVP8Z\0\0\0\0"), None);
        assert_eq!(dimensions(b""), None);
        // A stray end of image before any frame header.
        assert_eq!(dimensions(&[0xFF, 0xD8, 0xFF, 0xD9, 0xFF, 0xC0]), None);
    }
}
