//! Why a limiter refused, and the one place its answer is worded: every 429 `rate_limited` and
//! `spend_cap_exceeded` of the per-client limits is built here, with its `Retry-After`.

use faceswap_core::provider::CostUnit;

use super::{from_milli, Budget};
use crate::store::StoreError;
use crate::telemetry::{self, RefusalKind};
use crate::AppError;

/// A request a [`super::Limiter`] did not let through.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// Over the rate of its scope.
    #[error("over the rate of {per_minute} per minute")]
    Rate {
        /// The scope's rate.
        per_minute: u32,
        /// Seconds until a request is let through.
        retry_after_secs: u64,
    },
    /// The amount does not fit in what is left of the hour's budget.
    #[error("over the hourly budget")]
    Budget {
        /// Which budget.
        budget: Budget,
        /// The budget's unit.
        unit: CostUnit,
        /// What the request costs, in thousandths.
        cost_milli: u64,
        /// What is left, in thousandths.
        left_milli: u64,
        /// The cap, in thousandths.
        cap_milli: u64,
        /// Seconds until it fits.
        retry_after_secs: u64,
    },
    /// The shared counters could not be reached: a limit that cannot be counted is not waived.
    #[error("the limit counters are unavailable: {0}")]
    Unavailable(#[source] StoreError),
}

impl Refusal {
    /// The metrics' name of the limit that refused.
    pub fn kind(&self) -> RefusalKind {
        match self {
            Refusal::Rate { .. } => RefusalKind::Rate,
            Refusal::Budget {
                budget: Budget::Uploads,
                ..
            } => RefusalKind::UploadBytes,
            Refusal::Budget { .. } => RefusalKind::Spend,
            Refusal::Unavailable(_) => RefusalKind::Unavailable,
        }
    }
}

impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> Self {
        // Every refusal of the per-client limits becomes its answer here: counted once.
        telemetry::limit_refused(refusal.kind());
        match refusal {
            Refusal::Rate {
                per_minute,
                retry_after_secs,
            } => {
                let secs = retry_after_secs.max(1);
                AppError::RateLimited {
                    retry_after_secs: secs,
                    message: format!(
                        "too many requests: at most {per_minute} per minute; try again in {secs} s"
                    ),
                    provider_code: None,
                }
            }
            Refusal::Budget {
                budget: Budget::Uploads,
                cap_milli,
                retry_after_secs,
                ..
            } => {
                let secs = retry_after_secs.max(1);
                AppError::RateLimited {
                    retry_after_secs: secs,
                    message: format!(
                        "uploads are limited to {} bytes per hour per client; try again in \
                         {secs} s",
                        from_milli(cap_milli)
                    ),
                    provider_code: None,
                }
            }
            Refusal::Budget {
                budget: Budget::Spend(_),
                unit,
                cost_milli,
                left_milli,
                cap_milli,
                retry_after_secs,
            } => {
                let unit = unit.as_str();
                AppError::SpendCapExceeded {
                    retry_after_secs: retry_after_secs.max(1),
                    message: format!(
                        "this request costs {} {unit} but only {} of the {} {unit} per hour are \
                         left",
                        from_milli(cost_milli),
                        from_milli(left_milli),
                        from_milli(cap_milli),
                    ),
                }
            }
            Refusal::Unavailable(err) => AppError::LimitsUnavailable(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_has_its_words_and_a_wait_of_at_least_a_second() {
        let rate = AppError::from(Refusal::Rate {
            per_minute: 2,
            retry_after_secs: 0,
        });
        assert!(matches!(
            &rate,
            AppError::RateLimited { retry_after_secs: 1, message, .. }
                if message == "too many requests: at most 2 per minute; try again in 1 s"
        ));
        let spend = AppError::from(Refusal::Budget {
            budget: Budget::Spend("p"),
            unit: CostUnit::Usd,
            cost_milli: 10,
            left_milli: 0,
            cap_milli: 20,
            retry_after_secs: 30,
        });
        assert!(matches!(
            &spend,
            AppError::SpendCapExceeded { retry_after_secs: 30, message }
                if message == "this request costs 0.01 usd but only 0 of the 0.02 usd per hour are left"
        ));
        let uploads = AppError::from(Refusal::Budget {
            budget: Budget::Uploads,
            unit: CostUnit::Requests,
            cost_milli: 1_000,
            left_milli: 0,
            cap_milli: 10_000_000,
            retry_after_secs: 5,
        });
        assert!(matches!(
            &uploads,
            AppError::RateLimited { retry_after_secs: 5, message, .. }
                if message == "uploads are limited to 10000 bytes per hour per client; try again in 5 s"
        ));
    }
}
