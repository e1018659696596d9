//! Which address a request came from when proxies sit in front of Beacon.
//!
//! `X-Forwarded-For` is written by whoever sends the request, so it is believed only as far as
//! it was appended by proxies we trust: reading right to left, every hop added by a trusted
//! proxy is skipped and the first address that is not one is the client.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

/// An address block such as `10.0.0.0/8`, or a single address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNetwork {
    addr: IpAddr,
    prefix: u8,
}

/// Why a trusted-proxy entry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not an IP address or CIDR block such as 10.0.0.0/8 or 2001:db8::/32")]
pub struct NetworkError(pub String);

impl IpNetwork {
    pub fn parse(input: &str) -> Result<Self, NetworkError> {
        let error = || NetworkError(input.to_owned());
        let input = input.trim();
        let (addr, prefix) = match input.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (input, None),
        };
        let addr = addr.parse::<IpAddr>().map_err(|_| error())?.to_canonical();
        let max = max_prefix(addr);
        let prefix = match prefix {
            None => max,
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(error)?,
        };
        Ok(Self { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u32::from(net).into(), self.prefix, 32)
                    == masked(u32::from(ip).into(), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(net.into(), self.prefix, 128) == masked(ip.into(), self.prefix, 128)
            }
            _ => false,
        }
    }
}

impl fmt::Display for IpNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

fn max_prefix(addr: IpAddr) -> u8 {
    if addr.is_ipv4() { 32 } else { 128 }
}

/// The top `prefix` bits of a `width`-bit address.
fn masked(bits: u128, prefix: u8, width: u8) -> u128 {
    let host_bits = u32::from(width.saturating_sub(prefix));
    bits.checked_shr(host_bits).unwrap_or(0)
}

/// The proxies whose `X-Forwarded-For` entries are believed. Empty: none, the peer is the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNetwork>);

impl TrustedProxies {
    /// A comma-separated list of addresses and CIDR blocks; blank means none.
    pub fn parse(list: &str) -> Result<Self, NetworkError> {
        list.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(IpNetwork::parse)
            .collect::<Result<_, _>>()
            .map(Self)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(ip))
    }

    /// The client's address: the direct peer, unless that is a trusted proxy; then the nearest
    /// `X-Forwarded-For` entry (each header value may list several) not added by one. An entry
    /// that is not an address ends the trust: the last proxy seen is then the client.
    pub fn client_ip(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        let mut client = peer.to_canonical();
        let entries = forwarded_for
            .iter()
            .flat_map(|value| value.split(','))
            .collect::<Vec<_>>();
        for entry in entries.into_iter().rev() {
            if !self.contains(client) {
                break;
            }
            match parse_forwarded_entry(entry) {
                Some(ip) => client = ip,
                None => break,
            }
        }
        client
    }
}

/// `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:5678`.
fn parse_forwarded_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Ok(socket) = entry.parse::<std::net::SocketAddr>() {
        return Some(socket.ip().to_canonical());
    }
    None
}

/// What a per-client rate limit counts by: an IPv4 address, or an IPv6 /64, the block one
/// household or server usually gets (so hopping between its addresses does not reset the count).
pub fn rate_limit_network(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(ip) => ip.to_string(),
        IpAddr::V6(ip) => {
            let network = u128::from(ip) & !(u128::from(u64::MAX));
            format!("{}/64", Ipv6Addr::from(network))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn proxies(list: &str) -> TrustedProxies {
        TrustedProxies::parse(list).unwrap()
    }

    #[test]
    fn networks_contain_exactly_their_addresses() {
        let net = IpNetwork::parse("10.1.0.0/16").unwrap();
        assert!(net.contains(ip("10.1.255.7")));
        assert!(!net.contains(ip("10.2.0.1")));
        let single = IpNetwork::parse("192.0.2.7").unwrap();
        assert!(single.contains(ip("192.0.2.7")));
        assert!(!single.contains(ip("192.0.2.8")));
        let v6 = IpNetwork::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!(!v6.contains(ip("10.1.0.1")));
    }

    #[test]
    fn a_zero_prefix_contains_its_whole_family() {
        assert!(
            IpNetwork::parse("0.0.0.0/0")
                .unwrap()
                .contains(ip("203.0.113.9"))
        );
        assert!(
            IpNetwork::parse("::/0")
                .unwrap()
                .contains(ip("2001:db8::1"))
        );
    }

    #[test]
    fn ipv4_mapped_ipv6_addresses_count_as_ipv4() {
        let net = IpNetwork::parse("127.0.0.1").unwrap();
        assert!(net.contains(ip("::ffff:127.0.0.1")));
    }

    #[test]
    fn bad_networks_are_refused() {
        for bad in [
            "",
            "10.0.0.0/33",
            "2001:db8::/129",
            "10.0.0/8",
            "localhost",
            "10.0.0.0/x",
        ] {
            assert!(IpNetwork::parse(bad).is_err(), "{bad:?}");
        }
        assert!(TrustedProxies::parse("10.0.0.0/8, nonsense").is_err());
    }

    #[test]
    fn a_blank_list_trusts_nobody() {
        assert_eq!(
            TrustedProxies::parse(" , ").unwrap(),
            TrustedProxies::default()
        );
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_the_header_says() {
        let client = TrustedProxies::default().client_ip(ip("198.51.100.4"), &["203.0.113.9"]);
        assert_eq!(client, ip("198.51.100.4"));
    }

    #[test]
    fn behind_a_trusted_proxy_the_forwarded_address_is_the_client() {
        let client = proxies("10.0.0.0/8").client_ip(ip("10.0.0.2"), &["203.0.113.9"]);
        assert_eq!(client, ip("203.0.113.9"));
    }

    #[test]
    fn addresses_a_client_forged_left_of_the_real_one_are_ignored() {
        let client =
            proxies("10.0.0.0/8").client_ip(ip("10.0.0.2"), &["1.1.1.1, 203.0.113.9, 10.0.0.3"]);
        assert_eq!(client, ip("203.0.113.9"));
    }

    #[test]
    fn several_header_lines_are_read_as_one_list() {
        let client = proxies("10.0.0.0/8").client_ip(ip("10.0.0.2"), &["203.0.113.9", "10.0.0.3"]);
        assert_eq!(client, ip("203.0.113.9"));
    }

    #[test]
    fn a_chain_of_trusted_proxies_only_gives_the_leftmost() {
        let client = proxies("10.0.0.0/8").client_ip(ip("10.0.0.2"), &["10.0.0.9, 10.0.0.3"]);
        assert_eq!(client, ip("10.0.0.9"));
    }

    #[test]
    fn a_trusted_proxy_without_the_header_is_itself_the_client() {
        assert_eq!(
            proxies("10.0.0.0/8").client_ip(ip("10.0.0.2"), &[]),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn garbage_in_the_header_stops_at_the_last_proxy_seen() {
        let client = proxies("10.0.0.0/8").client_ip(ip("10.0.0.2"), &["203.0.113.9, unknown"]);
        assert_eq!(client, ip("10.0.0.2"));
    }

    #[test]
    fn forwarded_entries_may_carry_ports_and_brackets() {
        let trusted = proxies("10.0.0.0/8");
        assert_eq!(
            trusted.client_ip(ip("10.0.0.2"), &["203.0.113.9:4711"]),
            ip("203.0.113.9")
        );
        assert_eq!(
            trusted.client_ip(ip("10.0.0.2"), &["[2001:db8::7]:4711"]),
            ip("2001:db8::7")
        );
    }

    #[test]
    fn rate_limits_count_ipv4_addresses_and_ipv6_slash_64s() {
        assert_eq!(rate_limit_network(ip("203.0.113.9")), "203.0.113.9");
        assert_eq!(rate_limit_network(ip("::ffff:203.0.113.9")), "203.0.113.9");
        assert_eq!(
            rate_limit_network(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd")),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            rate_limit_network(ip("2001:db8:1:2::1")),
            rate_limit_network(ip("2001:db8:1:2:ffff::9"))
        );
    }
}
