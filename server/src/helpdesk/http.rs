//! The one HTTP client every connector uses, and the rules of what it may call.
//!
//! rustls, no redirects (a redirect could carry credentials anywhere), no proxy from
//! the environment, connect and request timeouts, answers read up to `MAX_ANSWER`
//! bytes. Every URL is built from a vendor's own host pattern and a value the admin
//! typed that was checked against it (`subdomain`), and names are resolved by the
//! resolver of `security::egress`, which refuses loopback, private, link-local and
//! other non-public addresses (the same rule as for a chatbot's AI endpoint): no
//! field, and no DNS answer, can make Baton call 127.0.0.1, 169.254.169.254 or 10.x.
//!
//! Tests point every desk at one local server with `BATON_HELPDESK_TEST_ORIGIN`
//! (`http://127.0.0.1:PORT`): only a loopback origin is accepted, and the server
//! refuses to start with it unless it also listens on loopback only.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use http::{HeaderMap, StatusCode};

use crate::security::egress::Egress;

/// Largest answer read from a vendor; more is an error, not a longer wait.
pub const MAX_ANSWER: usize = 1024 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum OriginError {
    #[error("BATON_HELPDESK_TEST_ORIGIN must be http://127.0.0.1:PORT or http://[::1]:PORT, not {0}")]
    NotLoopback(String),
    #[error(
        "BATON_HELPDESK_TEST_ORIGIN is for tests: it cannot be combined with BATON_ADDR {0}, which is not loopback"
    )]
    PublicListener(SocketAddr),
}

/// The test-only origin, checked: loopback only, and only for a loopback server.
pub fn test_origin(raw: &str, listen: SocketAddr) -> Result<String, OriginError> {
    let url = url::Url::parse(raw).map_err(|_| OriginError::NotLoopback(raw.to_owned()))?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        _ => false,
    };
    if !loopback || url.scheme() != "http" || url.path() != "/" || url.query().is_some() {
        return Err(OriginError::NotLoopback(raw.to_owned()));
    }
    if !listen.ip().is_loopback() {
        return Err(OriginError::PublicListener(listen));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// What a vendor answered, with the body read (up to `MAX_ANSWER`).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// Why a call got no answer.
#[derive(Debug, thiserror::Error)]
pub enum Transport {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("the answer is larger than {MAX_ANSWER} bytes")]
    TooLarge,
    #[error("the request failed: {0}")]
    Other(String),
}

fn transport(err: reqwest::Error, timeout: Duration) -> Transport {
    if err.is_timeout() {
        Transport::Timeout(timeout)
    } else if err.is_connect() {
        // The source chain says why (refused, no public address, TLS), never a credential.
        let mut reason = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(inner) = source {
            reason = inner.to_string();
            source = inner.source();
        }
        Transport::Connect(reason)
    } else {
        Transport::Other(err.without_url().to_string())
    }
}

#[derive(Clone)]
pub struct DeskHttp {
    client: reqwest::Client,
    /// Tests: every vendor origin is replaced by this loopback one.
    test_origin: Option<Arc<str>>,
    /// One request's limit, answer included.
    timeout: Duration,
}

impl DeskHttp {
    /// `timeout`: one request's limit (`BATON_HELPDESK_TIMEOUT_SECS`); `egress`:
    /// where names may lead.
    pub fn new(test_origin: Option<String>, timeout: Duration, egress: &Egress) -> Result<DeskHttp, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("baton/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(CONNECT_TIMEOUT.min(timeout))
            .timeout(timeout);
        if test_origin.is_none() {
            builder = builder.https_only(true).dns_resolver(egress.resolver(443));
        }
        Ok(DeskHttp { client: builder.build()?, test_origin: test_origin.map(Arc::from), timeout })
    }

    /// `https://{host}{path}`, or the test origin with the same path.
    pub fn url(&self, host: &str, path: &str) -> String {
        match &self.test_origin {
            Some(origin) => format!("{origin}{path}"),
            None => format!("https://{host}{path}"),
        }
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends `request` and reads the answer, however it ends.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Result<Answer, Transport> {
        let request = request.build().map_err(|err| transport(err, self.timeout))?;
        // An address written as such is never resolved, so the resolver cannot see it:
        // vendors are only ever called by name.
        if self.test_origin.is_none() && request.url().host().is_some_and(|h| !matches!(h, url::Host::Domain(_))) {
            return Err(Transport::Connect("refused to call an address instead of a vendor's host name".to_owned()));
        }
        let mut response = self.client.execute(request).await.map_err(|err| transport(err, self.timeout))?;
        let (status, headers) = (response.status(), response.headers().clone());
        if response.content_length().is_some_and(|n| n > MAX_ANSWER as u64) {
            return Err(Transport::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|err| transport(err, self.timeout))? {
            if body.len() + chunk.len() > MAX_ANSWER {
                return Err(Transport::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer { status, headers, body })
    }
}

/// How long a vendor asked us to wait: `Retry-After` in seconds (Zendesk sends it
/// as text too), or Intercom's `X-RateLimit-Reset` (a Unix time), capped at an hour.
pub fn retry_after(headers: &HeaderMap, now_unix: u64) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let seconds = header("retry-after")
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| s.ceil() as u64)
        .or_else(|| {
            header("x-ratelimit-reset").and_then(|v| v.parse::<u64>().ok()).map(|reset| reset.saturating_sub(now_unix))
        })?;
    Some(Duration::from_secs(seconds.min(3600)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_production_client_refuses_loopback_names_and_addresses() {
        let http = DeskHttp::new(None, Duration::from_secs(5), &Egress::new(Vec::new())).unwrap_or_else(|e| panic!("{e}"));
        for url in ["https://localhost/", "https://127.0.0.1/", "https://[::1]/", "https://169.254.169.254/"] {
            match http.send(http.client().get(url)).await {
                Err(Transport::Connect(reason)) => {
                    assert!(reason.contains("loopback address") || reason.contains("instead of"), "{url}: {reason}")
                }
                other => panic!("{url}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_test_origin_is_loopback_only_and_only_for_a_loopback_server() {
        let local: SocketAddr = ([127, 0, 0, 1], 3000).into();
        let public: SocketAddr = ([0, 0, 0, 0], 3000).into();
        assert_eq!(test_origin("http://127.0.0.1:4010", local).ok().as_deref(), Some("http://127.0.0.1:4010"));
        assert!(test_origin("http://[::1]:4010/", local).is_ok());
        for bad in [
            "http://10.0.0.1:80",
            "http://localhost:80",
            "https://127.0.0.1:80",
            "http://169.254.169.254",
            "http://127.0.0.1:80/api",
            "nonsense",
        ] {
            assert!(matches!(test_origin(bad, local), Err(OriginError::NotLoopback(_))), "{bad}");
        }
        assert!(matches!(test_origin("http://127.0.0.1:4010", public), Err(OriginError::PublicListener(_))));
    }

    #[test]
    fn waits_come_from_retry_after_or_the_rate_limit_reset() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", "7".parse().unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(retry_after(&headers, 0), Some(Duration::from_secs(7)));
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-reset", "1000010".parse().unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(retry_after(&headers, 1_000_000), Some(Duration::from_secs(10)));
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", "99999999".parse().unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(retry_after(&headers, 0), Some(Duration::from_secs(3600)));
        assert_eq!(retry_after(&HeaderMap::new(), 0), None);
    }
}
