//! The one way out to the provider: a fixed operation path under a base URL, the key as
//! `Authorization: Bearer`, no browser header, no redirects, a timeout, and no retry.
//! Base URL and key are plain inputs, so the real provider, the built-in sandbox and a test's fake
//! provider go through the same code.
//!
//! JSON bodies (every operation's usual form, and the hot path) go through a plain hyper client;
//! the multipart file forms of faceswap and extract_face go through reqwest, whose multipart
//! encoder streams the spooled files. Both answers are judged by the same rules.

use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use bytes::Bytes;
use faceswap_core::aifaceswap::Operation;
use faceswap_core::provider::ProviderOperation;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use std::time::Duration;
use thread_local::ThreadLocal;

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

/// The HTTP/1.1 and HTTP/2 client of JSON calls, TLS by rustls.
type JsonClient = hyper_util::client::legacy::Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The provider client.
///
/// Each thread that calls it gets its own connection pools: the proxy serves on several
/// single-threaded runtimes (one per core, like nginx's workers), and a pooled connection is
/// driven by the runtime that opened it, so sharing one pool would turn every call into
/// cross-thread wake-ups.
pub struct Upstream {
    json_clients: ThreadLocal<JsonClient>,
    form_clients: ThreadLocal<reqwest::Client>,
    tls: Arc<rustls::ClientConfig>,
    target: UpstreamTarget,
    timeout: Duration,
    /// `Authorization: Bearer KEY`, built once and marked sensitive.
    authorization: Option<HeaderValue>,
    /// The full URL of each operation, in [`Operation::ALL`] order.
    urls: Vec<Uri>,
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

impl Upstream {
    /// A client for `target` whose calls give up after `timeout`.
    pub fn new(target: UpstreamTarget, timeout: Duration) -> Result<Self, UpstreamConfigError> {
        let base = target.base_url.trim_end_matches('/');
        let urls = Operation::ALL
            .iter()
            .map(|op| {
                format!("{base}/{}", op.upstream_path())
                    .parse::<Uri>()
                    .ok()
                    .filter(|uri| uri.host().is_some())
                    .ok_or_else(|| {
                        UpstreamConfigError(format!(
                            "AIFACESWAP_BASE_URL {base:?} is not an http(s) URL"
                        ))
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
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
        let upstream = Self {
            json_clients: ThreadLocal::new(),
            form_clients: ThreadLocal::new(),
            tls: Arc::new(tls),
            target,
            timeout,
            authorization,
            urls,
        };
        // Build the form client now, so one that cannot be built fails at startup.
        upstream
            .build_form_client()
            .map_err(|e| UpstreamConfigError(format!("cannot build the HTTP client: {e}")))?;
        Ok(upstream)
    }

    fn connect_timeout(&self) -> Duration {
        self.timeout.min(Duration::from_secs(10))
    }

    fn build_json_client(&self) -> JsonClient {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(self.connect_timeout()));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(rustls::ClientConfig::clone(&self.tls))
            .https_or_http()
            .enable_all_versions()
            .wrap_connector(http);
        hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .pool_idle_timeout(POOL_IDLE)
            .pool_max_idle_per_host(256)
            // A submit spends credits: never sent twice, not even when a pooled connection
            // turns out to be closed.
            .retry_canceled_requests(false)
            .build(https)
    }

    fn build_form_client(&self) -> Result<reqwest::Client, reqwest::Error> {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // A submit spends credits: never sent twice, not even after a protocol-level refusal.
            .retry(reqwest::retry::never())
            .connect_timeout(self.connect_timeout())
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

    fn url(&self, op: Operation) -> Result<&Uri, AppError> {
        Operation::ALL
            .iter()
            .position(|known| *known == op)
            .and_then(|i| self.urls.get(i))
            .ok_or_else(|| AppError::Internal(format!("no URL for {}", op.name())))
    }

    /// Calls `op` once. On success returns the provider's JSON body unchanged; every fault is
    /// mapped to an [`AppError`] (429 with its `Retry-After`, 5xx, timeouts, redirects).
    pub async fn call(&self, op: Operation, body: UpstreamBody) -> Result<Bytes, AppError> {
        let url = self.url(op)?;
        let (status, headers, body) = match body {
            UpstreamBody::Json(json) => self.send_json(url, json).await?,
            UpstreamBody::Form(form) => self.send_form(url, form).await?,
        };
        self.judge(status, &headers, body)
    }

    async fn send_json(
        &self,
        url: &Uri,
        json: Vec<u8>,
    ) -> Result<(StatusCode, HeaderMap, Bytes), AppError> {
        let mut request = hyper::Request::new(Full::new(Bytes::from(json)));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = url.clone();
        let headers = request.headers_mut();
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
        if let Some(authorization) = &self.authorization {
            headers.insert(header::AUTHORIZATION, authorization.clone());
        }
        let client = self.json_clients.get_or(|| self.build_json_client());
        let exchange = async {
            let response = client.request(request).await.map_err(|err| {
                tracing::warn!(connect = err.is_connect(), "provider unreachable");
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
            Ok((parts.status, parts.headers, body))
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| AppError::UpstreamTimeout)?
    }

    async fn send_form(
        &self,
        url: &Uri,
        form: reqwest::multipart::Form,
    ) -> Result<(StatusCode, HeaderMap, Bytes), AppError> {
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

    /// The provider's answer as the browser's result or an [`AppError`].
    fn judge(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<Bytes, AppError> {
        let retry_after = headers
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if status.is_redirection() {
            return Err(AppError::UpstreamError(format!(
                "the provider answered with a redirect ({}), which is never followed",
                status.as_u16()
            )));
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(rate_limited(retry_after));
        }
        if status.is_server_error() {
            return Err(match status {
                StatusCode::BAD_GATEWAY
                | StatusCode::SERVICE_UNAVAILABLE
                | StatusCode::GATEWAY_TIMEOUT => AppError::UpstreamUnavailable,
                _ => AppError::UpstreamError(format!(
                    "the provider failed (HTTP {}){}",
                    status.as_u16(),
                    self.provider_message(&body)
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default()
                )),
            });
        }
        if !status.is_success() {
            return Err(client_error(status.as_u16(), self.provider_message(&body)));
        }
        let envelope: EnvelopeCode = serde_json::from_slice(&body).map_err(|_| {
            AppError::UpstreamError("the provider answered with something other than JSON".into())
        })?;
        match envelope.code {
            Some(200) | None => Ok(body),
            Some(429) => Err(rate_limited(retry_after)),
            Some(code) => Err(client_error(
                u16::try_from(code).unwrap_or(0),
                self.provider_message(&body),
            )),
        }
    }

    /// The provider's `message`, shortened and with the key removed, for an error body.
    fn provider_message(&self, body: &[u8]) -> Option<String> {
        let value: serde_json::Value = serde_json::from_slice(body).ok()?;
        let message = value.get("message")?.as_str()?;
        let mut message: String = message.chars().take(200).collect();
        if let Some(key) = &self.target.api_key {
            let key = key.expose_secret();
            if !key.is_empty() {
                message = message.replace(key, "[redacted]");
            }
        }
        Some(message).filter(|m| !m.trim().is_empty())
    }
}

fn too_large() -> AppError {
    AppError::UpstreamError("the provider's answer is too large".into())
}

/// Only the envelope's `code`, read without building the whole JSON tree.
#[derive(serde::Deserialize)]
struct EnvelopeCode {
    #[serde(default)]
    code: Option<i64>,
}

fn rate_limited(retry_after: Option<u64>) -> AppError {
    AppError::RateLimited {
        retry_after_secs: retry_after.unwrap_or(60),
        message: "the provider is rate limiting requests; try again later".into(),
    }
}

fn client_error(code: u16, message: Option<String>) -> AppError {
    let what = match code {
        401 | 403 => "the provider refused the proxy's credentials".to_owned(),
        _ => format!("the provider rejected the request (code {code})"),
    };
    AppError::UpstreamError(match message {
        Some(m) => format!("{what}: {m}"),
        None => what,
    })
}

fn map_send_error(err: reqwest::Error) -> AppError {
    if err.is_timeout() {
        AppError::UpstreamTimeout
    } else {
        tracing::warn!(connect = err.is_connect(), "provider unreachable");
        AppError::UpstreamUnavailable
    }
}
