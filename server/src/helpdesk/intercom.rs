//! Intercom: `https://api.intercom.io` (US), `api.eu.intercom.io` or `api.au.intercom.io`,
//! signed in with an access token (`Authorization: Bearer`), every call pinned to API
//! version 2.14 (`Intercom-Version`).
//!
//! Verify: `GET /me` must name an admin. A token works only in its workspace's region:
//! with no region chosen, the regions are tried in turn (US, Europe, Australia) and the
//! first that accepts the token becomes the form's region; with one chosen, a refusal
//! there is checked against the others, so the admin is told where the token belongs.
//!
//! Create: the visitor's contact is found by email (`POST /contacts/search`) or created
//! as a lead (`POST /contacts`; the search index lags, so a 409 "already exists with
//! id=…" names the contact instead). The conversation is started from that contact with
//! a plain-text first message (the visitor's request, the summary, and a last line
//! `Baton escalation esc_…`); the transcript follows as an admin note in HTML, every
//! piece of text escaped; then the tags `baton` and the reason. Notes and tags need the
//! admin's id, and the Inbox link the workspace's `id_code`: both are read from `GET /me`
//! on every send, as the form holds only the region and the token.
//!
//! Exactly once: Intercom has no idempotency key and no field Baton can set on a
//! conversation. The escalation id in the first message is the record: `find` searches
//! the visitor's conversations, and those whose first message holds the id, for it
//! (`POST /conversations/search`), then reads the one it finds (`GET /conversations/{id}`)
//! and adds the note and tags an attempt that died did not get to.
//!
//! ⚠ Limits of that lookup:
//! - `POST /conversations/search` is in Intercom's API (2.14) but not in the trimmed
//!   description the contract test runs (`tests/specs/intercom.yaml`). Nothing in that
//!   file can find a conversation whose id was never recorded: it has no search and no
//!   list of a contact's conversations. The contract test checks every other call.
//! - The search index lags behind writes (Intercom: "a few minutes" for contacts). A
//!   retry that comes sooner can miss a conversation and start a second one. Retries
//!   after a crash wait for the outbox lease (2 minutes by default); after a refused
//!   call, for the backoff or `X-RateLimit-Reset`.
//! - Only the first `SEARCH_PAGES` pages of results are read, newest first as Intercom
//!   sorts them ⚠; a search Intercom refuses outright (4xx) is logged and counts as "not
//!   found": a second conversation is better than a handoff that can never be sent.
//! - Once the conversation exists, a note Intercom refuses for good, and any tag failure,
//!   are logged, not a failed handoff: another attempt would not undo the conversation.
//!
//! Throttling: Intercom answers 429 with `X-RateLimit-Reset` (a Unix time) and no
//! `Retry-After`; `http::retry_after` reads it, so the outbox waits until the reset.

use std::collections::BTreeMap;

use app::domain::{
    helpdesk::{Choice, Desk, Verified},
    AuthorKind,
};
use async_trait::async_trait;
use reqwest::Method;
use serde_json::{json, Value};

use super::{
    account_label, call, failure, form::intercom_host, now_unix, packet::escape, unreachable, vendor_reason, Answer,
    Connector, DeskHttp, Form, HandoffPacket, SendError, Ticket, VerifyError,
};

pub struct Intercom;

/// The API version every call asks for.
const VERSION: &str = "2.14";
/// The regions, in the order verify tries them, with their names for people.
const REGIONS: [(&str, &str); 3] = [("us", "United States"), ("eu", "Europe"), ("au", "Australia")];
/// Conversations per search page (Intercom's most) and pages read.
const SEARCH_PAGE: u32 = 150;
const SEARCH_PAGES: usize = 3;

fn region_label(region: &str) -> &'static str {
    REGIONS.iter().find(|(code, _)| *code == region).map_or("chosen", |(_, label)| *label)
}

/// What the first message ends with, and what `find` looks for.
pub fn marker(escalation_id: &str) -> String {
    format!("Baton escalation {escalation_id}")
}

/// An id from an answer (Intercom sends strings, sometimes numbers), if it is one that
/// can go into a path: letters, digits, `_` and `-` only.
fn id_of(value: &Value) -> Option<String> {
    let id = match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        _ => return None,
    };
    let safe = !id.is_empty() && id.len() <= 100 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b));
    safe.then_some(id)
}

/// Who the token signs in as.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Admin {
    id: String,
    name: String,
    email: Option<String>,
    /// The workspace's name and its `id_code` (the Inbox link's part).
    app_name: Option<String>,
    app_code: Option<String>,
}

/// The admin of a `GET /me` answer: `type: "admin"` with an id, or nothing.
fn admin_of(me: &Value) -> Option<Admin> {
    if me["type"].as_str() != Some("admin") {
        return None;
    }
    let text = |v: &Value| v.as_str().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    Some(Admin {
        id: id_of(&me["id"])?,
        name: text(&me["name"]).unwrap_or_else(|| "Intercom admin".to_owned()),
        email: text(&me["email"]),
        app_name: text(&me["app"]["name"]),
        app_code: id_of(&me["app"]["id_code"]),
    })
}

/// The visitor as Intercom knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Contact {
    id: String,
    /// `user` or `lead`.
    role: String,
}

impl Contact {
    /// How `POST /conversations` names the contact's kind.
    fn kind(&self) -> &'static str {
        match self.role.as_str() {
            "user" => "user",
            "lead" => "lead",
            _ => "contact",
        }
    }
}

fn contact_of(value: &Value) -> Option<Contact> {
    Some(Contact { id: id_of(&value["id"])?, role: value["role"].as_str().unwrap_or_default().to_owned() })
}

/// The id in a 409 "A contact matching those details already exists with id=…".
fn existing_id(answer: &Answer) -> Option<String> {
    let json = answer.json()?;
    let errors = json["errors"].as_array().into_iter().flatten().filter_map(|e| e["message"].as_str());
    errors.chain(json["message"].as_str()).find_map(|message| {
        let (_, rest) = message.split_once("id=")?;
        let id: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect();
        id_of(&Value::String(id))
    })
}

/// The conversation's first message, from the visitor, in plain text (Intercom takes no
/// HTML there): what they asked for, the summary, and the marker.
fn first_message(packet: &HandoffPacket) -> String {
    let mut text = String::new();
    if let Some(request) = packet.transcript.iter().find(|m| m.author.kind == AuthorKind::Visitor) {
        text.push_str(request.text.trim());
        text.push_str("\n\n");
    }
    if packet.summary.trim().is_empty() {
        text.push_str(&format!("{}.", packet.reason_label()));
    } else {
        text.push_str(&format!("Summary: {}", packet.summary.trim()));
    }
    text.push_str("\n\n");
    text.push_str(&marker(&packet.escalation_id));
    text
}

/// The admin note: the marker, then the whole handoff in escaped HTML.
fn note_body(packet: &HandoffPacket) -> String {
    format!("<p><em>{}</em></p>{}", escape(&marker(&packet.escalation_id)), packet.html_body())
}

fn ticket(admin: &Admin, conversation_id: &str) -> Ticket {
    let url = admin
        .app_code
        .as_ref()
        .map(|app| format!("https://app.intercom.com/a/apps/{app}/inbox/inbox/conversation/{conversation_id}"));
    Ticket { id: conversation_id.to_owned(), url }
}

fn no_id(what: &str) -> SendError {
    SendError::Retry { reason: format!("Intercom's {what} answer named no id"), after: None }
}

/// Intercom in one region, signed in with one token.
struct Api<'a> {
    http: &'a DeskHttp,
    token: &'a str,
    host: &'static str,
}

impl<'a> Api<'a> {
    fn new(http: &'a DeskHttp, token: &'a str, region: &str) -> Option<Api<'a>> {
        Some(Api { http, token, host: intercom_host(region)? })
    }

    /// The connection's Intercom: its region was checked by `Form::parse`.
    fn of_form(http: &'a DeskHttp, form: &'a Form) -> Result<Api<'a>, SendError> {
        Api::new(http, form.get("access_token"), form.get("region")).ok_or_else(|| SendError::Permanent {
            reason: "the Intercom connection has no region: connect Intercom again".to_owned(),
        })
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .client()
            .request(method, self.http.url(self.host, path))
            .bearer_auth(self.token)
            .header("Intercom-Version", VERSION)
            .header(reqwest::header::ACCEPT, "application/json")
    }

    async fn get(&self, path: &str) -> Result<Value, SendError> {
        let answer = call(Desk::Intercom, self.http, self.request(Method::GET, path)).await?;
        Ok(answer.json().unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: &Value) -> Result<Value, SendError> {
        let answer = call(Desk::Intercom, self.http, self.request(Method::POST, path).json(body)).await?;
        Ok(answer.json().unwrap_or(Value::Null))
    }

    async fn admin(&self) -> Result<Admin, SendError> {
        let me = self.get("/me").await?;
        admin_of(&me).ok_or_else(|| SendError::Permanent {
            reason: "Intercom's /me named no admin: connect Intercom again with an app's access token".to_owned(),
        })
    }

    /// The contact with the visitor's email, if the search index has one (a user before
    /// a lead).
    async fn search_contact(&self, email: &str) -> Result<Option<Contact>, SendError> {
        let query = json!({"query": {"field": "email", "operator": "=", "value": email}});
        let list = self.post("/contacts/search", &query).await?;
        let same = |c: &&Value| c["email"].as_str().is_some_and(|e| e.eq_ignore_ascii_case(email));
        let found: Vec<Contact> =
            list["data"].as_array().into_iter().flatten().filter(same).filter_map(contact_of).collect();
        Ok(found.iter().find(|c| c.role == "user").or(found.first()).cloned())
    }

    /// The visitor's contact: found by email, else created as a lead.
    async fn contact(&self, packet: &HandoffPacket) -> Result<Contact, SendError> {
        if let Some(contact) = self.search_contact(&packet.visitor_email).await? {
            return Ok(contact);
        }
        let mut body = json!({"role": "lead", "email": packet.visitor_email});
        if let Some(name) = &packet.visitor_name {
            body["name"] = json!(name);
        }
        let request = self.request(Method::POST, "/contacts").json(&body);
        let answer = self.http.send(request).await.map_err(|err| unreachable(Desk::Intercom, &err))?;
        if answer.status.as_u16() == 409 {
            // The search index lags behind: Intercom names the contact it already has.
            let id = existing_id(&answer).ok_or_else(|| failure(Desk::Intercom, &answer, now_unix()))?;
            let contact = self.get(&format!("/contacts/{id}")).await?;
            return contact_of(&contact).ok_or_else(|| no_id("contact"));
        }
        if !answer.status.is_success() {
            return Err(failure(Desk::Intercom, &answer, now_unix()));
        }
        answer.json().as_ref().and_then(contact_of).ok_or_else(|| no_id("contact"))
    }

    /// The id of the conversation whose first message holds `packet`'s escalation id,
    /// among the visitor's conversations and those whose first message has the id.
    async fn search_conversation(
        &self,
        contact: Option<&Contact>,
        packet: &HandoffPacket,
    ) -> Result<Option<String>, SendError> {
        let escalation = packet.escalation_id.as_str();
        // `source.body` is matched word by word: the id is one word of the marker.
        let by_body = json!({"field": "source.body", "operator": "=", "value": escalation});
        let query = match contact {
            Some(contact) => json!({"operator": "OR", "value": [
                {"field": "contact_ids", "operator": "=", "value": contact.id},
                by_body
            ]}),
            None => by_body,
        };
        let mut cursor: Option<String> = None;
        for _ in 0..SEARCH_PAGES {
            let mut pagination = json!({"per_page": SEARCH_PAGE});
            if let Some(after) = &cursor {
                pagination["starting_after"] = json!(after);
            }
            let body = json!({"query": query, "pagination": pagination});
            let page = match self.post("/conversations/search", &body).await {
                Ok(page) => page,
                Err(SendError::Permanent { reason }) => {
                    tracing::warn!(escalation, reason = %reason, "Intercom refused the conversation search");
                    return Ok(None);
                }
                Err(err) => return Err(err),
            };
            let conversations = page["conversations"].as_array().into_iter().flatten();
            let ours = conversations
                .filter(|c| c["source"]["body"].as_str().is_some_and(|body| body.contains(escalation)))
                .find_map(|c| id_of(&c["id"]));
            if ours.is_some() {
                return Ok(ours);
            }
            cursor = page["pages"]["next"]["starting_after"].as_str().map(str::to_owned);
            if cursor.is_none() {
                break;
            }
        }
        Ok(None)
    }

    /// Adds to conversation `id` what it lacks of the handoff: the note, then the tags.
    async fn finish(
        &self,
        admin: &Admin,
        id: &str,
        packet: &HandoffPacket,
        has_note: bool,
        tagged: &[String],
    ) -> Result<(), SendError> {
        if !has_note {
            let note =
                json!({"message_type": "note", "type": "admin", "admin_id": admin.id, "body": note_body(packet)});
            match self.post(&format!("/conversations/{id}/reply"), &note).await {
                Ok(_) => {}
                // The next attempt finds the conversation and adds the note then.
                Err(err @ SendError::Retry { .. }) => return Err(err),
                Err(SendError::Permanent { reason }) => {
                    tracing::warn!(conversation = id, reason = %reason, "Intercom refused the transcript note");
                }
            }
        }
        for name in packet.tags() {
            if tagged.iter().any(|t| t == name) {
                continue;
            }
            if let Err(err) = self.tag(admin, id, name).await {
                tracing::warn!(conversation = id, tag = name, reason = %err, "Intercom did not tag the conversation");
            }
        }
        Ok(())
    }

    async fn tag(&self, admin: &Admin, conversation_id: &str, name: &str) -> Result<(), SendError> {
        let tag = self.post("/tags", &json!({"name": name})).await?;
        let tag_id = id_of(&tag["id"]).ok_or_else(|| no_id("tag"))?;
        let body = json!({"id": tag_id, "admin_id": admin.id});
        self.post(&format!("/conversations/{conversation_id}/tags"), &body).await?;
        Ok(())
    }
}

/// What one region answered to `GET /me`.
enum Probe {
    Accepted(Value),
    Refused,
}

async fn probe(http: &DeskHttp, token: &str, region: &str) -> Result<Probe, VerifyError> {
    let api = Api::new(http, token, region).ok_or_else(|| VerifyError("region: must be us, eu or au".to_owned()))?;
    let answer = http
        .send(api.request(Method::GET, "/me"))
        .await
        .map_err(|err| VerifyError(format!("cannot reach {}: {err}", api.host)))?;
    match answer.status.as_u16() {
        200 => Ok(Probe::Accepted(answer.json().unwrap_or(Value::Null))),
        401 => Ok(Probe::Refused),
        403 => Err(VerifyError(format!(
            "Intercom accepted the access token but denied access ({}): use the token of an app in your workspace",
            vendor_reason(&answer)
        ))),
        _ => Err(VerifyError(failure(Desk::Intercom, &answer, now_unix()).to_string())),
    }
}

fn refused_everywhere() -> VerifyError {
    VerifyError(
        "Intercom refused the access token in every region (US, Europe, Australia): copy it again from Developer \
         Hub → your app → Configure → Authentication"
            .to_owned(),
    )
}

#[async_trait]
impl Connector for Intercom {
    fn desk(&self) -> Desk {
        Desk::Intercom
    }

    async fn verify(&self, http: &DeskHttp, form: &mut Form) -> Result<Verified, VerifyError> {
        let token = form.get("access_token").to_owned();
        let (region, me) = if form.has("region") {
            let region = form.get("region").to_owned();
            match probe(http, &token, &region).await? {
                Probe::Accepted(me) => (region, me),
                Probe::Refused => {
                    // Tell the admin where the token does work, if anywhere.
                    for (other, label) in REGIONS.iter().filter(|(code, _)| *code != region) {
                        if matches!(probe(http, &token, other).await, Ok(Probe::Accepted(_))) {
                            return Err(VerifyError(format!(
                                "Intercom refused the access token in the {} region: this token belongs to the \
                                 {label} region",
                                region_label(&region)
                            )));
                        }
                    }
                    return Err(refused_everywhere());
                }
            }
        } else {
            let mut accepted = None;
            for (region, _) in REGIONS {
                if let Probe::Accepted(me) = probe(http, &token, region).await? {
                    accepted = Some((region.to_owned(), me));
                    break;
                }
            }
            accepted.ok_or_else(refused_everywhere)?
        };
        let admin = admin_of(&me).ok_or_else(|| {
            VerifyError(
                "Intercom's /me named no admin: use the access token of an app in your workspace (Developer Hub)"
                    .to_owned(),
            )
        })?;
        form.set("region", region.clone());
        let workspace = admin.app_name.clone().or_else(|| admin.app_code.clone()).unwrap_or_else(|| "Intercom".into());
        let place = format!("{workspace} ({})", region_label(&region));
        let choice = Choice { value: region.clone(), label: region_label(&region).to_owned(), parent: None };
        Ok(Verified {
            account: account_label(&admin.name, admin.email.as_deref(), &place),
            choices: BTreeMap::from([("region".to_owned(), vec![choice])]),
        })
    }

    async fn find(&self, http: &DeskHttp, form: &Form, packet: &HandoffPacket) -> Result<Option<Ticket>, SendError> {
        let api = Api::of_form(http, form)?;
        let admin = api.admin().await?;
        let contact = api.search_contact(&packet.visitor_email).await?;
        let Some(id) = api.search_conversation(contact.as_ref(), packet).await? else {
            return Ok(None);
        };
        let conversation = api.get(&format!("/conversations/{id}")).await?;
        let parts = conversation["conversation_parts"]["conversation_parts"].as_array().into_iter().flatten();
        let has_note = parts
            .filter(|part| part["part_type"] == "note")
            .any(|part| part["body"].as_str().is_some_and(|body| body.contains(&packet.escalation_id)));
        let tagged: Vec<String> = conversation["tags"]["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|tag| tag["name"].as_str().map(str::to_owned))
            .collect();
        api.finish(&admin, &id, packet, has_note, &tagged).await?;
        Ok(Some(ticket(&admin, &id)))
    }

    async fn create(&self, http: &DeskHttp, form: &Form, packet: &HandoffPacket) -> Result<Ticket, SendError> {
        let api = Api::of_form(http, form)?;
        let admin = api.admin().await?;
        let contact = api.contact(packet).await?;
        let body = json!({"from": {"type": contact.kind(), "id": contact.id}, "body": first_message(packet)});
        let message = api.post("/conversations", &body).await?;
        // `id` is the message's; the conversation's is `conversation_id`. Without it the
        // conversation exists all the same, and the next attempt finds it by the marker.
        let id = id_of(&message["conversation_id"]).ok_or_else(|| no_id("conversation"))?;
        api.finish(&admin, &id, packet, false, &[]).await?;
        Ok(ticket(&admin, &id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::helpdesk::{packet::tests::packet, tests::answer};


    #[test]
    fn a_conflict_names_the_contact_intercom_already_has() {
        let message = "A contact matching those details already exists with id=6762f0dd1bb69f9f2193bb83";
        let body = json!({"type": "error.list", "errors": [{"code": "conflict", "message": message}]});
        let conflict = answer(409, &body.to_string());
        assert_eq!(existing_id(&conflict).as_deref(), Some("6762f0dd1bb69f9f2193bb83"));
        assert_eq!(existing_id(&answer(409, r#"{"errors":[{"message":"id=../me"}]}"#)), None);
        assert_eq!(existing_id(&answer(409, "<html>")), None);
    }

    #[test]
    fn only_ids_that_fit_in_a_path_are_taken() {
        assert_eq!(id_of(&json!("499")).as_deref(), Some("499"));
        assert_eq!(id_of(&json!(64619700005570_u64)).as_deref(), Some("64619700005570"));
        for bad in [json!(""), json!("1/../me"), json!("1?x=2"), json!(null), json!({"id": 1})] {
            assert_eq!(id_of(&bad), None, "{bad}");
        }
    }

    #[test]
    fn me_must_be_an_admin_with_an_id() {
        let me = json!({"type": "admin", "id": "991267459", "name": "Ciaran Lee", "email": "c@acme.test",
            "app": {"id_code": "abc123", "name": "Acme"}});
        let admin = admin_of(&me).unwrap_or_else(|| panic!("no admin in {me}"));
        assert_eq!((admin.id.as_str(), admin.app_code.as_deref()), ("991267459", Some("abc123")));
        assert_eq!(
            ticket(&admin, "499").url.as_deref(),
            Some("https://app.intercom.com/a/apps/abc123/inbox/inbox/conversation/499")
        );
        assert_eq!(admin_of(&json!({"type": "user", "id": "1"})), None);
        assert_eq!(admin_of(&json!({"type": "admin"})), None);
    }

    #[test]
    fn the_first_message_is_plain_text_ending_with_the_marker_and_the_note_is_escaped() {
        let packet = packet();
        let text = first_message(&packet);
        assert!(text.starts_with("I was charged twice <script>"), "plain text, not HTML: {text}");
        assert!(text.contains("Summary: Customer was charged twice"), "{text}");
        assert!(text.ends_with("\n\nBaton escalation esc-1"), "{text}");
        let note = note_body(&packet);
        assert!(note.starts_with("<p><em>Baton escalation esc-1</em></p>"), "{note}");
        assert!(note.contains("&lt;script&gt;") && !note.contains("<script>"), "{note}");
    }

    #[test]
    fn the_contact_s_role_names_the_sender() {
        let contact = |role: &str| Contact { id: "1".into(), role: role.into() };
        assert_eq!(contact("user").kind(), "user");
        assert_eq!(contact("lead").kind(), "lead");
        assert_eq!(contact("").kind(), "contact");
    }
}
