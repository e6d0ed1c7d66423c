//! Who is calling, as far as the network says: the client address that rate limits
//! count by. It is the TCP peer, unless that peer is one of the proxies named in
//! `BATON_TRUSTED_PROXIES` (none by default): then `X-Forwarded-For` is read from the
//! right, past the trusted proxies, to the first address they did not add themselves.
//! A client cannot fake its address by sending the header: from an untrusted peer it
//! is ignored.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::{
    extract::{ConnectInfo, Request, State},
    middleware::Next,
    response::Response,
};
use http::{request::Parts, HeaderMap};
use ipnet::IpNet;

/// The calling client's address, put into every request's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl ClientAddress {
    /// What a rate limit counts by: the address, or for IPv6 its /64 network (one
    /// host is routinely given a whole /64, so single addresses would cost nothing).
    pub fn limit_key(&self) -> IpAddr {
        match canonical(self.0) {
            IpAddr::V6(v6) => {
                let [a, b, c, d, ..] = v6.segments();
                IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
            }
            v4 => v4,
        }
    }

    /// The address of the request `parts` came with. Requests that did not come over
    /// a socket (none in production) count as one unspecified address.
    pub fn of(parts: &Parts) -> ClientAddress {
        parts.extensions.get::<ClientAddress>().copied().unwrap_or_else(|| {
            tracing::error!("no client address on a request: the client-address layer is missing");
            ClientAddress(IpAddr::from([0, 0, 0, 0]))
        })
    }
}

/// The proxies whose `X-Forwarded-For` counts.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl TrustedProxies {
    fn trusts(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The client behind `peer`, reading `X-Forwarded-For` only if `peer` is trusted.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Some(address) = parse_hop(hop) else { break };
            client = address;
            if !self.trusts(address) {
                break;
            }
        }
        client
    }
}

/// IPv4-mapped IPv6 addresses as IPv4, so `127.0.0.1` is the same client either way.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// One `X-Forwarded-For` entry: `203.0.113.7`, `2001:db8::1`, `[2001:db8::1]:443` or
/// `203.0.113.7:51234`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>().ok().or_else(|| hop.parse::<SocketAddr>().ok().map(|socket| socket.ip()))
}

/// Parses one `BATON_TRUSTED_PROXIES` entry: an address (`10.0.0.2`) or a network (`10.0.0.0/8`).
pub fn parse_proxy(raw: &str) -> Result<IpNet, String> {
    let raw = raw.trim();
    raw.parse::<IpNet>()
        .or_else(|_| raw.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{raw:?} is not an IP address or a network such as 10.0.0.0/8"))
}

/// Puts the `ClientAddress` into the request.
pub async fn client_address(State(proxies): State<TrustedProxies>, mut request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip());
    if let Some(peer) = peer {
        let client = proxies.client(peer, request.headers());
        request.extensions_mut().insert(ClientAddress(client));
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", value.parse().unwrap());
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let none = TrustedProxies::default();
        assert_eq!(none.client(ip("198.51.100.9"), &forwarded("203.0.113.7")), ip("198.51.100.9"));
    }

    #[test]
    fn behind_trusted_proxies_the_first_untrusted_hop_from_the_right_is_the_client() {
        let proxies = TrustedProxies(vec![parse_proxy("10.0.0.0/8").unwrap(), parse_proxy("127.0.0.1").unwrap()]);
        // The client may put anything on the left; the proxy appended what it saw.
        let headers = forwarded("1.1.1.1, 203.0.113.7, 10.0.0.5");
        assert_eq!(proxies.client(ip("127.0.0.1"), &headers), ip("203.0.113.7"));
        assert_eq!(proxies.client(ip("127.0.0.1"), &HeaderMap::new()), ip("127.0.0.1"), "no header: the peer");
        assert_eq!(proxies.client(ip("127.0.0.1"), &forwarded("[2001:db8::1]:443")), ip("2001:db8::1"));
        assert_eq!(proxies.client(ip("127.0.0.1"), &forwarded("garbage, 10.0.0.9")), ip("10.0.0.9"));
        assert_eq!(proxies.client(ip("::ffff:127.0.0.1"), &forwarded("203.0.113.8")), ip("203.0.113.8"));
    }

    #[test]
    fn ipv6_clients_are_limited_by_their_64() {
        assert_eq!(ClientAddress(ip("2001:db8:1:2:3:4:5:6")).limit_key(), ip("2001:db8:1:2::"));
        assert_eq!(ClientAddress(ip("::ffff:192.0.2.1")).limit_key(), ip("192.0.2.1"));
        assert_eq!(ClientAddress(ip("192.0.2.1")).limit_key(), ip("192.0.2.1"));
    }

    #[test]
    fn proxies_are_addresses_or_networks() {
        assert!(parse_proxy("10.0.0.0/8").is_ok());
        assert!(parse_proxy(" 192.168.1.2 ").is_ok());
        assert!(parse_proxy("::1").is_ok());
        assert!(parse_proxy("proxy.local").is_err());
    }
}
