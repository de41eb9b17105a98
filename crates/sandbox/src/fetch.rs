//! Fetching inputs (and reaching webhooks) only at allowed origins: loopback addresses plus the
//! configured list. http or https, no redirects, bounded size and time.

use bytes::{Bytes, BytesMut};
use faceswap_core::FieldError;
use reqwest::Url;
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

/// Prefix of the stand-in URLs that name a file part of a multipart request.
pub const UPLOAD_PREFIX: &str = "http://multipart.sandbox.invalid/";

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
    pub fn check(&self, field: &str, url: &str) -> Result<Url, FieldError> {
        let parsed = Url::parse(url)
            .map_err(|_| FieldError::new(field, format!("{field} is not a valid URL")))?;
        let origin = parsed.origin().ascii_serialization();
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(FieldError::new(
                field,
                format!("{field} must be an http:// or https:// URL"),
            ));
        }
        if is_loopback(&parsed) || self.allowed.contains(&origin) {
            Ok(parsed)
        } else {
            Err(FieldError::new(
                field,
                format!("{field} points to {origin}, which the sandbox may not fetch from; allowed are loopback and {}", self.describe()),
            ))
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

    /// The bytes at `url`, the value of `field`: an uploaded file part when `url` names one,
    /// else a GET at an allowed origin of at most `max_bytes`.
    pub async fn load(
        &self,
        field: &str,
        url: &str,
        max_bytes: u64,
        uploads: &HashMap<String, Bytes>,
    ) -> Result<Bytes, FieldError> {
        if let Some(bytes) = uploads.get(url) {
            return Ok(bytes.clone());
        }
        let parsed = self.policy.check(field, url)?;
        let fail =
            |why: String| FieldError::new(field, format!("{field} could not be fetched: {why}"));
        let mut response = self.client.get(parsed).send().await.map_err(|err| {
            fail(if err.is_timeout() {
                "the server did not answer in time".to_owned()
            } else {
                "the server could not be reached".to_owned()
            })
        })?;
        let status = response.status();
        if status.is_redirection() {
            return Err(fail(format!(
                "it answered a redirect ({status}), and redirects are not followed"
            )));
        }
        if !status.is_success() {
            return Err(fail(format!("it answered {status}")));
        }
        let too_big = || fail(format!("it is larger than {max_bytes} bytes"));
        if response.content_length().is_some_and(|len| len > max_bytes) {
            return Err(too_big());
        }
        let mut body = BytesMut::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if (body.len() + chunk.len()) as u64 > max_bytes {
                        return Err(too_big());
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(err) if err.is_timeout() => return Err(fail("it took too long".to_owned())),
                Err(_) => return Err(fail("the connection broke".to_owned())),
            }
        }
        Ok(body.freeze())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            let err = policy.check("img", bad).unwrap_err();
            assert_eq!(err.field, "img");
            assert!(err.message.starts_with("img "), "{}", err.message);
        }
    }
}
