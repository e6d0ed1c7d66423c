//! Which origin is Baton's own: the configured public URL (`BATON_PUBLIC_URL`), or,
//! for local use, the address Baton listens on. The `Host` header plays no part: a
//! request may claim any host, so `Host: evil.example` with `Origin: http://evil.example`
//! must not pass for same-origin.

use std::{net::SocketAddr, sync::Arc};

use app::AppError;
use http::{header, HeaderMap};

#[derive(Debug, Clone)]
pub struct SiteOrigin {
    /// Serialised origins (`https://baton.example.com`), the public one first.
    accepted: Arc<[String]>,
}

impl SiteOrigin {
    /// `public_url` when set (scheme, host and port count; a path is allowed and
    /// ignored). Otherwise `http://` and the listening address, plus `localhost` when
    /// that address is a loopback or unspecified one.
    pub fn new(public_url: Option<&str>, listening: SocketAddr) -> Result<SiteOrigin, String> {
        if let Some(raw) = public_url.map(str::trim).filter(|raw| !raw.is_empty()) {
            let url = url::Url::parse(raw).map_err(|err| format!("BATON_PUBLIC_URL {raw:?} is not a URL: {err}"))?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err(format!("BATON_PUBLIC_URL {raw:?} must be an http:// or https:// URL with a host"));
            }
            return Ok(SiteOrigin { accepted: vec![url.origin().ascii_serialization()].into() });
        }
        let port = listening.port();
        let mut accepted = vec![format!("http://{listening}")];
        if listening.ip().is_unspecified() {
            accepted = vec![format!("http://127.0.0.1:{port}"), format!("http://[::1]:{port}")];
        }
        if listening.ip().is_loopback() || listening.ip().is_unspecified() {
            accepted.push(format!("http://localhost:{port}"));
        }
        Ok(SiteOrigin { accepted: accepted.into() })
    }

    /// The URL people reach Baton at.
    pub fn public_url(&self) -> &str {
        self.accepted.first().map_or("", String::as_str)
    }

    /// True when `origin` (an `Origin` header's value) is Baton's own, scheme included.
    pub fn is_ours(&self, origin: &str) -> bool {
        let Ok(url) = url::Url::parse(origin.trim()) else { return false };
        let origin = url.origin();
        origin.is_tuple() && self.accepted.iter().any(|ours| *ours == origin.ascii_serialization())
    }

    /// The one check for "does this request come from Baton's own pages": a browser
    /// says where a request comes from with `Sec-Fetch-Site` and `Origin`; anything
    /// from another site is refused. When `origin_required` (the Inbox socket, which a
    /// cookie would open from any site), a missing `Origin` is refused too; team calls
    /// without browser headers (curl, scripts) carry no ambient-cookie risk and pass.
    pub fn check(&self, headers: &HeaderMap, origin_required: bool) -> Result<(), AppError> {
        let forbidden = || AppError::Forbidden("this call only accepts requests from Baton's own pages".into());
        let text = |name: header::HeaderName| headers.get(name).map(|v| v.to_str().unwrap_or_default().to_owned());
        if let Some(site) = text(header::HeaderName::from_static("sec-fetch-site")) {
            if !matches!(site.as_str(), "same-origin" | "none") {
                return Err(forbidden());
            }
        }
        match text(header::ORIGIN) {
            Some(origin) if self.is_ours(&origin) => Ok(()),
            Some(_) => Err(forbidden()),
            None if origin_required => Err(forbidden()),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    fn local() -> SiteOrigin {
        SiteOrigin::new(None, "127.0.0.1:3000".parse().unwrap()).unwrap()
    }

    #[test]
    fn the_public_url_is_the_origin_scheme_included() {
        let site = SiteOrigin::new(Some("https://baton.acme.com/"), "0.0.0.0:3000".parse().unwrap()).unwrap();
        assert_eq!(site.public_url(), "https://baton.acme.com");
        assert!(site.is_ours("https://baton.acme.com"));
        assert!(site.is_ours("https://baton.acme.com:443"));
        assert!(!site.is_ours("http://baton.acme.com"), "another scheme is another origin");
        assert!(!site.is_ours("https://baton.acme.com:8443"));
        assert!(!site.is_ours("http://127.0.0.1:3000"), "the listening address is not public once a URL is set");
    }

    #[test]
    fn without_a_public_url_the_listening_address_is_ours() {
        let site = local();
        assert_eq!(site.public_url(), "http://127.0.0.1:3000");
        assert!(site.is_ours("http://127.0.0.1:3000"));
        assert!(site.is_ours("http://localhost:3000"));
        assert!(!site.is_ours("https://127.0.0.1:3000"));
        assert!(!site.is_ours("http://127.0.0.1:3001"));
        assert!(!site.is_ours("null"));
        assert!(!site.is_ours("http://evil.example"));
    }

    #[test]
    fn a_claimed_host_does_not_make_an_origin_ours() {
        let site = local();
        let spoofed = headers(&[("host", "evil.example"), ("origin", "http://evil.example")]);
        assert!(site.check(&spoofed, false).is_err());
        assert!(site.check(&spoofed, true).is_err());
    }

    #[test]
    fn browser_headers_decide_and_scripts_pass_team_calls() {
        let site = local();
        assert!(site.check(&headers(&[("origin", "http://127.0.0.1:3000")]), true).is_ok());
        assert!(site.check(&headers(&[("sec-fetch-site", "same-origin")]), false).is_ok());
        assert!(site.check(&headers(&[]), false).is_ok(), "curl sends neither header");
        assert!(site.check(&headers(&[]), true).is_err(), "the socket needs an Origin");
        assert!(site.check(&headers(&[("sec-fetch-site", "cross-site")]), false).is_err());
        assert!(site.check(&headers(&[("sec-fetch-site", "same-site")]), false).is_err());
        assert!(site.check(&headers(&[("origin", "null")]), false).is_err());
    }

    #[test]
    fn a_public_url_must_be_http() {
        assert!(SiteOrigin::new(Some("ftp://baton.acme.com"), "127.0.0.1:1".parse().unwrap()).is_err());
        assert!(SiteOrigin::new(Some("baton.acme.com"), "127.0.0.1:1".parse().unwrap()).is_err());
    }
}
