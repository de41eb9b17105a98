//! The one rule for `Range` requests on stored uploads: a single byte range is answered 206 (or
//! 416 when it starts past the end); anything else (no header, another unit, several ranges,
//! a malformed value) is answered with the whole file, as RFC 9110 allows.

use std::ops::Range;

/// How a request's `Range` header is answered for a file of a given size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeAnswer {
    /// 200 with the whole file.
    Full,
    /// 206 with these bytes (never empty, within the file).
    Partial(Range<u64>),
    /// 416: the range starts at or past the end.
    Unsatisfiable,
}

/// The answer to `header` (the `Range` value, if any) for a file of `size` bytes.
pub fn resolve(header: Option<&str>, size: u64) -> RangeAnswer {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeAnswer::Full;
    };
    if spec.contains(',') {
        return RangeAnswer::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeAnswer::Full;
    };
    let parse = |s: &str| s.trim().parse::<u64>().ok();
    match (first.trim().is_empty(), last.trim().is_empty()) {
        // `-n`: the last n bytes.
        (true, false) => match parse(last) {
            Some(0) => RangeAnswer::Unsatisfiable,
            Some(n) if size > 0 => RangeAnswer::Partial(size.saturating_sub(n)..size),
            Some(_) => RangeAnswer::Unsatisfiable,
            None => RangeAnswer::Full,
        },
        // `a-`: from a to the end.
        (false, true) => match parse(first) {
            Some(start) if start >= size => RangeAnswer::Unsatisfiable,
            Some(start) => RangeAnswer::Partial(start..size),
            None => RangeAnswer::Full,
        },
        // `a-b`, both included.
        (false, false) => match (parse(first), parse(last)) {
            (Some(start), Some(end)) if start <= end => {
                if start >= size {
                    RangeAnswer::Unsatisfiable
                } else {
                    RangeAnswer::Partial(start..end.saturating_add(1).min(size))
                }
            }
            _ => RangeAnswer::Full,
        },
        (true, true) => RangeAnswer::Full,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_ranges_are_answered_within_the_file() {
        assert_eq!(resolve(Some("bytes=1-3"), 10), RangeAnswer::Partial(1..4));
        assert_eq!(resolve(Some("bytes=4-"), 10), RangeAnswer::Partial(4..10));
        assert_eq!(resolve(Some("bytes=-3"), 10), RangeAnswer::Partial(7..10));
        assert_eq!(resolve(Some("bytes=-30"), 10), RangeAnswer::Partial(0..10));
        assert_eq!(
            resolve(Some("bytes=8-100"), 10),
            RangeAnswer::Partial(8..10)
        );
    }

    #[test]
    fn ranges_past_the_end_are_unsatisfiable() {
        assert_eq!(resolve(Some("bytes=10-12"), 10), RangeAnswer::Unsatisfiable);
        assert_eq!(resolve(Some("bytes=10-"), 10), RangeAnswer::Unsatisfiable);
        assert_eq!(resolve(Some("bytes=-0"), 10), RangeAnswer::Unsatisfiable);
    }

    #[test]
    fn anything_else_is_the_whole_file() {
        for header in [
            None,
            Some("items=1-2"),
            Some("bytes=1-2,4-5"),
            Some("bytes=5-1"),
            Some("bytes=x-"),
            Some("bytes=-"),
            Some("bytes=3"),
        ] {
            assert_eq!(resolve(header, 10), RangeAnswer::Full, "{header:?}");
        }
    }
}
