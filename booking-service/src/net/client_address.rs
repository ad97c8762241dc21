//! Who the client is when the service sits behind a reverse proxy or load balancer.
//!
//! Behind a proxy every connection comes from the proxy, so the booking rate limit would put
//! every visitor in one bucket. Proxies name the client in `X-Forwarded-For`, but any client can
//! send that header too: it is believed only when the direct peer is a proxy the operator named
//! (`--trusted-proxy`). The header is then read from the right (each proxy appends the address it
//! saw), skipping the trusted proxies, and the first address that is not one is the client. A
//! header that does not parse is ignored (the peer is used), so a garbled chain never gives an
//! attacker a key of their choosing. Without `--trusted-proxy` the header is never read.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use ipnet::IpNet;
use warp::http::HeaderMap;

/// The header proxies append the address they saw to.
const FORWARDED_FOR: &str = "x-forwarded-for";

/// The proxies whose `X-Forwarded-For` is believed: addresses or networks (CIDR).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

/// One `--trusted-proxy` value: an address (`10.0.0.5`, `::1`) or a network (`10.0.0.0/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedProxy(IpNet);

impl FromStr for TrustedProxy {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        text.parse::<IpNet>()
            .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
            .map(TrustedProxy)
            .map_err(|_| format!("{text:?} is not an IP address or network; expected 10.0.0.5, 10.0.0.0/8 or fd00::/8"))
    }
}

impl TrustedProxies {
    pub fn new(proxies: impl IntoIterator<Item = TrustedProxy>) -> Self {
        TrustedProxies(proxies.into_iter().map(|TrustedProxy(net)| net).collect())
    }

    /// No proxy is trusted: the peer is always the client.
    pub fn none() -> Self {
        Self::default()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address for a request that came from `peer` with `headers`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        forwarded_chain(headers)
            .and_then(|chain| {
                // From the right: the nearest hop first. If every hop is a trusted proxy, the
                // leftmost is the furthest the proxies vouch for.
                chain.iter().rev().copied().find(|ip| !self.trusts(*ip)).or_else(|| chain.first().copied())
            })
            .unwrap_or(peer)
    }
}

/// Every address in every `X-Forwarded-For` header, in order; `None` when there is none or
/// any entry is not an address.
fn forwarded_chain(headers: &HeaderMap) -> Option<Vec<IpAddr>> {
    let mut chain = Vec::new();
    for value in headers.get_all(FORWARDED_FOR) {
        for entry in value.to_str().ok()?.split(',') {
            chain.push(parse_hop(entry.trim())?);
        }
    }
    (!chain.is_empty()).then_some(chain)
}

/// `1.2.3.4`, `2001:db8::1`, or the same with a port (`1.2.3.4:5678`, `[2001:db8::1]:80`),
/// as some proxies write them.
fn parse_hop(entry: &str) -> Option<IpAddr> {
    entry.parse::<IpAddr>().or_else(|_| entry.parse::<SocketAddr>().map(|a| a.ip())).ok().map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use warp::http::HeaderValue;

    use super::*;

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::new(list.iter().map(|p| p.parse().unwrap()))
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(FORWARDED_FOR, HeaderValue::from_str(v).unwrap());
        }
        headers
    }

    #[test]
    fn without_trusted_proxies_the_header_is_never_read() {
        let none = TrustedProxies::none();
        assert_eq!(none.client(ip("203.0.113.9"), &forwarded(&["198.51.100.1"])), ip("203.0.113.9"));
    }

    #[test]
    fn an_untrusted_peer_cannot_name_another_client() {
        let trusted = proxies(&["10.0.0.0/8"]);
        assert_eq!(trusted.client(ip("203.0.113.9"), &forwarded(&["198.51.100.1"])), ip("203.0.113.9"));
        assert_eq!(trusted.client(ip("203.0.113.9"), &forwarded(&["10.0.0.1"])), ip("203.0.113.9"));
    }

    #[test]
    fn a_trusted_peer_names_the_nearest_untrusted_hop() {
        let trusted = proxies(&["10.0.0.0/8", "192.0.2.7"]);
        let peer = ip("10.1.2.3");
        assert_eq!(trusted.client(peer, &forwarded(&["198.51.100.1"])), ip("198.51.100.1"));
        // A client that spoofs the header gets the address the proxy saw, not the spoofed one.
        assert_eq!(trusted.client(peer, &forwarded(&["1.1.1.1, 198.51.100.1, 192.0.2.7"])), ip("198.51.100.1"));
        // Two headers are one list, in order.
        assert_eq!(trusted.client(peer, &forwarded(&["1.1.1.1", "198.51.100.2, 10.9.9.9"])), ip("198.51.100.2"));
        // Ports and IPv6 as proxies write them.
        assert_eq!(trusted.client(peer, &forwarded(&["[2001:db8::1]:443"])), ip("2001:db8::1"));
        assert_eq!(trusted.client(peer, &forwarded(&["198.51.100.3:5000"])), ip("198.51.100.3"));
        // Only trusted hops: the furthest one.
        assert_eq!(trusted.client(peer, &forwarded(&["10.0.0.9, 192.0.2.7"])), ip("10.0.0.9"));
    }

    #[test]
    fn a_missing_or_malformed_header_falls_back_to_the_peer() {
        let trusted = proxies(&["127.0.0.1"]);
        let peer = ip("127.0.0.1");
        assert_eq!(trusted.client(peer, &HeaderMap::new()), peer);
        for bad in ["", "not-an-address", "198.51.100.1, junk", "198.51.100.1,,", "unknown"] {
            assert_eq!(trusted.client(peer, &forwarded(&[bad])), peer, "{bad:?}");
        }
    }

    #[test]
    fn mapped_ipv4_peers_match_ipv4_proxies() {
        let trusted = proxies(&["127.0.0.1"]);
        assert_eq!(trusted.client(ip("::ffff:127.0.0.1"), &forwarded(&["198.51.100.1"])), ip("198.51.100.1"));
    }

    #[test]
    fn proxies_parse_as_addresses_or_networks() {
        assert!("10.0.0.5".parse::<TrustedProxy>().is_ok());
        assert!(" fd00::/8 ".parse::<TrustedProxy>().is_ok());
        let e = "10.0.0.0/33".parse::<TrustedProxy>().unwrap_err();
        assert!(e.contains("not an IP address or network"), "{e}");
    }
}
