//! Error vocabulary shared by the library, the proxy and the sandbox.

use alloc::{borrow::ToOwned, string::String};
use core::fmt;

/// A request rejected because of one input; `field` names it with the provider's spelling
/// (`source_image`, `ref_info[1].face_ref`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Path of the offending field, for example `index` or `ref_info[0].face_url`.
    pub field: String,
    /// What is wrong and how to fix it, in words a person can act on.
    pub message: String,
}

impl FieldError {
    /// An error about `field`, with a message that should itself mention the field.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The error "`field` is required".
    pub fn required(field: impl Into<String>) -> Self {
        let field = field.into();
        let message = crate::text!(field, " is required");
        Self { field, message }
    }

    /// Prefixes the field path with `parent` (`face_ref` inside `ref_info[2]` becomes
    /// `ref_info[2].face_ref`); the message is rewritten the same way.
    pub fn within(self, parent: &str) -> Self {
        let field = crate::text!(parent, ".", self.field);
        let message = replace_first(&self.message, &self.field, &field);
        Self { field, message }
    }
}

/// `message` with its first `from` replaced by `to`, like `message.replacen(from, to, 1)` (a field
/// renamed in its own message) but with a plain byte search: the browser library then carries
/// neither the two-way string searcher nor slicing panics.
pub fn replace_first(message: &str, from: &str, to: &str) -> String {
    let at = if from.is_empty() {
        Some(0)
    } else {
        message
            .as_bytes()
            .windows(from.len())
            .position(|window| window == from.as_bytes())
    };
    match at.and_then(|at| Some((message.get(..at)?, message.get(at + from.len()..)?))) {
        Some((before, after)) => {
            let mut replaced = String::with_capacity(before.len() + to.len() + after.len());
            replaced.push_str(before);
            replaced.push_str(to);
            replaced.push_str(after);
            replaced
        }
        None => message.to_owned(),
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl core::error::Error for FieldError {}

/// The `error` word of every error body, with its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// A field of the request is missing or malformed.
    InvalidParameter,
    /// Missing or wrong credentials.
    Unauthorized,
    /// Authenticated but not allowed (for example a disallowed origin).
    Forbidden,
    /// No such route, operation or task.
    NotFound,
    /// The body is larger than allowed.
    PayloadTooLarge,
    /// The file is not one of the accepted media types.
    UnsupportedMediaType,
    /// Too many requests; comes with `Retry-After`.
    RateLimited,
    /// The client's credit budget for the current hour is used up.
    SpendCapExceeded,
    /// The same `Idempotency-Key` was used with another body.
    IdempotencyConflict,
    /// The provider answered with an error.
    UpstreamError,
    /// The provider could not be reached or is down.
    UpstreamUnavailable,
    /// The provider did not answer in time.
    UpstreamTimeout,
    /// Something failed inside the proxy; the body says nothing more.
    Internal,
}

impl ErrorCode {
    /// Every code, in the order docs/library.md lists them.
    pub const ALL: [ErrorCode; 13] = [
        ErrorCode::InvalidParameter,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::RateLimited,
        ErrorCode::SpendCapExceeded,
        ErrorCode::IdempotencyConflict,
        ErrorCode::UpstreamError,
        ErrorCode::UpstreamUnavailable,
        ErrorCode::UpstreamTimeout,
        ErrorCode::Internal,
    ];

    /// The snake_case word used in error bodies.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidParameter => "invalid_parameter",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::SpendCapExceeded => "spend_cap_exceeded",
            ErrorCode::IdempotencyConflict => "idempotency_conflict",
            ErrorCode::UpstreamError => "upstream_error",
            ErrorCode::UpstreamUnavailable => "upstream_unavailable",
            ErrorCode::UpstreamTimeout => "upstream_timeout",
            ErrorCode::Internal => "internal",
        }
    }

    /// The code for a word, if it is one of ours.
    pub fn from_word(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|code| code.as_str() == word)
    }

    /// The HTTP status that carries this code.
    pub const fn http_status(self) -> u16 {
        match self {
            ErrorCode::InvalidParameter => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::IdempotencyConflict => 422,
            ErrorCode::RateLimited | ErrorCode::SpendCapExceeded => 429,
            ErrorCode::Internal => 500,
            ErrorCode::UpstreamError => 502,
            ErrorCode::UpstreamUnavailable => 503,
            ErrorCode::UpstreamTimeout => 504,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_and_statuses_are_errors() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_word(code.as_str()), Some(code));
            assert!((400..600).contains(&code.http_status()), "{code}");
        }
        assert_eq!(ErrorCode::from_word("nope"), None);
    }

    #[test]
    fn replace_first_matches_replacen() {
        for (message, from, to) in [
            ("face_ref is required", "face_ref", "ref_info[0].face_ref"),
            (
                "index has 1 entries but face_image has 2",
                "face_image",
                "faceImage",
            ),
            ("a b a", "a", "c"),
            ("no match", "zzz", "y"),
            ("short", "longer than it", "y"),
            ("héllo wörld", "wö", "w"),
            ("start", "", "x"),
        ] {
            assert_eq!(
                replace_first(message, from, to),
                message.replacen(from, to, 1)
            );
        }
    }

    #[test]
    fn within_prefixes_field_and_message() {
        let err = FieldError::required("face_ref").within("ref_info[2]");
        assert_eq!(err.field, "ref_info[2].face_ref");
        assert_eq!(err.message, "ref_info[2].face_ref is required");
    }
}
