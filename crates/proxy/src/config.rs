//! Configuration from `--flags` and environment variables: the proxy's own, and each registered
//! provider's (`{PROVIDER}_API_KEY`, `{PROVIDER}_BASE_URL`, ...).

use clap::{Arg, ArgMatches, CommandFactory, FromArgMatches, Parser};
use faceswap_core::provider::{Adapter, AdapterSettings, CostUnit, ResultDelivery};
use faceswap_core::registry;
use secrecy::SecretString;

use crate::client_addr::{ClientRule, ForwardedHeader, TrustedProxies, TrustedProxiesError};
use crate::hosts::AllowedHosts;
use std::path::PathBuf;
use std::time::Duration;

use crate::upload_store::{S3Settings, UploadStoreKind};

/// Command-line flags; each also reads the environment variable of the same name in capitals.
/// Each registered provider adds its own (see [`ProviderSettings`]).
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
    /// Where uploads are kept: `disk` (UPLOAD_DIR) or `postgres` (the DATABASE_URL database,
    /// shared by every proxy on it); default: postgres with a PostgreSQL DATABASE_URL, else disk.
    #[arg(long, env = "UPLOAD_STORE", value_enum)]
    pub upload_store: Option<UploadStoreKind>,
    /// The bucket of UPLOAD_STORE=s3 (an S3-compatible store).
    #[arg(long, env = "S3_BUCKET")]
    pub s3_bucket: Option<String>,
    /// The S3-compatible endpoint (`https://host[:port]`); unset: AWS's, from S3_REGION.
    #[arg(long, env = "S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    /// The bucket's region.
    #[arg(long, env = "S3_REGION", default_value = "us-east-1")]
    pub s3_region: String,
    /// The access key id of UPLOAD_STORE=s3.
    #[arg(long, env = "S3_ACCESS_KEY_ID", hide_env_values = true)]
    pub s3_access_key_id: Option<String>,
    /// The secret access key of UPLOAD_STORE=s3 (never logged).
    #[arg(long, env = "S3_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub s3_secret_access_key: Option<String>,
    /// Largest accepted upload, in bytes.
    #[arg(long, env = "UPLOAD_MAX_BYTES", default_value_t = 100 * 1024 * 1024)]
    pub upload_max_bytes: u64,
    /// CORS allowlist, comma separated; empty means same origin only.
    #[arg(long, env = "ALLOWED_ORIGINS", default_value = "")]
    pub allowed_origins: String,
    /// Origins (https://host[:port]) the proxy may fetch URL inputs from for providers that take
    /// files only (AIPhotoCraft), comma separated; its own uploads are always readable.
    #[arg(long, env = "FETCH_ALLOWED_ORIGINS", default_value = "")]
    pub fetch_allowed_origins: String,
    /// Lets the origins of FETCH_ALLOWED_ORIGINS be plain http and resolve to loopback or private
    /// addresses (RFC 1918, IPv6 ULA): for tests and closed networks only. Link-local and cloud
    /// metadata addresses stay refused.
    #[arg(long, env = "FETCH_ALLOW_PRIVATE", default_value_t = false)]
    pub fetch_allow_private: bool,
    /// CIDRs of load balancers whose forwarding header (FORWARDED_HEADER) names the client, comma
    /// separated; empty: the peer address is the client.
    #[arg(long, env = "TRUSTED_PROXIES", default_value = "", value_parser = parse_trusted_proxies)]
    pub trusted_proxies: TrustedProxies,
    /// The one header the trusted load balancers write the client into, read from the right.
    #[arg(long, env = "FORWARDED_HEADER", value_enum, default_value_t = ForwardedHeader::XForwardedFor)]
    pub forwarded_header: ForwardedHeader,
    /// An IPv6 client is its network of this many bits, for every per-client budget.
    #[arg(long, env = "IPV6_CLIENT_PREFIX", default_value_t = 64, value_parser = clap::value_parser!(u8).range(32..=128))]
    pub ipv6_client_prefix: u8,
    /// Host names requests may be addressed to besides PUBLIC_URL's host, IP addresses and
    /// localhost, comma separated; `.example.com` also admits its subdomains (DNS rebinding).
    #[arg(long, env = "ALLOWED_HOSTS", default_value = "")]
    pub allowed_hosts: String,
    /// Requests per minute per client.
    #[arg(long, env = "RATE_LIMIT_PER_MIN", default_value_t = 600)]
    pub rate_limit_per_min: u32,
    /// Bytes one client may upload per hour (`POST /api/uploads`), all uploads together; 429
    /// `rate_limited` with `Retry-After` past it. Shared by the proxies on one PostgreSQL database.
    #[arg(long, env = "UPLOAD_BYTES_PER_HOUR", default_value_t = 2 * 1024 * 1024 * 1024, value_parser = clap::value_parser!(u64).range(1..))]
    pub upload_bytes_per_hour: u64,
    /// Days a finished task (its result URL, its callback token and secret) is kept before the
    /// maintenance sweep removes it.
    #[arg(long, env = "TASK_RETENTION_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=36500))]
    pub task_retention_days: u32,
    /// How often a polled provider's pending task is asked for, in milliseconds (the interval
    /// doubles after each poll that finds the task still running, up to 30 s).
    #[arg(long, env = "POLL_INTERVAL_MS", default_value_t = 3000)]
    pub poll_interval_ms: u64,
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
    /// Most connections open at once, all clients together (keep it well below the open-file
    /// limit: the database, uploads and upstream calls need descriptors too).
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Most connections open at once from one client address (behind a load balancer, every
    /// connection comes from its address: raise this to MAX_CONNECTIONS there).
    #[arg(long, env = "MAX_CONNECTIONS_PER_CLIENT", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections_per_client: u32,
    /// A connection that has not sent a whole request head this many milliseconds after it opened,
    /// or after its previous answer (an idle keep-alive connection), is closed.
    #[arg(long, env = "HEADER_READ_TIMEOUT_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_read_timeout_ms: u64,
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

    /// True when neither a key nor a base URL is set: the built-in sandbox answers.
    pub fn sandbox_mode(&self) -> bool {
        self.api_key.is_none() && self.base_url.is_none()
    }
}

/// The proxy's settings, resolved from [`Cli`] and the providers' flags. `Debug` never shows a
/// key or the database password.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen host.
    pub host: String,
    /// Listen port.
    pub port: u16,
    /// Each registered provider's settings, in registry order.
    pub providers: Vec<ProviderSettings>,
    /// Public base URL without a trailing slash.
    pub public_url: String,
    /// Task store location.
    pub database_url: DatabaseUrl,
    /// Upload folder.
    pub upload_dir: PathBuf,
    /// `UPLOAD_STORE`; `None`: the default of the database.
    pub upload_store: Option<UploadStoreKind>,
    /// The bucket of `UPLOAD_STORE=s3` (`S3_*`); `Debug` never shows the secret.
    pub s3: S3Settings,
    /// Upload size limit in bytes.
    pub upload_max_bytes: u64,
    /// Origins allowed by CORS; empty: same origin only.
    pub allowed_origins: Vec<String>,
    /// Origins URL inputs may be fetched from (`FETCH_ALLOWED_ORIGINS`).
    pub fetch_allowed_origins: Vec<String>,
    /// Whether those origins may be http and private addresses (`FETCH_ALLOW_PRIVATE`).
    pub fetch_allow_private: bool,
    /// Who a request's client is and what its budgets count (`TRUSTED_PROXIES`,
    /// `FORWARDED_HEADER`, `IPV6_CLIENT_PREFIX`).
    pub client_rule: ClientRule,
    /// The `Host` values requests are answered for (`PUBLIC_URL`'s, `ALLOWED_HOSTS`, IP
    /// literals, `localhost`).
    pub allowed_hosts: AllowedHosts,
    /// Requests per minute per client.
    pub rate_limit_per_min: u32,
    /// Bytes one client may upload per hour.
    pub upload_bytes_per_hour: u64,
    /// How long a finished task is kept.
    pub task_retention: Duration,
    /// Interval of polls of a pending task (doubling up to [`MAX_POLL_INTERVAL`]).
    pub poll_interval: Duration,
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
    /// Interval of the maintenance sweep (deadlines, polls, uploads, expired keys).
    pub maintenance_interval: Duration,
    /// Most connections open at once, in total.
    pub max_connections: usize,
    /// Most connections open at once from one client address.
    pub max_connections_per_client: usize,
    /// Longest wait for a whole request head, on a new or an idle kept-alive connection.
    pub header_read_timeout: Duration,
    /// Demo page folder.
    pub www_dir: PathBuf,
    /// Built library folder.
    pub pkg_dir: PathBuf,
}

/// `TRUSTED_PROXIES` as clap reads it.
fn parse_trusted_proxies(list: &str) -> Result<TrustedProxies, TrustedProxiesError> {
    list.parse()
}

/// The longest interval between two polls of one task.
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(30);

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
                    "The {id} API key; unset means the built-in sandbox answers. Never printed."
                )),
        )
        .arg(
            Arg::new(format!("{id}-base-url"))
                .long(format!("{id}-base-url"))
                .env(format!("{env}_BASE_URL"))
                .help(format!(
                    "The {id} upstream (default {}, or the built-in sandbox without a key).",
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
    /// The command line: [`Cli`] and the flags of each of `adapters`.
    pub fn command(adapters: &[&'static dyn Adapter]) -> clap::Command {
        adapters.iter().fold(Cli::command(), |command, adapter| {
            provider_args(command, *adapter)
        })
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
        let cli = Cli::from_arg_matches(&matches)?;
        let providers = adapters
            .iter()
            .map(|adapter| provider_settings(&matches, *adapter))
            .collect();
        Ok(Self::from_cli(cli, providers))
    }

    fn from_cli(cli: Cli, providers: Vec<ProviderSettings>) -> Self {
        let public_url = cli
            .public_url
            .unwrap_or_else(|| format!("http://{}:{}", cli.host, cli.port))
            .trim_end_matches('/')
            .to_owned();
        let allowed_hosts = AllowedHosts::new(&public_url, &cli.allowed_hosts);
        Self {
            providers,
            public_url,
            database_url: DatabaseUrl(cli.database_url),
            upload_dir: cli.upload_dir,
            upload_store: cli.upload_store,
            s3: S3Settings {
                bucket: cli.s3_bucket,
                endpoint: cli.s3_endpoint,
                region: cli.s3_region,
                access_key_id: cli.s3_access_key_id,
                secret_access_key: cli.s3_secret_access_key.map(SecretString::from),
            },
            upload_max_bytes: cli.upload_max_bytes,
            allowed_origins: cli
                .allowed_origins
                .split(',')
                .map(str::trim)
                .filter(|origin| !origin.is_empty())
                .map(str::to_owned)
                .collect(),
            fetch_allowed_origins: cli
                .fetch_allowed_origins
                .split(',')
                .map(str::trim)
                .filter(|origin| !origin.is_empty())
                .map(str::to_owned)
                .collect(),
            fetch_allow_private: cli.fetch_allow_private,
            client_rule: ClientRule {
                trusted: cli.trusted_proxies,
                header: cli.forwarded_header,
                ipv6_prefix: cli.ipv6_client_prefix,
            },
            allowed_hosts,
            rate_limit_per_min: cli.rate_limit_per_min,
            upload_bytes_per_hour: cli.upload_bytes_per_hour,
            task_retention: Duration::from_secs(u64::from(cli.task_retention_days) * 86_400),
            poll_interval: Duration::from_millis(cli.poll_interval_ms.max(10))
                .min(MAX_POLL_INTERVAL),
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
            max_connections: usize::try_from(cli.max_connections).unwrap_or(usize::MAX),
            max_connections_per_client: usize::try_from(cli.max_connections_per_client)
                .unwrap_or(usize::MAX),
            header_read_timeout: Duration::from_millis(cli.header_read_timeout_ms),
            www_dir: cli.www_dir,
            pkg_dir: cli.pkg_dir,
            host: cli.host,
            port: cli.port,
        }
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

    /// True when every provider is answered by the built-in sandbox.
    pub fn sandbox_mode(&self) -> bool {
        self.providers.iter().all(ProviderSettings::sandbox_mode)
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
        assert_eq!(config.port, 9000);
        assert_eq!(config.public_url, "http://127.0.0.1:9000");
        assert_eq!(
            config.allowed_origins,
            ["https://a.example", "https://b.example"]
        );
        assert!(!config.sandbox_mode());
        let aifaceswap = config.provider("aifaceswap").expect("registered");
        assert!(!aifaceswap.sandbox_mode());
        assert!(!format!("{config:?}").contains("sk-very-secret"));
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
        assert!(config.rate_limit_per_min > 0);
        assert!(config.providers.iter().all(|p| p.spend_cap_per_hour > 0.0));
        assert!(config.sandbox_mode(), "no key: the sandbox answers");
        assert_eq!(config.poll_interval, Duration::from_millis(3000));
        assert!(config.allowed_origins.is_empty());
        // Safe under a 1,024 open-file limit, with room for one client's browser and the rest.
        assert_eq!(config.max_connections, 512);
        assert_eq!(config.max_connections_per_client, 64);
        assert_eq!(config.header_read_timeout, Duration::from_secs(10));
        assert!(Config::try_from_args(["faceswap-proxy", "--max-connections", "0"]).is_err());
        assert_eq!(config.upload_bytes_per_hour, 2 * 1024 * 1024 * 1024);
        assert_eq!(config.task_retention, Duration::from_secs(30 * 86_400));
        assert_eq!(
            parse(&["--task-retention-days", "7"]).task_retention,
            Duration::from_secs(7 * 86_400)
        );
        for (flag, value) in [
            ("--task-retention-days", "0"),
            ("--upload-bytes-per-hour", "0"),
        ] {
            assert!(Config::try_from_args(["faceswap-proxy", flag, value]).is_err());
        }
    }
}
