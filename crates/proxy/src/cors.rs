//! Browsers and origins on `/api`: CORS for the origins of `ALLOWED_ORIGINS` (tower-http's
//! `CorsLayer`), and the origin rule of every request that spends (credits or disk): one whose
//! `Origin` is neither the proxy's own nor allowed, or that a browser marks
//! `Sec-Fetch-Site: cross-site` without an `Origin`, is refused with 403 `forbidden` before its
//! body is read. Requests without either header (curl, servers) pass; `/hooks/...` is not a
//! browser route and is not under this rule.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::{AppError, Config};

/// The origins allowed to call `/api` from a browser, parsed once from `ALLOWED_ORIGINS`, and the
/// proxy's own origin (of `PUBLIC_URL`).
#[derive(Clone, Debug)]
pub struct AllowedOrigins {
    listed: Arc<[HeaderValue]>,
    public: Arc<str>,
}

/// `scheme://authority` of a URL, lowercased (an origin as browsers send it).
fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    format!("{scheme}://{authority}").to_ascii_lowercase()
}

impl AllowedOrigins {
    /// The origins of `config` (entries that are not valid header values can never match).
    pub fn from_config(config: &Config) -> Self {
        Self {
            listed: config
                .listen
                .allowed_origins
                .iter()
                .filter_map(|o| o.parse().ok())
                .collect(),
            public: origin_of(&config.listen.public_url()).into(),
        }
    }

    /// Whether `origin` (an `Origin` header) is allowed by `ALLOWED_ORIGINS` (CORS).
    pub fn allows(&self, origin: &HeaderValue) -> bool {
        self.listed.contains(origin)
    }

    /// Whether `origin` is the proxy's own: the origin of `PUBLIC_URL`, or the request's own
    /// `Host` (a page served by this proxy under whatever name it was reached). The router
    /// refuses every request whose `Host` is not allowed ([`crate::hosts`]) before this rule,
    /// so a name pointed at the proxy by someone else (DNS rebinding) never counts as its own.
    fn is_own(&self, origin: &str, host: Option<&HeaderValue>) -> bool {
        if origin.eq_ignore_ascii_case(&self.public) {
            return true;
        }
        let authority = origin.split_once("://").map(|(_, rest)| rest);
        match (authority, host.and_then(|h| h.to_str().ok())) {
            (Some(authority), Some(host)) => {
                !host.is_empty() && authority.eq_ignore_ascii_case(host)
            }
            _ => false,
        }
    }

    /// The origin rule of a request that spends: `Ok` for the proxy's own origin, an allowed
    /// one, or no browser origin at all; 403 `forbidden` otherwise.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), AppError> {
        let refused = |from: &str, it: &str| AppError::Forbidden {
            message: format!(
                "requests from {from} may not use this proxy; add {it} to ALLOWED_ORIGINS \
                 (comma separated)"
            ),
            field: Some("Origin".to_owned()),
        };
        match headers.get(header::ORIGIN) {
            Some(origin) => {
                let text = origin.to_str().unwrap_or_default();
                if self.allows(origin) || self.is_own(text, headers.get(header::HOST)) {
                    Ok(())
                } else {
                    Err(refused(
                        &format!(
                            "the origin {:?}",
                            text.chars().take(100).collect::<String>()
                        ),
                        "it",
                    ))
                }
            }
            None => match headers.get("sec-fetch-site") {
                Some(site) if site.as_bytes().eq_ignore_ascii_case(b"cross-site") => {
                    Err(refused("another site", "its origin"))
                }
                _ => Ok(()),
            },
        }
    }

    /// The router's CORS layer: preflights and answers.
    pub fn layer(&self) -> CorsLayer {
        let origins = self.clone();
        CorsLayer::new()
            .allow_origin(AllowOrigin::predicate(move |origin, _| {
                origins.allows(origin)
            }))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::CONTENT_TYPE,
                header::AUTHORIZATION,
                HeaderName::from_static("idempotency-key"),
                HeaderName::from_static("last-event-id"),
            ])
            .expose_headers([header::RETRY_AFTER])
            .max_age(Duration::from_secs(600))
    }
}

/// Middleware of `/api`: every request but `GET`, `HEAD` and `OPTIONS` (which spend nothing and
/// whose answers CORS keeps from other origins) must pass [`AllowedOrigins::check`].
pub async fn spending_origin(
    State(origins): State<AllowedOrigins>,
    request: Request,
    next: Next,
) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    match origins.check(request.headers()) {
        Ok(()) => next.run(request).await,
        Err(err) => {
            tracing::info!(error = %err.code(), "cross-origin request refused");
            err.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins(public: &str, listed: &[&str]) -> AllowedOrigins {
        AllowedOrigins {
            listed: listed
                .iter()
                .map(|o| HeaderValue::from_str(o).expect("ascii"))
                .collect(),
            public: origin_of(public).into(),
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    HeaderName::from_static(name),
                    HeaderValue::from_str(value).expect("ascii"),
                )
            })
            .collect()
    }

    #[test]
    fn own_allowed_and_originless_requests_pass_others_do_not() {
        let rule = origins("https://Faceswap.example/base/", &["https://app.example"]);
        for ok in [
            headers(&[]),
            headers(&[("origin", "https://faceswap.example")]),
            headers(&[
                ("origin", "http://127.0.0.1:8080"),
                ("host", "127.0.0.1:8080"),
            ]),
            headers(&[
                ("origin", "https://app.example"),
                ("sec-fetch-site", "cross-site"),
            ]),
            headers(&[("sec-fetch-site", "same-origin")]),
        ] {
            assert!(rule.check(&ok).is_ok(), "{ok:?}");
        }
        for refused in [
            headers(&[("origin", "https://evil.example")]),
            headers(&[("origin", "null")]),
            headers(&[
                ("origin", "http://127.0.0.1:9999"),
                ("host", "127.0.0.1:8080"),
            ]),
            headers(&[("sec-fetch-site", "cross-site")]),
        ] {
            let err = rule.check(&refused).expect_err("refused");
            assert_eq!(err.code().as_str(), "forbidden", "{refused:?}");
        }
    }

    #[test]
    fn a_refusal_names_the_origin_and_the_setting_that_admits_it() {
        let rule = origins("http://127.0.0.1:8080", &[]);
        let err = rule
            .check(&headers(&[
                ("origin", "http://localhost:5173"),
                ("host", "127.0.0.1:8080"),
            ]))
            .expect_err("refused");
        assert_eq!(
            err.message(),
            "requests from the origin \"http://localhost:5173\" may not use this proxy; add it \
             to ALLOWED_ORIGINS (comma separated)"
        );
        assert!(
            matches!(&err, AppError::Forbidden { field: Some(f), .. } if f == "Origin"),
            "{err:?}"
        );
        let err = rule
            .check(&headers(&[("sec-fetch-site", "cross-site")]))
            .expect_err("refused");
        assert!(
            err.message()
                .ends_with("add its origin to ALLOWED_ORIGINS (comma separated)"),
            "{err}"
        );
    }

    /// A dev server's proxy that keeps the browser's `Host` (Vite's `server.proxy` with
    /// `changeOrigin: false`) forwards `Origin: http://localhost:5173` with
    /// `Host: localhost:5173`: the page's own origin, so it passes with ALLOWED_ORIGINS empty.
    #[test]
    fn a_dev_server_proxy_that_keeps_the_host_passes_without_settings() {
        let rule = origins("http://127.0.0.1:8080", &[]);
        let forwarded = headers(&[
            ("origin", "http://localhost:5173"),
            ("host", "localhost:5173"),
            ("sec-fetch-site", "same-origin"),
        ]);
        assert!(rule.check(&forwarded).is_ok());
        let listed = origins("http://127.0.0.1:8080", &["http://localhost:5173"]);
        let rewritten = headers(&[
            ("origin", "http://localhost:5173"),
            ("host", "127.0.0.1:8080"),
        ]);
        assert!(rule.check(&rewritten).is_err(), "changeOrigin: true");
        assert!(listed.check(&rewritten).is_ok(), "once listed");
    }
}
