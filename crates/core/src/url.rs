//! The URL rule: wherever the provider expects a URL, only an absolute `http` or `https` URL with a
//! host is accepted, at most [`MAX_URL_BYTES`] long. No other scheme (no `file:`, `data:`,
//! `javascript:`), no whitespace, no control characters. The same rule holds for every form a URL
//! comes in (a JSON field, a multipart text field) and for the result URLs providers send back.

use crate::FieldError;

/// The longest URL accepted, in bytes (a signed storage URL is well under 2 KiB).
pub const MAX_URL_BYTES: usize = 8 * 1024;

/// The error for a URL in `field` longer than [`MAX_URL_BYTES`].
pub fn too_long(field: &str) -> FieldError {
    FieldError::new(
        field,
        crate::text!(field, " is longer than ", MAX_URL_BYTES, " bytes"),
    )
}

/// Checks that `value`, the content of `field`, is an absolute http(s) URL of at most
/// [`MAX_URL_BYTES`] bytes.
pub fn check_http_url(field: &str, value: &str) -> Result<(), FieldError> {
    if value.is_empty() {
        return Err(FieldError::required(field));
    }
    if value.len() > MAX_URL_BYTES {
        return Err(too_long(field));
    }
    // `get` rather than indexing keeps slicing panics out of the browser library.
    let scheme = |name: &str| {
        value
            .get(..name.len())
            .filter(|s| s.eq_ignore_ascii_case(name))
            .and_then(|_| value.get(name.len()..))
    };
    let Some(rest) = scheme("https://").or_else(|| scheme("http://")) else {
        return Err(FieldError::new(
            field,
            crate::text!(field, " must be an absolute http:// or https:// URL"),
        ));
    };
    // ASCII URLs (nearly all) are checked byte by byte: there, whitespace and control
    // characters are exactly the bytes up to the space, and DEL.
    let bad = if value.is_ascii() {
        value
            .bytes()
            .find(|&b| b <= b' ' || b == 0x7f)
            .map(char::from)
    } else {
        value.chars().find(|c| c.is_whitespace() || c.is_control())
    };
    if let Some(bad) = bad {
        let what = if bad.is_whitespace() {
            "spaces"
        } else {
            "control characters"
        };
        return Err(FieldError::new(
            field,
            crate::text!(field, " must not contain ", what, "; percent-encode them"),
        ));
    }
    // The delimiters are ASCII, so bytes will do (and keep string searchers out of the browser
    // library): the authority ends at the first `/`, `?` or `#`; the host starts after its last
    // `@` and ends at a `:` before the port, or is what `[...]` holds for IPv6.
    let bytes = rest.as_bytes();
    let end = bytes
        .iter()
        .position(|b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(bytes.len());
    let authority = bytes.get(..end).unwrap_or_default();
    let host_port = match authority.iter().rposition(|&b| b == b'@') {
        Some(at) => authority.get(at + 1..).unwrap_or_default(),
        None => authority,
    };
    let no_host = match host_port.strip_prefix(b"[") {
        Some(inside) => inside
            .iter()
            .take_while(|&&b| b != b']')
            .all(|&b| b == b'['),
        None => host_port.first().is_none_or(|&b| b == b':'),
    };
    if no_host {
        return Err(FieldError::new(
            field,
            crate::text!(field, " has no host name"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn the_ascii_byte_check_is_the_char_check() {
        for b in 0u8..0x80 {
            let c = char::from(b);
            assert_eq!(
                b <= b' ' || b == 0x7f,
                c.is_whitespace() || c.is_control(),
                "byte {b:#04x}"
            );
            let url = format!("https://host.example/a{c}b");
            assert_eq!(
                check_http_url("img", &url).is_err(),
                c.is_whitespace() || c.is_control(),
                "byte {b:#04x}"
            );
        }
    }

    #[test]
    fn accepts_http_and_https() {
        for ok in [
            "https://temp.aifaceswap.io/aifaceswap/static_img/8a1bce5ea303791589165a5f607e7399.webp",
            "http://127.0.0.1:8080/uploads/a.png",
            "HTTPS://EXAMPLE.COM",
            "http://[::1]:9000/x?y=1#z",
            "https://user@host.example/p",
        ] {
            assert_eq!(check_http_url("img", ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn rejects_other_schemes_spaces_and_missing_hosts() {
        for bad in [
            "ftp://example.com/a.png",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
            "//example.com/a.png",
            "example.com/a.png",
            "https://exa mple.com/a.png",
            "https://example.com/a b.png",
            "https://example.com/\n",
            "https://",
            "http:///path",
            "https://:80/x",
            "http://[]/x",
        ] {
            let err = check_http_url("source_image", bad).unwrap_err();
            assert_eq!(err.field, "source_image", "{bad}");
            assert!(
                err.message.starts_with("source_image"),
                "{bad}: {}",
                err.message
            );
        }
        assert_eq!(
            check_http_url("img", "").unwrap_err().message,
            "img is required"
        );
    }

    #[test]
    fn caps_the_length() {
        let at_cap = format!("https://h.example/{}", "a".repeat(MAX_URL_BYTES - 18));
        assert_eq!(at_cap.len(), MAX_URL_BYTES);
        assert_eq!(check_http_url("img", &at_cap), Ok(()));
        let over = format!("{at_cap}a");
        let err = check_http_url("source_image", &over).unwrap_err();
        assert_eq!(err, too_long("source_image"));
        assert_eq!(err.message, "source_image is longer than 8192 bytes");
    }
}
