//! Zendesk: `https://{subdomain}.zendesk.com/api/v2`, signed in with an OAuth client
//! (client-credentials grant, bearer token) or, the legacy way until 2027-04-30, an
//! agent's email and API token (Basic `{email}/token:{token}`).
//!
//! Verify: `users/me` answers 200 "Anonymous user" to bad credentials, so it must
//! name a real agent or admin, and one call that needs sign-in (the ticket list)
//! must succeed too. Create: `POST tickets.json` with `Idempotency-Key` (the
//! escalation id, also stored as the ticket's `external_id`, which `find` looks up
//! once the key has expired). The transcript is an internal comment (`public:
//! false`), in HTML with every piece of text escaped.

use app::domain::helpdesk::{Desk, Verified};
use async_trait::async_trait;
use serde_json::{json, Value};

use super::{
    account_label, call, failure, now_unix, unreachable, Connector, DeskHttp, Form, HandoffPacket, SendError, Ticket,
    VerifyError,
};

pub struct Zendesk;

fn host(form: &Form) -> String {
    format!("{}.zendesk.com", form.get("subdomain"))
}

enum Auth {
    Basic { user: String, token: String },
    Bearer(String),
}

impl Auth {
    fn apply(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Auth::Basic { user, token } => request.basic_auth(user, Some(token)),
            Auth::Bearer(token) => request.bearer_auth(token),
        }
    }
}

/// Why signing in failed.
enum AuthError {
    Refused(String),
    Failed(SendError),
}

async fn sign_in(http: &DeskHttp, form: &Form) -> Result<Auth, AuthError> {
    if !(form.has("client_id") && form.has("client_secret")) {
        return Ok(Auth::Basic {
            user: format!("{}/token", form.get("email")),
            token: form.get("api_token").to_owned(),
        });
    }
    let body = json!({
        "grant_type": "client_credentials",
        "client_id": form.get("client_id"),
        "client_secret": form.get("client_secret"),
        "scope": "tickets:write read",
    });
    let request = http.client().post(http.url(&host(form), "/oauth/tokens")).json(&body);
    let answer = http.send(request).await.map_err(|err| AuthError::Failed(unreachable(Desk::Zendesk, &err)))?;
    if matches!(answer.status.as_u16(), 400 | 401 | 403) {
        return Err(AuthError::Refused(
            "Zendesk refused the OAuth client: check its identifier and secret, and that it is a confidential client"
                .to_owned(),
        ));
    }
    if !answer.status.is_success() {
        return Err(AuthError::Failed(failure(Desk::Zendesk, &answer, now_unix())));
    }
    match answer.json().as_ref().and_then(|j| j["access_token"].as_str()) {
        Some(token) => Ok(Auth::Bearer(token.to_owned())),
        None => Err(AuthError::Failed(SendError::Retry {
            reason: "Zendesk's token answer had no access_token".to_owned(),
            after: None,
        })),
    }
}

async fn signed_in(http: &DeskHttp, form: &Form) -> Result<Auth, SendError> {
    sign_in(http, form).await.map_err(|err| match err {
        AuthError::Refused(reason) => SendError::Permanent { reason },
        AuthError::Failed(err) => err,
    })
}

fn ticket(form: &Form, value: &Value) -> Option<Ticket> {
    let id = value["id"].as_u64()?;
    Some(Ticket { id: id.to_string(), url: Some(format!("https://{}/agent/tickets/{id}", host(form))) })
}

#[async_trait]
impl Connector for Zendesk {
    fn desk(&self) -> Desk {
        Desk::Zendesk
    }

    async fn verify(&self, http: &DeskHttp, form: &mut Form) -> Result<Verified, VerifyError> {
        let host = host(form);
        let reach = |err: &super::Transport| VerifyError(format!("cannot reach {host}: {err}"));
        let auth = sign_in(http, form).await.map_err(|err| match err {
            AuthError::Refused(reason) => VerifyError(reason),
            AuthError::Failed(err) => VerifyError(err.to_string()),
        })?;
        let me = http.send(auth.apply(http.client().get(http.url(&host, "/api/v2/users/me.json")))).await;
        let me = me.map_err(|err| reach(&err))?;
        match me.status.as_u16() {
            200 => {}
            301..=308 | 404 => return Err(VerifyError(format!("there is no Zendesk account at {host}"))),
            401 | 403 => {
                return Err(VerifyError(
                    "Zendesk refused the credentials: check the agent email and API token".to_owned(),
                ))
            }
            _ => return Err(VerifyError(failure(Desk::Zendesk, &me, now_unix()).to_string())),
        }
        let user = me.json().map(|j| j["user"].clone()).unwrap_or(Value::Null);
        let role = user["role"].as_str().unwrap_or_default();
        if user["id"].as_u64().is_none() {
            return Err(VerifyError(
                "Zendesk did not recognise these credentials (it answered as an anonymous user): check the agent \
                 email and API token"
                    .to_owned(),
            ));
        }
        if role != "agent" && role != "admin" {
            return Err(VerifyError(format!(
                "these credentials belong to a Zendesk {}, not an agent or admin",
                if role.is_empty() { "user" } else { role }
            )));
        }
        let tickets = http.client().get(http.url(&host, "/api/v2/tickets.json")).query(&[("per_page", "1")]);
        let tickets = http.send(auth.apply(tickets)).await.map_err(|err| reach(&err))?;
        if !tickets.status.is_success() {
            return Err(VerifyError(format!(
                "signed in, but Zendesk would not list tickets ({}): the user or the OAuth scope cannot work with \
                 tickets",
                super::vendor_reason(&tickets)
            )));
        }
        let name = user["name"].as_str().unwrap_or("Zendesk agent");
        Ok(Verified { account: account_label(name, user["email"].as_str(), &host), choices: Default::default() })
    }

    async fn find(&self, http: &DeskHttp, form: &Form, packet: &HandoffPacket) -> Result<Option<Ticket>, SendError> {
        let auth = signed_in(http, form).await?;
        let request = http
            .client()
            .get(http.url(&host(form), "/api/v2/tickets.json"))
            .query(&[("external_id", packet.escalation_id.as_str())]);
        let json = call(Desk::Zendesk, http, auth.apply(request)).await?.json().unwrap_or(Value::Null);
        Ok(json["tickets"].as_array().and_then(|list| list.iter().find_map(|t| ticket(form, t))))
    }

    async fn create(&self, http: &DeskHttp, form: &Form, packet: &HandoffPacket) -> Result<Ticket, SendError> {
        let auth = signed_in(http, form).await?;
        let mut requester = json!({"email": packet.visitor_email});
        if let Some(name) = &packet.visitor_name {
            requester["name"] = json!(name);
        }
        let body = json!({"ticket": {
            "subject": packet.subject(),
            "comment": {"html_body": packet.html_body(), "public": false},
            "requester": requester,
            "tags": packet.tags(),
            "external_id": packet.escalation_id,
            "priority": "normal",
        }});
        let request = http
            .client()
            .post(http.url(&host(form), "/api/v2/tickets.json"))
            .header("Idempotency-Key", packet.escalation_id.as_str())
            .json(&body);
        call(Desk::Zendesk, http, auth.apply(request))
            .await?
            .json()
            .and_then(|json| ticket(form, &json["ticket"]))
            .ok_or_else(|| SendError::Retry { reason: "Zendesk's answer named no ticket id".to_owned(), after: None })
    }
}
