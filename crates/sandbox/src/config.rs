//! The sandbox's settings.

use std::path::PathBuf;
use std::time::Duration;

use crate::faults::Faults;

/// How the sandbox runs. `Default` gives a usable sandbox: key `sandbox-key`, results under the
/// system's temporary directory, loopback-only fetches, faults from `SANDBOX_*` variables
/// (none when they are unset).
#[derive(Clone)]
pub struct SandboxConfig {
    /// The key every provider API call must carry, the way that provider sends it (401
    /// otherwise).
    pub api_key: String,
    /// Where results (images and videos) are stored and served from.
    pub data_dir: PathBuf,
    /// Origins (`scheme://host:port`) inputs may be fetched from and webhooks posted to, besides
    /// loopback addresses, which are always allowed.
    pub allowed_fetch_origins: Vec<String>,
    /// Test knobs.
    pub faults: Faults,
    /// Base URL that result links start with; `None` means the address the server is bound to.
    pub public_url: Option<String>,
    /// Largest input image, in bytes.
    pub max_image_bytes: u64,
    /// Largest input video, in bytes.
    pub max_video_bytes: u64,
    /// Largest request body (JSON or multipart), in bytes.
    pub max_body_bytes: usize,
    /// Time allowed for fetching one input.
    pub fetch_timeout: Duration,
    /// Time allowed for delivering one webhook.
    pub webhook_timeout: Duration,
    /// The per-key request budget of providers that announce one in `X-RateLimit-*` headers
    /// (AIPhotoCraft).
    pub rate_budget: RateBudget,
}

/// A per-key request budget per hour and per day. The default is high enough for any test run;
/// `SANDBOX_RATE_LIMIT_PER_HOUR` and `SANDBOX_RATE_LIMIT_PER_DAY` set it, and a test sets a
/// small one to see it run out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateBudget {
    /// Requests per clock hour.
    pub per_hour: u64,
    /// Requests per UTC day.
    pub per_day: u64,
}

impl Default for RateBudget {
    fn default() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}

impl RateBudget {
    /// The budget from `SANDBOX_RATE_LIMIT_PER_HOUR` / `_PER_DAY` through `get` (100 000 and
    /// 1 000 000 when unset or unreadable).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let read = |name: &str, default: u64| {
            get(name)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(default)
        };
        Self {
            per_hour: read("SANDBOX_RATE_LIMIT_PER_HOUR", 100_000),
            per_day: read("SANDBOX_RATE_LIMIT_PER_DAY", 1_000_000),
        }
    }
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            api_key: "sandbox-key".to_owned(),
            data_dir: std::env::temp_dir().join("faceswap-sandbox"),
            allowed_fetch_origins: Vec::new(),
            faults: Faults::from_env(),
            public_url: None,
            max_image_bytes: 20 * 1024 * 1024,
            max_video_bytes: 200 * 1024 * 1024,
            max_body_bytes: 64 * 1024 * 1024,
            fetch_timeout: Duration::from_secs(30),
            webhook_timeout: Duration::from_secs(10),
            rate_budget: RateBudget::default(),
        }
    }
}

impl std::fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("api_key", &"<redacted>")
            .field("data_dir", &self.data_dir)
            .field("allowed_fetch_origins", &self.allowed_fetch_origins)
            .field("faults", &self.faults)
            .field("public_url", &self.public_url)
            .field("max_image_bytes", &self.max_image_bytes)
            .field("max_video_bytes", &self.max_video_bytes)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("fetch_timeout", &self.fetch_timeout)
            .field("webhook_timeout", &self.webhook_timeout)
            .field("rate_budget", &self.rate_budget)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key() {
        let config = SandboxConfig {
            api_key: "very-secret-key".into(),
            ..SandboxConfig::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("very-secret-key"));
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn the_rate_budget_reads_its_variables() {
        let budget = RateBudget::from_lookup(|name| {
            (name == "SANDBOX_RATE_LIMIT_PER_HOUR").then(|| " 3 ".to_owned())
        });
        assert_eq!((budget.per_hour, budget.per_day), (3, 1_000_000));
    }
}
