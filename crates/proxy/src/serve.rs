//! Serving the router on a listener with connection hygiene: hyper's HTTP/1.1 server (through
//! hyper-util, the way axum's own examples serve when timeouts are needed) with a header read
//! timeout, and caps on open connections in total and per client address, so that slow or idle
//! clients are closed and can never take every file descriptor. The router stays the one way in:
//! every request reaches it with the peer's `ConnectInfo`, as under `axum::serve`. Graceful
//! shutdown stops accepting, closes idle connections and waits for the answers under way.

use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::Config;

/// The connection limits of [`serve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Most connections open at once, all clients together; any more are closed as they come.
    pub max_connections: usize,
    /// Most connections open at once from one client address.
    pub max_connections_per_client: usize,
    /// A connection that has not sent a whole request head this long after it opened, or after
    /// its previous answer (an idle keep-alive connection), is closed. hyper counts both from the
    /// moment the connection starts waiting for a request head.
    pub header_read_timeout: Duration,
}

impl ConnectionLimits {
    /// The limits configured in `config`.
    pub fn from_config(config: &Config) -> Self {
        Self {
            max_connections: config.max_connections,
            max_connections_per_client: config.max_connections_per_client,
            header_read_timeout: config.header_read_timeout,
        }
    }
}

/// File descriptors kept for everything but client connections: the database, spooled and
/// uploaded files, upstream calls, the built-in sandbox.
pub const RESERVED_FILES: u64 = 256;

/// The soft open-file limit of this process, where the system says (Linux: `/proc/self/limits`).
pub fn open_file_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    soft_open_files(&limits)
}

/// The soft limit of the `Max open files` line of a `/proc/<pid>/limits` text.
fn soft_open_files(limits: &str) -> Option<u64> {
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

impl ConnectionLimits {
    /// A warning when `max_connections` and [`RESERVED_FILES`] do not fit in the open-file limit
    /// `files`: connections would then run the process out of descriptors before the cap.
    pub fn file_limit_warning(&self, files: u64) -> Option<String> {
        let needed = u64::try_from(self.max_connections)
            .unwrap_or(u64::MAX)
            .saturating_add(RESERVED_FILES);
        (needed > files).then(|| {
            format!(
                "MAX_CONNECTIONS ({}) and {RESERVED_FILES} descriptors for the rest exceed the open-file limit ({files}): lower MAX_CONNECTIONS or raise the limit",
                self.max_connections
            )
        })
    }
}

/// The open connections, in total and per client address.
#[derive(Debug, Default)]
struct Open {
    total: usize,
    per_client: HashMap<IpAddr, usize>,
}

/// Counts open connections against [`ConnectionLimits`].
#[derive(Debug, Clone)]
struct Slots {
    limits: ConnectionLimits,
    open: Arc<Mutex<Open>>,
}

/// One open connection's place; given back when dropped.
#[derive(Debug)]
struct Slot {
    client: IpAddr,
    open: Arc<Mutex<Open>>,
}

/// Why a connection was refused a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Full {
    /// `max_connections` are open.
    Total,
    /// The client has `max_connections_per_client` open.
    Client,
}

impl Slots {
    fn new(limits: ConnectionLimits) -> Self {
        Self {
            limits,
            open: Arc::default(),
        }
    }

    /// A slot for a connection of `client`, if both caps leave room.
    fn take(&self, client: IpAddr) -> Result<Slot, Full> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if open.total >= self.limits.max_connections {
            return Err(Full::Total);
        }
        let of_client = open.per_client.entry(client).or_insert(0);
        if *of_client >= self.limits.max_connections_per_client {
            return Err(Full::Client);
        }
        *of_client += 1;
        open.total += 1;
        Ok(Slot {
            client,
            open: Arc::clone(&self.open),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.total = open.total.saturating_sub(1);
        if let Some(count) = open.per_client.get_mut(&self.client) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.per_client.remove(&self.client);
            }
        }
    }
}

/// Errors of one accepted connection that concern only that connection.
fn is_connection_error(err: &std::io::Error) -> bool {
    matches!(
        err.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

/// Serves `router` on `listener` within `limits` until `shutdown` completes, then stops accepting
/// and waits for the connections under way (idle ones are closed at once).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let slots = Slots::new(limits);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    // Refusals are counted and logged with the first refusal ten seconds or more after the last
    // report, so a flood cannot flood the log.
    let mut refused: u64 = 0;
    let mut reported = tokio::time::Instant::now();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) if is_connection_error(&err) => continue,
                Err(err) => {
                    // Out of file descriptors, most likely: wait rather than spin.
                    tracing::error!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let slot = match slots.take(peer.ip()) {
            Ok(slot) => slot,
            Err(full) => {
                // Closed at once: its descriptor is free again before the next accept.
                drop(stream);
                refused = refused.saturating_add(1);
                if reported.elapsed() >= Duration::from_secs(10) {
                    tracing::warn!(refused, last_client = %peer.ip(), last_cap = ?full, "connections refused: too many open");
                    refused = 0;
                    reported = tokio::time::Instant::now();
                }
                continue;
            }
        };
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(error = %err, "TCP_NODELAY");
        }
        let service = router
            .clone()
            .map_request(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let connection = graceful
            .watch(http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)));
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "connection ended");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn slots_cap_each_client_and_the_total_and_come_back() {
        let slots = Slots::new(ConnectionLimits {
            max_connections: 3,
            max_connections_per_client: 2,
            header_read_timeout: Duration::from_secs(1),
        });
        let a = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        let b = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
        let c = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 3));
        let a1 = slots.take(a).expect("room");
        let _a2 = slots.take(a).expect("room");
        assert_eq!(slots.take(a).err(), Some(Full::Client));
        let _b1 = slots.take(b).expect("room");
        assert_eq!(slots.take(c).err(), Some(Full::Total));
        drop(a1);
        let _c1 = slots.take(c).expect("a slot came back");
        assert_eq!(slots.take(a).err(), Some(Full::Total));
    }

    #[test]
    fn the_defaults_fit_a_1024_file_limit_and_a_bigger_cap_is_named() {
        let text = "Limit                     Soft Limit           Hard Limit           Units     \n\
                    Max processes             63432                63432                processes \n\
                    Max open files            1024                 524288               files     \n";
        assert_eq!(soft_open_files(text), Some(1024));
        assert_eq!(soft_open_files("Max processes 1 1 processes"), None);
        let mut limits = ConnectionLimits {
            max_connections: 512,
            max_connections_per_client: 64,
            header_read_timeout: Duration::from_secs(10),
        };
        assert_eq!(limits.file_limit_warning(1024), None);
        limits.max_connections = 1000;
        let warning = limits.file_limit_warning(1024).expect("a warning");
        assert!(warning.contains("MAX_CONNECTIONS (1000)"), "{warning}");
    }
}
