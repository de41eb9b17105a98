//! The providers this proxy serves: each registered adapter with its upstream target and mode.
//! A provider with a key (or an explicit base URL) goes to its upstream; one with neither is
//! answered by the built-in sandbox (the `sandbox` feature), which serves every provider's API
//! on one loopback port.

use faceswap_core::provider::Adapter;
use secrecy::SecretString;
use serde::Serialize;

use crate::config::ProviderSettings;
use crate::upstream::{ProviderTarget, UpstreamConfigError};
use crate::Config;

/// Whether a provider is the real one or the built-in sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

/// Why the providers cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum ProvidersError {
    /// A base URL or key is malformed.
    #[error(transparent)]
    Target(#[from] UpstreamConfigError),
    /// A provider has no key and no sandbox is running.
    #[error(
        "{variable} is not set, and this proxy was built without the sandbox feature: set the \
         key (or {id_upper}_BASE_URL), or build with the default features"
    )]
    NoSandbox {
        /// The key's variable.
        variable: String,
        /// The provider's id in capitals.
        id_upper: String,
    },
}

/// Every registered provider, in registry order.
#[derive(Debug, Clone)]
pub struct Providers(Vec<ServedProvider>);

impl Providers {
    /// The providers of `config`; those in sandbox mode go to `sandbox`.
    pub fn resolve(
        config: &Config,
        sandbox: Option<&SandboxEndpoint>,
    ) -> Result<Self, ProvidersError> {
        config
            .providers
            .iter()
            .map(|settings| {
                let info = settings.adapter.info();
                let (target, mode) = match (&settings.base_url, &settings.api_key, sandbox) {
                    (Some(base_url), key, _) => (
                        ProviderTarget::new(info, base_url, key.clone())?,
                        if key.is_some() {
                            Mode::Live
                        } else {
                            Mode::Sandbox
                        },
                    ),
                    (None, Some(key), _) => (
                        ProviderTarget::new(info, info.default_base_url, Some(key.clone()))?,
                        Mode::Live,
                    ),
                    (None, None, Some(sandbox)) => (
                        ProviderTarget::new(
                            info,
                            &sandbox.base_url,
                            Some(sandbox.api_key.clone()),
                        )?,
                        Mode::Sandbox,
                    ),
                    (None, None, None) => {
                        let id_upper = info.id.to_ascii_uppercase();
                        return Err(ProvidersError::NoSandbox {
                            variable: format!("{id_upper}_API_KEY"),
                            id_upper,
                        });
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

    #[test]
    fn without_a_key_and_without_a_sandbox_the_error_names_the_variable() {
        let err = Providers::resolve(&config(&[]), None).expect_err("no sandbox");
        let message = err.to_string();
        assert!(message.contains("AIFACESWAP_API_KEY"), "{message}");
        assert!(message.contains("sandbox feature"), "{message}");
    }

    #[test]
    fn keys_sandboxes_and_base_urls_decide_target_and_mode() {
        let sandbox = SandboxEndpoint {
            base_url: "http://127.0.0.1:9".into(),
            api_key: SecretString::from("sandbox-key".to_owned()),
        };
        let providers = Providers::resolve(&config(&[]), Some(&sandbox)).expect("sandbox");
        let aifaceswap = providers.get("aifaceswap").expect("served");
        assert_eq!(
            (aifaceswap.mode, aifaceswap.target.base_url.as_str()),
            (Mode::Sandbox, "http://127.0.0.1:9")
        );
        let piapi = providers.get("piapi").expect("served");
        assert_eq!(piapi.mode, Mode::Sandbox);
        let live = Providers::resolve(
            &config(&[
                "--aifaceswap-api-key",
                "k",
                "--piapi-api-key",
                "k2",
                "--aiphotocraft-api-key",
                "k3",
            ]),
            None,
        )
        .expect("key");
        let aifaceswap = live.get("aifaceswap").expect("served");
        assert_eq!(
            (aifaceswap.mode, aifaceswap.target.base_url.as_str()),
            (Mode::Live, "https://aifaceswap.io")
        );
        let piapi = live.get("piapi").expect("served");
        assert_eq!(
            (piapi.mode, piapi.target.base_url.as_str()),
            (Mode::Live, "https://api.piapi.ai")
        );
        let bad = Providers::resolve(&config(&["--aifaceswap-base-url", "ftp://x"]), None);
        assert!(bad
            .expect_err("not http")
            .to_string()
            .contains("AIFACESWAP_BASE_URL"));
    }
}
