//! The key check, as a provider's [`AuthScheme`] sends the key.

use axum::http::{header, HeaderMap};
use faceswap_core::provider::AuthScheme;

/// How a caller sends the key under `scheme`, for the 401 message.
pub fn how_to_send(scheme: AuthScheme) -> String {
    match scheme {
        AuthScheme::Bearer => "Authorization: Bearer <key>".to_owned(),
        AuthScheme::Header(name) => format!("{name}: <key>"),
    }
}

/// The key the request carries under `scheme`, if it carries one.
fn given(scheme: AuthScheme, headers: &HeaderMap) -> Option<&str> {
    match scheme {
        AuthScheme::Bearer => headers
            .get(header::AUTHORIZATION)?
            .to_str()
            .ok()?
            .strip_prefix("Bearer "),
        AuthScheme::Header(name) => headers.get(name)?.to_str().ok(),
    }
    .map(str::trim)
}

/// True when the request carries `key` (not empty) under `scheme`; compared in constant time.
pub fn has_key(scheme: AuthScheme, headers: &HeaderMap, key: &str) -> bool {
    let Some(given) = given(scheme, headers) else {
        return false;
    };
    let want = key.as_bytes();
    let equal = given.len() == want.len()
        && given
            .bytes()
            .zip(want)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    equal && !want.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn keys_are_read_as_each_scheme_sends_them() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer k1"));
        headers.insert("x-api-key", HeaderValue::from_static("k2"));
        assert!(has_key(AuthScheme::Bearer, &headers, "k1"));
        assert!(!has_key(AuthScheme::Bearer, &headers, "k2"));
        assert!(has_key(AuthScheme::Header("x-api-key"), &headers, "k2"));
        assert!(!has_key(AuthScheme::Header("x-other"), &headers, "k2"));
        assert!(!has_key(AuthScheme::Bearer, &HeaderMap::new(), ""));
        assert_eq!(
            how_to_send(AuthScheme::Header("x-api-key")),
            "x-api-key: <key>"
        );
    }
}
