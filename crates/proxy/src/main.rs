//! The `faceswap-proxy` binary: configuration, logging, upstream choice, listener, maintenance,
//! graceful shutdown.

use axum::serve::ListenerExt;
use faceswap_proxy::{app, configured_upstream, spawn_maintenance, AppState, Config};
use std::net::SocketAddr;
use tracing_subscriber::EnvFilter;

mod sandbox;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let config = Config::from_env_and_args();
    let address = format!("{}:{}", config.host, config.port);
    let listener = tokio::net::TcpListener::bind(&address).await?;
    // Sandbox mode: no key and no explicit base URL. The sandbox stops when `_sandbox` drops.
    let (upstream, _sandbox) = match configured_upstream(&config) {
        Some(target) => (target, None),
        None => {
            let (target, running) = sandbox::start(&config).await?;
            (target, Some(running))
        }
    };
    tracing::info!(
        address = %listener.local_addr()?,
        mode = if config.sandbox_mode() { "sandbox" } else { "provider" },
        upstream = %upstream.base_url,
        "faceswap-proxy listening"
    );
    let state = AppState::new(config, upstream)?;
    let maintenance = spawn_maintenance(state.clone());
    let shutdown = state.shutdown.clone();
    // Answers go out at once, not after Nagle's delay.
    let listener = listener.tap_io(|tcp| {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(error = %err, "TCP_NODELAY");
        }
    });
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        // End the event streams, which would otherwise hold the shutdown open.
        shutdown.cancel();
    })
    .await?;
    maintenance.abort();
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
