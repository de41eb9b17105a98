//! Which addresses the proxy may connect to when it fetches a URL input (OWASP's SSRF rules):
//! never unspecified, broadcast, multicast, link-local (169.254.0.0/16 with the cloud metadata
//! address 169.254.169.254, fe80::/10), shared (100.64.0.0/10), reserved or documentation
//! addresses, nor IPv4-mapped or -compatible IPv6; loopback and private addresses (RFC 1918,
//! IPv6 ULA fc00::/7) only when the operator allows them explicitly (`FETCH_ALLOW_PRIVATE`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

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

/// `Ok` when `ip` may be connected to; `allow_private` admits loopback and private addresses.
pub fn check(ip: IpAddr, allow_private: bool) -> Result<(), Refused> {
    let private = match ip {
        IpAddr::V4(ip) => v4(ip)?,
        IpAddr::V6(ip) => v6(ip)?,
    };
    if private && !allow_private {
        return Err(Refused::Private);
    }
    Ok(())
}

/// `Err` for an address never reachable; `Ok(true)` for loopback and private ones.
fn v4(ip: Ipv4Addr) -> Result<bool, Refused> {
    let [a, b, c, _] = ip.octets();
    let never = ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_link_local()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240;
    if never {
        return Err(Refused::NeverPublic);
    }
    Ok(ip.is_loopback() || ip.is_private())
}

fn v6(ip: Ipv6Addr) -> Result<bool, Refused> {
    let first = ip.segments()[0];
    let embeds_v4 = ip.to_ipv4_mapped().is_some()
        || (ip.segments()[..6].iter().all(|s| *s == 0) && !ip.is_loopback() && !ip.is_unspecified())
        // NAT64 (64:ff9b::/96) reaches IPv4 addresses too.
        || ip.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    let never = ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_unicast_link_local()
        || (first & 0xffc0) == 0xfec0
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        || embeds_v4;
    if never {
        return Err(Refused::NeverPublic);
    }
    Ok(ip.is_loopback() || ip.is_unique_local())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(ip: &str, allow_private: bool) -> Result<(), Refused> {
        check(ip.parse().unwrap(), allow_private)
    }

    #[test]
    fn only_public_addresses_pass_by_default() {
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"] {
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
            "fe80::1",
            "::",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "fec0::1",
        ] {
            assert_eq!(verdict(never, true), Err(Refused::NeverPublic), "{never}");
        }
    }
}
