//! Who the client of a request is: the TCP peer, or, when the peer is a trusted load balancer
//! (`TRUSTED_PROXIES`), the address that balancer says it forwarded for.
//!
//! The rules, all here:
//! - a peer outside `TRUSTED_PROXIES` is the client; its `X-Forwarded-For` and `Forwarded`
//!   headers are ignored (anyone can send them);
//! - a trusted peer's `X-Forwarded-For` (every header line, in order) is read from the right: the
//!   first address that is not itself trusted is the client; when every address is trusted, the
//!   left-most is;
//! - without `X-Forwarded-For`, the `for=` parameters of `Forwarded` (RFC 7239: quoted strings,
//!   `[IPv6]`, ports) are read the same way;
//! - anything unreadable on the way (a malformed header, `unknown`, an obfuscated `_name`, an
//!   element without `for=`) makes the peer the client: a broken header never names a client.
//!
//! IPv4 addresses mapped into IPv6 (`::ffff:a.b.c.d`) are the IPv4 address.

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Request};
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::str::FromStr;

/// The networks whose forwarding headers are believed (`TRUSTED_PROXIES`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

/// A `TRUSTED_PROXIES` entry that is neither a CIDR nor an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("TRUSTED_PROXIES: {0:?} is not a CIDR (10.0.0.0/8, fd00::/8) or an IP address")]
pub struct TrustedProxiesError(String);

impl FromStr for TrustedProxies {
    type Err = TrustedProxiesError;

    /// Comma-separated CIDRs; a bare address is a network of one. Empty: none.
    fn from_str(list: &str) -> Result<Self, Self::Err> {
        list.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| TrustedProxiesError(entry.chars().take(60).collect()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }
}

impl TrustedProxies {
    /// Whether no proxy is trusted (the peer is always the client).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client of a request from `peer` with these headers (see the module's rules).
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.contains(peer) {
            return peer;
        }
        let hops = if headers.contains_key("x-forwarded-for") {
            forwarded_for_hops(headers)
        } else if headers.contains_key("forwarded") {
            forwarded_hops(headers)
        } else {
            return peer;
        };
        hops.and_then(|hops| self.right_most_untrusted(&hops))
            .unwrap_or(peer)
    }

    fn right_most_untrusted(&self, hops: &[IpAddr]) -> Option<IpAddr> {
        hops.iter()
            .rev()
            .find(|ip| !self.contains(**ip))
            .or_else(|| hops.first())
            .copied()
    }
}

/// The client address a request was given by [`resolve`]: set once per request, before the
/// request's span is made, and read by every limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// The peer's address, or `0.0.0.0` for a request that came without one (a test calling the
/// router directly).
fn peer_of(extensions: &axum::http::Extensions) -> IpAddr {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// Resolves a request's client and records it as its [`ClientAddr`].
pub fn resolve<B>(trusted: &TrustedProxies, mut request: Request<B>) -> Request<B> {
    let client = trusted.client(peer_of(request.extensions()), request.headers());
    request.extensions_mut().insert(ClientAddr(client));
    request
}

/// The identity limits, idempotency keys and logs use: the [`ClientAddr`] resolved for this
/// request, or the peer when none was (the same thing without `TRUSTED_PROXIES`).
pub fn client_of(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ClientAddr>()
        .map_or_else(|| peer_of(&parts.extensions).to_canonical(), |c| c.0)
}

/// Every `X-Forwarded-For` address, left to right; `None` when one is unreadable.
fn forwarded_for_hops(headers: &HeaderMap) -> Option<Vec<IpAddr>> {
    let mut hops = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        for item in value.to_str().ok()?.split(',') {
            hops.push(node_address(item.trim())?);
        }
    }
    Some(hops).filter(|hops| !hops.is_empty())
}

/// Every `Forwarded` element's `for=` address, left to right; `None` when one is unreadable.
fn forwarded_hops(headers: &HeaderMap) -> Option<Vec<IpAddr>> {
    let mut hops = Vec::new();
    for value in headers.get_all("forwarded") {
        for element in split_outside_quotes(value.to_str().ok()?, ',') {
            let mut found = None;
            for pair in split_outside_quotes(element, ';') {
                let (name, value) = pair.split_once('=')?;
                if name.trim().eq_ignore_ascii_case("for") {
                    found = Some(node_address(unquote(value.trim())?)?);
                }
            }
            hops.push(found?);
        }
    }
    Some(hops).filter(|hops| !hops.is_empty())
}

/// Splits at `sep` where it is not inside a quoted string.
fn split_outside_quotes(text: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// A token or quoted string's value; `None` for an unterminated quote.
fn unquote(value: &str) -> Option<&str> {
    match value.strip_prefix('"') {
        Some(rest) => rest.strip_suffix('"').filter(|inner| !inner.contains('"')),
        None => Some(value),
    }
}

/// A node as RFC 7239 writes it (also what `X-Forwarded-For` holds): `a.b.c.d`,
/// `a.b.c.d:port`, a bare IPv6 address, or `[IPv6]` with an optional `:port`.
fn node_address(node: &str) -> Option<IpAddr> {
    if let Some(rest) = node.strip_prefix('[') {
        let (ip, after) = rest.split_once(']')?;
        if !(after.is_empty() || after.strip_prefix(':').is_some_and(is_port)) {
            return None;
        }
        return ip.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6);
    }
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    let (ip, port) = node.split_once(':')?;
    is_port(port)
        .then(|| ip.parse::<Ipv4Addr>().ok().map(IpAddr::V4))
        .flatten()
}

fn is_port(port: &str) -> bool {
    port.parse::<u16>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).expect("a header value"));
        }
        map
    }

    fn balancer() -> TrustedProxies {
        "10.0.0.0/8, 192.0.2.1".parse().expect("valid")
    }

    #[test]
    fn parses_cidrs_addresses_and_nothing() {
        let trusted = balancer();
        assert!(trusted.contains(ip("10.1.2.3")));
        assert!(trusted.contains(ip("192.0.2.1")));
        assert!(!trusted.contains(ip("192.0.2.2")));
        assert!(trusted.contains(ip("::ffff:10.0.0.1")), "mapped IPv4");
        let v6: TrustedProxies = "fd00::/8".parse().expect("valid");
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        assert!("".parse::<TrustedProxies>().expect("empty").is_empty());
        assert!(" , ".parse::<TrustedProxies>().expect("blank").is_empty());
        let err = "10.0.0.0/8,not-a-net".parse::<TrustedProxies>();
        assert_eq!(err, Err(TrustedProxiesError("not-a-net".into())));
        assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forges() {
        let forged = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("forwarded", "for=203.0.113.10"),
        ]);
        assert_eq!(
            balancer().client(ip("198.51.100.7"), &forged),
            ip("198.51.100.7")
        );
        // With no trusted proxy at all, the headers are never read.
        assert_eq!(
            TrustedProxies::default().client(ip("10.0.0.1"), &forged),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn a_trusted_peer_without_headers_is_the_client() {
        assert_eq!(
            balancer().client(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn x_forwarded_for_gives_the_right_most_untrusted_address() {
        let trusted = balancer();
        let peer = ip("10.0.0.1");
        let one = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(trusted.client(peer, &one), ip("203.0.113.9"));
        // A client-supplied (forged) first entry is left of the real one and never chosen.
        let chain = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.9, 10.0.0.2")]);
        assert_eq!(trusted.client(peer, &chain), ip("203.0.113.9"));
        // Several header lines are one list, in order.
        let lines = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-for", "203.0.113.9"),
        ]);
        assert_eq!(trusted.client(peer, &lines), ip("203.0.113.9"));
        // Every hop trusted: the left-most.
        let inside = headers(&[("x-forwarded-for", "10.9.9.9, 10.0.0.2")]);
        assert_eq!(trusted.client(peer, &inside), ip("10.9.9.9"));
        // Ports and IPv6 forms.
        let forms = headers(&[("x-forwarded-for", "[2001:db8::1]:443, 203.0.113.9:5000")]);
        assert_eq!(trusted.client(peer, &forms), ip("203.0.113.9"));
        let v6 = headers(&[("x-forwarded-for", "2001:db8::7")]);
        assert_eq!(trusted.client(peer, &v6), ip("2001:db8::7"));
        let mapped = headers(&[("x-forwarded-for", "::ffff:203.0.113.9")]);
        assert_eq!(trusted.client(peer, &mapped), ip("203.0.113.9"));
    }

    #[test]
    fn x_forwarded_for_wins_over_forwarded() {
        let both = headers(&[
            ("forwarded", "for=198.51.100.1"),
            ("x-forwarded-for", "203.0.113.9"),
        ]);
        assert_eq!(balancer().client(ip("10.0.0.1"), &both), ip("203.0.113.9"));
    }

    #[test]
    fn forwarded_for_in_every_rfc_7239_form() {
        let trusted = balancer();
        let peer = ip("10.0.0.1");
        for (value, client) in [
            ("for=203.0.113.9", "203.0.113.9"),
            ("For=\"203.0.113.9:4711\"", "203.0.113.9"),
            ("for=\"[2001:db8:cafe::17]\"", "2001:db8:cafe::17"),
            (
                "for=\"[2001:db8:cafe::17]:4711\";proto=https",
                "2001:db8:cafe::17",
            ),
            ("for=1.2.3.4, for=203.0.113.9;by=10.0.0.1", "203.0.113.9"),
            ("proto=http;for=203.0.113.9, for=10.0.0.2", "203.0.113.9"),
            ("for=203.0.113.9;host=\"a,b;c\"", "203.0.113.9"),
        ] {
            let got = trusted.client(peer, &headers(&[("forwarded", value)]));
            assert_eq!(got, ip(client), "{value}");
        }
    }

    #[test]
    fn malformed_headers_fall_back_to_the_peer() {
        let trusted = balancer();
        let peer = ip("10.0.0.1");
        for (name, value) in [
            ("x-forwarded-for", "not-an-address"),
            ("x-forwarded-for", "203.0.113.9, garbage"),
            ("x-forwarded-for", ""),
            ("x-forwarded-for", "203.0.113.9:99999"),
            ("x-forwarded-for", "[2001:db8::1"),
            ("forwarded", "for=unknown"),
            ("forwarded", "for=_hidden"),
            ("forwarded", "for=\"203.0.113.9"),
            ("forwarded", "proto=https"),
            ("forwarded", "for=203.0.113.9, proto=https"),
            ("forwarded", "garbage"),
            ("forwarded", "for=2001:db8::1:80]"),
        ] {
            let got = trusted.client(peer, &headers(&[(name, value)]));
            assert_eq!(got, peer, "{name}: {value}");
        }
        let mut binary = HeaderMap::new();
        binary.insert(
            "x-forwarded-for",
            HeaderValue::from_bytes(b"203.0.113.\xff").expect("opaque bytes"),
        );
        assert_eq!(trusted.client(peer, &binary), peer);
    }

    #[test]
    fn resolve_records_the_client_for_client_of() {
        let request = Request::builder()
            .header("x-forwarded-for", "203.0.113.9")
            .extension(ConnectInfo(SocketAddr::from(([10, 0, 0, 1], 5000))))
            .body(())
            .expect("a request");
        let (parts, ()) = resolve(&balancer(), request).into_parts();
        assert_eq!(client_of(&parts), ip("203.0.113.9"));
        // Without resolve (a router without the layer): the peer.
        let request = Request::builder()
            .header("x-forwarded-for", "203.0.113.9")
            .extension(ConnectInfo(SocketAddr::from(([10, 0, 0, 1], 5000))))
            .body(())
            .expect("a request");
        assert_eq!(client_of(&request.into_parts().0), ip("10.0.0.1"));
    }
}
