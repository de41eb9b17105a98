//! Base64 image fields (`base64_img`, `ref_info[].face_ref`): plain base64 of a JPEG, PNG or WebP
//! file. A `data:image/...;base64,` prefix is accepted and stripped.

use alloc::{borrow::ToOwned, string::String, vec::Vec};
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;

use crate::media::SNIFF_LEN;
use crate::{FieldError, MediaType};

/// Standard alphabet; padding optional on input, written on output.
pub const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Removes a `data:<type>;base64,` prefix if there is one; anything else is returned unchanged.
pub fn strip_data_prefix(value: &str) -> &str {
    // `get` and `split_once` instead of indexing: no slicing panic (and its formatting code) in
    // the browser library.
    let is_data = value
        .get(..5)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("data:"));
    if let Some((head, data)) = value.split_once(',').filter(|_| is_data) {
        let marker = head
            .len()
            .checked_sub(7)
            .and_then(|start| head.get(start..));
        if marker.is_some_and(|m| m.eq_ignore_ascii_case(";base64")) {
            return data;
        }
    }
    value
}

/// Validates the base64 image in `field`, stripping a `data:` prefix in place, and returns the
/// image's type.
pub fn normalize_base64_image(field: &str, value: &mut String) -> Result<MediaType, FieldError> {
    let stripped = strip_data_prefix(value);
    if stripped.len() != value.len() {
        *value = stripped.to_owned();
    }
    check_base64_image(field, value)
}

/// Checks that `value` (without prefix) decodes and holds a JPEG, PNG or WebP image.
pub fn check_base64_image(field: &str, value: &str) -> Result<MediaType, FieldError> {
    if value.is_empty() {
        return Err(FieldError::required(field));
    }
    if value.starts_with("data:") {
        return Err(FieldError::new(
            field,
            crate::text!(
                field,
                " has a data: prefix that is not base64 (expected data:image/...;base64,)"
            ),
        ));
    }
    let head = decode_head(value).ok_or_else(|| {
        FieldError::new(
            field,
            crate::text!(
                field,
                " is not valid base64 (standard alphabet, no line breaks)"
            ),
        )
    })?;
    match MediaType::sniff(&head) {
        Some(kind) if kind.is_image() => Ok(kind),
        _ => Err(FieldError::new(
            field,
            crate::text!(field, " must hold a JPEG, PNG or WebP image"),
        )),
    }
}

/// The value of one base64 symbol of the standard alphabet.
fn sextet(symbol: u8) -> Option<u8> {
    match symbol {
        b'A'..=b'Z' => Some(symbol - b'A'),
        b'a'..=b'z' => Some(symbol - b'a' + 26),
        b'0'..=b'9' => Some(symbol - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Checks that all of `value` is base64 that [`BASE64`] decodes (standard alphabet, optional
/// padding, no stray bits in the last symbol) and decodes only its first [`SNIFF_LEN`] bytes,
/// which is all [`MediaType::sniff`] needs: no buffer the size of the image, and no general
/// decoder in the browser library.
pub fn decode_head(value: &str) -> Option<Vec<u8>> {
    decode_prefix(value, SNIFF_LEN)
}

/// Like [`decode_head`], keeping the first `limit` decoded bytes (an image header for
/// [`crate::media::image_dimensions`]); the whole value is still checked.
pub fn decode_prefix(value: &str, limit: usize) -> Option<Vec<u8>> {
    let bytes = value.as_bytes();
    let padding = bytes.iter().rev().take_while(|&&b| b == b'=').count();
    let symbols = bytes.get(..bytes.len() - padding)?;
    let tail = symbols.len() % 4;
    // A last group of one symbol holds no byte; padding completes a group of 2 or 3 symbols.
    if tail == 1 || (padding > 0 && (tail == 0 || tail + padding > 4)) {
        return None;
    }
    let mut head = Vec::with_capacity(limit.min(value.len()));
    let (mut bits, mut count) = (0u32, 0u32);
    for &symbol in symbols {
        bits = (bits << 6) | u32::from(sextet(symbol)?);
        count += 6;
        if count >= 8 {
            count -= 8;
            if head.len() < limit {
                head.push((bits >> count) as u8);
            }
        }
    }
    // The bits of the last symbol below the last whole byte must be zero.
    (bits & ((1 << count) - 1) == 0).then_some(head)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use base64::Engine;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn accepts_plain_and_prefixed() {
        let plain = BASE64.encode(PNG);
        assert_eq!(check_base64_image("base64_img", &plain), Ok(MediaType::Png));
        let mut prefixed = format!("data:image/png;base64,{plain}");
        assert_eq!(
            normalize_base64_image("base64_img", &mut prefixed),
            Ok(MediaType::Png)
        );
        assert_eq!(prefixed, plain);
        let unpadded = plain.trim_end_matches('=').to_owned();
        assert_eq!(
            check_base64_image("base64_img", &unpadded),
            Ok(MediaType::Png)
        );
    }

    #[test]
    fn rejects_garbage_non_images_and_bad_prefixes() {
        for bad in [
            "",
            "not base64!!",
            "data:image/png,rawdata",
            &BASE64.encode(b"GIF89a.........."),
            &BASE64.encode(b"\0\0\0\x20ftypisom\0\0\x02\0"),
        ] {
            let mut value = bad.to_owned();
            let err = normalize_base64_image("base64_img", &mut value).unwrap_err();
            assert_eq!(err.field, "base64_img");
            assert!(err.message.starts_with("base64_img"), "{}", err.message);
        }
    }
}
