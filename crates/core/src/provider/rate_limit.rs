//! A provider's own request budget, as it announces it in its answers' headers: the common
//! `X-RateLimit-Remaining` (requests left) and `X-RateLimit-Reset` (when the window ends). An
//! adapter whose provider sends them returns [`x_ratelimit_exhausted_until`] from
//! [`super::Adapter::exhausted_until`]; the proxy then refuses calls to that provider until the
//! reset instead of spending them on certain refusals.

/// The longest a spent budget is believed, in seconds: a daily window. A later reset is read as
/// this (a wrong header never blocks a provider for longer).
pub const MAX_EXHAUSTED_SECS: u64 = 24 * 60 * 60;

/// Values of `X-RateLimit-Reset` below this are seconds from now, not epoch seconds (some APIs
/// send either; no epoch second is this small any more).
const EPOCH_FLOOR: u64 = 1_000_000_000;

/// The value of header `name` (any case) in `headers`.
pub fn header<'a>(headers: &[(&'a str, &'a str)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.trim())
}

/// When `X-RateLimit-Remaining` is 0: the epoch second of `X-RateLimit-Reset` (epoch seconds, or
/// seconds from `now` when small), capped at [`MAX_EXHAUSTED_SECS`] from `now`. `None` while
/// requests are left, without both headers, or when the reset has passed.
pub fn x_ratelimit_exhausted_until(headers: &[(&str, &str)], now: u64) -> Option<u64> {
    let remaining: u64 = header(headers, "x-ratelimit-remaining")?.parse().ok()?;
    if remaining > 0 {
        return None;
    }
    let reset: u64 = header(headers, "x-ratelimit-reset")?.parse().ok()?;
    let until = if reset < EPOCH_FLOOR {
        now.saturating_add(reset)
    } else {
        reset
    };
    (until > now).then(|| until.min(now.saturating_add(MAX_EXHAUSTED_SECS)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    const NOW: u64 = 1_764_547_200;

    #[test]
    fn a_spent_budget_lasts_until_its_reset() {
        let at = |remaining: &str, reset: &str| {
            x_ratelimit_exhausted_until(
                &[
                    ("X-RateLimit-Limit", "100"),
                    ("x-ratelimit-remaining", remaining),
                    ("X-RATELIMIT-RESET", reset),
                ],
                NOW,
            )
        };
        assert_eq!(at("0", &(NOW + 90).to_string()), Some(NOW + 90));
        assert_eq!(at(" 0 ", "30"), Some(NOW + 30), "seconds from now");
        assert_eq!(at("1", &(NOW + 90).to_string()), None, "one left");
        assert_eq!(at("0", &(NOW - 1).to_string()), None, "already reset");
        assert_eq!(at("0", "soon"), None);
        assert_eq!(at("none", "30"), None);
        assert_eq!(
            at("0", &(NOW + 10 * MAX_EXHAUSTED_SECS).to_string()),
            Some(NOW + MAX_EXHAUSTED_SECS)
        );
        assert_eq!(
            x_ratelimit_exhausted_until(&[("x-ratelimit-remaining", "0")], NOW),
            None
        );
    }
}
