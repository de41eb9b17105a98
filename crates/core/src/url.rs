//! The URL rule: wherever the provider expects a URL, only an absolute `http` or `https` URL with a
//! host is accepted. No other scheme (no `file:`, `data:`, `javascript:`), no whitespace, no
//! control characters.

use crate::FieldError;

/// Checks that `value`, the content of `field`, is an absolute http(s) URL.
pub fn check_http_url(field: &str, value: &str) -> Result<(), FieldError> {
    if value.is_empty() {
        return Err(FieldError::required(field));
    }
    let lower = value.get(..8).unwrap_or(value).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &value[8..]
    } else if lower.starts_with("http://") {
        &value[7..]
    } else {
        return Err(FieldError::new(
            field,
            format!("{field} must be an absolute http:// or https:// URL"),
        ));
    };
    if let Some(bad) = value.chars().find(|c| c.is_whitespace() || c.is_control()) {
        let what = if bad.is_whitespace() {
            "spaces"
        } else {
            "control characters"
        };
        return Err(FieldError::new(
            field,
            format!("{field} must not contain {what}; percent-encode them"),
        ));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = if host_port.starts_with('[') {
        host_port
            .split(']')
            .next()
            .map(|h| h.trim_start_matches('['))
            .unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    if host.is_empty() {
        return Err(FieldError::new(field, format!("{field} has no host name")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
