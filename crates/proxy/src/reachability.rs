//! Whether providers can call this proxy back. aifaceswap and AceData deliver results by
//! POSTing to `PUBLIC_URL/hooks/...`, and PiAPI is called back before it is polled; a provider on
//! the internet cannot reach a `PUBLIC_URL` on loopback, a private network or a name only this
//! machine knows, which is where `PUBLIC_URL` is by default (`http://127.0.0.1:8080`). The proxy
//! warns once per such provider at start ([`callback_warnings`]), from one pure rule
//! ([`not_reachable_from_the_internet`]).

use faceswap_core::provider::{Adapter, AdapterSettings, ResultDelivery};
use std::net::IpAddr;
use std::time::Duration;

use crate::fetch::address;
use crate::hosts::host_part;
use crate::{Config, Mode, Providers};

/// The host of a URL (`https://user@host:8443/path` -> `host`), lowercased, without brackets,
/// port or a trailing dot.
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    host_part(authority).to_ascii_lowercase()
}

/// Why the host of `url` cannot be reached from the internet, or `None` when it may be: a
/// loopback, private (RFC 1918), link-local or IPv6 unique-local address (or any other address
/// that is not globally reachable), `localhost` or a name under `.localhost`, a name of a local
/// network (`.local`, `.internal`, `.home.arpa`), or a name without a dot, which public DNS does
/// not answer for.
pub fn not_reachable_from_the_internet(url: &str) -> Option<&'static str> {
    let host = host_of(url);
    if host.is_empty() {
        return Some("no host at all");
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        let ip = ip.to_canonical();
        return match ip {
            _ if ip.is_loopback() => Some("a loopback address"),
            _ if ip.is_unspecified() => Some("the unspecified address"),
            IpAddr::V4(v4) if v4.is_private() => Some("a private (RFC 1918) address"),
            IpAddr::V4(v4) if v4.is_link_local() => Some("a link-local address"),
            IpAddr::V6(v6) if v6.is_unicast_link_local() => Some("a link-local address"),
            IpAddr::V6(v6) if v6.is_unique_local() => Some("an IPv6 unique-local address"),
            _ if address::check(ip, false).is_err() => Some("an address that is not public"),
            _ => None,
        };
    }
    if host == "localhost" || host.ends_with(".localhost") {
        return Some("localhost");
    }
    if [".local", ".internal", ".home.arpa"]
        .iter()
        .any(|suffix| host.ends_with(suffix))
    {
        return Some("a name of a local network");
    }
    if !host.contains('.') {
        return Some("a name without a dot, which public DNS does not answer for");
    }
    None
}

/// What becomes of a provider's tasks when its callbacks never arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WithoutCallbacks {
    /// Nothing polls them: they end `timed_out` at the task deadline.
    NeverFinish {
        /// `TASK_DEADLINE_MS`.
        deadline: Duration,
    },
    /// They are polled once the callback wait has passed.
    PolledAfter(Duration),
}

/// One provider's case, as [`callback_warning`] judges it.
#[derive(Debug, Clone, Copy)]
pub struct CallbackCase<'a> {
    /// The provider's id.
    pub id: &'a str,
    /// Where its calls go: a provider that is itself local (a test double, a mirror on the same
    /// network) is not judged.
    pub upstream: &'a str,
    /// `PUBLIC_URL`.
    pub public_url: &'a str,
    /// The port the proxy listens on, for the tunnel commands.
    pub port: u16,
    /// What its tasks do without callbacks.
    pub without: WithoutCallbacks,
    /// A setting that turns its callbacks off (`ACEDATA_DELIVERY=synchronous`), when it has one.
    pub no_callback_setting: Option<&'a str>,
}

/// A duration as people write it: `2 h`, `30 s`, `1500 ms`.
fn human(duration: Duration) -> String {
    let ms = duration.as_millis();
    match ms {
        _ if ms % 3_600_000 == 0 && ms > 0 => format!("{} h", ms / 3_600_000),
        _ if ms % 60_000 == 0 && ms > 0 => format!("{} min", ms / 60_000),
        _ if ms % 1_000 == 0 => format!("{} s", ms / 1_000),
        _ => format!("{ms} ms"),
    }
}

/// The warning for a provider with a key that calls back `PUBLIC_URL`, when the provider is on
/// the internet and `PUBLIC_URL` is not reachable from there; `None` otherwise. It names what
/// happens and what to do, and never holds a key (it is given none).
pub fn callback_warning(case: &CallbackCase<'_>) -> Option<String> {
    let why = not_reachable_from_the_internet(case.public_url)?;
    if not_reachable_from_the_internet(case.upstream).is_some() {
        return None;
    }
    let id = case.id;
    let env = id.to_ascii_uppercase();
    let consequence = match case.without {
        WithoutCallbacks::NeverFinish { deadline } => format!(
            "{id} cannot call it back, so its tasks never finish and end timed_out after {} \
             (TASK_DEADLINE_MS)",
            human(deadline)
        ),
        WithoutCallbacks::PolledAfter(wait) => format!(
            "{id} cannot call it back, so each task's result waits for the first poll, {} after \
             its submit ({env}_POLL_AFTER_MS)",
            human(wait)
        ),
    };
    let alternative = case
        .no_callback_setting
        .map(|setting| format!(", or set {setting}"))
        .unwrap_or_default();
    Some(format!(
        "{id} has a key and delivers results by calling back PUBLIC_URL ({}), whose host is {why}: \
         {consequence}. Set PUBLIC_URL to an address {id} can reach, for example a tunnel to this \
         proxy (`cloudflared tunnel --url http://127.0.0.1:{port}` or `ngrok http {port}`, then \
         PUBLIC_URL=https://<the tunnel's address>){alternative}",
        case.public_url,
        port = case.port,
    ))
}

/// A setting of `adapter` under which it is given no callback URL, as `{ID}_{NAME}=value`.
fn no_callback_setting(adapter: &dyn Adapter) -> Option<String> {
    let info = adapter.info();
    info.settings.iter().find_map(|spec| {
        spec.allowed
            .iter()
            .find(|value| !adapter.calls_back(&AdapterSettings::new().with(spec.name, **value)))
            .map(|value| format!("{}={value}", spec.env_var(info.id)))
    })
}

/// The warnings of every provider with a key (mode live) that is called back under its settings
/// while `PUBLIC_URL` cannot be reached from the internet: one per provider.
pub fn callback_warnings(config: &Config, providers: &Providers) -> Vec<String> {
    let public_url = config.listen.public_url();
    providers
        .iter()
        .filter(|provider| provider.mode == Mode::Live)
        .filter(|provider| {
            provider
                .adapter
                .calls_back(&provider.settings.adapter_settings)
        })
        .filter_map(|provider| {
            let without = match provider.adapter.info().delivery {
                ResultDelivery::CallbackThenPolling => {
                    WithoutCallbacks::PolledAfter(provider.settings.poll_after.unwrap_or_default())
                }
                _ => WithoutCallbacks::NeverFinish {
                    deadline: config.timings.task_deadline,
                },
            };
            let setting = no_callback_setting(provider.adapter);
            callback_warning(&CallbackCase {
                id: provider.id(),
                upstream: &provider.target.base_url,
                public_url: &public_url,
                port: config.listen.port,
                without,
                no_callback_setting: setting.as_deref(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_private_link_local_and_local_names_are_not_reachable() {
        for url in [
            "http://127.0.0.1:8080",
            "http://127.1.2.3",
            "http://[::1]:8080",
            "http://0.0.0.0:8080",
            "http://10.0.0.5:8080",
            "http://172.16.1.1",
            "http://192.168.1.20:8080/base",
            "http://169.254.169.254",
            "http://[fe80::1]:8080",
            "http://[fd12:3456::1]",
            "http://[::ffff:192.168.0.1]",
            "http://100.64.0.1",
            "http://localhost:8080",
            "http://LOCALHOST.",
            "http://app.localhost:8080",
            "http://devbox:8080",
            "http://devbox.local",
            "http://proxy.internal",
            "http://nas.home.arpa",
            "http://user@localhost:8080",
            "",
        ] {
            assert!(not_reachable_from_the_internet(url).is_some(), "{url}");
        }
    }

    #[test]
    fn public_addresses_and_names_are_reachable() {
        for url in [
            "https://faceswap.example",
            "https://abc.trycloudflare.com",
            "https://x.ngrok-free.app/",
            "http://93.184.216.34:8080",
            "http://[2606:4700::1111]",
            "https://localhost.example.com",
            "https://user@faceswap.example:8443/base",
        ] {
            assert_eq!(not_reachable_from_the_internet(url), None, "{url}");
        }
    }

    #[test]
    fn the_reason_names_the_kind_of_address() {
        let reason = |url| not_reachable_from_the_internet(url).expect("not reachable");
        assert_eq!(reason("http://127.0.0.1:8080"), "a loopback address");
        assert_eq!(reason("http://192.168.1.2"), "a private (RFC 1918) address");
        assert_eq!(reason("http://169.254.1.1"), "a link-local address");
        assert_eq!(reason("http://[fd00::1]"), "an IPv6 unique-local address");
        assert_eq!(reason("http://localhost:5173"), "localhost");
    }

    fn case<'a>(public_url: &'a str, upstream: &'a str) -> CallbackCase<'a> {
        CallbackCase {
            id: "aifaceswap",
            upstream,
            public_url,
            port: 8080,
            without: WithoutCallbacks::NeverFinish {
                deadline: Duration::from_secs(7200),
            },
            no_callback_setting: None,
        }
    }

    #[test]
    fn a_local_public_url_with_a_provider_on_the_internet_is_warned_of() {
        let warning = callback_warning(&case("http://127.0.0.1:8080", "https://aifaceswap.io"))
            .expect("a warning");
        assert_eq!(
            warning,
            "aifaceswap has a key and delivers results by calling back PUBLIC_URL \
             (http://127.0.0.1:8080), whose host is a loopback address: aifaceswap cannot call \
             it back, so its tasks never finish and end timed_out after 2 h (TASK_DEADLINE_MS). \
             Set PUBLIC_URL to an address aifaceswap can reach, for example a tunnel to this \
             proxy (`cloudflared tunnel --url http://127.0.0.1:8080` or `ngrok http 8080`, then \
             PUBLIC_URL=https://<the tunnel's address>)"
        );
        assert_eq!(
            callback_warning(&case("https://faceswap.example", "https://aifaceswap.io")),
            None,
            "a public PUBLIC_URL"
        );
        assert_eq!(
            callback_warning(&case("http://127.0.0.1:8080", "http://127.0.0.1:9999")),
            None,
            "a provider on this machine (a test double) can reach it"
        );
    }

    #[test]
    fn a_provider_that_polls_too_or_has_a_setting_without_callbacks_says_so() {
        let piapi = CallbackCase {
            id: "piapi",
            without: WithoutCallbacks::PolledAfter(Duration::from_secs(30)),
            ..case("http://localhost:8080", "https://api.piapi.ai")
        };
        let warning = callback_warning(&piapi).expect("a warning");
        assert!(
            warning.contains("each task's result waits for the first poll, 30 s after its submit (PIAPI_POLL_AFTER_MS)"),
            "{warning}"
        );
        let acedata = CallbackCase {
            id: "acedata",
            no_callback_setting: Some("ACEDATA_DELIVERY=synchronous"),
            ..case("http://192.168.1.5:8080", "https://api.acedata.cloud")
        };
        let warning = callback_warning(&acedata).expect("a warning");
        assert!(
            warning.ends_with(", or set ACEDATA_DELIVERY=synchronous"),
            "{warning}"
        );
        assert!(
            warning.contains("a private (RFC 1918) address"),
            "{warning}"
        );
    }

    #[test]
    fn acedatas_setting_without_callbacks_is_found_from_its_adapter() {
        let adapter = |id| faceswap_core::registry::adapter(id).expect("registered");
        assert_eq!(
            no_callback_setting(adapter("acedata")).as_deref(),
            Some("ACEDATA_DELIVERY=synchronous")
        );
        assert_eq!(no_callback_setting(adapter("aifaceswap")), None);
        assert_eq!(no_callback_setting(adapter("piapi")), None);
    }
}
