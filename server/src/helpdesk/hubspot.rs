//! HubSpot: `https://api.hubapi.com`, signed in with a private app's access token
//! (bearer). The app needs the scopes `tickets`, `crm.objects.contacts.read` and
//! `crm.objects.contacts.write`, and, for the one-time setup below, permission to
//! manage ticket properties (`crm.schemas.tickets.write`).
//!
//! Verify: `account-info/v3/details` names the portal (401 `INVALID_AUTHENTICATION`,
//! 403 a missing scope); the ticket pipelines and their open stages become the
//! form's two choices (ids, not labels: labels are renamed, ids stay), and a
//! pipeline and stage already chosen must be among them.
//!
//! HubSpot has no idempotency key. Verify makes sure tickets have Baton's own
//! property `baton_escalation_id` with unique values (creating it once); every
//! ticket carries its escalation id there, so HubSpot itself refuses a second ticket
//! for one escalation (409, read as "the ticket exists": `find` returns it), and
//! `find` reads the ticket by that property (`?idProperty=`), straight from the
//! account rather than through search, whose index lags.
//!
//! Create: the visitor's contact is found by email or created (search lags a new
//! contact, so a 409 "Contact already exists. Existing ID: N" names it), then the
//! ticket is created in the chosen pipeline and stage, priority HIGH, associated
//! with the contact. HubSpot tickets have no tags and their `content` is plain text
//! of at most ~64K: its first line carries `baton` and the reason instead of tags,
//! and a transcript too long is cut, keeping the link to the whole conversation.
//!
//! Agents' ticket links need the portal id, which the form does not hold: it is read
//! again, best effort, once the ticket exists (no link rather than no ticket).

use std::collections::BTreeMap;

use app::domain::helpdesk::{Choice, Desk, Verified};
use async_trait::async_trait;
use serde_json::{json, Value};

use super::{
    account_label, call, failure, now_unix, unreachable, vendor_reason, Answer, Connector, DeskHttp, Form,
    HandoffPacket, SendError, Ticket, Transport, VerifyError,
};

pub struct Hubspot;

/// HubSpot's one API host (EU portals too: their tokens say `pat-eu1-`, the host is the same).
const HOST: &str = "api.hubapi.com";
/// Where agents open records when the account details name no `uiDomain`.
const UI_HOST: &str = "app.hubspot.com";
/// Baton's ticket property: the escalation id, unique per ticket.
pub const ESCALATION_PROPERTY: &str = "baton_escalation_id";
/// HubSpot's association type "ticket to contact" (contact to ticket is 15).
const TICKET_TO_CONTACT: u32 = 16;
/// Most bytes put in a ticket's `content`. HubSpot keeps about 64K per text
/// property; counting bytes keeps within that however HubSpot counts.
pub const MAX_CONTENT_BYTES: usize = 65_000;

fn signed(form: &Form, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    request.bearer_auth(form.get("access_token"))
}

fn get(http: &DeskHttp, form: &Form, path: &str) -> reqwest::RequestBuilder {
    signed(form, http.client().get(http.url(HOST, path)))
}

fn post(http: &DeskHttp, form: &Form, path: &str, body: &Value) -> reqwest::RequestBuilder {
    signed(form, http.client().post(http.url(HOST, path)).json(body))
}

fn reach(err: &Transport) -> VerifyError {
    VerifyError(format!("cannot reach {HOST}: {err}"))
}

/// An id as HubSpot writes it: a string (`"512"`), or a number in older answers.
fn text_id(value: &Value) -> Option<String> {
    match value {
        Value::String(id) if !id.is_empty() => Some(id.clone()),
        Value::Number(id) => Some(id.to_string()),
        _ => None,
    }
}

/// The portal a token belongs to, from `account-info/v3/details`.
struct Portal {
    id: u64,
    ui_domain: String,
}

impl Portal {
    fn read(details: &Value) -> Option<Portal> {
        let id = details["portalId"].as_u64()?;
        let ui_domain = details["uiDomain"].as_str().filter(|d| is_hubspot_host(d)).unwrap_or(UI_HOST).to_owned();
        Some(Portal { id, ui_domain })
    }

    fn ticket_url(&self, ticket_id: &str) -> String {
        format!("https://{}/contacts/{}/ticket/{ticket_id}", self.ui_domain, self.id)
    }
}

/// `uiDomain` ends up in links agents click: only a HubSpot host is taken from it.
fn is_hubspot_host(host: &str) -> bool {
    host.ends_with(".hubspot.com")
        && host.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
}

/// The ticket `id`, with the agents' link when the portal can be read now.
async fn ticket(http: &DeskHttp, form: &Form, id: String) -> Ticket {
    let portal = match http.send(get(http, form, "/account-info/v3/details")).await {
        Ok(answer) if answer.status.is_success() => answer.json().as_ref().and_then(Portal::read),
        _ => None,
    };
    Ticket { url: portal.map(|p| p.ticket_url(&id)), id }
}

/// The pipelines and their open stages, as the form's choices. A closed stage is not
/// offered: a ticket created in it would be closed on arrival, out of agents' sight.
async fn pipelines(http: &DeskHttp, form: &Form) -> Result<BTreeMap<String, Vec<Choice>>, VerifyError> {
    let answer = http.send(get(http, form, "/crm/v3/pipelines/tickets")).await.map_err(|err| reach(&err))?;
    if matches!(answer.status.as_u16(), 401 | 403) {
        return Err(VerifyError(format!(
            "HubSpot would not list the ticket pipelines ({}): give the private app the tickets scope",
            vendor_reason(&answer)
        )));
    }
    if !answer.status.is_success() {
        return Err(VerifyError(failure(Desk::Hubspot, &answer, now_unix()).to_string()));
    }
    let json = answer.json().unwrap_or(Value::Null);
    let (mut pipelines, mut stages) = (Vec::new(), Vec::new());
    for pipeline in json["results"].as_array().into_iter().flatten() {
        let (Some(id), Some(label)) = (text_id(&pipeline["id"]), pipeline["label"].as_str()) else { continue };
        let open: Vec<Choice> = pipeline["stages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|stage| stage["metadata"]["ticketState"].as_str() != Some("CLOSED"))
            .filter_map(|stage| {
                let label = stage["label"].as_str()?;
                Some(Choice { value: text_id(&stage["id"])?, label: label.to_owned(), parent: Some(id.clone()) })
            })
            .collect();
        if !open.is_empty() {
            stages.extend(open);
            pipelines.push(Choice { value: id, label: label.to_owned(), parent: None });
        }
    }
    if pipelines.is_empty() {
        return Err(VerifyError(
            "this HubSpot account has no ticket pipeline with an open stage: add one under Settings → Objects → \
             Tickets → Pipelines"
                .to_owned(),
        ));
    }
    Ok(BTreeMap::from([("pipeline".to_owned(), pipelines), ("stage".to_owned(), stages)]))
}

/// A pipeline and stage already in the form (connect, after verify) must be ones
/// HubSpot listed, the stage in that pipeline: otherwise every ticket would be refused.
fn check_chosen(form: &Form, choices: &BTreeMap<String, Vec<Choice>>) -> Result<(), VerifyError> {
    let listed = |field: &str| choices.get(field).into_iter().flatten();
    let pipeline = form.has("pipeline").then(|| form.get("pipeline"));
    if let Some(pipeline) = pipeline {
        if !listed("pipeline").any(|c| c.value == pipeline) {
            return Err(VerifyError(format!(
                "HubSpot has no ticket pipeline with the id {pipeline:?}: choose one of those read from the account"
            )));
        }
    }
    if form.has("stage") {
        let stage = form.get("stage");
        let fits = |c: &Choice| c.value == stage && pipeline.is_none_or(|p| c.parent.as_deref() == Some(p));
        if !listed("stage").any(fits) {
            let place = pipeline.map_or_else(|| "any pipeline".to_owned(), |p| format!("the pipeline {p:?}"));
            return Err(VerifyError(format!(
                "{stage:?} is not an open stage of {place} in HubSpot: choose one of the stages read from the account"
            )));
        }
    }
    Ok(())
}

fn no_property_permission(answer: &Answer) -> VerifyError {
    VerifyError(format!(
        "HubSpot would not let Baton read or create its ticket property {ESCALATION_PROPERTY} ({}): give the \
         private app permission to manage ticket properties (crm.schemas.tickets.write), or create the property \
         yourself as a single-line text with unique values",
        vendor_reason(answer)
    ))
}

/// Makes sure tickets have `ESCALATION_PROPERTY` with unique values, creating it the
/// first time. Without uniqueness HubSpot would neither refuse a second ticket nor
/// look one up by it, and exactly one ticket per escalation could not be kept.
async fn ensure_property(http: &DeskHttp, form: &Form) -> Result<(), VerifyError> {
    let path = format!("/crm/v3/properties/tickets/{ESCALATION_PROPERTY}");
    let answer = http.send(get(http, form, &path)).await.map_err(|err| reach(&err))?;
    match answer.status.as_u16() {
        200 if answer.json().is_some_and(|p| p["hasUniqueValue"].as_bool() == Some(true)) => return Ok(()),
        200 => {
            return Err(VerifyError(format!(
                "the HubSpot ticket property {ESCALATION_PROPERTY} exists but does not require unique values, so \
                 Baton cannot make sure each escalation becomes one ticket: delete it and verify again (Baton \
                 creates it with unique values)"
            )))
        }
        404 => {}
        403 => return Err(no_property_permission(&answer)),
        _ => return Err(VerifyError(failure(Desk::Hubspot, &answer, now_unix()).to_string())),
    }
    let property = json!({
        "name": ESCALATION_PROPERTY,
        "label": "Baton escalation id",
        "type": "string",
        "fieldType": "text",
        "groupName": "ticketinformation",
        "hasUniqueValue": true,
        "description": "Set by Baton: the escalation this ticket was created for.",
    });
    let created = http.send(post(http, form, "/crm/v3/properties/tickets", &property)).await;
    let created = created.map_err(|err| reach(&err))?;
    match created.status.as_u16() {
        // 409: created meanwhile (another verify): it is there.
        200..=299 | 409 => Ok(()),
        403 => Err(no_property_permission(&created)),
        _ => Err(VerifyError(failure(Desk::Hubspot, &created, now_unix()).to_string())),
    }
}

/// The visitor's name as HubSpot's first and last name: split at the first space.
pub fn split_name(name: &str) -> Option<(&str, Option<&str>)> {
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    Some(match name.split_once(char::is_whitespace) {
        Some((first, last)) => (first, Some(last.trim()).filter(|l| !l.is_empty())),
        None => (name, None),
    })
}

/// The contact id in HubSpot's 409 to a contact that exists: "Contact already
/// exists. Existing ID: 12345".
pub fn existing_id(message: &str) -> Option<String> {
    let (_, after) = message.split_once("Existing ID:")?;
    let id: String = after.trim_start().chars().take_while(char::is_ascii_digit).collect();
    (!id.is_empty()).then_some(id)
}

/// `text` within `max` bytes: cut on a character boundary, `tail` after the cut (a
/// `tail` that does not fit leaves the text cut bare).
pub fn shorten(text: &str, max: usize, tail: &str) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let tail = if tail.len() < max { tail } else { "" };
    let mut cut = max - tail.len();
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{tail}", &text[..cut])
}

/// The ticket's plain-text `content`: a first line with what other desks get as tags,
/// then the packet's text, within `MAX_CONTENT_BYTES`.
pub fn content(packet: &HandoffPacket) -> String {
    let [baton, reason] = packet.tags();
    let text = format!("Tags: {baton}, {reason}\n\n{}", packet.text_body());
    let tail = format!("\n…\n(Shortened: the whole conversation is in Baton: {})\n", packet.link);
    shorten(&text, MAX_CONTENT_BYTES, &tail)
}

/// The visitor's contact id: found by email, else created.
async fn contact(http: &DeskHttp, form: &Form, packet: &HandoffPacket) -> Result<String, SendError> {
    let search = json!({
        "filterGroups": [{"filters": [{"propertyName": "email", "operator": "EQ", "value": packet.visitor_email}]}],
        "limit": 1,
    });
    let request = post(http, form, "/crm/v3/objects/contacts/search", &search);
    let found = call(Desk::Hubspot, http, request).await?.json().unwrap_or(Value::Null);
    if let Some(id) = text_id(&found["results"][0]["id"]) {
        return Ok(id);
    }
    let mut properties = json!({"email": packet.visitor_email});
    if let Some((first, last)) = packet.visitor_name.as_deref().and_then(split_name) {
        properties["firstname"] = json!(first);
        if let Some(last) = last {
            properties["lastname"] = json!(last);
        }
    }
    let request = post(http, form, "/crm/v3/objects/contacts", &json!({"properties": properties}));
    let answer = http.send(request).await.map_err(|err| unreachable(Desk::Hubspot, &err))?;
    if answer.status.as_u16() == 409 {
        // Search had not indexed the contact yet; HubSpot names it in the refusal.
        if let Some(id) = answer.json().as_ref().and_then(|j| j["message"].as_str()).and_then(existing_id) {
            return Ok(id);
        }
    }
    if !answer.status.is_success() {
        return Err(failure(Desk::Hubspot, &answer, now_unix()));
    }
    answer
        .json()
        .and_then(|json| text_id(&json["id"]))
        .ok_or_else(|| SendError::Retry { reason: "HubSpot's answer named no contact id".to_owned(), after: None })
}

fn no_ticket_id() -> SendError {
    SendError::Retry { reason: "HubSpot's answer named no ticket id".to_owned(), after: None }
}

/// HubSpot refusing a second value of the unique property: a 409, or a 400 validation
/// error naming `INVALID_UNIQUE_VALUE`; either way, an earlier attempt made the ticket.
fn is_duplicate(answer: &Answer) -> bool {
    match answer.status.as_u16() {
        409 => true,
        400 => String::from_utf8_lossy(&answer.body).contains("INVALID_UNIQUE_VALUE"),
        _ => false,
    }
}

#[async_trait]
impl Connector for Hubspot {
    fn desk(&self) -> Desk {
        Desk::Hubspot
    }

    async fn verify(&self, http: &DeskHttp, form: &mut Form) -> Result<Verified, VerifyError> {
        let details = http.send(get(http, form, "/account-info/v3/details")).await.map_err(|err| reach(&err))?;
        match details.status.as_u16() {
            200 => {}
            401 => {
                return Err(VerifyError(
                    "HubSpot refused the access token: copy it again from your private app (Settings → \
                     Integrations → Private apps → your app → Auth)"
                        .to_owned(),
                ))
            }
            403 => {
                return Err(VerifyError(format!(
                    "HubSpot accepted the access token but denied access ({}): give the private app the scopes \
                     tickets, crm.objects.contacts.read and crm.objects.contacts.write",
                    vendor_reason(&details)
                )))
            }
            _ => return Err(VerifyError(failure(Desk::Hubspot, &details, now_unix()).to_string())),
        }
        let portal = details.json().as_ref().and_then(Portal::read).ok_or_else(|| {
            VerifyError("HubSpot's account details named no portal: check the access token".to_owned())
        })?;
        let choices = pipelines(http, form).await?;
        check_chosen(form, &choices)?;
        ensure_property(http, form).await?;
        let account = account_label(&format!("HubSpot portal {}", portal.id), None, &portal.ui_domain);
        Ok(Verified { account, choices })
    }

    async fn find(&self, http: &DeskHttp, form: &Form, packet: &HandoffPacket) -> Result<Option<Ticket>, SendError> {
        // Baton's ids are `esc_` and hex; anything else must not be put in a path.
        let id = &packet.escalation_id;
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return Err(SendError::Permanent { reason: format!("the escalation id {id:?} cannot be looked up") });
        }
        let request = get(http, form, &format!("/crm/v3/objects/tickets/{id}"))
            .query(&[("idProperty", ESCALATION_PROPERTY), ("properties", ESCALATION_PROPERTY)]);
        let answer = http.send(request).await.map_err(|err| unreachable(Desk::Hubspot, &err))?;
        if answer.status.as_u16() == 404 {
            return Ok(None);
        }
        if !answer.status.is_success() {
            return Err(failure(Desk::Hubspot, &answer, now_unix()));
        }
        let found = answer.json().and_then(|json| text_id(&json["id"])).ok_or_else(no_ticket_id)?;
        Ok(Some(ticket(http, form, found).await))
    }

    async fn create(&self, http: &DeskHttp, form: &Form, packet: &HandoffPacket) -> Result<Ticket, SendError> {
        let contact = contact(http, form, packet).await?;
        let mut body = json!({
            "properties": {
                "subject": packet.subject(),
                "content": content(packet),
                "hs_pipeline": form.get("pipeline"),
                "hs_pipeline_stage": form.get("stage"),
                "hs_ticket_priority": "HIGH",
            },
            "associations": [{
                "to": {"id": contact},
                "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": TICKET_TO_CONTACT}],
            }],
        });
        body["properties"][ESCALATION_PROPERTY] = json!(packet.escalation_id);
        let request = post(http, form, "/crm/v3/objects/tickets", &body);
        let answer = http.send(request).await.map_err(|err| unreachable(Desk::Hubspot, &err))?;
        if is_duplicate(&answer) {
            return match self.find(http, form, packet).await? {
                Some(ticket) => Ok(ticket),
                None => Err(SendError::Retry {
                    reason: format!(
                        "HubSpot answered {} but its ticket for this escalation cannot be read yet",
                        vendor_reason(&answer)
                    ),
                    after: None,
                }),
            };
        }
        if !answer.status.is_success() {
            return Err(failure(Desk::Hubspot, &answer, now_unix()));
        }
        let id = answer.json().and_then(|json| text_id(&json["id"])).ok_or_else(no_ticket_id)?;
        Ok(ticket(http, form, id).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::helpdesk::packet::tests::packet;

    #[test]
    fn a_name_splits_into_first_and_last_at_the_first_space() {
        assert_eq!(split_name("Jordan Lee"), Some(("Jordan", Some("Lee"))));
        assert_eq!(split_name("  Ana María  de la Cruz "), Some(("Ana", Some("María  de la Cruz"))));
        assert_eq!(split_name("Cher"), Some(("Cher", None)));
        assert_eq!(split_name("   "), None);
    }

    #[test]
    fn the_existing_contact_is_read_from_the_conflict_message() {
        assert_eq!(existing_id("Contact already exists. Existing ID: 12345").as_deref(), Some("12345"));
        assert_eq!(existing_id("Contact already exists. Existing ID:77 (email)").as_deref(), Some("77"));
        assert_eq!(existing_id("Contact already exists."), None);
        assert_eq!(existing_id("Existing ID: none"), None);
    }

    #[test]
    fn long_content_is_cut_on_a_character_boundary_with_its_tail() {
        assert_eq!(shorten("short", 10, "…"), "short");
        let text = "é".repeat(10); // two bytes each
        let cut = shorten(&text, 9, "!");
        assert_eq!(cut, "éééé!");
        assert!(cut.len() <= 9);
        assert_eq!(shorten(&text, 3, "a long tail"), "é");
        assert_eq!(shorten("abc", 0, "tail"), "");
    }

    #[test]
    fn the_content_names_the_tags_first_and_stays_within_the_limit() {
        let mut long = packet();
        let text = content(&long);
        assert!(text.starts_with("Tags: baton, cannot_resolve\n"), "{text}");
        assert!(text.contains("Summary: Customer was charged twice") && text.contains(&long.link), "{text}");
        let mut message = long.transcript[0].clone();
        message.text = "ü".repeat(5_000);
        long.transcript = vec![message; 20];
        let text = content(&long);
        assert!(text.len() <= MAX_CONTENT_BYTES, "{}", text.len());
        assert!(text.ends_with(&format!("in Baton: {})\n", long.link)), "the link survives the cut");
    }

    #[test]
    fn only_hubspot_hosts_are_taken_for_links() {
        let portal = Portal::read(&json!({"portalId": 42, "uiDomain": "app-eu1.hubspot.com"}));
        let url = portal.map(|p| p.ticket_url("9"));
        assert_eq!(url.as_deref(), Some("https://app-eu1.hubspot.com/contacts/42/ticket/9"));
        for bad in ["evil.com", "app.hubspot.com.evil.io", "x/.hubspot.com", "APP.hubspot.com"] {
            let portal = Portal::read(&json!({"portalId": 42, "uiDomain": bad}));
            assert_eq!(portal.map(|p| p.ui_domain).as_deref(), Some(UI_HOST), "{bad}");
        }
        assert!(Portal::read(&json!({"uiDomain": "app.hubspot.com"})).is_none());
    }
}
