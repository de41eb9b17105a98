//! What becomes of a submit's charge when its upstream call ends: the one rule.
//!
//! Once a request has been written to the provider, the provider may have made (and will bill)
//! the task, whatever happens to its answer. So the charge stays, unless the provider's answer
//! says that no task was made: a 4xx refusal, or a refusal in a well-formed 2xx envelope. A
//! timeout (the upstream call's or the whole submit's), a dropped connection, an answer that
//! cannot be read, a redirect or a 5xx keep it. Where the provider says what it charged
//! (aifaceswap's `points`), the spend is corrected to that figure.

/// How far one upstream call got.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CallEnd {
    /// Nothing reached the provider: the request could not be built or the connection was never
    /// made.
    NotSent,
    /// The request was written, and no answer says what became of it: a timeout, a dropped
    /// connection, an unreadable answer, a redirect or a 5xx.
    Unknown,
    /// The provider answered that it made no task (a 4xx, or a refusal in a 2xx envelope).
    Refused,
    /// The provider took the call; `charged` is what it says it charged, in its unit, where it
    /// says.
    Accepted {
        /// The provider's own figure.
        charged: Option<f64>,
    },
}

/// What to do with the charge.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Settlement {
    /// Give the whole amount back.
    GiveBack,
    /// Keep the amount charged.
    Keep,
    /// Keep this amount instead of the one charged (in the charge's unit).
    CorrectTo(f64),
}

/// The settlement of a charge whose call ended as `end`.
pub fn settle(end: CallEnd) -> Settlement {
    match end {
        CallEnd::NotSent | CallEnd::Refused => Settlement::GiveBack,
        CallEnd::Unknown | CallEnd::Accepted { charged: None } => Settlement::Keep,
        CallEnd::Accepted {
            charged: Some(amount),
        } if amount.is_finite() && amount >= 0.0 => Settlement::CorrectTo(amount),
        CallEnd::Accepted { .. } => Settlement::Keep,
    }
}

/// How a provider's answer of HTTP `status` ends a call that was not accepted: a 4xx is a
/// refusal, anything else leaves the task's fate unknown.
pub fn unaccepted(status: u16) -> CallEnd {
    if (400..500).contains(&status) {
        CallEnd::Refused
    } else {
        CallEnd::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_refusal_or_an_unsent_call_gives_back() {
        assert_eq!(settle(CallEnd::NotSent), Settlement::GiveBack);
        assert_eq!(settle(CallEnd::Refused), Settlement::GiveBack);
        assert_eq!(settle(CallEnd::Unknown), Settlement::Keep);
        assert_eq!(
            settle(CallEnd::Accepted { charged: None }),
            Settlement::Keep
        );
        assert_eq!(
            settle(CallEnd::Accepted { charged: Some(3.0) }),
            Settlement::CorrectTo(3.0)
        );
        assert_eq!(
            settle(CallEnd::Accepted {
                charged: Some(f64::NAN)
            }),
            Settlement::Keep
        );
        assert_eq!(unaccepted(400), CallEnd::Refused);
        assert_eq!(unaccepted(429), CallEnd::Refused);
        for status in [302, 500, 502, 504] {
            assert_eq!(unaccepted(status), CallEnd::Unknown, "{status}");
        }
    }
}
