//! Base64 image fields (`base64_img`, `ref_info[].face_ref`): plain base64 of a JPEG, PNG or WebP
//! file. A `data:image/...;base64,` prefix is accepted and stripped.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;

use crate::{FieldError, MediaType};

/// Standard alphabet; padding optional on input, written on output.
pub const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Removes a `data:<type>;base64,` prefix if there is one; anything else is returned unchanged.
pub fn strip_data_prefix(value: &str) -> &str {
    if value.len() > 5 && value[..5].eq_ignore_ascii_case("data:") {
        if let Some(comma) = value.find(',') {
            if value[..comma].to_ascii_lowercase().ends_with(";base64") {
                return &value[comma + 1..];
            }
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
            format!(
                "{field} has a data: prefix that is not base64 (expected data:image/...;base64,)"
            ),
        ));
    }
    let bytes = BASE64.decode(value).map_err(|_| {
        FieldError::new(
            field,
            format!("{field} is not valid base64 (standard alphabet, no line breaks)"),
        )
    })?;
    match MediaType::sniff(&bytes) {
        Some(kind) if kind.is_image() => Ok(kind),
        _ => Err(FieldError::new(
            field,
            format!("{field} must hold a JPEG, PNG or WebP image"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
