//! Which `Host` a request may be addressed to: the one rule against DNS rebinding, as Vite's
//! `server.allowedHosts` has it. A page on a name its author points at the proxy's address
//! (`rebind.example` -> 127.0.0.1) sends `Host: rebind.example:8080` and an `Origin` of that same
//! name, so the origin rule alone would call it the proxy's own page; refusing every `Host` the
//! operator did not name stops it before anything is read.
//!
//! Allowed: the host of `PUBLIC_URL`, every IP literal (`127.0.0.1`, `[::1]`: no name to rebind),
//! `localhost` and names under `.localhost` (which resolve to loopback only, RFC 6761), and each
//! entry of `ALLOWED_HOSTS` (`app.example`, or `.example.com` for it and its subdomains). Ports do
//! not matter; names are compared without case and without a trailing dot. A request without
//! `Host` (HTTP/1.0, not a browser) passes.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::IpAddr;
use std::sync::Arc;

use crate::AppError;

/// The host names requests are answered for, besides IP literals and `localhost`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHosts {
    /// Exact names (`PUBLIC_URL`'s host among them), lowercased.
    exact: Arc<[String]>,
    /// Suffixes of `.example.com` entries (`.example.com` itself), lowercased.
    suffixes: Arc<[String]>,
}

/// The host part of a `Host` header or URL authority: without port, brackets or a trailing dot.
pub(crate) fn host_part(authority: &str) -> &str {
    let host = match authority.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => authority
            .rsplit_once(':')
            .map_or(authority, |(host, _port)| host),
    };
    host.strip_suffix('.').unwrap_or(host)
}

impl AllowedHosts {
    /// The host of `public_url` and the entries of `allowed_hosts` (`ALLOWED_HOSTS`).
    pub fn new<I>(public_url: &str, allowed_hosts: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let public = public_url
            .split_once("://")
            .map_or(public_url, |(_, rest)| rest)
            .split(['/', '?', '#'])
            .next()
            .unwrap_or_default();
        let public = public.rsplit_once('@').map_or(public, |(_, host)| host);
        let entries = allowed_hosts
            .into_iter()
            .map(|entry| entry.as_ref().trim().to_ascii_lowercase())
            .filter(|entry| !entry.is_empty());
        let (suffixes, mut exact): (Vec<String>, Vec<String>) =
            entries.partition(|entry| entry.starts_with('.'));
        exact.push(host_part(public).to_ascii_lowercase());
        Self {
            exact: exact.into(),
            suffixes: suffixes.into(),
        }
    }

    /// Whether a request with this `Host` value is answered.
    pub fn allows(&self, host_header: &str) -> bool {
        let host = host_part(host_header.trim()).to_ascii_lowercase();
        if host.is_empty() {
            return false;
        }
        host.parse::<IpAddr>().is_ok()
            || host == "localhost"
            || host.ends_with(".localhost")
            || self.exact.contains(&host)
            || self.suffixes.iter().any(|suffix| {
                host.ends_with(suffix.as_str()) || host == suffix.trim_start_matches('.')
            })
    }

    /// `Ok` for a request whose `Host` is allowed (or absent); 403 `forbidden` naming `Host`.
    pub fn check(&self, request: &Request) -> Result<(), AppError> {
        let Some(value) = request.headers().get(header::HOST) else {
            return Ok(());
        };
        let text = value.to_str().unwrap_or_default();
        if self.allows(text) {
            return Ok(());
        }
        Err(AppError::Forbidden {
            message: format!(
                "this proxy does not answer for the host {:?}; set PUBLIC_URL to the address \
                 clients use, or add the host to ALLOWED_HOSTS",
                host_part(text).chars().take(100).collect::<String>()
            ),
            field: Some("Host".to_owned()),
        })
    }
}

/// Middleware of every route: a request addressed to a host that is not allowed is refused
/// before anything else happens.
pub async fn allowed_host(
    State(hosts): State<AllowedHosts>,
    request: Request,
    next: Next,
) -> Response {
    match hosts.check(&request) {
        Ok(()) => next.run(request).await,
        Err(err) => {
            tracing::info!(error = %err.code(), "request for another host refused");
            err.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_url_ip_literals_localhost_and_listed_names_are_allowed() {
        let hosts = AllowedHosts::new(
            "https://FaceSwap.example:8443/base",
            ["app.example", " .tenant.example"],
        );
        for ok in [
            "faceswap.example",
            "faceswap.example:8443",
            "FACESWAP.EXAMPLE.",
            "faceswap.example:1",
            "127.0.0.1:8080",
            "10.1.2.3",
            "[::1]:8080",
            "[2001:db8::1]",
            "localhost:5173",
            "app.localhost",
            "app.example",
            "tenant.example",
            "a.b.tenant.example:443",
        ] {
            assert!(hosts.allows(ok), "{ok}");
        }
        for refused in [
            "rebind.example:8080",
            "rebind.example",
            "faceswap.example.evil.example",
            "evilapp.example",
            "xtenant.example",
            "localhost.evil.example",
            "",
            ":8080",
        ] {
            assert!(!hosts.allows(refused), "{refused}");
        }
    }

    #[test]
    fn a_refusal_names_the_host_header() {
        let hosts = AllowedHosts::new("http://127.0.0.1:8080", [""; 0]);
        let request = Request::builder()
            .header(header::HOST, "rebind.example:8080")
            .body(axum::body::Body::empty())
            .expect("request");
        let err = hosts.check(&request).expect_err("refused");
        assert_eq!(err.code().as_str(), "forbidden");
        assert_eq!(
            err.message(),
            "this proxy does not answer for the host \"rebind.example\"; set PUBLIC_URL to the \
             address clients use, or add the host to ALLOWED_HOSTS"
        );
        assert!(
            matches!(&err, AppError::Forbidden { field: Some(f), .. } if f == "Host"),
            "{err:?}"
        );
        let without = Request::builder()
            .body(axum::body::Body::empty())
            .expect("request");
        assert!(hosts.check(&without).is_ok());
    }
}
