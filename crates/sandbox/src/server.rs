//! Serving the sandbox on a TCP port, in a tokio task, with graceful shutdown.

use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::app::app;
use crate::config::SandboxConfig;
use crate::state::SandboxState;

/// A sandbox serving in the background. Dropping it stops the server.
#[derive(Debug)]
pub struct RunningSandbox {
    /// Where it listens, `http://127.0.0.1:PORT`, no trailing slash.
    pub base_url: String,
    /// The key every provider API requires (each reads it as its provider sends it).
    pub api_key: String,
    /// Its state (fault knobs, task records), for tests.
    pub state: SandboxState,
    /// The bound address.
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl RunningSandbox {
    /// Stops accepting connections, lets requests in flight finish, and waits.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.map_err(std::io::Error::other)?,
            None => Ok(()),
        }
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Binds `127.0.0.1:0` and serves `config` in a tokio task.
pub async fn spawn(config: SandboxConfig) -> std::io::Result<RunningSandbox> {
    spawn_on(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
}

/// Binds `addr` and serves `config` in a tokio task.
pub async fn spawn_on(config: SandboxConfig, addr: SocketAddr) -> std::io::Result<RunningSandbox> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let host = match addr {
        SocketAddr::V4(v4) => v4.ip().to_string(),
        SocketAddr::V6(v6) => format!("[{}]", v6.ip()),
    };
    let base_url = format!("http://{host}:{}", addr.port());
    let api_key = config.api_key.clone();
    let state = SandboxState::new(config, base_url.clone())?;
    let router = app(state.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = stopped.await;
        })
        .await
    });
    tracing::info!(%base_url, "sandbox provider listening");
    Ok(RunningSandbox {
        base_url,
        api_key,
        state,
        addr,
        stop: Some(stop),
        task: Some(task),
    })
}
