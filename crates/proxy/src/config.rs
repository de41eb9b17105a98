//! Configuration from `--flags` and environment variables: the proxy's own, and each registered
//! provider's (`{PROVIDER}_API_KEY`, `{PROVIDER}_BASE_URL`, ...).
//!
//! Every setting of the proxy's own is written once, here: a field of one of the groups below,
//! with its flag, its environment variable, its default, its help (the field's doc comment) and
//! the parser that turns it into the value the proxy uses (a [`Duration`], a list, a CIDR list,
//! an enum). The groups are flattened into [`Config`] and read from it (`config.storage.upload_dir`,
//! `config.timings.poll_interval`); `--help` shows one section per group:
//!
//! - [`Listen`]: where the proxy listens, how it is reached, which hosts and origins it answers;
//! - [`Served`]: which providers are served, and whether the built-in sandbox answers some;
//! - [`Storage`]: the task database and where uploads are kept ([`S3Settings`] for a bucket);
//! - [`Limits`]: request rates, upload budgets, sizes, connections and timeouts;
//! - [`FetchRules`]: where URL inputs may be fetched from;
//! - [`ClientRule`]: who a request's client is behind load balancers;
//! - [`Timings`]: polls, deadlines, retention and the maintenance sweep;
//! - [`AppWebhookSettings`]: signed task events to the app's own backend;
//! - [`ResultSettings`]: results kept by the proxy;
//! - [`AuthSettings`]: the app's users, by their JSON Web Tokens;
//! - [`Observability`]: the metrics listener and the log format;
//! - the providers' own settings, added from [`faceswap_core::registry`] with clap's builder API
//!   ([`ProviderSettings`]), under their own heading.
//!
//! A value derived from several settings is one documented method of its group:
//! [`Listen::public_url`], [`Listen::allowed_hosts`], [`Storage::upload_store_kind`],
//! [`Timings::sweep_interval`].

use clap::builder::TypedValueParser;
use clap::{Arg, ArgMatches, Args, FromArgMatches};
use faceswap_core::provider::{Adapter, AdapterSettings, CostUnit, ResultDelivery};
use faceswap_core::registry;
use faceswap_core::task::DEFAULT_TASK_DEADLINE;
use secrecy::SecretString;
use std::convert::Infallible;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::OnceLock;
use std::time::Duration;

use crate::app_webhook::AppEvents;
use crate::client_addr::{ForwardedHeader, TrustedProxies, DEFAULT_IPV6_CLIENT_PREFIX};
use crate::hosts::AllowedHosts;
use crate::upload_store::UploadStoreKind;

/// The `about` line of `--help`.
const ABOUT: &str = "Key-holding face-swap proxy";

/// The heading of the providers' own flags in `--help`.
const PROVIDERS_HEADING: &str = "Providers";

/// The longest interval between two polls of one task.
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(30);

/// The proxy's settings: its own, in groups that clap parses straight from flags and environment
/// variables, and each registered provider's. Parse it with [`Config::try_from_args`] (or
/// [`Config::from_env_and_args`]), which adds the providers' flags. `Debug` never shows a key, the
/// S3 secret or the database password.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Listening address, public URL, answered hosts and origins, served folders.
    #[command(flatten)]
    pub listen: Listen,
    /// Which providers are served (`PROVIDERS`) and whether the built-in sandbox answers those
    /// without a key (`SANDBOX`).
    #[command(flatten)]
    pub served: Served,
    /// The task database and the upload store.
    #[command(flatten)]
    pub storage: Storage,
    /// Rates, budgets, sizes, connections and timeouts.
    #[command(flatten)]
    pub limits: Limits,
    /// Where URL inputs may be fetched from.
    #[command(flatten)]
    pub fetch: FetchRules,
    /// Who a request's client is and what its budgets count.
    #[command(flatten)]
    pub client_rule: ClientRule,
    /// Polls, deadlines, retention and the maintenance sweep.
    #[command(flatten)]
    pub timings: Timings,
    /// Signed task events to the app's own backend.
    #[command(flatten)]
    pub app_webhook: AppWebhookSettings,
    /// Results kept by the proxy.
    #[command(flatten)]
    pub results: ResultSettings,
    /// The app's users: their tokens, whose `sub` owns budgets.
    #[command(flatten)]
    pub auth: AuthSettings,
    /// The metrics listener and the log format.
    #[command(flatten)]
    pub observability: Observability,
    /// Each registered provider's settings, in registry order: built from the registry's flags
    /// (`provider_args`), not declared here.
    #[arg(skip)]
    pub providers: Vec<ProviderSettings>,
}

/// Where the proxy listens and what it answers for. `PUBLIC_URL` is read through
/// [`Listen::public_url`], which supplies its default, and the allowed hosts through
/// [`Listen::allowed_hosts`].
///
/// The comma-separated lists are written `std::vec::Vec`: clap would read a plain `Vec<T>` as a
/// flag given several times, and these are one value each, split by `comma_list`.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Listening")]
pub struct Listen {
    /// Address to listen on.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on.
    #[arg(long, env = "PORT", default_value_t = 8080)]
    pub port: u16,
    /// How the outside world reaches this proxy (webhooks, upload URLs); default http://HOST:PORT.
    #[arg(long, env = "PUBLIC_URL", value_parser = without_trailing_slash)]
    pub public_url: Option<String>,
    /// Host names requests may be addressed to besides PUBLIC_URL's host, IP addresses and
    /// localhost, comma separated; `.example.com` also admits its subdomains (DNS rebinding).
    #[arg(long, env = "ALLOWED_HOSTS", default_value = "", value_parser = comma_list)]
    pub allowed_hosts: std::vec::Vec<String>,
    /// CORS allowlist, comma separated; empty means same origin only.
    #[arg(long, env = "ALLOWED_ORIGINS", default_value = "", value_parser = comma_list)]
    pub allowed_origins: std::vec::Vec<String>,
    /// Folder of the demo page served at `/`.
    #[arg(long, env = "WWW_DIR", default_value = "www")]
    pub www_dir: PathBuf,
    /// Folder of the built library served at `/pkg/`.
    #[arg(long, env = "PKG_DIR", default_value = "pkg")]
    pub pkg_dir: PathBuf,
}

impl Listen {
    /// The public base URL, without a trailing slash: `PUBLIC_URL`, or `http://HOST:PORT`.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}:{}", self.host, self.port))
    }

    /// The `Host` values requests are answered for: the host of [`Listen::public_url`],
    /// `ALLOWED_HOSTS`, IP literals and `localhost`.
    pub fn allowed_hosts(&self) -> AllowedHosts {
        AllowedHosts::new(&self.public_url(), &self.allowed_hosts)
    }
}

/// Which providers the proxy serves, and what answers them. The rule that turns these and the
/// providers' keys into the served providers is [`crate::providers::choose`].
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Providers served")]
pub struct Served {
    /// The providers served, comma separated (`piapi,acedata`); unset: every provider with a key
    /// (or a {PROVIDER}_BASE_URL), and with SANDBOX=on every provider. An unknown id, or a listed
    /// provider without a key while SANDBOX is off, stops the start.
    #[arg(
        id = "served_providers",
        long = "providers",
        value_name = "PROVIDERS",
        env = "PROVIDERS",
        default_value = "",
        value_parser = comma_list
    )]
    pub providers: std::vec::Vec<String>,
    /// `on`: the built-in sandbox answers the served providers that have no key (nor a
    /// {PROVIDER}_BASE_URL), and every provider is served unless PROVIDERS says otherwise (`npm
    /// start` and the tests set it); `off`: only providers with a key (or base URL) are served.
    #[arg(long, env = "SANDBOX", value_enum, default_value_t = Switch::Off)]
    pub sandbox: Switch,
}

/// A setting that is `on` or `off` (also `true`/`false`, `1`/`0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Switch {
    /// On.
    #[value(alias = "true", alias = "1")]
    On,
    /// Off.
    #[value(alias = "false", alias = "0")]
    Off,
}

impl Switch {
    /// True when on.
    pub fn is_on(self) -> bool {
        self == Switch::On
    }
}

/// Where tasks and uploads are kept.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Storage")]
pub struct Storage {
    /// `sqlite://PATH` or `postgres://...`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/faceswap.db",
        hide_env_values = true,
        value_parser = DatabaseUrl::parse
    )]
    pub database_url: DatabaseUrl,
    /// Where uploads are stored.
    #[arg(long, env = "UPLOAD_DIR", default_value = "data/uploads")]
    pub upload_dir: PathBuf,
    /// Where uploads are kept: `disk` (UPLOAD_DIR) or `postgres` (the DATABASE_URL database,
    /// shared by every proxy on it); default: postgres with a PostgreSQL DATABASE_URL, else disk.
    #[arg(long, env = "UPLOAD_STORE", value_enum)]
    pub upload_store: Option<UploadStoreKind>,
    /// The bucket of `UPLOAD_STORE=s3`.
    #[command(flatten)]
    pub s3: S3Settings,
}

impl Storage {
    /// Which store holds uploads: `UPLOAD_STORE`, or by default PostgreSQL when `DATABASE_URL`
    /// is a PostgreSQL URL (so that every proxy on it serves every upload), else disk.
    pub fn upload_store_kind(&self) -> UploadStoreKind {
        self.upload_store.unwrap_or(
            if crate::store::postgres::is_postgres_url(self.database_url.as_str()) {
                UploadStoreKind::Postgres
            } else {
                UploadStoreKind::Disk
            },
        )
    }
}

/// The bucket of `UPLOAD_STORE=s3`, an S3-compatible store. `Debug` never shows the secret.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Storage: S3 bucket (UPLOAD_STORE=s3)")]
pub struct S3Settings {
    /// The bucket of UPLOAD_STORE=s3 (an S3-compatible store).
    #[arg(long = "s3-bucket", value_name = "S3_BUCKET", env = "S3_BUCKET")]
    pub bucket: Option<String>,
    /// The S3-compatible endpoint (`https://host[:port]`); unset: AWS's, from S3_REGION.
    #[arg(long = "s3-endpoint", value_name = "S3_ENDPOINT", env = "S3_ENDPOINT")]
    pub endpoint: Option<String>,
    /// The bucket's region.
    #[arg(
        long = "s3-region",
        value_name = "S3_REGION",
        env = "S3_REGION",
        default_value = "us-east-1"
    )]
    pub region: String,
    /// The access key id of UPLOAD_STORE=s3.
    #[arg(
        long = "s3-access-key-id",
        value_name = "S3_ACCESS_KEY_ID",
        env = "S3_ACCESS_KEY_ID",
        hide_env_values = true
    )]
    pub access_key_id: Option<String>,
    /// The secret access key of UPLOAD_STORE=s3 (never logged).
    #[arg(
        long = "s3-secret-access-key",
        value_name = "S3_SECRET_ACCESS_KEY",
        env = "S3_SECRET_ACCESS_KEY",
        hide_env_values = true,
        value_parser = secret
    )]
    pub secret_access_key: Option<SecretString>,
}

/// What one client, and all clients together, may ask of the proxy.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Limits")]
pub struct Limits {
    /// Requests per minute per client.
    #[arg(long, env = "RATE_LIMIT_PER_MIN", default_value_t = 600)]
    pub rate_limit_per_min: u32,
    /// Bytes one client may upload per hour (`POST /api/uploads`), all uploads together; 429
    /// `rate_limited` with `Retry-After` past it. Shared by the proxies on one PostgreSQL database.
    #[arg(long, env = "UPLOAD_BYTES_PER_HOUR", default_value_t = 2 * 1024 * 1024 * 1024, value_parser = clap::value_parser!(u64).range(1..))]
    pub upload_bytes_per_hour: u64,
    /// Largest accepted upload, in bytes.
    #[arg(long, env = "UPLOAD_MAX_BYTES", default_value_t = 100 * 1024 * 1024)]
    pub upload_max_bytes: u64,
    /// Largest JSON request body, in bytes (uploads and multipart forms use UPLOAD_MAX_BYTES).
    #[arg(long, env = "JSON_MAX_BYTES", default_value_t = 32 * 1024 * 1024)]
    pub json_max_bytes: u64,
    /// Longest wait for the provider's answer to one call, in seconds.
    #[arg(
        long = "upstream-timeout-secs",
        value_name = "UPSTREAM_TIMEOUT_SECS",
        env = "UPSTREAM_TIMEOUT_SECS",
        default_value = "60",
        value_parser = clap::value_parser!(u64).map(|secs| Duration::from_secs(secs.max(1)))
    )]
    pub upstream_timeout: Duration,
    /// Most connections open at once, all clients together (keep it well below the open-file
    /// limit: the database, uploads and upstream calls need descriptors too).
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..).map(to_usize))]
    pub max_connections: usize,
    /// Most connections open at once from one client address (behind a load balancer, every
    /// connection comes from its address: raise this to MAX_CONNECTIONS there).
    #[arg(long, env = "MAX_CONNECTIONS_PER_CLIENT", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..).map(to_usize))]
    pub max_connections_per_client: usize,
    /// A connection that has not sent a whole request head this many milliseconds after it opened,
    /// or after its previous answer (an idle keep-alive connection), is closed.
    #[arg(
        long = "header-read-timeout-ms",
        value_name = "HEADER_READ_TIMEOUT_MS",
        env = "HEADER_READ_TIMEOUT_MS",
        default_value = "10000",
        value_parser = clap::value_parser!(u64).range(1..).map(Duration::from_millis)
    )]
    pub header_read_timeout: Duration,
}

/// Where the proxy may fetch URL inputs from, for providers that take files only.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Fetching URL inputs")]
pub struct FetchRules {
    /// Origins (https://host[:port]) the proxy may fetch URL inputs from for providers that take
    /// files only (AIPhotoCraft), comma separated; its own uploads are always readable.
    #[arg(
        id = "fetch_allowed_origins",
        long = "fetch-allowed-origins",
        value_name = "FETCH_ALLOWED_ORIGINS",
        env = "FETCH_ALLOWED_ORIGINS",
        default_value = "",
        value_parser = comma_list
    )]
    pub allowed_origins: std::vec::Vec<String>,
    /// Lets the origins of FETCH_ALLOWED_ORIGINS (and, with KEEP_RESULTS, the providers' result
    /// URLs) be plain http and resolve to loopback or private addresses (RFC 1918, IPv6 ULA): for
    /// tests, the built-in sandbox and closed networks only. Link-local and cloud metadata
    /// addresses stay refused.
    #[arg(
        id = "fetch_allow_private",
        long = "fetch-allow-private",
        value_name = "FETCH_ALLOW_PRIVATE",
        env = "FETCH_ALLOW_PRIVATE",
        default_value_t = false
    )]
    pub allow_private: bool,
}

/// How the client of a request is found and what identity its budgets count
/// ([`crate::client_addr`]).
#[derive(Debug, Clone, PartialEq, Eq, Args)]
#[command(next_help_heading = "Clients behind load balancers")]
pub struct ClientRule {
    /// CIDRs of load balancers whose forwarding header (FORWARDED_HEADER) names the client, comma
    /// separated; empty: the peer address is the client.
    #[arg(
        long = "trusted-proxies",
        value_name = "TRUSTED_PROXIES",
        env = "TRUSTED_PROXIES",
        default_value = "",
        value_parser = TrustedProxies::from_str
    )]
    pub trusted: TrustedProxies,
    /// The one header the trusted load balancers write the client into, read from the right.
    #[arg(
        long = "forwarded-header",
        value_name = "FORWARDED_HEADER",
        env = "FORWARDED_HEADER",
        value_enum,
        default_value_t = ForwardedHeader::XForwardedFor
    )]
    pub header: ForwardedHeader,
    /// An IPv6 client is its network of this many bits, for every per-client budget.
    #[arg(
        long = "ipv6-client-prefix",
        value_name = "IPV6_CLIENT_PREFIX",
        env = "IPV6_CLIENT_PREFIX",
        default_value_t = DEFAULT_IPV6_CLIENT_PREFIX,
        value_parser = clap::value_parser!(u8).range(32..=128)
    )]
    pub ipv6_prefix: u8,
}

impl Default for ClientRule {
    /// The rule of the defaults: no trusted proxy, `X-Forwarded-For`, IPv6 clients as /64s.
    fn default() -> Self {
        Self {
            trusted: TrustedProxies::default(),
            header: ForwardedHeader::default(),
            ipv6_prefix: DEFAULT_IPV6_CLIENT_PREFIX,
        }
    }
}

/// Polls, deadlines, retention and the maintenance sweep (tests shorten them).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Timings (tests shorten them)")]
pub struct Timings {
    /// How often a polled provider's pending task is asked for, in milliseconds (the interval
    /// doubles after each poll that finds the task still running, up to 30 s).
    #[arg(
        long = "poll-interval-ms",
        value_name = "POLL_INTERVAL_MS",
        env = "POLL_INTERVAL_MS",
        default_value = "3000",
        value_parser = clap::value_parser!(u64)
            .map(|ms| Duration::from_millis(ms.max(10)).min(MAX_POLL_INTERVAL))
    )]
    pub poll_interval: Duration,
    /// A task with no webhook after this many milliseconds becomes `timed_out`.
    #[arg(
        long = "task-deadline-ms",
        value_name = "TASK_DEADLINE_MS",
        env = "TASK_DEADLINE_MS",
        default_value = default_task_deadline_ms(), // 2 h, core's DEFAULT_TASK_DEADLINE
        value_parser = clap::value_parser!(u64).map(|ms| Duration::from_millis(ms.max(1)))
    )]
    pub task_deadline: Duration,
    /// Uploads older than this many milliseconds are removed.
    #[arg(
        long = "upload-max-age-ms",
        value_name = "UPLOAD_MAX_AGE_MS",
        env = "UPLOAD_MAX_AGE_MS",
        default_value = "86400000", // 24 h
        value_parser = clap::value_parser!(u64).map(|ms| Duration::from_millis(ms.max(1)))
    )]
    pub upload_max_age: Duration,
    /// Interval of SSE keep-alive comments, in milliseconds.
    #[arg(
        long = "sse-keepalive-ms",
        value_name = "SSE_KEEPALIVE_MS",
        env = "SSE_KEEPALIVE_MS",
        default_value = "15000",
        value_parser = clap::value_parser!(u64).map(|ms| Duration::from_millis(ms.max(10)))
    )]
    pub sse_keepalive: Duration,
    /// How often overdue tasks and old uploads are looked for, in milliseconds (at most a quarter
    /// of the task deadline and of the upload age).
    #[arg(
        long = "maintenance-interval-ms",
        value_name = "MAINTENANCE_INTERVAL_MS",
        env = "MAINTENANCE_INTERVAL_MS",
        default_value = "30000",
        value_parser = clap::value_parser!(u64).map(Duration::from_millis)
    )]
    pub maintenance_interval: Duration,
    /// Days a finished task (its result URL, its callback token and secret) is kept before the
    /// maintenance sweep removes it.
    #[arg(
        long = "task-retention-days",
        value_name = "TASK_RETENTION_DAYS",
        env = "TASK_RETENTION_DAYS",
        default_value = "30",
        value_parser = clap::value_parser!(u32)
            .range(1..=36500)
            .map(|days| Duration::from_secs(u64::from(days) * 86_400))
    )]
    pub task_retention: Duration,
}

/// Signed task events to the app's own backend (`crate::app_webhook`). `Debug` never shows the
/// secrets, nor the URL (which may hold a token of its own).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "App webhooks (events to your backend)")]
pub struct AppWebhookSettings {
    /// Where task events are POSTed, signed by the Standard Webhooks specification; unset: none
    /// are sent.
    #[arg(
        long = "app-webhook-url",
        value_name = "APP_WEBHOOK_URL",
        env = "APP_WEBHOOK_URL",
        hide_env_values = true,
        value_parser = secret
    )]
    pub url: Option<SecretString>,
    /// The secrets that sign each event: `whsec_` and base64, several space separated while one
    /// is rotated (one signature each). Required with APP_WEBHOOK_URL; never logged.
    #[arg(
        long = "app-webhook-secret",
        value_name = "APP_WEBHOOK_SECRET",
        env = "APP_WEBHOOK_SECRET",
        hide_env_values = true,
        value_parser = secret
    )]
    pub secret: Option<SecretString>,
    /// Which task changes are sent: `terminal` (succeeded, failed, timed out) or `all` (their
    /// creation too).
    #[arg(
        long = "app-webhook-events",
        value_name = "APP_WEBHOOK_EVENTS",
        env = "APP_WEBHOOK_EVENTS",
        value_enum,
        default_value_t = AppEvents::Terminal
    )]
    pub events: AppEvents,
    /// Longest wait for the app's answer to one delivery, in milliseconds.
    #[arg(
        long = "app-webhook-timeout-ms",
        value_name = "APP_WEBHOOK_TIMEOUT_MS",
        env = "APP_WEBHOOK_TIMEOUT_MS",
        default_value = "15000",
        value_parser = clap::value_parser!(u64).range(1..).map(Duration::from_millis)
    )]
    pub timeout: Duration,
    /// The wait before a failed delivery is tried again, in milliseconds; it doubles after each
    /// failure (with jitter) up to an hour, for 24 h.
    #[arg(
        long = "app-webhook-retry-ms",
        value_name = "APP_WEBHOOK_RETRY_MS",
        env = "APP_WEBHOOK_RETRY_MS",
        default_value = "5000",
        value_parser = clap::value_parser!(u64).range(1..).map(Duration::from_millis)
    )]
    pub first_retry: Duration,
}

/// Results kept by the proxy (`crate::results`).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Kept results")]
pub struct ResultSettings {
    /// Copy each succeeded task's result into the upload store (under the rules of URL inputs)
    /// and serve it at PUBLIC_URL/results/..., kept for TASK_RETENTION_DAYS; the task's
    /// result_url is then that address and provider_result_url the provider's.
    #[arg(
        long = "keep-results",
        value_name = "KEEP_RESULTS",
        env = "KEEP_RESULTS",
        default_value_t = false
    )]
    pub keep: bool,
}

/// The app's users (`crate::auth`): with `AUTH_JWKS_URL` or `AUTH_HS256_SECRET`, submits and
/// uploads need a valid `Authorization: Bearer` token, and budgets belong to its `sub`. `Debug`
/// never shows the secret.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Users of your app (JSON Web Tokens)")]
pub struct AuthSettings {
    /// Where the keys that sign your users' tokens are published (a JWK set, fetched and kept
    /// for 10 minutes); submits and uploads then need Authorization: Bearer <token>.
    #[arg(
        long = "auth-jwks-url",
        value_name = "AUTH_JWKS_URL",
        env = "AUTH_JWKS_URL"
    )]
    pub jwks_url: Option<String>,
    /// The HS256 secret that signs your users' tokens (instead of AUTH_JWKS_URL); never logged.
    #[arg(
        long = "auth-hs256-secret",
        value_name = "AUTH_HS256_SECRET",
        env = "AUTH_HS256_SECRET",
        hide_env_values = true,
        value_parser = secret
    )]
    pub hs256_secret: Option<SecretString>,
    /// The `aud` a token must carry; unset: any audience.
    #[arg(
        long = "auth-audience",
        value_name = "AUTH_AUDIENCE",
        env = "AUTH_AUDIENCE"
    )]
    pub audience: Option<String>,
}

/// How the proxy is watched: its metrics listener and its log format.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Metrics and logs")]
pub struct Observability {
    /// Address (`HOST:PORT`) of a separate listener serving Prometheus metrics at `/metrics`;
    /// unset: no metrics. Never the public port: keep it on a private network.
    #[arg(long, env = "METRICS_ADDR")]
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// `text` (lines for people; colours on a terminal) or `json` (one JSON object per line, with
    /// the request span's fields: method, path without callback tokens, client).
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// How log lines are written (`LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Lines for people.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

impl Timings {
    /// The interval of the maintenance sweep (deadlines, polls, uploads, expired keys):
    /// `MAINTENANCE_INTERVAL_MS`, at most a quarter of `TASK_DEADLINE_MS` and of
    /// `UPLOAD_MAX_AGE_MS` (short deadlines or upload ages, as in tests, are honoured without
    /// tuning the sweep too), at least 10 ms.
    pub fn sweep_interval(&self) -> Duration {
        let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(
            millis(self.maintenance_interval)
                .min(millis(self.task_deadline) / 4)
                .min(millis(self.upload_max_age) / 4)
                .max(10),
        )
    }
}

/// `TASK_DEADLINE_MS`'s default as clap reads it: core's [`DEFAULT_TASK_DEADLINE`], which the
/// browser library's default `waitForResult` limit is made from too.
fn default_task_deadline_ms() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| DEFAULT_TASK_DEADLINE.as_millis().to_string())
}

/// `PUBLIC_URL` without its trailing slashes.
fn without_trailing_slash(url: &str) -> Result<String, Infallible> {
    Ok(url.trim_end_matches('/').to_owned())
}

/// A comma-separated list: entries trimmed, empty ones dropped.
fn comma_list(list: &str) -> Result<Vec<String>, Infallible> {
    Ok(list
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(str::to_owned)
        .collect())
}

/// A secret as clap reads it, never shown again.
fn secret(value: &str) -> Result<SecretString, Infallible> {
    Ok(SecretString::from(value.to_owned()))
}

/// A count clap checked as a `u32`, as the `usize` it is used as.
fn to_usize(count: u32) -> usize {
    usize::try_from(count).unwrap_or(usize::MAX)
}

/// `DATABASE_URL`. Its `Debug` hides the password a `postgres://` URL may hold.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(pub String);

impl DatabaseUrl {
    /// The URL as configured, password included: only for opening the store.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `DATABASE_URL` as clap reads it (checked when the store opens).
    fn parse(url: &str) -> Result<Self, Infallible> {
        Ok(Self(url.to_owned()))
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

/// One provider's settings: `{ID}_API_KEY`, `{ID}_BASE_URL`, for priced or polled providers
/// `{ID}_SPEND_CAP_PER_HOUR` and `{ID}_POLL_AFTER_MS`, and one `{ID}_{NAME}` per setting the
/// adapter declares (flags `--{id}-api-key`, ...). `Debug` never shows the key.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    /// The adapter.
    pub adapter: &'static dyn Adapter,
    /// The key; `None` sends none (and without a base URL means sandbox mode).
    pub api_key: Option<SecretString>,
    /// The upstream base URL, when set explicitly.
    pub base_url: Option<String>,
    /// What one client may spend per hour, in the provider's unit.
    pub spend_cap_per_hour: f64,
    /// For polled providers: how long a task runs before its first poll. For providers that call
    /// back and are polled too, how long it waits for its callback (default 30 s); for providers
    /// that are only polled, `None` unless set: the adapter's typical task time, or, in sandbox
    /// mode, the proxy's poll interval ([`crate::routes::submit`]).
    pub poll_after: Option<Duration>,
    /// The values of the adapter's own settings ([`faceswap_core::provider::SettingSpec`]),
    /// checked against their allowed words; handed to the adapter's `upstream_request`.
    pub adapter_settings: AdapterSettings,
}

impl ProviderSettings {
    /// The provider's id.
    pub fn id(&self) -> &'static str {
        self.adapter.info().id
    }

    /// True when a key or a base URL is set: calls go to an upstream, not to the built-in
    /// sandbox.
    pub fn has_upstream(&self) -> bool {
        self.api_key.is_some() || self.base_url.is_some()
    }
}

/// A spend cap for providers whose cap is not set, per unit: generous for a demo, finite.
fn default_spend_cap(unit: CostUnit) -> f64 {
    match unit {
        CostUnit::Credits => 1000.0,
        CostUnit::Usd => 10.0,
        CostUnit::Requests => 500.0,
    }
}

/// The flags of one provider's settings.
fn provider_args(command: clap::Command, adapter: &dyn Adapter) -> clap::Command {
    let info = adapter.info();
    let id = info.id;
    let env = id.to_ascii_uppercase();
    let mut command = command
        .arg(
            Arg::new(format!("{id}-api-key"))
                .long(format!("{id}-api-key"))
                .env(format!("{env}_API_KEY"))
                .hide_env_values(true)
                .help(format!(
                    "The {id} API key; unset: {id} is not served, or with SANDBOX=on the built-in sandbox answers it. Never printed."
                )),
        )
        .arg(
            Arg::new(format!("{id}-base-url"))
                .long(format!("{id}-base-url"))
                .env(format!("{env}_BASE_URL"))
                .help(format!(
                    "The {id} upstream (default {}; with SANDBOX=on and no key, the built-in sandbox).",
                    info.default_base_url
                )),
        );
    // A provider may keep its cap's older name (aifaceswap's SPEND_CAP_CREDITS_PER_HOUR).
    if let Some(legacy) = info.legacy_spend_cap {
        command = command.arg(
            Arg::new(legacy.flag)
                .long(legacy.flag)
                .env(legacy.env)
                .value_parser(clap::value_parser!(u64))
                .default_value(legacy.default.to_string())
                .help(format!(
                    "{id} {} per hour per client (other providers: `{{PROVIDER}}_SPEND_CAP_PER_HOUR`).",
                    info.cost_unit.as_str()
                )),
        );
    } else {
        command = command.arg(
            Arg::new(format!("{id}-spend-cap-per-hour"))
                .long(format!("{id}-spend-cap-per-hour"))
                .env(format!("{env}_SPEND_CAP_PER_HOUR"))
                .value_parser(clap::value_parser!(f64))
                .help(format!(
                    "What one client may spend on {id} per hour, in {}.",
                    info.cost_unit.as_str()
                )),
        );
    }
    if info.delivery == ResultDelivery::CallbackThenPolling {
        command = command.arg(
            Arg::new(format!("{id}-poll-after-ms"))
                .long(format!("{id}-poll-after-ms"))
                .env(format!("{env}_POLL_AFTER_MS"))
                .value_parser(clap::value_parser!(u64))
                .default_value("30000")
                .help(format!(
                    "How long a {id} task waits for its callback before the proxy polls, in milliseconds."
                )),
        );
    } else if info.delivery == ResultDelivery::Polling {
        let typical = adapter.typical_task_time().map_or_else(
            || "the poll interval".to_owned(),
            |t| format!("{} ms", t.as_millis()),
        );
        command = command.arg(
            Arg::new(format!("{id}-poll-after-ms"))
                .long(format!("{id}-poll-after-ms"))
                .env(format!("{env}_POLL_AFTER_MS"))
                .value_parser(clap::value_parser!(u64))
                .help(format!(
                    "How long a {id} task runs before its first poll, in milliseconds (default: \
                     a typical task's time, {typical}; in sandbox mode the poll interval)."
                )),
        );
    }
    for setting in info.settings {
        command = command.arg(
            Arg::new(setting.flag(id))
                .long(setting.flag(id))
                .env(setting.env_var(id))
                .value_parser(clap::builder::PossibleValuesParser::new(setting.allowed))
                .help(format!("{} (unset: not sent)", setting.help)),
        );
    }
    command
}

fn provider_settings(matches: &ArgMatches, adapter: &'static dyn Adapter) -> ProviderSettings {
    let info = adapter.info();
    let id = info.id;
    let text = |name: &str| {
        matches
            .try_get_one::<String>(&format!("{id}-{name}"))
            .ok()
            .flatten()
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    };
    let spend_cap_per_hour = if let Some(legacy) = info.legacy_spend_cap {
        matches
            .try_get_one::<u64>(legacy.flag)
            .ok()
            .flatten()
            .copied()
            .unwrap_or(legacy.default) as f64
    } else {
        matches
            .try_get_one::<f64>(&format!("{id}-spend-cap-per-hour"))
            .ok()
            .flatten()
            .copied()
            .unwrap_or_else(|| default_spend_cap(info.cost_unit))
    };
    let poll_after = matches
        .try_get_one::<u64>(&format!("{id}-poll-after-ms"))
        .ok()
        .flatten()
        .copied()
        .map(Duration::from_millis);
    let adapter_settings =
        info.settings
            .iter()
            .fold(AdapterSettings::new(), |settings, setting| {
                match matches
                    .try_get_one::<String>(&setting.flag(id))
                    .ok()
                    .flatten()
                {
                    Some(value) => settings.with(setting.name, value.clone()),
                    None => settings,
                }
            });
    ProviderSettings {
        adapter,
        api_key: text("api-key").map(SecretString::from),
        base_url: text("base-url").map(|url| url.trim_end_matches('/').to_owned()),
        spend_cap_per_hour,
        poll_after,
        adapter_settings,
    }
}

impl Config {
    /// The command line: the proxy's own groups, then, under the heading `Providers`, the flags of
    /// each of `adapters`.
    pub fn command(adapters: &[&'static dyn Adapter]) -> clap::Command {
        let proxy = clap::Command::new("faceswap-proxy").version(env!("CARGO_PKG_VERSION"));
        // The groups' doc comments would otherwise become the command's about.
        let command = <Self as Args>::augment_args(proxy)
            .about(ABOUT)
            .long_about(None)
            .next_help_heading(PROVIDERS_HEADING);
        adapters
            .iter()
            .fold(command, |command, adapter| provider_args(command, *adapter))
    }

    /// Parses flags and environment of this process (exits with clap's message on bad flags).
    pub fn from_env_and_args() -> Self {
        match Self::try_from_args(std::env::args_os()) {
            Ok(config) => config,
            Err(err) => err.exit(),
        }
    }

    /// Parses the given flags (the first item is the program name), with the environment, for
    /// the registered providers.
    pub fn try_from_args<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Self::try_from_args_for(registry::ADAPTERS, args)
    }

    /// Parses the given flags for a proxy serving `adapters` (a test's own provider, say).
    pub fn try_from_args_for<I, T>(
        adapters: &[&'static dyn Adapter],
        args: I,
    ) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let matches = Self::command(adapters).try_get_matches_from(args)?;
        let mut config = Self::from_arg_matches(&matches)?;
        config.providers = adapters
            .iter()
            .map(|adapter| provider_settings(&matches, *adapter))
            .collect();
        Ok(config)
    }

    /// The settings of the provider with this id.
    pub fn provider(&self, id: &str) -> Option<&ProviderSettings> {
        self.providers.iter().find(|provider| provider.id() == id)
    }

    /// The settings of the provider with this id, to change (tests).
    pub fn provider_mut(&mut self, id: &str) -> Option<&mut ProviderSettings> {
        self.providers
            .iter_mut()
            .find(|provider| provider.id() == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Config {
        let mut argv = vec!["faceswap-proxy"];
        argv.extend_from_slice(args);
        Config::try_from_args(argv).expect("valid flags")
    }

    #[test]
    fn a_spend_cap_keeps_the_name_its_provider_declares() {
        let cap = |config: &Config, id: &str| config.provider(id).expect(id).spend_cap_per_hour;
        let default = parse(&[]);
        assert_eq!(cap(&default, "aifaceswap"), 1000.0);
        assert_eq!(cap(&default, "piapi"), 10.0);
        let set = parse(&[
            "--spend-cap-credits-per-hour",
            "15",
            "--piapi-spend-cap-per-hour",
            "3",
        ]);
        assert_eq!(cap(&set, "aifaceswap"), 15.0);
        assert_eq!(cap(&set, "piapi"), 3.0);
        assert_eq!(cap(&set, "acedata"), 500.0);
        assert!(
            Config::try_from_args(["faceswap-proxy", "--aifaceswap-spend-cap-per-hour", "1"])
                .is_err(),
            "the older name only"
        );
        let command = Config::command(registry::ADAPTERS);
        let env = |flag: &str| {
            command
                .get_arguments()
                .find(|arg| arg.get_long() == Some(flag))
                .and_then(|arg| arg.get_env())
                .map(|env| env.to_string_lossy().into_owned())
        };
        assert_eq!(
            env("spend-cap-credits-per-hour").as_deref(),
            Some("SPEND_CAP_CREDITS_PER_HOUR")
        );
        assert_eq!(
            env("acedata-spend-cap-per-hour").as_deref(),
            Some("ACEDATA_SPEND_CAP_PER_HOUR")
        );
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
        assert_eq!(config.listen.port, 9000);
        assert_eq!(config.listen.public_url(), "http://127.0.0.1:9000");
        assert_eq!(
            config.listen.allowed_origins,
            ["https://a.example", "https://b.example"]
        );
        let aifaceswap = config.provider("aifaceswap").expect("registered");
        assert!(aifaceswap.has_upstream());
        assert!(!config.provider("piapi").expect("registered").has_upstream());
        assert!(!format!("{config:?}").contains("sk-very-secret"));
    }

    #[test]
    fn providers_and_sandbox_read_their_words() {
        let config = parse(&["--providers", " piapi, acedata,", "--sandbox", "on"]);
        assert_eq!(config.served.providers, ["piapi", "acedata"]);
        assert!(config.served.sandbox.is_on());
        for (word, on) in [("off", false), ("true", true), ("1", true), ("0", false)] {
            assert_eq!(
                parse(&["--sandbox", word]).served.sandbox.is_on(),
                on,
                "{word}"
            );
        }
        assert!(Config::try_from_args(["faceswap-proxy", "--sandbox", "maybe"]).is_err());
    }

    #[test]
    fn trusted_proxies_are_cidrs_and_none_by_default() {
        assert!(parse(&[]).client_rule.trusted.is_empty());
        let config = parse(&["--trusted-proxies", "10.0.0.0/8, 127.0.0.1"]);
        let trusted = &config.client_rule.trusted;
        assert!(trusted.contains("10.2.3.4".parse().expect("ip")));
        assert!(trusted.contains("127.0.0.1".parse().expect("ip")));
        assert!(!trusted.contains("127.0.0.2".parse().expect("ip")));
        let bad = Config::try_from_args(["faceswap-proxy", "--trusted-proxies", "10.0.0.0/99"]);
        assert!(bad.is_err(), "a bad CIDR stops the start");
    }

    #[test]
    fn the_client_rule_reads_its_three_settings() {
        let config = parse(&[]);
        assert_eq!(config.client_rule.ipv6_prefix, 64);
        assert_eq!(config.client_rule.header, ForwardedHeader::XForwardedFor);
        let config = parse(&[
            "--ipv6-client-prefix",
            "48",
            "--forwarded-header",
            "forwarded",
        ]);
        assert_eq!(config.client_rule.ipv6_prefix, 48);
        assert_eq!(config.client_rule.header, ForwardedHeader::Forwarded);
        for bad in [
            ["--ipv6-client-prefix", "31"],
            ["--ipv6-client-prefix", "129"],
        ] {
            let mut argv = vec!["faceswap-proxy"];
            argv.extend_from_slice(&bad);
            assert!(Config::try_from_args(argv).is_err(), "{bad:?}");
        }
        assert!(
            Config::try_from_args(["faceswap-proxy", "--forwarded-header", "x-real-ip"]).is_err()
        );
    }

    #[test]
    fn short_deadlines_shorten_the_sweep() {
        let config = parse(&["--task-deadline-ms", "400"]);
        assert_eq!(config.timings.task_deadline, Duration::from_millis(400));
        assert_eq!(config.timings.sweep_interval(), Duration::from_millis(100));
        assert_eq!(
            parse(&[]).timings.sweep_interval(),
            Duration::from_secs(30),
            "default sweep"
        );
    }

    #[test]
    fn defaults_follow_the_design() {
        let config = parse(&[]);
        assert_eq!(
            (config.listen.host.as_str(), config.listen.port),
            ("127.0.0.1", 8080)
        );
        assert_eq!(
            config.storage.database_url.as_str(),
            "sqlite://data/faceswap.db"
        );
        let url = DatabaseUrl("postgres://proxy:s3cret@db:5432/tasks".into());
        assert_eq!(
            format!("{url:?}"),
            "postgres://proxy:[redacted]@db:5432/tasks"
        );
        assert_eq!(config.limits.upload_max_bytes, 100 * 1024 * 1024);
        assert!(config.limits.rate_limit_per_min > 0);
        assert!(config.providers.iter().all(|p| p.spend_cap_per_hour > 0.0));
        assert!(config.providers.iter().all(|p| !p.has_upstream()));
        assert!(config.served.providers.is_empty(), "PROVIDERS: unset");
        assert_eq!(config.observability.metrics_addr, None, "METRICS_ADDR: off");
        assert_eq!(
            config.observability.log_format,
            LogFormat::Text,
            "LOG_FORMAT: text"
        );
        assert_eq!(
            parse(&["--log-format", "json"]).observability.log_format,
            LogFormat::Json
        );
        assert!(Config::try_from_args(["faceswap-proxy", "--log-format", "xml"]).is_err());
        assert!(Config::try_from_args(["faceswap-proxy", "--metrics-addr", "nowhere"]).is_err());
        assert_eq!(
            parse(&["--metrics-addr", "127.0.0.1:9464"])
                .observability
                .metrics_addr,
            Some("127.0.0.1:9464".parse().expect("addr"))
        );
        assert_eq!(config.served.sandbox, Switch::Off, "SANDBOX: off");
        assert_eq!(config.timings.poll_interval, Duration::from_millis(3000));
        assert_eq!(
            config.timings.task_deadline,
            Duration::from_secs(2 * 60 * 60)
        );
        assert_eq!(config.timings.task_deadline, DEFAULT_TASK_DEADLINE);
        assert!(config.listen.allowed_origins.is_empty());
        // Safe under a 1,024 open-file limit, with room for one client's browser and the rest.
        assert_eq!(config.limits.max_connections, 512);
        assert_eq!(config.limits.max_connections_per_client, 64);
        assert_eq!(config.limits.header_read_timeout, Duration::from_secs(10));
        assert!(Config::try_from_args(["faceswap-proxy", "--max-connections", "0"]).is_err());
        assert_eq!(config.limits.upload_bytes_per_hour, 2 * 1024 * 1024 * 1024);
        assert_eq!(
            config.timings.task_retention,
            Duration::from_secs(30 * 86_400)
        );
        assert_eq!(
            parse(&["--task-retention-days", "7"])
                .timings
                .task_retention,
            Duration::from_secs(7 * 86_400)
        );
        for (flag, value) in [
            ("--task-retention-days", "0"),
            ("--upload-bytes-per-hour", "0"),
        ] {
            assert!(Config::try_from_args(["faceswap-proxy", flag, value]).is_err());
        }
    }

    #[test]
    fn app_webhooks_are_off_by_default_and_send_terminal_events() {
        let config = parse(&[]);
        assert!(config.app_webhook.url.is_none());
        assert!(config.app_webhook.secret.is_none());
        assert_eq!(config.app_webhook.events, AppEvents::Terminal);
        assert_eq!(config.app_webhook.timeout, Duration::from_secs(15));
        assert_eq!(config.app_webhook.first_retry, Duration::from_secs(5));
        let config = parse(&[
            "--app-webhook-url",
            "https://app.example/hooks",
            "--app-webhook-events",
            "all",
        ]);
        assert_eq!(config.app_webhook.events, AppEvents::All);
        assert!(Config::try_from_args(["faceswap-proxy", "--app-webhook-events", "some"]).is_err());
        assert!(!parse(&[]).results.keep, "results are not kept by default");
        assert!(parse(&["--keep-results"]).results.keep);
    }

    #[test]
    fn every_flag_has_an_environment_variable_of_its_own() {
        let command = Config::command(registry::ADAPTERS);
        let mut seen = std::collections::HashMap::new();
        let mut count = 0;
        for arg in command.get_arguments() {
            if matches!(arg.get_id().as_str(), "help" | "version") {
                continue;
            }
            let flag = arg.get_long().expect("every setting is a --flag");
            let env = arg
                .get_env()
                .unwrap_or_else(|| panic!("--{flag} has no environment variable"))
                .to_string_lossy()
                .into_owned();
            if let Some(other) = seen.insert(env.clone(), flag) {
                panic!("{env} is declared by both --{other} and --{flag}");
            }
            count += 1;
        }
        // The proxy's own settings and at least each registered provider's key and URL.
        let own = Config::command(&[]).get_arguments().count();
        assert!(own >= 30, "{own} settings of the proxy's own");
        assert!(count >= own + 2 * registry::ADAPTERS.len(), "{count} flags");
        for env in [
            "HOST",
            "DATABASE_URL",
            "S3_SECRET_ACCESS_KEY",
            "POLL_INTERVAL_MS",
        ] {
            assert!(seen.contains_key(env), "{env}");
        }
    }

    #[test]
    fn secrets_never_show_their_values() {
        let command = Config::command(registry::ADAPTERS);
        let hidden = |env: &str| {
            command
                .get_arguments()
                .find(|arg| arg.get_env().is_some_and(|e| e == env))
                .unwrap_or_else(|| panic!("{env}"))
                .is_hide_env_values_set()
        };
        for env in [
            "DATABASE_URL",
            "S3_ACCESS_KEY_ID",
            "S3_SECRET_ACCESS_KEY",
            "APP_WEBHOOK_URL",
            "APP_WEBHOOK_SECRET",
            "AUTH_HS256_SECRET",
        ] {
            assert!(hidden(env), "{env}");
        }
        for adapter in registry::ADAPTERS {
            let env = format!("{}_API_KEY", adapter.info().id.to_ascii_uppercase());
            assert!(hidden(&env), "{env}");
        }
        let config = parse(&[
            "--database-url",
            "postgres://proxy:db-password@db:5432/tasks",
            "--s3-secret-access-key",
            "s3-secret-value",
            "--piapi-api-key",
            "piapi-secret-key",
            "--app-webhook-secret",
            "whsec_c2VjcmV0LXdlYmhvb2s=",
            "--auth-hs256-secret",
            "jwt-signing-secret",
            "--app-webhook-url",
            "https://app.example/hooks?token=url-token",
        ]);
        let shown = format!("{config:?}");
        for secret in [
            "db-password",
            "s3-secret-value",
            "piapi-secret-key",
            "c2VjcmV0LXdlYmhvb2s",
            "jwt-signing-secret",
            "url-token",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }

    #[test]
    fn help_reads_in_sections() {
        let help = Config::command(registry::ADAPTERS)
            .render_long_help()
            .to_string();
        let at = |text: &str| {
            help.find(text)
                .unwrap_or_else(|| panic!("{text:?} not in --help:\n{help}"))
        };
        let headings = [
            "Listening:",
            "Providers served:",
            "Storage:",
            "Storage: S3 bucket (UPLOAD_STORE=s3):",
            "Limits:",
            "Fetching URL inputs:",
            "Clients behind load balancers:",
            "Timings (tests shorten them):",
            "App webhooks (events to your backend):",
            "Kept results:",
            "Users of your app (JSON Web Tokens):",
            "Metrics and logs:",
            "Providers:",
        ];
        let places: Vec<usize> = headings.iter().map(|heading| at(heading)).collect();
        assert!(
            places.windows(2).all(|w| w[0] < w[1]),
            "{headings:?} in order"
        );
        // A few settings in their sections.
        let within = |section: usize, flag: &str| {
            let next = places.get(section + 1).copied().unwrap_or(help.len());
            assert!(
                (places[section]..next).contains(&at(flag)),
                "{flag} under {}",
                headings[section]
            );
        };
        within(0, "--public-url");
        within(1, "--providers");
        within(1, "--sandbox");
        within(2, "--database-url");
        within(3, "--s3-secret-access-key");
        within(4, "--max-connections");
        within(6, "--trusted-proxies");
        within(7, "--poll-interval-ms");
        within(8, "--app-webhook-secret");
        within(9, "--keep-results");
        within(10, "--auth-hs256-secret");
        within(11, "--metrics-addr");
        within(11, "--log-format");
        within(12, "--aifaceswap-api-key");
        within(12, "--spend-cap-credits-per-hour");
        assert!(help.starts_with(ABOUT), "{help}");
    }

    #[test]
    fn derived_values_come_from_one_method_each() {
        let config = parse(&["--host", "0.0.0.0", "--port", "9001"]);
        assert_eq!(config.listen.public_url(), "http://0.0.0.0:9001");
        let config = parse(&[
            "--public-url",
            "https://faceswap.example/",
            "--allowed-hosts",
            "app.example, ,",
        ]);
        assert_eq!(config.listen.public_url(), "https://faceswap.example");
        assert_eq!(config.listen.allowed_hosts, ["app.example"]);
        let hosts = config.listen.allowed_hosts();
        assert!(hosts.allows("faceswap.example") && hosts.allows("app.example"));
        assert!(!hosts.allows("rebind.example"));

        let kind = |args: &[&str]| parse(args).storage.upload_store_kind();
        assert_eq!(kind(&[]), UploadStoreKind::Disk);
        assert_eq!(
            kind(&["--database-url", "postgres://db/tasks"]),
            UploadStoreKind::Postgres
        );
        assert_eq!(
            kind(&[
                "--database-url",
                "postgres://db/tasks",
                "--upload-store",
                "disk"
            ]),
            UploadStoreKind::Disk
        );
        assert_eq!(kind(&["--upload-store", "s3"]), UploadStoreKind::S3);

        let config = parse(&[
            "--fetch-allowed-origins",
            "https://a.example,https://b.example",
            "--poll-interval-ms",
            "1",
            "--upload-max-age-ms",
            "800",
        ]);
        assert_eq!(
            config.fetch.allowed_origins,
            ["https://a.example", "https://b.example"]
        );
        assert_eq!(config.timings.poll_interval, Duration::from_millis(10));
        assert_eq!(config.timings.sweep_interval(), Duration::from_millis(200));
        assert_eq!(
            parse(&["--poll-interval-ms", "60000"])
                .timings
                .poll_interval,
            MAX_POLL_INTERVAL
        );
    }
}
