//! The duration a video task is priced by: the one rule, for every provider that prices video by
//! its length.
//!
//! A browser's word is not a price. Where the proxy knows the video (it was uploaded through the
//! proxy, which read its container), the task is priced by that length, and a declared
//! `duration` shorter than it in the provider's billing unit (whole started seconds) is refused.
//! A video the proxy does not know (any other URL) must declare its `duration`.

use alloc::{format, string::String};

use crate::FieldError;

/// The video of a prepared request, as the rule needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoInput {
    /// The video's URL (or a multipart file's stand-in).
    pub url: String,
    /// The `duration` the request declared, in seconds.
    pub declared: Option<f64>,
}

/// Whole started seconds of `seconds` (the providers' billing unit).
fn started_seconds(seconds: f64) -> f64 {
    crate::float::ceil(seconds.max(0.0))
}

/// The duration (seconds) a video request is priced by: what the request `declared`, checked
/// against `known_ms`, the length the proxy read from the video's container, where it knows it.
///
/// - known, nothing declared: the known length;
/// - known, declared: the declared length, unless it has fewer started seconds than the known
///   one (400 naming `duration`);
/// - unknown: the declared length, which is then required (400 naming `duration`).
pub fn billed_duration(declared: Option<f64>, known_ms: Option<u64>) -> Result<f64, FieldError> {
    let known = known_ms.map(|ms| ms as f64 / 1000.0);
    match (declared, known) {
        (None, Some(known)) => Ok(known),
        (Some(declared), Some(known)) if started_seconds(declared) < started_seconds(known) => {
            Err(FieldError::new(
                "duration",
                format!(
                    "duration is {declared} s but the video lasts {known} s: declare at least {} \
                     s (or leave it out)",
                    started_seconds(known)
                ),
            ))
        }
        (Some(declared), _) => Ok(declared),
        (None, None) => Err(FieldError::new(
            "duration",
            "duration is required for a video that was not uploaded through this proxy \
             (its length in seconds prices the task)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_video_is_priced_by_its_length() {
        assert_eq!(billed_duration(None, Some(5_200)), Ok(5.2));
        assert_eq!(billed_duration(Some(6.0), Some(5_200)), Ok(6.0));
        // 5.1 s and 5.2 s are both six started seconds.
        assert_eq!(billed_duration(Some(5.1), Some(5_200)), Ok(5.1));
        assert_eq!(billed_duration(Some(30.0), Some(5_200)), Ok(30.0));
        let short = billed_duration(Some(5.0), Some(5_200)).expect_err("short");
        assert_eq!(short.field, "duration");
        assert!(short.message.contains("at least 6 s"), "{}", short.message);
        let short = billed_duration(Some(1.0), Some(60_000)).expect_err("short");
        assert_eq!(short.field, "duration");
    }

    #[test]
    fn an_unknown_video_must_declare_its_length() {
        assert_eq!(billed_duration(Some(3.0), None), Ok(3.0));
        let missing = billed_duration(None, None).expect_err("required");
        assert_eq!(missing.field, "duration");
    }
}
