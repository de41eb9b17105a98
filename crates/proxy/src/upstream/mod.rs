//! The one way out to the provider: a fixed operation path under a base URL, the key as
//! `Authorization: Bearer`, no browser header, no redirects, a timeout, and no retry.
//! Base URL and key are plain inputs, so the real provider, the built-in sandbox and a test's fake
//! provider go through the same code.
//!
//! JSON bodies (every operation's usual form, and the hot path) go over HTTP/1.1 connections kept
//! per worker thread ([`pool`]); the multipart file forms of faceswap and extract_face go through
//! reqwest, whose multipart encoder streams the spooled files. Both answers are judged by the same
//! rules ([`answer`]).

mod answer;
pub mod pool;

use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use bytes::Bytes;
use faceswap_core::aifaceswap::Operation;
use faceswap_core::provider::ProviderOperation;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use rustls::pki_types::ServerName;
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use std::time::Duration;
use thread_local::ThreadLocal;

use self::answer::{judge, too_large};
use self::pool::{ConnectionPool, Endpoint};
use crate::AppError;

/// Where the provider is and the key it wants.
#[derive(Clone)]
pub struct UpstreamTarget {
    /// Base URL, for example `https://aifaceswap.io`.
    pub base_url: String,
    /// The key sent as `Authorization: Bearer KEY`; `None` sends no Authorization.
    pub api_key: Option<SecretString>,
}

impl std::fmt::Debug for UpstreamTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamTarget")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// A request body for the provider.
pub enum UpstreamBody {
    /// A JSON body (already validated and re-serialised by faceswap-core).
    Json(Vec<u8>),
    /// A multipart form (the file forms of faceswap and extract_face), streamed from disk.
    Form(reqwest::multipart::Form),
}

/// The provider client.
///
/// Each thread that calls it gets its own connection pools: the proxy serves on several
/// single-threaded runtimes (one per core, like nginx's workers), and a pooled connection is
/// driven by the runtime that opened it, so sharing one pool would turn every call into
/// cross-thread wake-ups.
pub struct Upstream {
    json_pools: ThreadLocal<ConnectionPool>,
    form_clients: ThreadLocal<reqwest::Client>,
    endpoint: Arc<Endpoint>,
    target: UpstreamTarget,
    timeout: Duration,
    /// `Authorization: Bearer KEY`, built once and marked sensitive.
    authorization: Option<HeaderValue>,
    /// `Host: HOST[:PORT]` of the base URL.
    host: HeaderValue,
    /// The full URL of each operation, in [`Operation::ALL`] order (for reqwest).
    urls: Vec<Uri>,
    /// The path of each operation's URL, as sent on a pooled connection.
    paths: Vec<Uri>,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("target", &self.target)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Why an [`Upstream`] cannot be built.
#[derive(Debug)]
pub struct UpstreamConfigError(String);

impl std::fmt::Display for UpstreamConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UpstreamConfigError {}

/// Longest provider answer read, in bytes.
const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;

const USER_AGENT: &str = concat!("faceswap-proxy/", env!("CARGO_PKG_VERSION"));

/// How long an unused pooled connection is kept.
const POOL_IDLE: Duration = Duration::from_secs(60);

/// Most idle provider connections kept per worker thread.
const POOL_MAX_IDLE: usize = 256;

/// The connection endpoint and `Host` header of `base` (an `http` or `https` URL).
fn endpoint_of(
    base: &Uri,
    tls: &Arc<rustls::ClientConfig>,
    connect_timeout: Duration,
) -> Result<(Endpoint, HeaderValue), UpstreamConfigError> {
    let bad = || UpstreamConfigError(format!("AIFACESWAP_BASE_URL {base} is not an http(s) URL"));
    let authority = base.authority().ok_or_else(bad)?;
    let secure = match base.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err(bad()),
    };
    let host = authority.host();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
        .to_owned();
    let port = authority
        .port_u16()
        .unwrap_or(if secure { 443 } else { 80 });
    let tls = if secure {
        let name = ServerName::try_from(host.clone()).map_err(|_| bad())?;
        let mut config = rustls::ClientConfig::clone(tls);
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Some((tokio_rustls::TlsConnector::from(Arc::new(config)), name))
    } else {
        None
    };
    let host_header = HeaderValue::from_str(authority.as_str()).map_err(|_| bad())?;
    let endpoint = Endpoint {
        host,
        port,
        tls,
        connect_timeout,
    };
    Ok((endpoint, host_header))
}

impl Upstream {
    /// A client for `target` whose calls give up after `timeout`.
    pub fn new(target: UpstreamTarget, timeout: Duration) -> Result<Self, UpstreamConfigError> {
        let base = target.base_url.trim_end_matches('/');
        let not_http = || {
            UpstreamConfigError(format!(
                "AIFACESWAP_BASE_URL {base:?} is not an http(s) URL"
            ))
        };
        let base_uri = base.parse::<Uri>().map_err(|_| not_http())?;
        let mut urls = Vec::with_capacity(Operation::ALL.len());
        let mut paths = Vec::with_capacity(Operation::ALL.len());
        for op in Operation::ALL {
            let url = format!("{base}/{}", op.upstream_path())
                .parse::<Uri>()
                .ok()
                .filter(|uri| uri.host().is_some())
                .ok_or_else(not_http)?;
            let path = url
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/")
                .parse::<Uri>()
                .map_err(|_| not_http())?;
            urls.push(url);
            paths.push(path);
        }
        let authorization = match &target.api_key {
            Some(key) => {
                let mut value = HeaderValue::try_from(format!("Bearer {}", key.expose_secret()))
                    .map_err(|_| {
                        UpstreamConfigError("the API key is not a valid header value".into())
                    })?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| UpstreamConfigError(format!("TLS: {e}")))?
        .with_root_certificates(rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        })
        .with_no_client_auth();
        let connect_timeout = timeout.min(Duration::from_secs(10));
        let (endpoint, host) = endpoint_of(&base_uri, &Arc::new(tls), connect_timeout)?;
        let upstream = Self {
            json_pools: ThreadLocal::new(),
            form_clients: ThreadLocal::new(),
            endpoint: Arc::new(endpoint),
            target,
            timeout,
            authorization,
            host,
            urls,
            paths,
        };
        // Build the form client now, so one that cannot be built fails at startup.
        upstream
            .build_form_client()
            .map_err(|e| UpstreamConfigError(format!("cannot build the HTTP client: {e}")))?;
        Ok(upstream)
    }

    fn build_form_client(&self) -> Result<reqwest::Client, reqwest::Error> {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // A submit spends credits: never sent twice, not even after a protocol-level refusal.
            .retry(reqwest::retry::never())
            .connect_timeout(self.endpoint.connect_timeout)
            .timeout(self.timeout)
            .pool_idle_timeout(POOL_IDLE)
            .tcp_nodelay(true)
            .user_agent(USER_AGENT)
            .build()
    }

    /// The base URL calls go to.
    pub fn base_url(&self) -> &str {
        &self.target.base_url
    }

    fn index(op: Operation) -> Result<usize, AppError> {
        Operation::ALL
            .iter()
            .position(|known| *known == op)
            .ok_or_else(|| AppError::Internal(format!("no URL for {}", op.name())))
    }

    /// Calls `op` once. On success returns the provider's JSON body unchanged; every fault is
    /// mapped to an [`AppError`] (429 with its `Retry-After`, 5xx, timeouts, redirects).
    pub async fn call(&self, op: Operation, body: UpstreamBody) -> Result<Bytes, AppError> {
        let index = Self::index(op)?;
        let (status, headers, body) = match body {
            UpstreamBody::Json(json) => self.send_json(index, json).await?,
            UpstreamBody::Form(form) => Box::pin(self.send_form(index, form)).await?,
        };
        judge(status, &headers, body, self.target.api_key.as_ref())
    }

    /// This thread's idle connections to the provider.
    fn pool(&self) -> &ConnectionPool {
        self.json_pools
            .get_or(|| ConnectionPool::new(Arc::clone(&self.endpoint), POOL_MAX_IDLE, POOL_IDLE))
    }

    async fn send_json(
        &self,
        index: usize,
        json: Vec<u8>,
    ) -> Result<(StatusCode, HeaderMap, Bytes), AppError> {
        let path = self
            .paths
            .get(index)
            .ok_or_else(|| AppError::Internal("no operation path".into()))?;
        let mut request = hyper::Request::new(Full::new(Bytes::from(json)));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = path.clone();
        let headers = request.headers_mut();
        headers.insert(header::HOST, self.host.clone());
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
        if let Some(authorization) = &self.authorization {
            headers.insert(header::AUTHORIZATION, authorization.clone());
        }
        let pool = self.pool();
        let exchange = async {
            let mut connection = pool.take().await.map_err(|err| {
                tracing::warn!(error = %err, "provider unreachable");
                AppError::UpstreamUnavailable
            })?;
            let response = connection
                .sender
                .send_request(request)
                .await
                .map_err(|err| {
                    tracing::warn!(error = %err, "provider connection failed");
                    AppError::UpstreamUnavailable
                })?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(|err| {
                    if err.downcast_ref::<LengthLimitError>().is_some() {
                        too_large()
                    } else {
                        AppError::UpstreamUnavailable
                    }
                })?
                .to_bytes();
            // Read whole: the connection can carry the next request.
            pool.put_back(connection);
            Ok((parts.status, parts.headers, body))
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| AppError::UpstreamTimeout)?
    }

    async fn send_form(
        &self,
        index: usize,
        form: reqwest::multipart::Form,
    ) -> Result<(StatusCode, HeaderMap, Bytes), AppError> {
        let url = self
            .urls
            .get(index)
            .ok_or_else(|| AppError::Internal("no operation URL".into()))?;
        let client = self
            .form_clients
            .get_or_try(|| self.build_form_client())
            .map_err(|e| AppError::Internal(format!("cannot build the HTTP client: {e}")))?;
        let mut request = client
            .post(url.to_string())
            .header(header::ACCEPT, "application/json")
            .multipart(form);
        if let Some(authorization) = &self.authorization {
            request = request.header(header::AUTHORIZATION, authorization.clone());
        }
        let mut response = request.send().await.map_err(map_send_error)?;
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(map_send_error)? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, headers, Bytes::from(body)))
    }
}

fn map_send_error(err: reqwest::Error) -> AppError {
    if err.is_timeout() {
        AppError::UpstreamTimeout
    } else {
        tracing::warn!(connect = err.is_connect(), "provider unreachable");
        AppError::UpstreamUnavailable
    }
}
