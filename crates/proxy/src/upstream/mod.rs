//! The one way out to the providers: one reqwest client for every upstream call. The path and
//! body come from the provider's adapter ([`UpstreamRequest`]), the key travels as the adapter's
//! [`AuthScheme`] says, no browser header is forwarded, redirects are never followed, nothing is
//! retried (a submit spends credits), and every call has a timeout. Base URL and key are plain
//! inputs, so a real provider, the built-in sandbox and a test's fake provider go through the
//! same code.

mod answer;
mod budget;

pub use answer::{fault_error, judge};
pub use budget::{now_secs, ProviderBudgets};

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use bytes::Bytes;
use faceswap_core::provider::{
    AuthScheme, PartValue, ProviderInfo, UpstreamBody, UpstreamMethod, UpstreamRequest,
};
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;

use crate::routes::form::SpooledFiles;
use crate::AppError;

/// Longest provider answer read, in bytes.
const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;

const USER_AGENT: &str = concat!("faceswap-proxy/", env!("CARGO_PKG_VERSION"));

/// Why a provider's target or the client cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamConfigError {
    /// The base URL is not an http(s) URL.
    #[error("{variable} {url:?} is not an http(s) URL")]
    BaseUrl {
        /// The variable that set it (`AIFACESWAP_BASE_URL`).
        variable: String,
        /// The URL.
        url: String,
    },
    /// The key cannot travel in a header.
    #[error("{variable} is not a valid header value")]
    Key {
        /// The variable that set it (`AIFACESWAP_API_KEY`).
        variable: String,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Where one provider is and how its key travels.
#[derive(Clone)]
pub struct ProviderTarget {
    /// Base URL without a trailing slash, for example `https://aifaceswap.io`.
    pub base_url: String,
    /// The key's header, built once and marked sensitive; `None` sends no key.
    auth: Option<(HeaderName, HeaderValue)>,
    /// The key itself, to remove it from any provider message shown to a browser.
    key: Option<SecretString>,
}

impl std::fmt::Debug for ProviderTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderTarget")
            .field("base_url", &self.base_url)
            .field("key", &self.key.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl ProviderTarget {
    /// The target at `base_url` with `key`, sent the way `info` says.
    pub fn new(
        info: &ProviderInfo,
        base_url: &str,
        key: Option<SecretString>,
    ) -> Result<Self, UpstreamConfigError> {
        let variable = |what: &str| format!("{}_{what}", info.id.to_ascii_uppercase());
        let base_url = base_url.trim_end_matches('/').to_owned();
        let parsed = reqwest::Url::parse(&base_url).ok();
        if !parsed.is_some_and(|url| matches!(url.scheme(), "http" | "https") && url.has_host()) {
            return Err(UpstreamConfigError::BaseUrl {
                variable: variable("BASE_URL"),
                url: base_url,
            });
        }
        let auth = match &key {
            None => None,
            Some(key) => {
                let bad_key = || UpstreamConfigError::Key {
                    variable: variable("API_KEY"),
                };
                let (name, value) = match info.auth {
                    AuthScheme::Bearer => (
                        axum::http::header::AUTHORIZATION,
                        format!("Bearer {}", key.expose_secret()),
                    ),
                    AuthScheme::Header(name) => (
                        HeaderName::from_static(name),
                        key.expose_secret().to_owned(),
                    ),
                };
                let mut value = HeaderValue::try_from(value).map_err(|_| bad_key())?;
                value.set_sensitive(true);
                Some((name, value))
            }
        };
        Ok(Self {
            base_url,
            auth,
            key,
        })
    }

    /// `text` with the key replaced by `[redacted]`.
    pub fn redact(&self, text: &str) -> String {
        match &self.key {
            Some(key) if !key.expose_secret().is_empty() => {
                text.replace(key.expose_secret(), "[redacted]")
            }
            _ => text.to_owned(),
        }
    }
}

/// A provider's answer, read whole.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: StatusCode,
    /// The headers (`Retry-After`, rate-limit headers).
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

/// A call that got no answer: why, and whether its request may have reached the provider
/// (anything but a connection that was never made).
#[derive(Debug)]
pub struct Unanswered {
    /// The error the browser gets.
    pub error: AppError,
    /// False only when nothing was written to the provider.
    pub sent: bool,
}

/// The HTTP client of every upstream call.
#[derive(Debug, Clone)]
pub struct Upstream {
    client: reqwest::Client,
}

impl Upstream {
    /// A client whose calls give up after `timeout`.
    pub fn new(timeout: Duration) -> Result<Self, UpstreamConfigError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // A submit spends credits: never sent twice, not even after a protocol-level refusal.
            .retry(reqwest::retry::never())
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .timeout(timeout)
            .user_agent(USER_AGENT)
            .build()?;
        Ok(Self { client })
    }

    /// Sends `request` to `target` once, streaming the form's files from disk; the call gives up
    /// after the request's own timeout where it has one (the caller holds it to the adapter's
    /// longest wait), else after the client's.
    pub async fn send(
        &self,
        target: &ProviderTarget,
        request: UpstreamRequest,
        files: &mut SpooledFiles,
    ) -> Result<Answer, AppError> {
        self.call(target, request, files)
            .await
            .map_err(|unanswered| unanswered.error)
    }

    /// [`Upstream::send`], saying of a call without an answer whether its request may have
    /// reached the provider.
    pub async fn call(
        &self,
        target: &ProviderTarget,
        request: UpstreamRequest,
        files: &mut SpooledFiles,
    ) -> Result<Answer, Unanswered> {
        let not_sent = |error| Unanswered { error, sent: false };
        let url = format!("{}/{}", target.base_url, request.path);
        let method = match request.method {
            UpstreamMethod::Get => reqwest::Method::GET,
            UpstreamMethod::Post => reqwest::Method::POST,
        };
        let mut builder = self
            .client
            .request(method, url)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(timeout) = request.timeout {
            builder = builder.timeout(timeout);
        }
        if let Some((name, value)) = &target.auth {
            builder = builder.header(name, value.clone());
        }
        builder = match request.body {
            UpstreamBody::Empty => builder,
            UpstreamBody::Json(json) => builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(json),
            UpstreamBody::Multipart(parts) => {
                let mut form = reqwest::multipart::Form::new();
                for part in parts {
                    form = match part.value {
                        PartValue::Text(text) => form.text(part.name, text),
                        PartValue::File(field) => {
                            let file = files.part(&field).map_err(not_sent)?;
                            form.part(part.name, file)
                        }
                    };
                }
                builder.multipart(form)
            }
        };
        let mut response = builder.send().await.map_err(|err| Unanswered {
            // A connection never made carried nothing.
            sent: !err.is_connect(),
            error: send_error(err),
        })?;
        let sent = |error| Unanswered { error, sent: true };
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| sent(send_error(e)))? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(sent(AppError::UpstreamError(
                    "the provider's answer is too large".into(),
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer {
            status,
            headers,
            body: Bytes::from(body),
        })
    }
}

fn send_error(err: reqwest::Error) -> AppError {
    if err.is_timeout() {
        AppError::UpstreamTimeout
    } else {
        tracing::warn!(connect = err.is_connect(), "provider unreachable");
        AppError::UpstreamUnavailable
    }
}
