//! Configuration from `--flags` and environment variables (DESIGN.md section 4).

use clap::Parser;
use secrecy::SecretString;
use std::path::PathBuf;
use std::time::Duration;

/// Command-line flags; each also reads the environment variable of the same name in capitals.
#[derive(Parser)]
#[command(
    name = "faceswap-proxy",
    version,
    about = "Key-holding face-swap proxy"
)]
pub struct Cli {
    /// Address to listen on.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on.
    #[arg(long, env = "PORT", default_value_t = 8080)]
    pub port: u16,
    /// Worker threads serving requests, each with its own single-threaded runtime; 0 means one
    /// per CPU.
    #[arg(long, env = "WORKERS", default_value_t = 0)]
    pub workers: usize,
    /// The aifaceswap API key; unset means sandbox mode. Never printed.
    #[arg(long, env = "AIFACESWAP_API_KEY", hide_env_values = true)]
    pub aifaceswap_api_key: Option<String>,
    /// Upstream base URL (default https://aifaceswap.io, or the built-in sandbox without a key).
    #[arg(long, env = "AIFACESWAP_BASE_URL")]
    pub aifaceswap_base_url: Option<String>,
    /// How the outside world reaches this proxy (webhooks, upload URLs); default http://HOST:PORT.
    #[arg(long, env = "PUBLIC_URL")]
    pub public_url: Option<String>,
    /// `sqlite://PATH` or `postgres://...`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/faceswap.db"
    )]
    pub database_url: String,
    /// Where uploads are stored.
    #[arg(long, env = "UPLOAD_DIR", default_value = "data/uploads")]
    pub upload_dir: PathBuf,
    /// Largest accepted upload, in bytes.
    #[arg(long, env = "UPLOAD_MAX_BYTES", default_value_t = 100 * 1024 * 1024)]
    pub upload_max_bytes: u64,
    /// CORS allowlist, comma separated; empty means same origin only.
    #[arg(long, env = "ALLOWED_ORIGINS", default_value = "")]
    pub allowed_origins: String,
    /// Requests per minute per client.
    #[arg(long, env = "RATE_LIMIT_PER_MIN", default_value_t = 600)]
    pub rate_limit_per_min: u32,
    /// Credits per hour per client.
    #[arg(long, env = "SPEND_CAP_CREDITS_PER_HOUR", default_value_t = 1000)]
    pub spend_cap_credits_per_hour: u64,
    /// Longest wait for the provider's answer to one call, in seconds.
    #[arg(long, env = "UPSTREAM_TIMEOUT_SECS", default_value_t = 60)]
    pub upstream_timeout_secs: u64,
    /// Largest JSON request body, in bytes (uploads and multipart forms use UPLOAD_MAX_BYTES).
    #[arg(long, env = "JSON_MAX_BYTES", default_value_t = 32 * 1024 * 1024)]
    pub json_max_bytes: u64,
    /// A task with no webhook after this many milliseconds becomes `timed_out`.
    #[arg(long, env = "TASK_DEADLINE_MS", default_value_t = 2 * 60 * 60 * 1000, help_heading = "Timings (tests shorten them)")]
    pub task_deadline_ms: u64,
    /// Uploads older than this many milliseconds are removed.
    #[arg(long, env = "UPLOAD_MAX_AGE_MS", default_value_t = 24 * 60 * 60 * 1000, help_heading = "Timings (tests shorten them)")]
    pub upload_max_age_ms: u64,
    /// Interval of SSE keep-alive comments, in milliseconds.
    #[arg(
        long,
        env = "SSE_KEEPALIVE_MS",
        default_value_t = 15_000,
        help_heading = "Timings (tests shorten them)"
    )]
    pub sse_keepalive_ms: u64,
    /// How often overdue tasks and old uploads are looked for, in milliseconds (at most a quarter
    /// of the task deadline and of the upload age).
    #[arg(
        long,
        env = "MAINTENANCE_INTERVAL_MS",
        default_value_t = 30_000,
        help_heading = "Timings (tests shorten them)"
    )]
    pub maintenance_interval_ms: u64,
    /// Folder of the demo page served at `/`.
    #[arg(long, env = "WWW_DIR", default_value = "www")]
    pub www_dir: PathBuf,
    /// Folder of the built library served at `/pkg/`.
    #[arg(long, env = "PKG_DIR", default_value = "pkg")]
    pub pkg_dir: PathBuf,
}

/// `DATABASE_URL`. Its `Debug` hides the password a `postgres://` URL may hold.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(pub String);

impl DatabaseUrl {
    /// The URL as configured, password included: only for opening the store.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // scheme://user:password@host... -> scheme://user:[redacted]@host...
        let url = self.0.as_str();
        let shown = url.split_once("://").and_then(|(scheme, rest)| {
            let (userinfo, host) = rest.rsplit_once('@')?;
            let (user, _password) = userinfo.split_once(':')?;
            Some(format!("{scheme}://{user}:[redacted]@{host}"))
        });
        match shown {
            Some(shown) => f.write_str(&shown),
            None => f.write_str(url),
        }
    }
}

/// The proxy's settings, resolved from [`Cli`]. `Debug` never shows the key or the database
/// password.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen host.
    pub host: String,
    /// Listen port.
    pub port: u16,
    /// Number of worker threads (at least 1).
    pub workers: usize,
    /// The provider key; `None` is sandbox mode.
    pub api_key: Option<SecretString>,
    /// Upstream base URL, when set explicitly.
    pub upstream_base_url: Option<String>,
    /// Public base URL without a trailing slash.
    pub public_url: String,
    /// Task store location.
    pub database_url: DatabaseUrl,
    /// Upload folder.
    pub upload_dir: PathBuf,
    /// Upload size limit in bytes.
    pub upload_max_bytes: u64,
    /// Origins allowed by CORS; empty: same origin only.
    pub allowed_origins: Vec<String>,
    /// Requests per minute per client.
    pub rate_limit_per_min: u32,
    /// Credits per hour per client.
    pub spend_cap_credits_per_hour: u64,
    /// Timeout of one upstream call.
    pub upstream_timeout: Duration,
    /// Largest JSON request body in bytes.
    pub json_max_bytes: u64,
    /// Time after which a pending task becomes `timed_out`.
    pub task_deadline: Duration,
    /// Age after which an upload is removed.
    pub upload_max_age: Duration,
    /// Interval of SSE keep-alive comments.
    pub sse_keepalive: Duration,
    /// Interval of the maintenance sweep (deadlines, uploads, expired keys).
    pub maintenance_interval: Duration,
    /// Demo page folder.
    pub www_dir: PathBuf,
    /// Built library folder.
    pub pkg_dir: PathBuf,
}

impl From<Cli> for Config {
    fn from(cli: Cli) -> Self {
        let public_url = cli
            .public_url
            .unwrap_or_else(|| format!("http://{}:{}", cli.host, cli.port))
            .trim_end_matches('/')
            .to_owned();
        Self {
            api_key: cli
                .aifaceswap_api_key
                .filter(|key| !key.trim().is_empty())
                .map(SecretString::from),
            upstream_base_url: cli.aifaceswap_base_url,
            public_url,
            database_url: DatabaseUrl(cli.database_url),
            upload_dir: cli.upload_dir,
            upload_max_bytes: cli.upload_max_bytes,
            allowed_origins: cli
                .allowed_origins
                .split(',')
                .map(str::trim)
                .filter(|origin| !origin.is_empty())
                .map(str::to_owned)
                .collect(),
            rate_limit_per_min: cli.rate_limit_per_min,
            spend_cap_credits_per_hour: cli.spend_cap_credits_per_hour,
            upstream_timeout: Duration::from_secs(cli.upstream_timeout_secs.max(1)),
            json_max_bytes: cli.json_max_bytes,
            task_deadline: Duration::from_millis(cli.task_deadline_ms.max(1)),
            upload_max_age: Duration::from_millis(cli.upload_max_age_ms.max(1)),
            sse_keepalive: Duration::from_millis(cli.sse_keepalive_ms.max(10)),
            // Short deadlines or upload ages (tests) are honoured without tuning the sweep too.
            maintenance_interval: Duration::from_millis(
                cli.maintenance_interval_ms
                    .min(cli.task_deadline_ms / 4)
                    .min(cli.upload_max_age_ms / 4)
                    .max(10),
            ),
            www_dir: cli.www_dir,
            pkg_dir: cli.pkg_dir,
            host: cli.host,
            port: cli.port,
            workers: match cli.workers {
                0 => std::thread::available_parallelism().map_or(1, usize::from),
                n => n,
            },
        }
    }
}

impl Config {
    /// Parses flags and environment of this process.
    pub fn from_env_and_args() -> Self {
        Cli::parse().into()
    }

    /// Parses the given flags (the first item is the program name), with the environment.
    pub fn try_from_args<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Cli::try_parse_from(args).map(Self::from)
    }

    /// True when no key is set and the built-in sandbox answers instead of the provider.
    pub fn sandbox_mode(&self) -> bool {
        self.api_key.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Config {
        let mut argv = vec!["faceswap-proxy"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).expect("valid flags").into()
    }

    #[test]
    fn flags_resolve_and_key_stays_hidden() {
        let config = parse(&[
            "--port",
            "9000",
            "--aifaceswap-api-key",
            "sk-very-secret",
            "--allowed-origins",
            "https://a.example, https://b.example,",
        ]);
        assert_eq!(config.port, 9000);
        assert_eq!(config.public_url, "http://127.0.0.1:9000");
        assert_eq!(
            config.allowed_origins,
            ["https://a.example", "https://b.example"]
        );
        assert!(!config.sandbox_mode());
        assert!(!format!("{config:?}").contains("sk-very-secret"));
    }

    #[test]
    fn short_deadlines_shorten_the_sweep() {
        let config = parse(&["--task-deadline-ms", "400"]);
        assert_eq!(config.task_deadline, Duration::from_millis(400));
        assert_eq!(config.maintenance_interval, Duration::from_millis(100));
        assert_eq!(
            parse(&[]).maintenance_interval,
            Duration::from_secs(30),
            "default sweep"
        );
    }

    #[test]
    fn defaults_follow_the_design() {
        let config = parse(&[]);
        assert_eq!((config.host.as_str(), config.port), ("127.0.0.1", 8080));
        assert_eq!(config.database_url.as_str(), "sqlite://data/faceswap.db");
        let url = DatabaseUrl("postgres://proxy:s3cret@db:5432/tasks".into());
        assert_eq!(
            format!("{url:?}"),
            "postgres://proxy:[redacted]@db:5432/tasks"
        );
        assert_eq!(config.upload_max_bytes, 100 * 1024 * 1024);
        assert!(config.rate_limit_per_min > 0 && config.spend_cap_credits_per_hour > 0);
        assert!(config.allowed_origins.is_empty());
        assert!(config.workers >= 1, "one worker per CPU by default");
        assert_eq!(parse(&["--workers", "3"]).workers, 3);
    }
}
