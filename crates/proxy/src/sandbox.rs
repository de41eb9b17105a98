//! Sandbox mode (no `AIFACESWAP_API_KEY`, no `AIFACESWAP_BASE_URL`): the built-in sandbox provider
//! is started on a random loopback port with a random key, and the proxy forwards to it through
//! the same upstream code as to the real provider.

use faceswap_proxy::{tokens, Config, UpstreamTarget};
use faceswap_sandbox::{RunningSandbox, SandboxConfig};
use secrecy::SecretString;
use std::path::Path;

/// Starts the sandbox; it runs while the returned handle is held.
pub async fn start(
    config: &Config,
) -> Result<(UpstreamTarget, RunningSandbox), Box<dyn std::error::Error>> {
    let api_key = tokens::new_token().map_err(|e| format!("no randomness for the key: {e}"))?;
    let data_root = config.upload_dir.parent().unwrap_or(Path::new("."));
    let sandbox = faceswap_sandbox::spawn(SandboxConfig {
        api_key,
        data_dir: data_root.join("sandbox"),
        allowed_fetch_origins: vec![config.public_url.clone()],
        ..SandboxConfig::default()
    })
    .await?;
    let target = UpstreamTarget {
        base_url: sandbox.base_url.clone(),
        api_key: Some(SecretString::from(sandbox.api_key.clone())),
    };
    Ok((target, sandbox))
}
