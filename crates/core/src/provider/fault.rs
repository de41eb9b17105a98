//! A provider's refusal, read from its answer, in words the proxy maps to its error shape.

use crate::ErrorCode;
use alloc::string::String;

/// What kind of fault a provider reported; decides the proxy's `error` word and status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// A fault in the input (bad parameter, no face, wrong face count, bad format): 4xx
    /// `invalid_parameter`, blamed on the browser's request.
    InvalidInput,
    /// A content refusal: 403 `forbidden`.
    Refused,
    /// The provider is rate limiting: 429 `rate_limited` with `Retry-After`.
    RateLimited,
    /// A fault of the operator's own key or account (invalid key, no balance), or any other
    /// refusal the browser cannot fix: 502 `upstream_error`.
    Upstream,
    /// The provider is down or overloaded (its 502, 503 or 504): 503 `upstream_unavailable`.
    Unavailable,
}

impl FaultKind {
    /// The `error` word the proxy answers with.
    pub const fn error_code(self) -> ErrorCode {
        match self {
            FaultKind::InvalidInput => ErrorCode::InvalidParameter,
            FaultKind::Refused => ErrorCode::Forbidden,
            FaultKind::RateLimited => ErrorCode::RateLimited,
            FaultKind::Upstream => ErrorCode::UpstreamError,
            FaultKind::Unavailable => ErrorCode::UpstreamUnavailable,
        }
    }
}

/// A refusal read from a provider's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderFault {
    /// What kind of fault.
    pub kind: FaultKind,
    /// A message a person can act on (the provider's own message is added by the proxy, with
    /// the key removed).
    pub message: String,
    /// The provider's own error code, where it gave one (`no_face_detected`, `10012`, ...).
    pub provider_code: Option<String>,
    /// The request field at fault, with the provider's spelling, where the provider named one.
    pub field: Option<String>,
    /// True when the answer could not be read as the provider documents it (not JSON, no task
    /// id): it says nothing of whether a task was made, so a charge for it stands. A fault read
    /// from a well-formed answer is a refusal: no task was made.
    pub unreadable: bool,
}

impl ProviderFault {
    /// A fault of `kind` with `message` and nothing else.
    pub fn new(kind: FaultKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            provider_code: None,
            field: None,
            unreadable: false,
        }
    }

    /// The fault with the provider's own code.
    pub fn with_provider_code(mut self, code: impl Into<String>) -> Self {
        self.provider_code = Some(code.into());
        self
    }

    /// An answer that is not what the provider documents (not JSON, no task id, ...).
    pub fn malformed(what: impl Into<String>) -> Self {
        Self {
            unreadable: true,
            ..Self::new(FaultKind::Upstream, what)
        }
    }
}

impl core::fmt::Display for ProviderFault {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.message)
    }
}

impl core::error::Error for ProviderFault {}
