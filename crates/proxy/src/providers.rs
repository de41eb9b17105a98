//! The providers this proxy serves: each chosen adapter with its upstream target and mode.
//! [`choose`] is the one rule of which providers are served and what answers each (`PROVIDERS`,
//! `SANDBOX` and the keys); [`Providers::resolve`] turns its answer into upstream targets. A
//! provider with a key (or an explicit base URL) goes to its upstream; one with neither is
//! answered by the built-in sandbox (the `sandbox` feature, which serves every provider's API on
//! one loopback port) only with `SANDBOX=on`. A provider that is not served has no routes.

use faceswap_core::provider::Adapter;
use secrecy::SecretString;
use serde::Serialize;

use crate::config::ProviderSettings;
use crate::upstream::{ProviderTarget, UpstreamConfigError};
use crate::Config;

/// Whether a provider is the real one or the built-in sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The built-in sandbox (or an explicit upstream without a key).
    Sandbox,
    /// The provider, with the operator's key.
    Live,
}

/// One provider as served.
#[derive(Debug, Clone)]
pub struct ServedProvider {
    /// Its adapter.
    pub adapter: &'static dyn Adapter,
    /// Its settings.
    pub settings: ProviderSettings,
    /// Where its calls go.
    pub target: ProviderTarget,
    /// Its mode.
    pub mode: Mode,
}

impl ServedProvider {
    /// The provider's id.
    pub fn id(&self) -> &'static str {
        self.adapter.info().id
    }
}

/// Where the built-in sandbox listens, and its key.
#[derive(Debug, Clone)]
pub struct SandboxEndpoint {
    /// Its base URL (`http://127.0.0.1:PORT`).
    pub base_url: String,
    /// The key it wants.
    pub api_key: SecretString,
}

/// What answers a served provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answerer {
    /// Its upstream: the provider itself with the operator's key, or `{PROVIDER}_BASE_URL`.
    Upstream,
    /// The built-in sandbox (`SANDBOX=on`, and neither a key nor a base URL).
    BuiltInSandbox,
}

/// Why the providers cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum ProvidersError {
    /// A base URL or key is malformed.
    #[error(transparent)]
    Target(#[from] UpstreamConfigError),
    /// `PROVIDERS` names a provider this proxy does not have.
    #[error(
        "PROVIDERS names {id:?}, which is not a provider of this proxy (its providers: {known})"
    )]
    UnknownProvider {
        /// The id as written.
        id: String,
        /// The registered ids, comma separated.
        known: String,
    },
    /// `PROVIDERS` lists a provider without a key while `SANDBOX` is off.
    #[error(
        "PROVIDERS lists {id}, which has no key: set {id_upper}_API_KEY (or {id_upper}_BASE_URL), \
         or SANDBOX=on to have the built-in sandbox answer it"
    )]
    NoKey {
        /// The provider's id.
        id: &'static str,
        /// The provider's id in capitals.
        id_upper: String,
    },
    /// No provider is left to serve.
    #[error(
        "no provider to serve: set a provider's key ({keys}), or SANDBOX=on to have the built-in \
         sandbox answer the providers without one"
    )]
    NothingToServe {
        /// Every provider's key variable, comma separated.
        keys: String,
    },
    /// The built-in sandbox should answer a provider, and this build has none.
    #[error(
        "SANDBOX=on asks the built-in sandbox to answer {id}, which has no key, and this proxy \
         was built without the sandbox feature: set {id_upper}_API_KEY (or {id_upper}_BASE_URL), \
         leave {id} out of PROVIDERS, or build with the default features"
    )]
    NoSandbox {
        /// The provider's id.
        id: &'static str,
        /// The provider's id in capitals.
        id_upper: String,
    },
}

/// The providers `config` serves, in registry order, and what answers each:
///
/// - `PROVIDERS` set: exactly those (an unknown id is an error);
/// - unset: every provider with a key or a base URL, and with `SANDBOX=on` every provider;
/// - a served provider with a key or a base URL goes to that upstream; one with neither is
///   answered by the built-in sandbox with `SANDBOX=on`, and is an error otherwise;
/// - nothing to serve is an error.
pub fn choose(config: &Config) -> Result<Vec<(&ProviderSettings, Answerer)>, ProvidersError> {
    let listed = &config.served.providers;
    if let Some(unknown) = listed.iter().find(|id| config.provider(id).is_none()) {
        return Err(ProvidersError::UnknownProvider {
            id: unknown.clone(),
            known: ids(config, |p| p.id().to_owned()),
        });
    }
    let sandbox = config.served.sandbox.is_on();
    let chosen: Vec<(&ProviderSettings, Answerer)> = config
        .providers
        .iter()
        .filter(|p| {
            if listed.is_empty() {
                sandbox || p.has_upstream()
            } else {
                listed.iter().any(|id| id == p.id())
            }
        })
        .map(|p| match (p.has_upstream(), sandbox) {
            (true, _) => Ok((p, Answerer::Upstream)),
            (false, true) => Ok((p, Answerer::BuiltInSandbox)),
            (false, false) => Err(ProvidersError::NoKey {
                id: p.id(),
                id_upper: p.id().to_ascii_uppercase(),
            }),
        })
        .collect::<Result<_, _>>()?;
    if chosen.is_empty() {
        return Err(ProvidersError::NothingToServe {
            keys: ids(config, |p| {
                format!("{}_API_KEY", p.id().to_ascii_uppercase())
            }),
        });
    }
    Ok(chosen)
}

/// One text per registered provider, comma separated.
fn ids(config: &Config, each: impl Fn(&ProviderSettings) -> String) -> String {
    config
        .providers
        .iter()
        .map(each)
        .collect::<Vec<_>>()
        .join(", ")
}

/// True when [`choose`] has the built-in sandbox answer some provider: the binary starts it.
pub fn needs_builtin_sandbox(config: &Config) -> Result<bool, ProvidersError> {
    Ok(choose(config)?
        .iter()
        .any(|(_, answerer)| *answerer == Answerer::BuiltInSandbox))
}

/// The providers served ([`choose`]), in registry order.
#[derive(Debug, Clone)]
pub struct Providers(Vec<ServedProvider>);

impl Providers {
    /// The providers `config` serves; those the built-in sandbox answers go to `sandbox`.
    pub fn resolve(
        config: &Config,
        sandbox: Option<&SandboxEndpoint>,
    ) -> Result<Self, ProvidersError> {
        choose(config)?
            .into_iter()
            .map(|(settings, answerer)| {
                let info = settings.adapter.info();
                let (target, mode) = match (answerer, &settings.base_url, &settings.api_key) {
                    (Answerer::Upstream, Some(base_url), key) => (
                        ProviderTarget::new(info, base_url, key.clone())?,
                        if key.is_some() {
                            Mode::Live
                        } else {
                            Mode::Sandbox
                        },
                    ),
                    (Answerer::Upstream, None, key) => (
                        ProviderTarget::new(info, info.default_base_url, key.clone())?,
                        Mode::Live,
                    ),
                    (Answerer::BuiltInSandbox, _, _) => {
                        let sandbox = sandbox.ok_or_else(|| ProvidersError::NoSandbox {
                            id: info.id,
                            id_upper: info.id.to_ascii_uppercase(),
                        })?;
                        (
                            ProviderTarget::new(
                                info,
                                &sandbox.base_url,
                                Some(sandbox.api_key.clone()),
                            )?,
                            Mode::Sandbox,
                        )
                    }
                };
                Ok(ServedProvider {
                    adapter: settings.adapter,
                    settings: settings.clone(),
                    target,
                    mode,
                })
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// The provider with this id.
    pub fn get(&self, id: &str) -> Option<&ServedProvider> {
        self.0.iter().find(|provider| provider.id() == id)
    }

    /// Every provider.
    pub fn iter(&self) -> impl Iterator<Item = &ServedProvider> {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(args: &[&str]) -> Config {
        let mut argv = vec!["faceswap-proxy"];
        argv.extend_from_slice(args);
        Config::try_from_args(argv).expect("flags")
    }

    fn sandbox() -> SandboxEndpoint {
        SandboxEndpoint {
            base_url: "http://127.0.0.1:9".into(),
            api_key: SecretString::from("sandbox-key".to_owned()),
        }
    }

    fn served(providers: &Providers) -> Vec<(&'static str, Mode)> {
        providers.iter().map(|p| (p.id(), p.mode)).collect()
    }

    #[test]
    fn with_keys_and_no_sandbox_exactly_the_keyed_providers_are_served() {
        let config = config(&["--piapi-api-key", "k", "--acedata-api-key", "k2"]);
        assert!(!needs_builtin_sandbox(&config).expect("chosen"));
        let providers = Providers::resolve(&config, Some(&sandbox())).expect("keys");
        assert_eq!(
            served(&providers),
            [("piapi", Mode::Live), ("acedata", Mode::Live)]
        );
        assert!(providers.get("aifaceswap").is_none(), "no key: not served");
        let piapi = providers.get("piapi").expect("served");
        assert_eq!(piapi.target.base_url, "https://api.piapi.ai");
    }

    #[test]
    fn nothing_to_serve_is_an_error_naming_the_keys_and_sandbox() {
        let err = Providers::resolve(&config(&[]), Some(&sandbox())).expect_err("nothing");
        let message = err.to_string();
        for part in ["AIFACESWAP_API_KEY", "ACEDATA_API_KEY", "SANDBOX=on"] {
            assert!(message.contains(part), "{message}");
        }
    }

    #[test]
    fn sandbox_on_serves_every_provider_keyed_ones_live() {
        let config = config(&["--sandbox", "on", "--piapi-api-key", "k"]);
        assert!(needs_builtin_sandbox(&config).expect("chosen"));
        let providers = Providers::resolve(&config, Some(&sandbox())).expect("sandbox");
        assert_eq!(
            served(&providers),
            [
                ("aifaceswap", Mode::Sandbox),
                ("piapi", Mode::Live),
                ("aiphotocraft", Mode::Sandbox),
                ("acedata", Mode::Sandbox)
            ]
        );
        let aifaceswap = providers.get("aifaceswap").expect("served");
        assert_eq!(aifaceswap.target.base_url, "http://127.0.0.1:9");
    }

    #[test]
    fn providers_picks_exactly_the_listed_ones() {
        let keyed = [
            "--aifaceswap-api-key",
            "k",
            "--piapi-api-key",
            "k2",
            "--providers",
            "piapi",
        ];
        let providers = Providers::resolve(&config(&keyed), None).expect("listed");
        assert_eq!(served(&providers), [("piapi", Mode::Live)]);
        // With the sandbox on, a listed provider without a key is the sandbox's; others stay out.
        let config = config(&["--providers", "acedata,piapi", "--sandbox", "on"]);
        let providers = Providers::resolve(&config, Some(&sandbox())).expect("listed");
        assert_eq!(
            served(&providers),
            [("piapi", Mode::Sandbox), ("acedata", Mode::Sandbox)]
        );
    }

    #[test]
    fn a_listed_provider_without_a_key_needs_the_sandbox() {
        let err = choose(&config(&["--providers", "piapi"])).expect_err("no key");
        let message = err.to_string();
        assert!(message.contains("PIAPI_API_KEY"), "{message}");
        assert!(message.contains("SANDBOX=on"), "{message}");
    }

    #[test]
    fn an_unknown_provider_is_an_error_naming_the_setting() {
        let err = choose(&config(&[
            "--providers",
            "piapi,faceswapper",
            "--sandbox",
            "on",
        ]))
        .expect_err("unknown");
        let message = err.to_string();
        assert!(message.contains("PROVIDERS"), "{message}");
        assert!(message.contains("\"faceswapper\""), "{message}");
        assert!(message.contains("aiphotocraft"), "{message}");
    }

    #[test]
    fn without_a_sandbox_build_the_error_names_the_feature_and_the_key() {
        let err = Providers::resolve(&config(&["--sandbox", "on"]), None).expect_err("none");
        let message = err.to_string();
        assert!(message.contains("AIFACESWAP_API_KEY"), "{message}");
        assert!(message.contains("sandbox feature"), "{message}");
    }

    #[test]
    fn keys_and_base_urls_decide_target_and_mode() {
        let live = Providers::resolve(
            &config(&[
                "--aifaceswap-api-key",
                "k",
                "--piapi-api-key",
                "k2",
                "--aiphotocraft-base-url",
                "http://127.0.0.1:7",
                "--acedata-api-key",
                "k4",
            ]),
            None,
        )
        .expect("key");
        let aifaceswap = live.get("aifaceswap").expect("served");
        assert_eq!(
            (aifaceswap.mode, aifaceswap.target.base_url.as_str()),
            (Mode::Live, "https://aifaceswap.io")
        );
        let aiphotocraft = live.get("aiphotocraft").expect("a base URL is served");
        assert_eq!(
            (aiphotocraft.mode, aiphotocraft.target.base_url.as_str()),
            (Mode::Sandbox, "http://127.0.0.1:7")
        );
        let acedata = live.get("acedata").expect("served");
        assert_eq!(
            (acedata.mode, acedata.target.base_url.as_str()),
            (Mode::Live, "https://api.acedata.cloud")
        );
        let bad = Providers::resolve(&config(&["--aifaceswap-base-url", "ftp://x"]), None);
        assert!(bad
            .expect_err("not http")
            .to_string()
            .contains("AIFACESWAP_BASE_URL"));
    }
}
