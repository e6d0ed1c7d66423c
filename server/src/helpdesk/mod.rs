//! Help-desk mode: one connector per desk behind one trait, the shared HTTP client,
//! the handoff packet, and the outbox dispatcher that turns each escalation into
//! exactly one ticket.
//!
//! A connector verifies a Connect form with the vendor's harmless calls (and fills
//! the choices the admin then picks from), looks a ticket up by the escalation id,
//! and creates one. It never decides about retries: it says whether a failure is
//! worth retrying (`SendError::Retry`) or not (`SendError::Permanent`), and the
//! outbox decides when.

pub mod admin;
pub mod form;
pub mod freshdesk;
pub mod http;
pub mod hubspot;
pub mod intercom;
pub mod outbox;
pub mod packet;
pub mod zendesk;
pub mod zoho;

use std::time::Duration;

use app::domain::helpdesk::{Desk, Verified};
use async_trait::async_trait;

pub use form::Form;
pub use http::{Answer, DeskHttp, Transport};
pub use packet::HandoffPacket;

/// Why the vendor did not accept a Connect form, in words for the admin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct VerifyError(pub String);

/// Why a ticket was not created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth another attempt (timeouts, connection errors, 429, 5xx), after `after` if
    /// the vendor said so.
    #[error("{reason}")]
    Retry { reason: String, after: Option<Duration> },
    /// Another attempt would fail the same way (400, 401, 403, 404, 422).
    #[error("{reason}")]
    Permanent { reason: String },
}

/// A ticket (or conversation) in the desk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub id: String,
    /// Where an agent opens it, when the vendor's address is known.
    pub url: Option<String>,
}

#[async_trait]
pub trait Connector: Send + Sync {
    fn desk(&self) -> Desk;

    /// Checks `form` with the vendor; may complete it (a token exchanged for a grant
    /// code). Stores nothing.
    async fn verify(&self, http: &DeskHttp, form: &mut Form) -> Result<Verified, VerifyError>;

    /// The ticket already created for `packet`'s escalation, if any.
    async fn find(&self, http: &DeskHttp, form: &Form, packet: &HandoffPacket) -> Result<Option<Ticket>, SendError>;

    /// Creates the ticket for `packet`, idempotently where the vendor allows.
    async fn create(&self, http: &DeskHttp, form: &Form, packet: &HandoffPacket) -> Result<Ticket, SendError>;
}

/// The connector of `desk`.
pub fn connector(desk: Desk) -> &'static dyn Connector {
    match desk {
        Desk::Zendesk => &zendesk::Zendesk,
        Desk::Freshdesk => &freshdesk::Freshdesk,
        Desk::Intercom => &intercom::Intercom,
        Desk::Hubspot => &hubspot::Hubspot,
        Desk::ZohoDesk => &zoho::ZohoDesk,
    }
}

/// The vendor's reason in an error answer, read defensively: vendors shape them
/// differently (`error`, `description`, `message`, `errors[].message`, `title`).
pub fn vendor_reason(answer: &Answer) -> String {
    let Some(json) = answer.json() else {
        return format!("HTTP {}", answer.status.as_u16());
    };
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    let mut parts: Vec<String> = Vec::new();
    match &json["error"] {
        serde_json::Value::String(code) => parts.push(code.clone()),
        serde_json::Value::Object(error) => {
            parts.extend(error.get("title").and_then(text));
            parts.extend(error.get("message").and_then(text));
        }
        _ => {}
    }
    parts.extend(text(&json["description"]));
    parts.extend(text(&json["message"]));
    if let Some(errors) = json["errors"].as_array() {
        for error in errors.iter().take(3) {
            let field = error["field"].as_str().or_else(|| error["fieldName"].as_str());
            let message = error["message"].as_str().or_else(|| error["code"].as_str()).or_else(|| error.as_str());
            match (field, message) {
                (Some(field), Some(message)) => parts.push(format!("{field}: {message}")),
                (None, Some(message)) => parts.push(message.to_owned()),
                _ => {}
            }
        }
    }
    parts.dedup();
    let reason: String = parts.join(": ").chars().take(300).collect();
    if reason.is_empty() {
        format!("HTTP {}", answer.status.as_u16())
    } else {
        format!("HTTP {}: {reason}", answer.status.as_u16())
    }
}

/// A failed answer sorted into retry or not.
pub fn failure(desk: Desk, answer: &Answer, now_unix: u64) -> SendError {
    let status = answer.status.as_u16();
    let reason = format!("{} answered {}", desk.label(), vendor_reason(answer));
    if status == 429 || status == 408 || answer.status.is_server_error() {
        SendError::Retry { reason, after: http::retry_after(&answer.headers, now_unix) }
    } else {
        SendError::Permanent { reason }
    }
}

/// A call that got no answer: always worth retrying.
pub fn unreachable(desk: Desk, err: &Transport) -> SendError {
    SendError::Retry { reason: format!("cannot reach {}: {err}", desk.label()), after: None }
}

/// Sends `request` to `desk`: a call that got no answer, or an answer that is not a
/// success, is the `SendError` it means.
pub async fn call(desk: Desk, http: &DeskHttp, request: reqwest::RequestBuilder) -> Result<Answer, SendError> {
    let answer = http.send(request).await.map_err(|err| unreachable(desk, &err))?;
    if !answer.status.is_success() {
        return Err(failure(desk, &answer, now_unix()));
    }
    Ok(answer)
}

/// Who Baton is signed in as, for the desk's card: "Name <email> at host".
pub fn account_label(name: &str, email: Option<&str>, host: &str) -> String {
    match email {
        Some(email) => format!("{name} <{email}> at {host}"),
        None => format!("{name} at {host}"),
    }
}

pub fn now_unix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
pub(crate) mod tests {
    use ::http::{HeaderMap, StatusCode};

    use super::*;

    /// A vendor's answer with no headers, for the connectors' tests.
    pub(crate) fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            headers: HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn vendor_reasons_are_read_from_every_shape() {
        assert_eq!(
            vendor_reason(&answer(404, r#"{"error":"RecordNotFound","description":"Not found"}"#)),
            "HTTP 404: RecordNotFound: Not found"
        );
        assert_eq!(
            vendor_reason(&answer(401, r#"{"error":{"title":"Forbidden","message":"no"}}"#)),
            "HTTP 401: Forbidden: no"
        );
        assert_eq!(
            vendor_reason(&answer(
                400,
                r#"{"description":"Validation failed","errors":[{"field":"email","message":"bad","code":"invalid_value"}]}"#
            )),
            "HTTP 400: Validation failed: email: bad"
        );
        assert_eq!(
            vendor_reason(&answer(
                401,
                r#"{"type":"error.list","errors":[{"code":"unauthorized","message":"Access Token Invalid"}]}"#
            )),
            "HTTP 401: Access Token Invalid"
        );
        assert_eq!(vendor_reason(&answer(502, "<html>bad gateway</html>")), "HTTP 502");
        assert_eq!(vendor_reason(&answer(500, "[1,2]")), "HTTP 500");
    }

    #[test]
    fn only_throttling_and_server_faults_are_retried() {
        for status in [429, 500, 502, 503, 504, 408] {
            assert!(matches!(failure(Desk::Zendesk, &answer(status, "{}"), 0), SendError::Retry { .. }), "{status}");
        }
        for status in [400, 401, 403, 404, 409, 422] {
            assert!(
                matches!(failure(Desk::Zendesk, &answer(status, "{}"), 0), SendError::Permanent { .. }),
                "{status}"
            );
        }
    }
}
