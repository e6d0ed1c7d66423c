//! Where Baton may connect on someone else's say: the addresses an admin types (a
//! chatbot's AI endpoint) and the help desks' hosts.
//!
//! An address is called only when every address its host stands for is public: not
//! loopback, private, link-local, unique-local, multicast, unspecified, shared
//! (carrier-grade NAT), documentation, benchmarking or reserved, in IPv4 or IPv6,
//! an IPv4 address inside IPv6 (mapped, NAT64, 6to4) judged as that IPv4 address.
//! Every form a URL can write an address in (`2130706433`, `0x7f.1`, `127.1`,
//! `[::ffff:127.0.0.1]`) is read by the `url` crate into the address itself before
//! it is judged. A name is resolved once and the connection goes to the addresses
//! that were checked: for one call (**Test connection**) they are handed to the
//! client; for a client that lives on, its resolver checks every lookup it makes, so
//! a name that later points inside (DNS rebinding) is refused at that lookup.
//!
//! The operator lets chosen internal endpoints through with
//! `BATON_ALLOWED_INTERNAL_HOSTS` (as Mattermost's
//! `AllowedUntrustedInternalConnections`): `host:port` entries (`127.0.0.1:11434`
//! for an Ollama beside Baton, `ollama.internal:11434`) and networks in CIDR form
//! (`10.20.0.0/16`, any port). The server's own `BATON_LLM_BASE_URL` is the
//! operator's and is not judged here.

use std::{
    fmt,
    future::Future,
    io,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    pin::Pin,
    str::FromStr,
    sync::Arc,
};

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Url;

/// One entry of `BATON_ALLOWED_INTERNAL_HOSTS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allowed {
    /// A host at one port: `127.0.0.1:11434`, `[::1]:8080`, `ollama.internal:11434`.
    /// A name matches the host as written in the URL, whatever it resolves to.
    HostPort { host: AllowedHost, port: u16 },
    /// Every address of a network, at any port: `10.20.0.0/16`, `fd00::/8`.
    Network(IpNet),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedHost {
    Name(String),
    Ip(IpAddr),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "BATON_ALLOWED_INTERNAL_HOSTS: `{0}` is neither host:port (127.0.0.1:11434, [::1]:8080, \
     ollama.internal:11434) nor a network (10.0.0.0/8)"
)]
pub struct AllowedError(pub String);

impl FromStr for Allowed {
    type Err = AllowedError;

    fn from_str(raw: &str) -> Result<Allowed, AllowedError> {
        let entry = raw.trim();
        let refused = || AllowedError(entry.to_owned());
        if entry.contains('/') {
            return entry.parse::<IpNet>().map(|net| Allowed::Network(net.trunc())).map_err(|_| refused());
        }
        if let Ok(address) = entry.parse::<SocketAddr>() {
            return match address.port() {
                0 => Err(refused()),
                port => Ok(Allowed::HostPort { host: AllowedHost::Ip(address.ip()), port }),
            };
        }
        let (host, port) = entry.rsplit_once(':').ok_or_else(refused)?;
        let port: u16 = port.parse().ok().filter(|p| *p != 0).ok_or_else(refused)?;
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let name_like = |label: &str| {
            !label.is_empty()
                && label.len() <= 63
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        };
        if host.len() > 253 || !host.split('.').all(name_like) {
            return Err(refused());
        }
        // A dotted address was taken above; what is left of digits and dots is not a name.
        if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Err(refused());
        }
        Ok(Allowed::HostPort { host: AllowedHost::Name(host), port })
    }
}

impl fmt::Display for Allowed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Allowed::HostPort { host: AllowedHost::Name(name), port } => write!(f, "{name}:{port}"),
            Allowed::HostPort { host: AllowedHost::Ip(ip), port } => write!(f, "{}", SocketAddr::new(*ip, *port)),
            Allowed::Network(net) => write!(f, "{net}"),
        }
    }
}

impl Allowed {
    /// `name`: the host as a URL named it, if it named it rather than wrote an address.
    fn lets_through(&self, name: Option<&str>, address: SocketAddr) -> bool {
        match self {
            Allowed::Network(net) => net.contains(&address.ip()),
            Allowed::HostPort { port, .. } if *port != address.port() => false,
            Allowed::HostPort { host: AllowedHost::Ip(ip), .. } => same_ip(*ip, address.ip()),
            Allowed::HostPort { host: AllowedHost::Name(allowed), .. } => {
                name.is_some_and(|name| name.trim_end_matches('.').eq_ignore_ascii_case(allowed))
            }
        }
    }
}

/// `::ffff:127.0.0.1` is `127.0.0.1`.
fn same_ip(a: IpAddr, b: IpAddr) -> bool {
    a.to_canonical() == b.to_canonical()
}

/// What kind of non-public address `ip` is, in words; `None` for a public one.
pub fn internal_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_kind(v4),
        IpAddr::V6(v6) => v6_kind(v6),
    }
}

/// Whether Baton may connect to `ip` without the operator's leave.
pub fn is_public(ip: IpAddr) -> bool {
    internal_kind(ip).is_none()
}

fn v4_kind(v4: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = v4.octets();
    let kind = if v4.is_loopback() {
        "a loopback address"
    } else if v4.is_private() {
        "a private address"
    } else if v4.is_link_local() {
        "a link-local address"
    } else if a == 0 {
        "the unspecified address or its network"
    } else if v4.is_broadcast() {
        "the broadcast address"
    } else if v4.is_multicast() {
        "a multicast address"
    } else if a == 100 && (64..128).contains(&b) {
        "a shared (carrier-grade NAT) address"
    } else if v4.is_documentation() {
        "a documentation address"
    } else if a == 198 && (b == 18 || b == 19) {
        "a benchmarking address"
    } else if (a == 192 && b == 0 && c == 0) || a >= 240 {
        "a reserved address"
    } else {
        return None;
    };
    Some(kind)
}

fn v6_kind(v6: Ipv6Addr) -> Option<&'static str> {
    let s = v6.segments();
    let embedded = |at: usize| {
        let [a, b] = s[at].to_be_bytes();
        let [c, d] = s[at + 1].to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    if let Some(v4) = v6.to_ipv4_mapped() {
        return v4_kind(v4);
    }
    let kind = if v6.is_loopback() {
        "a loopback address"
    } else if v6.is_unspecified() {
        "the unspecified address"
    } else if v6.is_multicast() {
        "a multicast address"
    } else if (s[0] & 0xfe00) == 0xfc00 {
        "a unique-local address"
    } else if (s[0] & 0xffc0) == 0xfe80 {
        "a link-local address"
    } else if (s[0] & 0xffc0) == 0xfec0 {
        "a site-local address"
    } else if s[0] == 0x2001 && s[1] == 0x0db8 {
        "a documentation address"
    } else if s[..6] == [0; 6] {
        // ::a.b.c.d, the IPv4-compatible form (deprecated; never a public host).
        "a reserved address"
    } else if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        // NAT64: the IPv4 address it reaches decides.
        return v4_kind(embedded(6));
    } else if s[0] == 0x2002 {
        // 6to4: likewise.
        return v4_kind(embedded(1));
    } else if s[0] == 0x0100 && s[1..4] == [0, 0, 0] {
        "a discard address"
    } else {
        return None;
    };
    Some(kind)
}

/// What a URL's host is: an address written as such, or a name to look up.
enum Target<'a> {
    Written(SocketAddr),
    Named(&'a str, u16),
}

fn target(url: &Url) -> Result<Target<'_>, Refusal> {
    let port = url.port_or_known_default().ok_or(Refusal::NotWeb)?;
    Ok(match url.host().ok_or(Refusal::NotWeb)? {
        url::Host::Ipv4(ip) => Target::Written(SocketAddr::new(ip.into(), port)),
        url::Host::Ipv6(ip) => Target::Written(SocketAddr::new(ip.into(), port)),
        url::Host::Domain(name) => Target::Named(name, port),
    })
}

/// Why Baton will not call an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "{shown} is {kind}: Baton calls only public addresses unless the server's operator allows this one \
         (BATON_ALLOWED_INTERNAL_HOSTS)"
    )]
    Internal { shown: String, kind: &'static str },
    #[error("no address was found for {host}{detail}")]
    NotFound { host: String, detail: String },
    #[error("is not a web address (http:// or https://)")]
    NotWeb,
}

/// Finds the addresses of a host name; the system's resolver, or a test's own.
pub trait Lookup: Send + Sync + 'static {
    fn lookup(&self, host: String, port: u16) -> Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send>>;
}

/// The operating system's resolver (through tokio).
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(&self, host: String, port: u16) -> Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send>> {
        Box::pin(async move { Ok(tokio::net::lookup_host((host.as_str(), port)).await?.collect()) })
    }
}

/// The rule of where Baton may connect, and the resolver it judges names with.
#[derive(Clone)]
pub struct Egress {
    allowed: Arc<[Allowed]>,
    lookup: Arc<dyn Lookup>,
}

impl fmt::Debug for Egress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Egress").field("allowed", &self.allowed).finish_non_exhaustive()
    }
}

impl Egress {
    /// Public addresses, and `allowed`, through the system's resolver.
    pub fn new(allowed: Vec<Allowed>) -> Egress {
        Egress::with_lookup(allowed, Arc::new(SystemLookup))
    }

    pub fn with_lookup(allowed: Vec<Allowed>, lookup: Arc<dyn Lookup>) -> Egress {
        Egress { allowed: allowed.into(), lookup }
    }

    /// `name`: the host as the URL named it (`None` for an address written as such).
    fn judge(&self, name: Option<&str>, address: SocketAddr) -> Result<(), Refusal> {
        let Some(kind) = internal_kind(address.ip()) else { return Ok(()) };
        if self.allowed.iter().any(|entry| entry.lets_through(name, address)) {
            return Ok(());
        }
        let shown = match name {
            Some(name) => format!("{name} (at {})", address.ip()),
            None => address.ip().to_string(),
        };
        Err(Refusal::Internal { shown, kind })
    }

    /// The addresses `url` may be called at: every one its host stands for, each
    /// judged (one lookup for a name). Refused when any is internal and not allowed.
    pub async fn check(&self, url: &Url) -> Result<Vec<SocketAddr>, Refusal> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refusal::NotWeb);
        }
        match target(url)? {
            Target::Written(address) => self.judge(None, address).map(|()| vec![address]),
            Target::Named(name, port) => self.resolve_judged(name, port).await,
        }
    }

    /// An address written in the URL itself (no lookup): judged now. A name is left
    /// to the resolver (`resolver`), which judges what it finds.
    pub fn check_written(&self, url: &Url) -> Result<(), Refusal> {
        match target(url)? {
            Target::Written(address) => self.judge(None, address),
            Target::Named(..) => Ok(()),
        }
    }

    /// A name's addresses (one lookup), each judged.
    async fn resolve_judged(&self, name: &str, port: u16) -> Result<Vec<SocketAddr>, Refusal> {
        let not_found = |detail: String| Refusal::NotFound { host: name.to_owned(), detail };
        let found = self.lookup.lookup(name.to_owned(), port).await.map_err(|err| not_found(format!(" ({err})")))?;
        if found.is_empty() {
            return Err(not_found(String::new()));
        }
        for address in &found {
            self.judge(Some(name), *address)?;
        }
        Ok(found)
    }

    /// A resolver for an HTTP client whose every call goes to `port`: each lookup is
    /// judged as `check` judges it, and the client connects to what was judged.
    pub fn resolver(&self, port: u16) -> Arc<Judged> {
        Arc::new(Judged { egress: self.clone(), port })
    }
}

/// `Egress::resolver`: a name's addresses, each judged.
pub struct Judged {
    egress: Egress,
    port: u16,
}

impl Resolve for Judged {
    fn resolve(&self, name: Name) -> Resolving {
        let (egress, port) = (self.egress.clone(), self.port);
        Box::pin(async move {
            match egress.resolve_judged(name.as_str(), port).await {
                Ok(addresses) => Ok(Box::new(addresses.into_iter()) as Addrs),
                Err(refusal) => Err(Box::new(io::Error::new(io::ErrorKind::PermissionDenied, refusal.to_string()))
                    as Box<dyn std::error::Error + Send + Sync>),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// Names a test chose, and nothing else: nothing here leaves the machine.
    struct Fixed(HashMap<&'static str, Vec<IpAddr>>);

    impl Lookup for Fixed {
        fn lookup(&self, host: String, port: u16) -> Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send>> {
            let found = self.0.get(host.as_str()).map(|ips| ips.iter().map(|ip| SocketAddr::new(*ip, port)).collect());
            Box::pin(async move { found.ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "unknown name")) })
        }
    }

    fn egress(allowed: &[&str]) -> Egress {
        let names = HashMap::from([
            ("inside.test", vec!["127.0.0.2".parse().unwrap()]),
            ("inside.test.", vec!["127.0.0.2".parse().unwrap()]),
            ("six.test", vec!["::1".parse().unwrap()]),
            ("both.test", vec!["93.184.215.14".parse().unwrap(), "127.0.0.1".parse().unwrap()]),
            ("outside.test", vec!["93.184.215.14".parse().unwrap()]),
            ("localhost", vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()]),
        ]);
        let allowed = allowed.iter().map(|entry| entry.parse().unwrap()).collect();
        Egress::with_lookup(allowed, Arc::new(Fixed(names)))
    }

    async fn verdict(egress: &Egress, url: &str) -> Result<Vec<SocketAddr>, Refusal> {
        egress.check(&Url::parse(url).unwrap()).await
    }

    #[tokio::test]
    async fn every_way_of_writing_an_inside_address_is_refused() {
        let egress = egress(&[]);
        for url in [
            "http://127.0.0.1:8080/v1",
            "http://127.1:8080/v1",
            "http://2130706433:8080/v1",
            "http://0x7f000001/v1",
            "http://0x7f.0.0.1/v1",
            "http://0177.0.0.1/v1",
            "http://127.255.255.254/v1",
            "http://[::1]:8080/v1",
            "http://[::ffff:127.0.0.1]/v1",
            "http://[::ffff:7f00:1]/v1",
            "http://[0:0:0:0:0:ffff:10.0.0.1]/v1",
            "http://[::127.0.0.1]/v1",
            "http://[64:ff9b::a9fe:a9fe]/v1",
            "http://[2002:c0a8:0101::1]/v1",
            "http://0.0.0.0/v1",
            "http://0/v1",
            "http://[::]/v1",
            "http://10.1.2.3/v1",
            "http://172.16.0.1/v1",
            "http://192.168.1.1/v1",
            "http://169.254.169.254/latest/meta-data",
            "http://100.64.0.1/v1",
            "http://224.0.0.1/v1",
            "http://255.255.255.255/v1",
            "http://240.0.0.1/v1",
            "http://[fd00::1]/v1",
            "http://[fc00::1]/v1",
            "http://[fe80::1]/v1",
            "http://[fec0::1]/v1",
            "http://[ff02::1]/v1",
            "https://inside.test/v1",
            "https://six.test/v1",
            "https://both.test/v1",
            "http://localhost:8080/v1",
        ] {
            match verdict(&egress, url).await {
                Err(Refusal::Internal { .. }) => {}
                other => panic!("{url}: {other:?}"),
            }
        }
        assert!(matches!(verdict(&egress, "https://nowhere.test/").await, Err(Refusal::NotFound { .. })));
        assert_eq!(verdict(&egress, "ftp://outside.test/").await, Err(Refusal::NotWeb));
    }

    #[tokio::test]
    async fn public_addresses_pass_with_the_addresses_that_were_checked() {
        let egress = egress(&[]);
        let found = verdict(&egress, "https://outside.test/v1").await.unwrap();
        assert_eq!(found, vec!["93.184.215.14:443".parse().unwrap()]);
        let found = verdict(&egress, "http://[2606:4700::1111]:8080/v1").await.unwrap();
        assert_eq!(found, vec!["[2606:4700::1111]:8080".parse().unwrap()]);
    }

    #[tokio::test]
    async fn the_allowlist_lets_exactly_its_entries_through() {
        let egress = egress(&["127.0.0.1:11434", "inside.test:8080", "[::1]:9000", "10.20.0.0/16"]);
        for url in [
            "http://127.0.0.1:11434/v1",
            "http://2130706433:11434/v1",
            "http://[::ffff:127.0.0.1]:11434/v1",
            "http://inside.test:8080/v1",
            "http://INSIDE.test.:8080/v1",
            "http://[::1]:9000/v1",
            "http://10.20.3.4/v1",
            "http://10.20.3.4:1/v1",
        ] {
            assert!(verdict(&egress, url).await.is_ok(), "{url} is allowed");
        }
        for url in [
            "http://127.0.0.1:11435/v1",
            "http://127.0.0.2:11434/v1",
            "http://localhost:11434/v1",
            "http://inside.test:8081/v1",
            "https://inside.test/v1",
            "http://six.test:9001/v1",
            "http://10.21.0.1/v1",
        ] {
            assert!(matches!(verdict(&egress, url).await, Err(Refusal::Internal { .. })), "{url} is refused");
        }
    }

    #[test]
    fn addresses_written_in_the_url_are_judged_without_a_lookup() {
        let egress = egress(&["127.0.0.1:11434"]);
        let written = |url: &str| egress.check_written(&Url::parse(url).unwrap());
        assert!(written("http://127.0.0.1:11434/v1").is_ok());
        assert!(written("https://any-name.test/v1").is_ok(), "names are the resolver's to judge");
        assert!(matches!(written("http://127.0.0.1:11435/v1"), Err(Refusal::Internal { .. })));
        assert!(matches!(written("http://[::1]/v1"), Err(Refusal::Internal { .. })));
    }

    #[test]
    fn refusals_say_what_the_address_is_in_plain_words() {
        let refusal = Refusal::Internal { shown: "localhost (at 127.0.0.1)".into(), kind: "a loopback address" };
        let said = refusal.to_string();
        assert!(said.starts_with("localhost (at 127.0.0.1) is a loopback address"), "{said}");
        assert!(said.contains("BATON_ALLOWED_INTERNAL_HOSTS"), "{said}");
        assert_eq!(internal_kind("169.254.169.254".parse().unwrap()), Some("a link-local address"));
        assert_eq!(internal_kind("8.8.8.8".parse().unwrap()), None);
        assert_eq!(internal_kind("2606:4700::1111".parse().unwrap()), None);
    }

    #[test]
    fn allowlist_entries_parse_and_print_back() {
        for entry in ["127.0.0.1:11434", "[::1]:8080", "ollama.internal:11434", "10.0.0.0/8", "fd00::/8"] {
            let parsed: Allowed = entry.parse().unwrap();
            assert_eq!(parsed.to_string(), entry);
        }
        assert_eq!("10.1.2.3/8".parse::<Allowed>().unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(" Ollama.Internal.:11434 ".parse::<Allowed>().unwrap().to_string(), "ollama.internal:11434");
        let bad_entries =
            ["", "127.0.0.1", "127.0.0.1:0", "host", "host:", "host:99999", "::1:8080", "a b:80", "-x:80", "10.0.0.0/33"];
        for bad in bad_entries.into_iter().chain(["1.2.3:80"]) {
            assert!(bad.parse::<Allowed>().is_err(), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn the_resolver_refuses_names_that_point_inside() {
        let egress = egress(&["inside.test:8080"]);
        let resolver = egress.resolver(443);
        let refused = resolver.resolve("inside.test".parse().unwrap()).await;
        assert!(refused.is_err(), "inside.test:443 is not on the list");
        let allowed = egress.resolver(8080).resolve("inside.test".parse().unwrap()).await.unwrap();
        assert_eq!(allowed.collect::<Vec<_>>(), vec!["127.0.0.2:8080".parse().unwrap()]);
        let public = resolver.resolve("outside.test".parse().unwrap()).await.unwrap();
        assert_eq!(public.collect::<Vec<_>>(), vec!["93.184.215.14:443".parse().unwrap()]);
    }
}
