//! AceData's refusals, `{"success": false, "error": {"code", "message"}, "trace_id"}`, in the
//! proxy's words: AceData's `code` decides the kind and is kept as `provider_code`.

use super::ErrorBody;
use crate::provider::{FaultKind, ProviderFault};
use alloc::{format, string::ToString};

/// AceData's documented error codes and the kind of fault each is.
///
/// The page documents `token_mismatched` and `api_not_implemented` as "Bad request, possibly due
/// to missing or invalid parameters": faults in the input. `invalid_token` is the key's, the
/// operator's fault, never blamed on the browser. Beyond the page (the project's assumption):
/// `forbidden` is AceData refusing the content, `timeout` AceData's own failure like `api_error`.
pub const ERROR_CODES: &[(&str, FaultKind)] = &[
    ("token_mismatched", FaultKind::InvalidInput),
    ("api_not_implemented", FaultKind::InvalidInput),
    ("invalid_token", FaultKind::Upstream),
    ("forbidden", FaultKind::Refused),
    ("too_many_requests", FaultKind::RateLimited),
    ("api_error", FaultKind::Upstream),
    ("timeout", FaultKind::Upstream),
];

/// The kind of a refusal with `code` (if AceData gave one) and HTTP `status`: a documented
/// code decides; otherwise 400, 404, 413, 415 and 422 are faults in the input, 401 and 403 the
/// key's, 429 a rate limit, and anything else the provider's.
fn kind_of(code: Option<&str>, status: u16) -> FaultKind {
    if let Some(kind) = code.and_then(|code| {
        ERROR_CODES
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(code))
            .map(|&(_, kind)| kind)
    }) {
        return kind;
    }
    match status {
        400 | 404 | 413 | 415 | 422 => FaultKind::InvalidInput,
        429 => FaultKind::RateLimited,
        _ => FaultKind::Upstream,
    }
}

/// A refusal as a fault: `status` is the HTTP status, `error` AceData's error object (if the
/// answer had one). AceData's code is kept; its message is added to the proxy's.
pub fn fault(status: u16, error: Option<&ErrorBody>) -> ProviderFault {
    let code = error
        .and_then(|e| e.code.as_deref())
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let kind = kind_of(code, status);
    let what = match kind {
        FaultKind::InvalidInput => "AceData refused the input",
        FaultKind::Refused => "AceData refused the content",
        FaultKind::Unavailable => "AceData is unavailable; try again later",
        FaultKind::RateLimited => "AceData is rate limiting requests; try again later",
        FaultKind::Upstream if code.is_some_and(|c| c == "api_error" || c == "timeout") => {
            "AceData failed to make the image"
        }
        FaultKind::Upstream => "AceData refused the proxy's key or account",
    };
    let message = match error.and_then(ErrorBody::text) {
        Some(text) => format!("{what}: {text}"),
        None => format!("{what} (code {status})"),
    };
    let code = code.map_or_else(|| status.to_string(), alloc::borrow::ToOwned::to_owned);
    ProviderFault::new(kind, message).with_provider_code(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::borrow::ToOwned;

    fn error(code: &str) -> ErrorBody {
        ErrorBody {
            code: Some(code.to_owned()),
            message: Some(format!("message of {code}")),
        }
    }

    #[test]
    fn every_documented_code_keeps_its_meaning_and_its_word() {
        for (code, status, kind) in [
            ("token_mismatched", 400, FaultKind::InvalidInput),
            ("api_not_implemented", 400, FaultKind::InvalidInput),
            ("invalid_token", 401, FaultKind::Upstream),
            ("forbidden", 403, FaultKind::Refused),
            ("too_many_requests", 429, FaultKind::RateLimited),
            ("api_error", 500, FaultKind::Upstream),
            ("timeout", 504, FaultKind::Upstream),
        ] {
            let fault = fault(status, Some(&error(code)));
            assert_eq!(fault.kind, kind, "{code}");
            assert_eq!(fault.provider_code.as_deref(), Some(code));
            assert!(
                fault.message.ends_with(&format!(": message of {code}")),
                "{}",
                fault.message
            );
        }
        assert_eq!(ERROR_CODES.len(), 7);
    }

    #[test]
    fn unknown_codes_and_bare_statuses_go_by_status() {
        let input = fault(400, Some(&error("bad_request")));
        assert_eq!(input.kind, FaultKind::InvalidInput);
        assert_eq!(input.provider_code.as_deref(), Some("bad_request"));
        let bare = fault(422, None);
        assert_eq!(bare.kind, FaultKind::InvalidInput);
        assert_eq!(bare.provider_code.as_deref(), Some("422"));
        assert_eq!(bare.message, "AceData refused the input (code 422)");
        assert_eq!(fault(401, None).kind, FaultKind::Upstream);
        assert_eq!(fault(402, None).kind, FaultKind::Upstream);
        assert_eq!(fault(429, None).kind, FaultKind::RateLimited);
        assert_eq!(
            fault(403, Some(&error("FORBIDDEN"))).kind,
            FaultKind::Refused
        );
    }
}
