//! Who the client of a request is, the one rule every per-client budget (rate, spend, uploads,
//! idempotency keys, connections) and the request logs use.
//!
//! The client's address:
//! - a peer outside `TRUSTED_PROXIES` is the client; forwarding headers are ignored (anyone can
//!   send them);
//! - a trusted peer's forwarding header, only the one the operator names (`FORWARDED_HEADER`:
//!   `X-Forwarded-For`, the default, or RFC 7239's `Forwarded` with its `for=`), is read from the
//!   right: trusted hops are skipped, the first address that is not trusted is the client, and
//!   nothing left of it is read (a client writes whatever it likes there); when every address is
//!   trusted, the left-most is;
//! - an entry that cannot be read where one is still needed (`unknown`, an obfuscated `_name`,
//!   garbage written by a trusted hop) makes the peer the client.
//!
//! The client's identity, what budgets count: an IPv4 address (IPv4-mapped IPv6 included) is its
//! own identity; an IPv6 address is its network of `IPV6_CLIENT_PREFIX` bits (64 by default: one
//! host, one home line or one VPS gets a /64 and can use any address in it).

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Request};
use ipnet::{IpNet, Ipv6Net};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::str::FromStr;

/// The rule (`TRUSTED_PROXIES`, `FORWARDED_HEADER`, `IPV6_CLIENT_PREFIX`), declared with the
/// proxy's other settings.
pub use crate::config::ClientRule;

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
}

/// The one header a trusted load balancer writes the client into (`FORWARDED_HEADER`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (nginx, HAProxy, AWS ALB, ...).
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client;proto=https, for=proxy1`.
    Forwarded,
}

/// The default of `IPV6_CLIENT_PREFIX`: a /64, the network a single host or line is given.
pub const DEFAULT_IPV6_CLIENT_PREFIX: u8 = 64;

impl ClientRule {
    /// The client of a request from `peer` with these headers: its address and its identity.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> ClientAddr {
        let addr = self.address(peer, headers);
        ClientAddr {
            addr,
            id: self.identity(addr),
        }
    }

    /// The client's address (see the module's rules).
    pub fn address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusted.contains(peer) {
            return peer;
        }
        let client = match self.header {
            ForwardedHeader::XForwardedFor => {
                self.first_untrusted(x_forwarded_for_from_right(headers))
            }
            ForwardedHeader::Forwarded => self.first_untrusted(forwarded_from_right(headers)),
        };
        client.unwrap_or(peer)
    }

    /// The identity budgets count for `ip`: an IPv4 address itself, an IPv6 address's network
    /// of `ipv6_prefix` bits (its first address).
    pub fn identity(&self, ip: IpAddr) -> IpAddr {
        match ip.to_canonical() {
            IpAddr::V4(v4) => IpAddr::V4(v4),
            IpAddr::V6(v6) => Ipv6Net::new(v6, self.ipv6_prefix.min(128))
                .map_or(IpAddr::V6(v6), |net| IpAddr::V6(net.network())),
        }
    }

    /// Whether connections from `peer` come from a trusted balancer (which carries many clients).
    pub fn is_trusted_peer(&self, peer: IpAddr) -> bool {
        self.trusted.contains(peer)
    }

    /// Walks `hops` (right to left): trusted ones are skipped, the first untrusted is the
    /// client; an unreadable hop met before it gives `None` (the peer); when every hop is
    /// trusted, the left-most. Nothing left of the client is read.
    fn first_untrusted(&self, hops: impl Iterator<Item = Option<IpAddr>>) -> Option<IpAddr> {
        let mut left_most = None;
        for hop in hops {
            let ip = hop?;
            if !self.trusted.contains(ip) {
                return Some(ip);
            }
            left_most = Some(ip);
        }
        left_most
    }
}

/// A request's client, found once per request by [`resolve`] before the request's span is made:
/// its address (for logs) and its identity (for every budget).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr {
    /// The client's own address.
    pub addr: IpAddr,
    /// What per-client budgets count ([`ClientRule::identity`]).
    pub id: IpAddr,
}

/// The peer's address, or `0.0.0.0` for a request that came without one (a test calling the
/// router directly).
fn peer_of(extensions: &axum::http::Extensions) -> IpAddr {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// Resolves a request's client and records it as its [`ClientAddr`].
pub fn resolve<B>(rule: &ClientRule, mut request: Request<B>) -> Request<B> {
    let client = rule.client(peer_of(request.extensions()), request.headers());
    request.extensions_mut().insert(client);
    request
}

/// The identity limits and idempotency keys count: that of the [`ClientAddr`] resolved for this
/// request, or the peer's with the default rule when none was (a router without the layer).
pub fn client_of(parts: &Parts) -> IpAddr {
    parts.extensions.get::<ClientAddr>().map_or_else(
        || ClientRule::default().identity(peer_of(&parts.extensions)),
        |c| c.id,
    )
}

/// The `X-Forwarded-For` entries from the right (every header line, the last line first); an
/// unreadable entry is `None`. Nothing is parsed beyond where the walk stops.
fn x_forwarded_for_from_right(headers: &HeaderMap) -> impl Iterator<Item = Option<IpAddr>> + '_ {
    let lines: Vec<_> = headers.get_all("x-forwarded-for").iter().collect();
    lines.into_iter().rev().flat_map(|value| {
        let text = value.to_str().ok();
        let items = text
            .into_iter()
            .flat_map(|text| text.rsplit(',').map(|item| node_address(item.trim())));
        items.chain(text.is_none().then_some(None))
    })
}

/// The `Forwarded` elements' `for=` addresses from the right; an element without a readable
/// `for=` is `None`.
fn forwarded_from_right(headers: &HeaderMap) -> impl Iterator<Item = Option<IpAddr>> + '_ {
    let lines: Vec<_> = headers.get_all("forwarded").iter().collect();
    lines.into_iter().rev().flat_map(|value| {
        let text = value.to_str().ok();
        let elements = text.into_iter().flat_map(|text| {
            split_outside_quotes(text, ',')
                .into_iter()
                .rev()
                .map(element_for)
        });
        elements.chain(text.is_none().then_some(None))
    })
}

/// The `for=` address of one `Forwarded` element.
fn element_for(element: &str) -> Option<IpAddr> {
    let mut found = None;
    for pair in split_outside_quotes(element, ';') {
        let (name, value) = pair.split_once('=')?;
        if name.trim().eq_ignore_ascii_case("for") {
            found = Some(node_address(unquote(value.trim())?)?);
        }
    }
    found
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

    /// The rule behind [`balancer`], reading `header`.
    fn rule(header: ForwardedHeader) -> ClientRule {
        ClientRule {
            trusted: balancer(),
            header,
            ipv6_prefix: DEFAULT_IPV6_CLIENT_PREFIX,
        }
    }

    fn xff() -> ClientRule {
        rule(ForwardedHeader::XForwardedFor)
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
        for header in [ForwardedHeader::XForwardedFor, ForwardedHeader::Forwarded] {
            assert_eq!(
                rule(header).address(ip("198.51.100.7"), &forged),
                ip("198.51.100.7")
            );
        }
        // With no trusted proxy at all, the headers are never read.
        assert_eq!(
            ClientRule::default().address(ip("10.0.0.1"), &forged),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn a_trusted_peer_without_headers_is_the_client() {
        assert_eq!(
            xff().address(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn x_forwarded_for_gives_the_right_most_untrusted_address() {
        let trusted = xff();
        let peer = ip("10.0.0.1");
        let one = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(trusted.address(peer, &one), ip("203.0.113.9"));
        // A client-supplied (forged) first entry is left of the real one and never chosen.
        let chain = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.9, 10.0.0.2")]);
        assert_eq!(trusted.address(peer, &chain), ip("203.0.113.9"));
        // Several header lines are one list, in order.
        let lines = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-for", "203.0.113.9"),
        ]);
        assert_eq!(trusted.address(peer, &lines), ip("203.0.113.9"));
        // Every hop trusted: the left-most.
        let inside = headers(&[("x-forwarded-for", "10.9.9.9, 10.0.0.2")]);
        assert_eq!(trusted.address(peer, &inside), ip("10.9.9.9"));
        // Ports and IPv6 forms.
        let forms = headers(&[("x-forwarded-for", "[2001:db8::1]:443, 203.0.113.9:5000")]);
        assert_eq!(trusted.address(peer, &forms), ip("203.0.113.9"));
        let v6 = headers(&[("x-forwarded-for", "2001:db8::7")]);
        assert_eq!(trusted.address(peer, &v6), ip("2001:db8::7"));
        let mapped = headers(&[("x-forwarded-for", "::ffff:203.0.113.9")]);
        assert_eq!(trusted.address(peer, &mapped), ip("203.0.113.9"));
    }

    #[test]
    fn nothing_left_of_the_client_is_read() {
        let trusted = xff();
        let peer = ip("10.0.0.1");
        // Whatever a client writes left of its own address, the balancer appended the real one.
        for forged in [
            "junk, 198.51.100.1",
            "unknown, 198.51.100.1",
            "1.2.3.4:99999, [broken, 198.51.100.1, 10.0.0.2",
            "_hidden,198.51.100.1",
        ] {
            let got = trusted.address(peer, &headers(&[("x-forwarded-for", forged)]));
            assert_eq!(got, ip("198.51.100.1"), "{forged}");
        }
        let lines = headers(&[
            ("x-forwarded-for", "garbage"),
            ("x-forwarded-for", "198.51.100.1"),
        ]);
        assert_eq!(trusted.address(peer, &lines), ip("198.51.100.1"));
        let forwarded = rule(ForwardedHeader::Forwarded);
        let value = headers(&[("forwarded", "for=unknown, garbage, for=198.51.100.1")]);
        assert_eq!(forwarded.address(peer, &value), ip("198.51.100.1"));
    }

    #[test]
    fn only_the_named_header_is_read() {
        let both = headers(&[
            ("forwarded", "for=198.51.100.1"),
            ("x-forwarded-for", "203.0.113.9"),
        ]);
        let peer = ip("10.0.0.1");
        assert_eq!(xff().address(peer, &both), ip("203.0.113.9"));
        let forwarded = rule(ForwardedHeader::Forwarded);
        assert_eq!(forwarded.address(peer, &both), ip("198.51.100.1"));
        // The other header alone is not read: the peer is the client.
        let only_forwarded = headers(&[("forwarded", "for=198.51.100.1")]);
        assert_eq!(xff().address(peer, &only_forwarded), peer);
        let only_xff = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(forwarded.address(peer, &only_xff), peer);
    }

    #[test]
    fn forwarded_for_in_every_rfc_7239_form() {
        let trusted = rule(ForwardedHeader::Forwarded);
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
            let got = trusted.address(peer, &headers(&[("forwarded", value)]));
            assert_eq!(got, ip(client), "{value}");
        }
    }

    #[test]
    fn unreadable_entries_where_the_client_should_be_fall_back_to_the_peer() {
        let peer = ip("10.0.0.1");
        for (header, name, value) in [
            (
                ForwardedHeader::XForwardedFor,
                "x-forwarded-for",
                "not-an-address",
            ),
            (
                ForwardedHeader::XForwardedFor,
                "x-forwarded-for",
                "203.0.113.9, garbage",
            ),
            (ForwardedHeader::XForwardedFor, "x-forwarded-for", ""),
            (
                ForwardedHeader::XForwardedFor,
                "x-forwarded-for",
                "203.0.113.9:99999",
            ),
            (
                ForwardedHeader::XForwardedFor,
                "x-forwarded-for",
                "[2001:db8::1",
            ),
            (
                ForwardedHeader::XForwardedFor,
                "x-forwarded-for",
                "198.51.100.1, unknown, 10.0.0.2",
            ),
            (ForwardedHeader::Forwarded, "forwarded", "for=unknown"),
            (ForwardedHeader::Forwarded, "forwarded", "for=_hidden"),
            (ForwardedHeader::Forwarded, "forwarded", "for=\"203.0.113.9"),
            (ForwardedHeader::Forwarded, "forwarded", "proto=https"),
            (
                ForwardedHeader::Forwarded,
                "forwarded",
                "for=203.0.113.9, proto=https",
            ),
            (ForwardedHeader::Forwarded, "forwarded", "garbage"),
            (
                ForwardedHeader::Forwarded,
                "forwarded",
                "for=2001:db8::1:80]",
            ),
        ] {
            let got = rule(header).address(peer, &headers(&[(name, value)]));
            assert_eq!(got, peer, "{name}: {value}");
        }
        let mut binary = HeaderMap::new();
        binary.insert(
            "x-forwarded-for",
            HeaderValue::from_bytes(b"203.0.113.\xff").expect("opaque bytes"),
        );
        assert_eq!(xff().address(peer, &binary), peer);
    }

    #[test]
    fn an_ipv6_client_is_its_network_and_an_ipv4_one_itself() {
        let rule = ClientRule::default();
        let host = rule.identity(ip("2001:db8:1:2::1"));
        assert_eq!(host, ip("2001:db8:1:2::"));
        assert_eq!(rule.identity(ip("2001:db8:1:2::beef")), host);
        assert_eq!(rule.identity(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")), host);
        assert_ne!(rule.identity(ip("2001:db8:1:3::1")), host);
        assert_eq!(rule.identity(ip("198.51.100.1")), ip("198.51.100.1"));
        assert_eq!(rule.identity(ip("::ffff:198.51.100.1")), ip("198.51.100.1"));
        let wide = ClientRule {
            ipv6_prefix: 48,
            ..ClientRule::default()
        };
        assert_eq!(wide.identity(ip("2001:db8:1:2::1")), ip("2001:db8:1::"));
        assert_eq!(wide.identity(ip("2001:db8:1:ff::1")), ip("2001:db8:1::"));
        let exact = ClientRule {
            ipv6_prefix: 128,
            ..ClientRule::default()
        };
        assert_eq!(exact.identity(ip("2001:db8::1")), ip("2001:db8::1"));
    }

    #[test]
    fn resolve_records_the_client_for_client_of() {
        let request = Request::builder()
            .header("x-forwarded-for", "2001:db8:1:2::beef")
            .extension(ConnectInfo(SocketAddr::from(([10, 0, 0, 1], 5000))))
            .body(())
            .expect("a request");
        let (parts, ()) = resolve(&xff(), request).into_parts();
        assert_eq!(client_of(&parts), ip("2001:db8:1:2::"));
        let client = parts.extensions.get::<ClientAddr>().expect("resolved");
        assert_eq!(client.addr, ip("2001:db8:1:2::beef"));
        // Without resolve (a router without the layer): the peer.
        let request = Request::builder()
            .header("x-forwarded-for", "203.0.113.9")
            .extension(ConnectInfo(SocketAddr::from(([10, 0, 0, 1], 5000))))
            .body(())
            .expect("a request");
        assert_eq!(client_of(&request.into_parts().0), ip("10.0.0.1"));
    }
}
