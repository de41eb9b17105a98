//! The upstream request as data: what the proxy sends, built by an adapter without any I/O.

use alloc::{string::String, vec::Vec};
use core::time::Duration;

/// The HTTP method of an upstream call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamMethod {
    /// `GET` (status polls).
    Get,
    /// `POST` (submits).
    Post,
}

/// One part of a multipart upstream body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The part's field name, as the provider spells it.
    pub name: String,
    /// Text, or a file the proxy holds.
    pub value: PartValue,
}

/// The value of a multipart part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartValue {
    /// A text part.
    Text(String),
    /// The file the browser sent under this form field name (the proxy streams it from disk).
    File(String),
}

/// The body of an upstream call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamBody {
    /// No body (GET).
    Empty,
    /// A JSON document.
    Json(Vec<u8>),
    /// A multipart form.
    Multipart(Vec<Part>),
}

/// One call to the provider: method, path under its base URL and body. The key is added by the
/// proxy as the provider's [`crate::provider::AuthScheme`] says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamRequest {
    /// The method.
    pub method: UpstreamMethod,
    /// Path relative to the provider's base URL, without a leading slash (`api/v1/task`).
    pub path: String,
    /// The body.
    pub body: UpstreamBody,
    /// How long the call may take, when the provider answers slowly by design (AceData's
    /// synchronous face swap); `None` keeps the proxy's upstream timeout. The proxy holds it to
    /// the adapter's [`crate::provider::Adapter::longest_upstream_wait`].
    pub timeout: Option<Duration>,
}

impl UpstreamRequest {
    /// A POST of a JSON body.
    pub fn post_json(path: impl Into<String>, json: Vec<u8>) -> Self {
        Self {
            method: UpstreamMethod::Post,
            path: path.into(),
            body: UpstreamBody::Json(json),
            timeout: None,
        }
    }

    /// A POST of a multipart form.
    pub fn post_form(path: impl Into<String>, parts: Vec<Part>) -> Self {
        Self {
            method: UpstreamMethod::Post,
            path: path.into(),
            body: UpstreamBody::Multipart(parts),
            timeout: None,
        }
    }

    /// A GET without a body.
    pub fn get(path: impl Into<String>) -> Self {
        Self {
            method: UpstreamMethod::Get,
            path: path.into(),
            body: UpstreamBody::Empty,
            timeout: None,
        }
    }

    /// The same call, allowed to take `timeout` ([`UpstreamRequest::timeout`]).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}
