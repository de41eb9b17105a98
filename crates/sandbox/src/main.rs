//! `faceswap-sandbox`: runs the sandbox provider alone.

use clap::Parser;
use faceswap_sandbox::{spawn_on, Faults, SandboxConfig};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

/// The face-swap providers' APIs on this machine: real detection, classical swaps, no internet.
#[derive(Parser)]
#[command(name = "faceswap-sandbox", version)]
struct Cli {
    /// Address to listen on.
    #[arg(long, env = "SANDBOX_HOST", default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "SANDBOX_PORT", default_value_t = 8090)]
    port: u16,
    /// The key callers must send (as each provider's API sends it).
    #[arg(
        long,
        env = "SANDBOX_API_KEY",
        default_value = "sandbox-key",
        hide_env_values = true
    )]
    api_key: String,
    /// Where results are stored.
    #[arg(long, env = "SANDBOX_DATA_DIR", default_value = "data/sandbox")]
    data_dir: PathBuf,
    /// Origins besides loopback that inputs may come from and webhooks go to, comma separated.
    #[arg(
        long,
        env = "SANDBOX_ALLOWED_FETCH_ORIGINS",
        default_value = "",
        value_delimiter = ','
    )]
    allowed_fetch_origins: Vec<String>,
    /// Base URL of result links, when clients reach the sandbox by another address.
    #[arg(long, env = "SANDBOX_PUBLIC_URL")]
    public_url: Option<String>,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "faceswap_sandbox=info,tower_http=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    let config = SandboxConfig {
        api_key: cli.api_key,
        data_dir: cli.data_dir,
        allowed_fetch_origins: cli
            .allowed_fetch_origins
            .into_iter()
            .filter(|o| !o.trim().is_empty())
            .collect(),
        faults: Faults::from_env(),
        public_url: cli.public_url,
        ..SandboxConfig::default()
    };
    let running = spawn_on(config, SocketAddr::new(cli.host, cli.port)).await?;
    tracing::info!(base_url = %running.base_url, "faceswap-sandbox ready; Ctrl-C stops it");
    tokio::signal::ctrl_c().await?;
    running.shutdown().await
}
