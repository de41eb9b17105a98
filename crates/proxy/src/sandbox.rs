//! The built-in sandbox (cargo feature `sandbox`, on by default): started on a random loopback
//! port with a random key when `SANDBOX=on` and some served provider has neither a key nor a base
//! URL ([`crate::providers::choose`]). The proxy calls it through the same upstream code as a real
//! provider.

use faceswap_sandbox::{RunningSandbox, SandboxConfig};
use secrecy::SecretString;
use std::path::Path;

use crate::providers::SandboxEndpoint;
use crate::{tokens, Config};

/// Why the sandbox did not start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// No randomness for its key.
    #[error("no randomness for the sandbox's key: {0}")]
    Random(#[from] getrandom::Error),
    /// It could not start.
    #[error("the sandbox did not start: {0}")]
    Start(#[from] std::io::Error),
}

/// Starts the sandbox; it runs while the returned handle is held.
pub async fn start(config: &Config) -> Result<(SandboxEndpoint, RunningSandbox), SandboxError> {
    let api_key = tokens::new_token()?;
    let data_root = config.storage.upload_dir.parent().unwrap_or(Path::new("."));
    let sandbox = faceswap_sandbox::spawn(SandboxConfig {
        api_key,
        data_dir: data_root.join("sandbox"),
        allowed_fetch_origins: vec![config.listen.public_url().clone()],
        ..SandboxConfig::default()
    })
    .await?;
    let endpoint = SandboxEndpoint {
        base_url: sandbox.base_url.clone(),
        api_key: SecretString::from(sandbox.api_key.clone()),
    };
    Ok((endpoint, sandbox))
}
