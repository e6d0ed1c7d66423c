//! Freshdesk: `https://{domain}.freshdesk.com/api/v2`, signed in with an agent's API
//! key (Basic `{key}:X`).
//!
//! Verify: `agents/me` names the agent (401 `invalid_credentials`, 403
//! `access_denied`). Create: `POST tickets` with the visitor as requester (an unknown
//! email becomes a contact), status Open, source Chat, the transcript as the HTML
//! description. Freshdesk has no idempotency key: each ticket carries a tag made from
//! the escalation id, and `find` lists the visitor's tickets (the list is read
//! straight from the account, unlike search, whose index lags) for that tag.

use app::domain::helpdesk::{Desk, Verified};
use async_trait::async_trait;
use serde_json::{json, Value};

use super::{
    account_label, call, failure, now_unix, vendor_reason, Connector, DeskHttp, Form, HandoffPacket, SendError, Ticket,
    VerifyError,
};

pub struct Freshdesk;

/// Freshdesk's codes for a new ticket: status Open, priority Medium, source Chat.
const STATUS_OPEN: u8 = 2;
const PRIORITY_MEDIUM: u8 = 2;
const SOURCE_CHAT: u8 = 7;

fn host(form: &Form) -> String {
    format!("{}.freshdesk.com", form.get("domain"))
}

fn signed(form: &Form, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    request.basic_auth(form.get("api_key"), Some("X"))
}

/// The tag that marks the ticket of one escalation (80 bits of its id: Freshdesk
/// keeps tags short).
pub fn escalation_tag(escalation_id: &str) -> String {
    let bits: String = escalation_id.trim_start_matches("esc_").chars().take(20).collect();
    format!("baton-{bits}")
}

fn ticket(form: &Form, value: &Value) -> Option<Ticket> {
    let id = value["id"].as_u64()?;
    Some(Ticket { id: id.to_string(), url: Some(format!("https://{}/a/tickets/{id}", host(form))) })
}

#[async_trait]
impl Connector for Freshdesk {
    fn desk(&self) -> Desk {
        Desk::Freshdesk
    }

    async fn verify(&self, http: &DeskHttp, form: &mut Form) -> Result<Verified, VerifyError> {
        let host = host(form);
        let request = signed(form, http.client().get(http.url(&host, "/api/v2/agents/me")));
        let answer = http.send(request).await.map_err(|err| VerifyError(format!("cannot reach {host}: {err}")))?;
        match answer.status.as_u16() {
            200 => {}
            301..=308 | 404 => return Err(VerifyError(format!("there is no Freshdesk account at {host}"))),
            401 => {
                return Err(VerifyError(
                    "Freshdesk refused the API key: copy it again from your profile settings".into(),
                ))
            }
            403 => {
                return Err(VerifyError(format!(
                    "Freshdesk accepted the key but denied access ({}): use the key of an agent who can create tickets",
                    vendor_reason(&answer)
                )))
            }
            _ => return Err(VerifyError(failure(Desk::Freshdesk, &answer, now_unix()).to_string())),
        }
        let agent = answer.json().unwrap_or(Value::Null);
        if agent["id"].as_u64().is_none() {
            return Err(VerifyError("Freshdesk's answer named no agent: check the domain".into()));
        }
        let name = agent["contact"]["name"].as_str().unwrap_or("Freshdesk agent");
        let account = account_label(name, agent["contact"]["email"].as_str(), &host);
        Ok(Verified { account, choices: Default::default() })
    }

    async fn find(&self, http: &DeskHttp, form: &Form, packet: &HandoffPacket) -> Result<Option<Ticket>, SendError> {
        let tag = escalation_tag(&packet.escalation_id);
        let request = http.client().get(http.url(&host(form), "/api/v2/tickets")).query(&[
            ("email", packet.visitor_email.as_str()),
            ("order_by", "created_at"),
            ("per_page", "100"),
        ]);
        let list = call(Desk::Freshdesk, http, signed(form, request)).await?.json().unwrap_or(Value::Null);
        let ours = list.as_array().and_then(|tickets| {
            tickets
                .iter()
                .find(|t| t["tags"].as_array().is_some_and(|tags| tags.iter().any(|x| x.as_str() == Some(&tag))))
        });
        Ok(ours.and_then(|t| ticket(form, t)))
    }

    async fn create(&self, http: &DeskHttp, form: &Form, packet: &HandoffPacket) -> Result<Ticket, SendError> {
        let [baton, reason] = packet.tags();
        let mut body = json!({
            "email": packet.visitor_email,
            "subject": packet.subject(),
            "description": packet.html_body(),
            "status": STATUS_OPEN,
            "priority": PRIORITY_MEDIUM,
            "source": SOURCE_CHAT,
            "tags": [baton, reason, escalation_tag(&packet.escalation_id)],
        });
        if let Some(name) = &packet.visitor_name {
            body["name"] = json!(name);
        }
        let request = http.client().post(http.url(&host(form), "/api/v2/tickets")).json(&body);
        call(Desk::Freshdesk, http, signed(form, request))
            .await?
            .json()
            .and_then(|json| ticket(form, &json))
            .ok_or_else(|| SendError::Retry { reason: "Freshdesk's answer named no ticket id".to_owned(), after: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_escalation_tag_is_short_and_stable() {
        let tag = escalation_tag("esc_0123456789abcdef0123456789abcdef");
        assert_eq!(tag, "baton-0123456789abcdef0123");
        assert!(tag.len() <= 32);
    }
}
