//! Serving: one single-threaded tokio runtime per worker thread, each accepting on its own
//! `SO_REUSEPORT` socket bound to the same address, like nginx's worker processes with
//! `reuseport`: the kernel spreads new connections over the workers, and a request is read,
//! forwarded upstream (over that thread's own connection pool) and answered on one thread,
//! without the cross-thread wake-ups of a work-stealing runtime, which cost more than the
//! forwarding itself on loopback. Everything the workers share (store, limits, notifications) is
//! thread-safe and lives in [`AppState`]. On Linux the workers run as `SCHED_BATCH` threads
//! ([`crate::sched`]).

use axum::serve::ListenerExt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use tokio::net::TcpSocket;

use crate::{AppState, Gateway};

/// Pending connections queued per socket.
const BACKLOG: u32 = 4096;

/// The bound (not yet listening) sockets of the workers, all on one address.
#[derive(Debug)]
pub struct Listeners {
    sockets: Vec<TcpSocket>,
    address: SocketAddr,
}

impl Listeners {
    /// Binds `workers` sockets to `host:port` (`port` 0 picks one free port for all of them).
    /// Where `SO_REUSEPORT` does not exist, one socket is bound and one worker serves.
    pub fn bind(host: &str, port: u16, workers: usize) -> io::Result<Self> {
        let mut address = (host, port).to_socket_addrs()?.next().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                format!("{host} has no address"),
            )
        })?;
        let count = if cfg!(unix) { workers.max(1) } else { 1 };
        let mut sockets = Vec::with_capacity(count);
        for _ in 0..count {
            let socket = if address.is_ipv4() {
                TcpSocket::new_v4()?
            } else {
                TcpSocket::new_v6()?
            };
            socket.set_reuseaddr(true)?;
            #[cfg(unix)]
            socket.set_reuseport(true)?;
            socket.bind(address)?;
            // Every later socket joins the port the first one got.
            address = socket.local_addr()?;
            sockets.push(socket);
        }
        Ok(Self { sockets, address })
    }

    /// The address all workers listen on.
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    /// Number of worker threads [`serve`] will start.
    pub fn workers(&self) -> usize {
        self.sockets.len()
    }
}

/// Serves [`app`] with one worker thread per socket until `state.shutdown` is cancelled and every
/// open connection has finished (graceful shutdown); returns the first worker's error, if any.
pub fn serve(listeners: Listeners, state: &AppState) -> io::Result<()> {
    let handles = listeners
        .sockets
        .into_iter()
        .enumerate()
        .map(|(index, socket)| {
            let state = state.clone();
            std::thread::Builder::new()
                .name(format!("proxy-worker-{index}"))
                .spawn(move || -> io::Result<()> {
                    if let Err(why) = crate::sched::prefer_throughput() {
                        tracing::debug!(%why, "worker keeps the normal scheduling policy");
                    }
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?
                        .block_on(serve_one(socket, state))
                })
        })
        .collect::<io::Result<Vec<_>>>()?;
    let mut result = Ok(());
    for handle in handles {
        let outcome = handle
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("a worker thread panicked")));
        if result.is_ok() {
            result = outcome;
        }
    }
    result
}

/// One worker: the gateway (the router, and its direct path for JSON submits) over its clone of
/// the listener.
async fn serve_one(socket: TcpSocket, state: AppState) -> io::Result<()> {
    let shutdown = state.shutdown.clone();
    // Answers go out at once, not after Nagle's delay.
    let listener = socket.listen(BACKLOG)?.tap_io(|tcp| {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(error = %err, "TCP_NODELAY");
        }
    });
    axum::serve(listener, Gateway::new(state))
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}
