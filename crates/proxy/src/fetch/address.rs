//! Which addresses the proxy may connect to when it fetches a URL input (OWASP's SSRF rules), from
//! one table: IANA's IPv4 and IPv6 Special-Purpose Address Registries, every block whose
//! addresses are not globally reachable, with multicast, broadcast and the deprecated blocks that
//! reach other networks (6to4, its relay anycast, Teredo, site-local, IPv4-compatible, NAT64
//! with the well-known prefix, IPv4-mapped and -translated addresses). Loopback and private
//! addresses (RFC 1918, IPv6 ULA) pass only when the operator allows them (`FETCH_ALLOW_PRIVATE`);
//! every other listed block never does.
//!
//! A few single addresses inside listed blocks are globally reachable anycast services (PCP and
//! TURN at 192.0.0.9/10 and 2001:1::1/2, AMT, AS112, ORCHIDv2): no image is served there, and
//! the project refuses them with their blocks.

use ipnet::IpNet;
use std::net::IpAddr;
use std::sync::LazyLock;

/// Why an address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// An address no fetch may reach (link-local, metadata, multicast, reserved, mapped, ...).
    #[error("a link-local, reserved or otherwise non-public address")]
    NeverPublic,
    /// A loopback or private address, without the operator's permission.
    #[error("a loopback or private address")]
    Private,
}

/// What a listed block is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Loopback or private: reachable with `FETCH_ALLOW_PRIVATE`.
    Private,
    /// Never fetched from.
    Never,
}

/// The table: (block, kind, what IANA or the RFC calls it).
const BLOCKS: &[(&str, Kind, &str)] = &[
    // IPv4 Special-Purpose Address Registry.
    ("0.0.0.0/8", Kind::Never, "this network"),
    ("10.0.0.0/8", Kind::Private, "private-use"),
    ("100.64.0.0/10", Kind::Never, "shared address space"),
    ("127.0.0.0/8", Kind::Private, "loopback"),
    ("169.254.0.0/16", Kind::Never, "link local (cloud metadata)"),
    ("172.16.0.0/12", Kind::Private, "private-use"),
    ("192.0.0.0/24", Kind::Never, "IETF protocol assignments"),
    ("192.0.2.0/24", Kind::Never, "documentation (TEST-NET-1)"),
    ("192.31.196.0/24", Kind::Never, "AS112-v4"),
    ("192.52.193.0/24", Kind::Never, "AMT"),
    (
        "192.88.99.0/24",
        Kind::Never,
        "6to4 relay anycast (deprecated)",
    ),
    ("192.168.0.0/16", Kind::Private, "private-use"),
    ("192.175.48.0/24", Kind::Never, "direct delegation AS112"),
    ("198.18.0.0/15", Kind::Never, "benchmarking"),
    ("198.51.100.0/24", Kind::Never, "documentation (TEST-NET-2)"),
    ("203.0.113.0/24", Kind::Never, "documentation (TEST-NET-3)"),
    ("224.0.0.0/4", Kind::Never, "multicast"),
    (
        "240.0.0.0/4",
        Kind::Never,
        "reserved, and limited broadcast",
    ),
    // IPv6 Special-Purpose Address Registry.
    ("::1/128", Kind::Private, "loopback"),
    ("::/128", Kind::Never, "unspecified"),
    ("::/96", Kind::Never, "IPv4-compatible (deprecated)"),
    ("::ffff:0:0/96", Kind::Never, "IPv4-mapped"),
    ("::ffff:0:0:0/96", Kind::Never, "IPv4-translated"),
    ("64:ff9b::/96", Kind::Never, "IPv4/IPv6 translation (NAT64)"),
    (
        "64:ff9b:1::/48",
        Kind::Never,
        "local-use IPv4/IPv6 translation",
    ),
    ("100::/64", Kind::Never, "discard-only"),
    ("100:0:0:1::/64", Kind::Never, "dummy prefix"),
    (
        "2001::/23",
        Kind::Never,
        "IETF protocol assignments (Teredo 2001::/32 among them)",
    ),
    ("2001:db8::/32", Kind::Never, "documentation"),
    ("2002::/16", Kind::Never, "6to4"),
    ("2620:4f:8000::/48", Kind::Never, "direct delegation AS112"),
    ("3fff::/20", Kind::Never, "documentation"),
    ("5f00::/16", Kind::Never, "segment routing (SRv6) SIDs"),
    ("fc00::/7", Kind::Private, "unique-local"),
    ("fe80::/10", Kind::Never, "link-local"),
    ("fec0::/10", Kind::Never, "site-local (deprecated)"),
    ("ff00::/8", Kind::Never, "multicast"),
];

/// [`BLOCKS`], parsed once, most specific first (so `::1/128` wins over `::/96`).
static TABLE: LazyLock<Vec<(IpNet, Kind)>> = LazyLock::new(|| {
    let mut table: Vec<(IpNet, Kind)> = BLOCKS
        .iter()
        .filter_map(|(block, kind, _)| block.parse().ok().map(|net| (net, *kind)))
        .collect();
    table.sort_by_key(|(net, _)| std::cmp::Reverse(net.prefix_len()));
    table
});

/// `Ok` when `ip` may be connected to; `allow_private` admits loopback and private addresses.
pub fn check(ip: IpAddr, allow_private: bool) -> Result<(), Refused> {
    match TABLE.iter().find(|(net, _)| net.contains(&ip)) {
        None => Ok(()),
        Some((_, Kind::Private)) if allow_private => Ok(()),
        Some((_, Kind::Private)) => Err(Refused::Private),
        Some((_, Kind::Never)) => Err(Refused::NeverPublic),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(ip: &str, allow_private: bool) -> Result<(), Refused> {
        check(ip.parse().expect("an address"), allow_private)
    }

    #[test]
    fn every_block_of_the_table_parses() {
        assert_eq!(TABLE.len(), BLOCKS.len());
    }

    #[test]
    fn only_public_addresses_pass_by_default() {
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "1.1.1.1",
            "192.0.1.1",
            "192.88.100.1",
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "2001:4860:4860::8888",
        ] {
            assert_eq!(verdict(public, false), Ok(()), "{public}");
        }
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "::1",
            "fd00::1",
        ] {
            assert_eq!(verdict(private, false), Err(Refused::Private), "{private}");
            assert_eq!(verdict(private, true), Ok(()), "{private} when allowed");
        }
        for never in [
            "169.254.169.254",
            "169.254.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "100.64.0.1",
            "192.0.0.8",
            "198.18.0.1",
            "240.0.0.1",
            "192.0.2.1",
            "203.0.113.9",
            "fe80::1",
            "::",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "fec0::1",
            "2001:db8::1",
        ] {
            assert_eq!(verdict(never, true), Err(Refused::NeverPublic), "{never}");
        }
    }

    #[test]
    fn the_blocks_that_reach_other_networks_are_refused() {
        for (never, what) in [
            // 6to4: 2002:AABB:CCDD:: reaches the IPv4 address AA.BB.CC.DD (here 127.0.0.1).
            ("2002:7f00:1::1", "6to4"),
            ("2002:a9fe:a9fe::1", "6to4 of the metadata address"),
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
            ("64:ff9b:1::a9fe:a9fe", "local NAT64"),
            ("::ffff:0:7f00:1", "IPv4-translated"),
            ("100::1", "discard-only"),
            ("192.88.99.1", "6to4 relay anycast"),
            ("5f00::1", "SRv6"),
            ("3fff::1", "documentation"),
        ] {
            assert_eq!(
                verdict(never, true),
                Err(Refused::NeverPublic),
                "{what}: {never}"
            );
        }
    }
}
