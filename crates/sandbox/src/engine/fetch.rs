//! Fetching inputs (and reaching webhooks) only at allowed origins: loopback addresses plus the
//! configured list. http or https, no redirects, bounded size and time. A file sent with the
//! request stands in for a URL by faceswap-core's one rule
//! ([`faceswap_core::provider::form::file_stand_in`]).

use bytes::{Bytes, BytesMut};
use faceswap_core::provider::form::stand_in_field;
use faceswap_core::FieldError;
use reqwest::Url;
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

/// Why an input could not be had; names the request field at fault.
#[derive(Debug, thiserror::Error)]
#[error("{field} {fault}")]
pub struct FetchError {
    /// The request field whose URL it was.
    pub field: String,
    /// What went wrong.
    pub fault: FetchFault,
}

/// What went wrong with one input's URL.
#[derive(Debug, thiserror::Error)]
pub enum FetchFault {
    /// Not a URL at all.
    #[error("is not a valid URL")]
    InvalidUrl,
    /// Not http or https.
    #[error("must be an http:// or https:// URL")]
    Scheme,
    /// Outside the origin policy.
    #[error("points to {origin}, which the sandbox may not fetch from; allowed are loopback and {allowed}")]
    Origin {
        /// The URL's origin.
        origin: String,
        /// The allowed origins besides loopback, for the message.
        allowed: String,
    },
    /// A stand-in URL for a file that the request did not carry.
    #[error("names a file part that was not sent")]
    MissingFile,
    /// No answer in time.
    #[error("could not be fetched: the server did not answer in time")]
    Timeout,
    /// No connection.
    #[error("could not be fetched: the server could not be reached")]
    Unreachable,
    /// A redirect, which is never followed.
    #[error("could not be fetched: it answered a redirect ({0}), and redirects are not followed")]
    Redirect(reqwest::StatusCode),
    /// Any other non-2xx answer.
    #[error("could not be fetched: it answered {0}")]
    Status(reqwest::StatusCode),
    /// Over the size limit.
    #[error("could not be fetched: it is larger than {0} bytes")]
    TooLarge(u64),
    /// The body stopped coming in time.
    #[error("could not be fetched: it took too long")]
    Slow,
    /// The body broke off.
    #[error("could not be fetched: the connection broke")]
    Broken,
}

impl From<FetchError> for FieldError {
    fn from(err: FetchError) -> Self {
        let message = err.to_string();
        FieldError::new(err.field, message)
    }
}

/// An input named by URL (or by a file's stand-in URL), with the request field it came in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The request field, in the provider's spelling.
    pub field: String,
    /// Where it is.
    pub url: String,
}

impl Source {
    /// The input of `field` at `url`.
    pub fn new(field: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            url: url.into(),
        }
    }
}

/// The files sent with a request (multipart parts), by the field they were sent under.
#[derive(Debug, Clone, Default)]
pub struct Uploads {
    files: HashMap<String, Bytes>,
}

impl Uploads {
    /// Keeps the file sent under `field`.
    pub fn insert(&mut self, field: impl Into<String>, bytes: Bytes) {
        self.files.insert(field.into(), bytes);
    }

    /// The file `url` stands for, when it is a stand-in for a file that was sent.
    pub fn for_url(&self, url: &str) -> Option<&Bytes> {
        stand_in_field(url).and_then(|field| self.files.get(field))
    }
}

/// Which origins the sandbox may talk to.
#[derive(Debug, Clone, Default)]
pub struct OriginPolicy {
    allowed: Vec<String>,
}

impl OriginPolicy {
    /// Loopback plus `origins` (`scheme://host[:port]`; paths are ignored, bad entries skipped).
    pub fn new(origins: &[String]) -> Self {
        let allowed = origins
            .iter()
            .filter_map(|o| Url::parse(o.trim()).ok())
            .map(|u| u.origin().ascii_serialization())
            .filter(|o| o != "null")
            .collect();
        Self { allowed }
    }

    /// Parses `url` (the value of `field`) and checks its origin.
    pub fn check(&self, field: &str, url: &str) -> Result<Url, FetchError> {
        let fail = |fault| FetchError {
            field: field.to_owned(),
            fault,
        };
        let parsed = Url::parse(url).map_err(|_| fail(FetchFault::InvalidUrl))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(fail(FetchFault::Scheme));
        }
        let origin = parsed.origin().ascii_serialization();
        if is_loopback(&parsed) || self.allowed.contains(&origin) {
            Ok(parsed)
        } else {
            Err(fail(FetchFault::Origin {
                origin,
                allowed: self.describe(),
            }))
        }
    }

    /// Checks `url` unless it stands for a file in `uploads`.
    pub fn check_input(&self, field: &str, url: &str, uploads: &Uploads) -> Result<(), FetchError> {
        match uploads.for_url(url) {
            Some(_) => Ok(()),
            None => self.check(field, url).map(drop),
        }
    }

    fn describe(&self) -> String {
        if self.allowed.is_empty() {
            "no other origin".to_owned()
        } else {
            self.allowed.join(", ")
        }
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// An HTTP client bound to an [`OriginPolicy`].
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    policy: OriginPolicy,
}

impl Fetcher {
    /// A client that never follows redirects and gives up after `timeout`.
    pub fn new(policy: OriginPolicy, timeout: Duration) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5).min(timeout))
            .timeout(timeout)
            .no_proxy()
            .build()?;
        Ok(Self { client, policy })
    }

    /// The origin policy.
    pub fn policy(&self) -> &OriginPolicy {
        &self.policy
    }

    /// The underlying client (for webhooks).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The bytes of `source`, as [`Fetcher::load`] fetches them.
    pub async fn fetch(
        &self,
        source: &Source,
        max_bytes: u64,
        uploads: &Uploads,
    ) -> Result<Bytes, FetchError> {
        self.load(&source.field, &source.url, max_bytes, uploads)
            .await
    }

    /// The bytes at `url`, the value of `field`: the uploaded file when `url` stands for one,
    /// else a GET at an allowed origin of at most `max_bytes`.
    pub async fn load(
        &self,
        field: &str,
        url: &str,
        max_bytes: u64,
        uploads: &Uploads,
    ) -> Result<Bytes, FetchError> {
        if let Some(bytes) = uploads.for_url(url) {
            return Ok(bytes.clone());
        }
        if stand_in_field(url).is_some() {
            return Err(FetchError {
                field: field.to_owned(),
                fault: FetchFault::MissingFile,
            });
        }
        let parsed = self.policy.check(field, url)?;
        self.get(parsed, max_bytes)
            .await
            .map_err(|fault| FetchError {
                field: field.to_owned(),
                fault,
            })
    }

    async fn get(&self, url: Url, max_bytes: u64) -> Result<Bytes, FetchFault> {
        let mut response = self.client.get(url).send().await.map_err(|err| {
            if err.is_timeout() {
                FetchFault::Timeout
            } else {
                FetchFault::Unreachable
            }
        })?;
        let status = response.status();
        if status.is_redirection() {
            return Err(FetchFault::Redirect(status));
        }
        if !status.is_success() {
            return Err(FetchFault::Status(status));
        }
        if response.content_length().is_some_and(|len| len > max_bytes) {
            return Err(FetchFault::TooLarge(max_bytes));
        }
        let mut body = BytesMut::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if (body.len() + chunk.len()) as u64 > max_bytes {
                        return Err(FetchFault::TooLarge(max_bytes));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(err) if err.is_timeout() => return Err(FetchFault::Slow),
                Err(_) => return Err(FetchFault::Broken),
            }
        }
        Ok(body.freeze())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faceswap_core::provider::form::file_stand_in;

    #[test]
    fn loopback_and_listed_origins_only() {
        let policy = OriginPolicy::new(&["http://proxy.test:8080/".to_owned(), "::bad".to_owned()]);
        for ok in [
            "http://127.0.0.1:9/a.png",
            "http://127.8.9.1/a.png",
            "http://localhost:3000/x",
            "http://[::1]:80/x",
            "http://proxy.test:8080/uploads/a.png",
            "https://127.0.0.1/a.png",
        ] {
            assert!(policy.check("img", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://proxy.test:8081/a.png",
            "http://10.0.0.1/a.png",
            "http://example.com/a.png",
            "https://proxy.test:8080/a.png",
            "ftp://127.0.0.1/a.png",
        ] {
            let err = FieldError::from(policy.check("img", bad).unwrap_err());
            assert_eq!(err.field, "img");
            assert!(err.message.starts_with("img "), "{}", err.message);
        }
    }

    #[test]
    fn stand_ins_are_files_sent_and_nothing_else() {
        let mut uploads = Uploads::default();
        uploads.insert("img", Bytes::from_static(b"png"));
        let policy = OriginPolicy::default();
        assert!(policy
            .check_input("img", &file_stand_in("img"), &uploads)
            .is_ok());
        assert_eq!(
            uploads.for_url(&file_stand_in("img")).map(|b| &b[..]),
            Some(&b"png"[..])
        );
        // A stand-in for a file that was not sent is not an allowed origin.
        assert!(policy
            .check_input("face", &file_stand_in("face"), &uploads)
            .is_err());
    }
}
