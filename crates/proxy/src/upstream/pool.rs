//! The provider's connections, kept per worker thread: a stack of idle HTTP/1.1 connections,
//! plain TCP or TLS (rustls), each driven by a task on the thread that opened it.
//!
//! hyper-util's general-purpose client pool hashes its key, locks a shared map and moves large
//! futures on every request; it was an eighth of the proxy's work per forward. Here the pool is
//! owned by one thread and has one destination, so taking a connection is a `Vec::pop` under an uncontended lock.
//! A request is sent at most once: a connection found closed is dropped *before* anything is
//! written to it, and a failure after that is reported, never retried.

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Where the provider's connections go.
#[derive(Clone)]
pub struct Endpoint {
    /// Host name or address, as in the URL (without IPv6 brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// TLS for `https` URLs: the connector and the name the certificate must have.
    pub tls: Option<(TlsConnector, ServerName<'static>)>,
    /// How long connecting (TCP and TLS) may take.
    pub connect_timeout: Duration,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

/// An idle connection and when it was last used.
struct Idle {
    sender: SendRequest<Full<Bytes>>,
    since: Instant,
}

/// One thread's idle connections to one [`Endpoint`].
pub struct ConnectionPool {
    endpoint: Arc<Endpoint>,
    /// Only this pool's thread locks it (the lock makes `&ConnectionPool` sendable across awaits,
    /// as axum's handler futures must be), so it is never contended.
    idle: Mutex<Vec<Idle>>,
    max_idle: usize,
    idle_timeout: Duration,
}

impl std::fmt::Debug for ConnectionPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionPool")
            .field("endpoint", &self.endpoint)
            .field("idle", &self.idle().len())
            .finish()
    }
}

/// A connection taken from the pool (or just opened); give it back with
/// [`ConnectionPool::put_back`] once its answer has been read whole.
pub struct Connection {
    /// The request half of the connection.
    pub sender: SendRequest<Full<Bytes>>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("closed", &self.sender.is_closed())
            .finish()
    }
}

impl ConnectionPool {
    /// An empty pool that keeps at most `max_idle` connections, each for at most `idle_timeout`.
    pub fn new(endpoint: Arc<Endpoint>, max_idle: usize, idle_timeout: Duration) -> Self {
        Self {
            endpoint,
            idle: Mutex::new(Vec::new()),
            max_idle,
            idle_timeout,
        }
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Idle>> {
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Number of idle connections (for tests).
    pub fn idle_count(&self) -> usize {
        self.idle().len()
    }

    /// A connection ready for a request: the most recently used live one, or a new one.
    pub async fn take(&self) -> io::Result<Connection> {
        loop {
            let idle = self.idle().pop();
            let Some(mut idle) = idle else { break };
            if idle.since.elapsed() >= self.idle_timeout || idle.sender.is_closed() {
                continue;
            }
            // The connection finishes its previous exchange before it takes another request;
            // an error here means it closed, and nothing has been written to it.
            if idle.sender.ready().await.is_ok() {
                return Ok(Connection {
                    sender: idle.sender,
                });
            }
        }
        // Boxed: connecting (TLS included) is rare and its future is large; every request's
        // future would otherwise carry (and move) its space.
        Box::pin(self.connect()).await
    }

    /// Keeps `connection` for a later request unless it closed or the pool is full.
    pub fn put_back(&self, connection: Connection) {
        if connection.sender.is_closed() {
            return;
        }
        let mut idle = self.idle();
        // The oldest connections are at the bottom; drop those past their idle time.
        let timeout = self.idle_timeout;
        let expired = idle
            .iter()
            .take_while(|c| c.since.elapsed() >= timeout)
            .count();
        idle.drain(..expired);
        if idle.len() < self.max_idle {
            idle.push(Idle {
                sender: connection.sender,
                since: Instant::now(),
            });
        }
    }

    async fn connect(&self) -> io::Result<Connection> {
        let endpoint = Arc::clone(&self.endpoint);
        let timed_out = || io::Error::new(io::ErrorKind::TimedOut, "connecting timed out");
        tokio::time::timeout(endpoint.connect_timeout, async {
            let tcp = TcpStream::connect((endpoint.host.as_str(), endpoint.port)).await?;
            tcp.set_nodelay(true)?;
            match &endpoint.tls {
                Some((connector, name)) => {
                    let tls = connector.connect(name.clone(), tcp).await?;
                    handshake(TokioIo::new(tls)).await
                }
                None => handshake(TokioIo::new(tcp)).await,
            }
        })
        .await
        .map_err(|_| timed_out())?
    }
}

/// The HTTP/1.1 handshake over `io`; the connection is driven by a task on this thread's runtime.
async fn handshake<T>(io: T) -> io::Result<Connection>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, connection) = http1::handshake(io).await.map_err(io::Error::other)?;
    tokio::spawn(async move {
        if let Err(err) = connection.await {
            tracing::debug!(error = %err, "provider connection ended");
        }
    });
    Ok(Connection { sender })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A provider that answers `{}` to every request and counts its connections; with `close`, it
    /// ends each connection after one answer.
    async fn provider(close: bool) -> (u16, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&accepted);
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut buffer = Vec::new();
                    let mut chunk = [0u8; 1024];
                    loop {
                        let Ok(n) = socket.read(&mut chunk).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        buffer.extend_from_slice(&chunk[..n]);
                        // Requests here have no body: one ends at the blank line.
                        while let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                            buffer.drain(..end + 4);
                            let connection = if close { "close" } else { "keep-alive" };
                            let answer = format!(
                                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: {connection}\r\n\r\n{{}}"
                            );
                            if socket.write_all(answer.as_bytes()).await.is_err() || close {
                                return;
                            }
                        }
                    }
                });
            }
        });
        (port, accepted)
    }

    fn pool(port: u16) -> ConnectionPool {
        let endpoint = Endpoint {
            host: "127.0.0.1".into(),
            port,
            tls: None,
            connect_timeout: Duration::from_secs(2),
        };
        ConnectionPool::new(Arc::new(endpoint), 4, Duration::from_secs(60))
    }

    async fn exchange(pool: &ConnectionPool) -> Vec<u8> {
        use http_body_util::BodyExt;
        let mut connection = pool.take().await.expect("connection");
        let request = hyper::Request::builder()
            .uri("/")
            .header("host", "127.0.0.1")
            .body(Full::new(Bytes::new()))
            .expect("request");
        let response = connection
            .sender
            .send_request(request)
            .await
            .expect("answer");
        let body = response.into_body().collect().await.expect("body");
        pool.put_back(connection);
        body.to_bytes().to_vec()
    }

    #[tokio::test]
    async fn one_connection_carries_one_request_after_another() {
        let (port, accepted) = provider(false).await;
        let pool = pool(port);
        for _ in 0..5 {
            assert_eq!(exchange(&pool).await, b"{}");
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
        assert_eq!(pool.idle_count(), 1);
    }

    #[tokio::test]
    async fn a_connection_the_provider_closed_is_not_used_again() {
        let (port, accepted) = provider(true).await;
        let pool = pool(port);
        for _ in 0..3 {
            assert_eq!(exchange(&pool).await, b"{}");
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 3);
        assert_eq!(pool.idle_count(), 0);
    }

    #[tokio::test]
    async fn idle_connections_past_their_time_are_dropped() {
        let (port, accepted) = provider(false).await;
        let endpoint = Endpoint {
            host: "127.0.0.1".into(),
            port,
            tls: None,
            connect_timeout: Duration::from_secs(2),
        };
        let pool = ConnectionPool::new(Arc::new(endpoint), 4, Duration::from_millis(50));
        exchange(&pool).await;
        tokio::time::sleep(Duration::from_millis(80)).await;
        exchange(&pool).await;
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn an_unreachable_provider_is_an_error_not_a_hang() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            listener.local_addr().expect("addr").port()
        };
        let err = pool(port).take().await.expect_err("nothing listens");
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    }
}
