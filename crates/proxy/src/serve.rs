//! Serving the router on a listener with connection hygiene: hyper's HTTP/1.1 server (through
//! hyper-util, the way axum's own examples serve when timeouts are needed) with a header read
//! timeout, and connection limits that bound abuse, not users. The router stays the one way in:
//! every request reaches it with the peer's `ConnectInfo`, as under `axum::serve`. Graceful
//! shutdown stops accepting, closes idle connections and waits for the answers under way.
//!
//! The rules, all here ([`decide`]):
//! - a connection is *waiting* while it has no request in flight (a new connection before its
//!   first request head, a slow header, an idle keep-alive connection) and *working* while a
//!   request is handled or its answer streamed (an event stream, a provider's callback);
//! - `MAX_CONNECTIONS` bounds every connection together (and with it the file descriptors);
//! - a client (its identity: an IPv6 client is its /64, see [`crate::client_addr`]) that already
//!   has `MAX_CONNECTIONS_PER_CLIENT` *waiting* connections may still connect while there is room,
//!   but each further connection must send its request head within [`CROWDED_HEADER_READ_TIMEOUT`];
//!   working connections never count against a client;
//! - when every place is taken, a newcomer from a client over its waiting share is closed at
//!   once; any other newcomer takes the place of the oldest waiting connection of the client
//!   with the most waiting connections; when no connection is waiting (all are working), the
//!   newcomer waits until a place frees, and the connections behind it wait in the accept queue;
//! - a trusted load balancer (`TRUSTED_PROXIES`) carries many clients: it has no share of its
//!   own, only the total.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response};
use axum::Router;
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::client_addr::ClientRule;
use crate::Config;

/// How long a connection may take to send its request head when its client already has
/// `MAX_CONNECTIONS_PER_CLIENT` waiting connections (a browser or provider sends it at once).
pub const CROWDED_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(2);

/// The connection limits of [`serve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Most connections open at once, all clients together.
    pub max_connections: usize,
    /// Most *waiting* connections (no request in flight) one client keeps with the ordinary
    /// header read timeout; further ones get [`CROWDED_HEADER_READ_TIMEOUT`] and are the first
    /// closed when every place is taken.
    pub max_connections_per_client: usize,
    /// A connection that has not sent a whole request head this long after it opened, or after
    /// its previous answer (an idle keep-alive connection), is closed. hyper counts both from the
    /// moment the connection starts waiting for a request head.
    pub header_read_timeout: Duration,
    /// Who a peer is: its identity, and whether it is a trusted load balancer.
    pub client_rule: ClientRule,
}

impl ConnectionLimits {
    /// The limits configured in `config`.
    pub fn from_config(config: &Config) -> Self {
        Self {
            max_connections: config.limits.max_connections,
            max_connections_per_client: config.limits.max_connections_per_client,
            header_read_timeout: config.limits.header_read_timeout,
            client_rule: config.client_rule.clone(),
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

/// One open connection, as the limits see it.
#[derive(Debug)]
struct Conn {
    id: u64,
    opened: Instant,
    /// Requests in flight, answers being streamed included.
    working: AtomicUsize,
    /// Cancelled to close the connection (it lost its place to a newcomer).
    close: CancellationToken,
}

impl Conn {
    fn is_waiting(&self) -> bool {
        self.working.load(Ordering::Acquire) == 0
    }
}

/// The open connections, by client.
#[derive(Debug, Default)]
struct Open {
    total: usize,
    by_client: HashMap<IpAddr, Vec<Arc<Conn>>>,
}

impl Open {
    fn waiting_of(&self, client: IpAddr) -> usize {
        self.by_client
            .get(&client)
            .map_or(0, |conns| conns.iter().filter(|c| c.is_waiting()).count())
    }

    /// The oldest waiting connection of the client with the most waiting connections.
    fn eviction_candidate(&self) -> Option<(IpAddr, Arc<Conn>)> {
        self.by_client
            .iter()
            .filter_map(|(client, conns)| {
                let waiting: Vec<&Arc<Conn>> = conns.iter().filter(|c| c.is_waiting()).collect();
                let oldest = waiting.iter().min_by_key(|c| c.opened)?;
                Some((waiting.len(), *client, Arc::clone(oldest)))
            })
            .max_by_key(|(waiting, _, oldest)| (*waiting, std::cmp::Reverse(oldest.opened)))
            .map(|(_, client, conn)| (client, conn))
    }

    /// Removes `id` of `client`; whether it was there.
    fn remove(&mut self, client: IpAddr, id: u64) -> bool {
        let Some(conns) = self.by_client.get_mut(&client) else {
            return false;
        };
        let Some(at) = conns.iter().position(|c| c.id == id) else {
            return false;
        };
        conns.swap_remove(at);
        if conns.is_empty() {
            self.by_client.remove(&client);
        }
        self.total = self.total.saturating_sub(1);
        true
    }
}

/// What becomes of a newcomer.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Admission {
    /// Served; `crowded` when its client is over its waiting share (the short head deadline).
    Open { crowded: bool },
    /// Served in the place of this waiting connection of that client, which is closed.
    Replace {
        crowded: bool,
        client: IpAddr,
        id: u64,
    },
    /// Closed at once: every place is taken and its client is over its waiting share.
    Refuse,
    /// Every place is taken by working connections: wait until one frees.
    Wait,
}

/// The rules of the module, as one decision on the open connections.
fn decide(open: &Open, limits: &ConnectionLimits, client: IpAddr, trusted: bool) -> Admission {
    let crowded = !trusted && open.waiting_of(client) >= limits.max_connections_per_client;
    if open.total < limits.max_connections {
        return Admission::Open { crowded };
    }
    if crowded {
        return Admission::Refuse;
    }
    match open.eviction_candidate() {
        Some((client, conn)) => Admission::Replace {
            crowded,
            client,
            id: conn.id,
        },
        None => Admission::Wait,
    }
}

/// The open connections against [`ConnectionLimits`].
#[derive(Debug, Clone)]
struct Slots {
    limits: ConnectionLimits,
    open: Arc<Mutex<Open>>,
    freed: Arc<Notify>,
    next_id: Arc<AtomicU64>,
}

/// One open connection's place; given back when dropped.
#[derive(Debug)]
struct Slot {
    client: IpAddr,
    conn: Arc<Conn>,
    open: Arc<Mutex<Open>>,
    freed: Arc<Notify>,
}

impl Slots {
    fn new(limits: ConnectionLimits) -> Self {
        Self {
            limits,
            open: Arc::default(),
            freed: Arc::new(Notify::new()),
            next_id: Arc::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A place for a connection from `peer`: the slot and whether its head deadline is the
    /// crowded one; `Err(Admission::Refuse | Admission::Wait)` otherwise.
    fn take(&self, peer: IpAddr) -> Result<(Slot, bool), Admission> {
        let rule = &self.limits.client_rule;
        let client = rule.identity(peer);
        let trusted = rule.is_trusted_peer(peer);
        let mut open = self.lock();
        let crowded = match decide(&open, &self.limits, client, trusted) {
            Admission::Open { crowded } => crowded,
            Admission::Replace {
                crowded,
                client: evicted_client,
                id,
            } => {
                if let Some(conn) = open
                    .by_client
                    .get(&evicted_client)
                    .and_then(|conns| conns.iter().find(|c| c.id == id))
                {
                    conn.close.cancel();
                }
                open.remove(evicted_client, id);
                crowded
            }
            refused => return Err(refused),
        };
        let conn = Arc::new(Conn {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            opened: Instant::now(),
            working: AtomicUsize::new(0),
            close: CancellationToken::new(),
        });
        open.by_client
            .entry(client)
            .or_default()
            .push(Arc::clone(&conn));
        open.total += 1;
        Ok((
            Slot {
                client,
                conn,
                open: Arc::clone(&self.open),
                freed: Arc::clone(&self.freed),
            },
            crowded,
        ))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.remove(self.client, self.conn.id);
        drop(open);
        self.freed.notify_one();
    }
}

/// Marks its connection working from a request's start until its answer's body is dropped.
#[derive(Debug)]
struct Working(Arc<Conn>);

impl Working {
    fn start(conn: &Arc<Conn>) -> Self {
        conn.working.fetch_add(1, Ordering::AcqRel);
        Self(Arc::clone(conn))
    }
}

impl Drop for Working {
    fn drop(&mut self) {
        self.0.working.fetch_sub(1, Ordering::AcqRel);
    }
}

/// An answer's body that keeps its connection [`Working`] until it is sent or dropped.
struct WorkingBody {
    body: Body,
    _working: Working,
}

impl HttpBody for WorkingBody {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
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

/// Refusals, logged with the first refusal ten seconds or more after the last report, so a flood
/// cannot flood the log.
struct RefusalLog {
    refused: u64,
    reported: Instant,
}

impl RefusalLog {
    fn refused(&mut self, peer: IpAddr) {
        crate::telemetry::limit_refused(crate::telemetry::RefusalKind::Connections);
        self.refused = self.refused.saturating_add(1);
        if self.reported.elapsed() >= Duration::from_secs(10) {
            tracing::warn!(
                refused = self.refused,
                last_client = %peer,
                "connections refused: every place taken and too many waiting from one client"
            );
            self.refused = 0;
            self.reported = Instant::now();
        }
    }
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
    let mut crowded_http = http.clone();
    crowded_http.header_read_timeout(CROWDED_HEADER_READ_TIMEOUT.min(limits.header_read_timeout));
    let slots = Slots::new(limits);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut log = RefusalLog {
        refused: 0,
        reported: Instant::now(),
    };
    'accepting: loop {
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
        let (slot, crowded) = loop {
            // Registered before looking, so a place freed in between is not missed.
            let freed = slots.freed.notified();
            match slots.take(peer.ip()) {
                Ok(taken) => break taken,
                Err(Admission::Wait) => {
                    // Every place is working: this newcomer waits for one, the others in the
                    // accept queue.
                    tokio::select! {
                        () = freed => continue,
                        () = tokio::time::sleep(Duration::from_millis(250)) => continue,
                        () = &mut shutdown => break 'accepting,
                    }
                }
                Err(_) => {
                    // Closed at once: its descriptor is free again before the next accept.
                    drop(stream);
                    log.refused(peer.ip());
                    continue 'accepting;
                }
            }
        };
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(error = %err, "TCP_NODELAY");
        }
        let conn = Arc::clone(&slot.conn);
        let service = router
            .clone()
            .map_request(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            })
            .map_future(move |answer| {
                let working = Working::start(&conn);
                async move {
                    answer.await.map(|response: Response<Body>| {
                        response.map(|body| {
                            Body::new(WorkingBody {
                                body,
                                _working: working,
                            })
                        })
                    })
                }
            });
        let builder = if crowded { &crowded_http } else { &http };
        let connection = graceful.watch(
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)),
        );
        let close = slot.conn.close.clone();
        tokio::spawn(async move {
            tokio::select! {
                ended = connection => {
                    if let Err(err) = ended {
                        tracing::debug!(error = %err, "connection ended");
                    }
                }
                // Its place went to a newcomer: dropping the connection closes it.
                () = close.cancelled() => {}
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

    fn limits(total: usize, per_client: usize, trusted: &str) -> ConnectionLimits {
        ConnectionLimits {
            max_connections: total,
            max_connections_per_client: per_client,
            header_read_timeout: Duration::from_secs(1),
            client_rule: ClientRule {
                trusted: trusted.parse().expect("trusted"),
                ..ClientRule::default()
            },
        }
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn waiting_connections_are_shared_out_and_working_ones_are_not_counted() {
        let slots = Slots::new(limits(4, 2, ""));
        let a = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        let b = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
        let (a1, crowded) = slots.take(a).expect("room");
        assert!(!crowded);
        let (a2, crowded) = slots.take(a).expect("room");
        assert!(!crowded);
        // A third waiting connection of the same client: served, on the short head deadline.
        let (a3, crowded) = slots.take(a).expect("room");
        assert!(crowded);
        // Working connections do not count against the client.
        let _w1 = Working::start(&a1.conn);
        let _w2 = Working::start(&a2.conn);
        let (_a4, crowded) = slots.take(a).expect("room");
        assert!(!crowded, "two of a's four are working");
        // Full: a newcomer of another client takes the place of a's oldest waiting connection.
        let (_b1, _) = slots.take(b).expect("a's waiting connection makes room");
        assert!(
            a3.conn.close.is_cancelled(),
            "the oldest waiting one is closed"
        );
        assert!(!a1.conn.close.is_cancelled(), "working ones never are");
        assert_eq!(slots.lock().total, 4);
        drop(a3);
        assert_eq!(
            slots.lock().total,
            4,
            "an evicted place is not given back twice"
        );
    }

    #[test]
    fn a_full_house_refuses_the_crowding_client_and_waits_when_all_work() {
        let slots = Slots::new(limits(3, 2, ""));
        let a = ip("10.0.0.1");
        let held: Vec<_> = (0..3).map(|_| slots.take(a).expect("room")).collect();
        assert_eq!(slots.take(a).err(), Some(Admission::Refuse));
        let working: Vec<_> = held
            .iter()
            .map(|(slot, _)| Working::start(&slot.conn))
            .collect();
        assert_eq!(slots.take(ip("10.0.0.2")).err(), Some(Admission::Wait));
        assert_eq!(
            slots.take(a).err(),
            Some(Admission::Wait),
            "a's connections all work"
        );
        drop(working);
        drop(held);
        assert_eq!(slots.lock().total, 0);
        assert!(slots.take(a).is_ok());
    }

    #[test]
    fn an_ipv6_client_is_its_slash_64_and_a_balancer_has_no_share() {
        let slots = Slots::new(limits(10, 1, "10.0.0.9"));
        let (_one, crowded) = slots.take(ip("2001:db8:1:2::1")).expect("room");
        assert!(!crowded);
        let (_two, crowded) = slots.take(ip("2001:db8:1:2::beef")).expect("room");
        assert!(crowded, "the same /64");
        let (_other, crowded) = slots.take(ip("2001:db8:1:3::1")).expect("room");
        assert!(!crowded, "another /64");
        let mut balancer = Vec::new();
        for _ in 0..5 {
            let (slot, crowded) = slots.take(ip("10.0.0.9")).expect("room");
            assert!(!crowded, "a trusted balancer carries many clients");
            balancer.push(slot);
        }
    }

    #[test]
    fn the_defaults_fit_a_1024_file_limit_and_a_bigger_cap_is_named() {
        let text = "Limit                     Soft Limit           Hard Limit           Units     \n\
                    Max processes             63432                63432                processes \n\
                    Max open files            1024                 524288               files     \n";
        assert_eq!(soft_open_files(text), Some(1024));
        assert_eq!(soft_open_files("Max processes 1 1 processes"), None);
        let mut limits = limits(512, 64, "");
        assert_eq!(limits.file_limit_warning(1024), None);
        limits.max_connections = 1000;
        let warning = limits.file_limit_warning(1024).expect("a warning");
        assert!(warning.contains("MAX_CONNECTIONS (1000)"), "{warning}");
    }
}
