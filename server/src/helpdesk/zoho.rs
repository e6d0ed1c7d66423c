//! Zoho Desk: `https://desk.zoho.{dc}/api/v1`, signed in with a Self Client's OAuth
//! client: `Authorization: Zoho-oauthtoken {access}`, and the `orgId` header on every
//! call but `/organizations`.
//!
//! Tokens. The admin pastes a grant code (Self Client → Generate Code), which works
//! once and only for minutes. Verify exchanges it at `accounts.zoho.{dc}/oauth/v2/token`
//! for a refresh token (refresh tokens do not expire), puts that in the form and
//! drops the code, so connect stores the refresh token, never the spent code.
//! Settings verifies (to fill the department picker) and then connects, and connect
//! verifies again with the same code, which Zoho would now refuse. So each exchange
//! is remembered in this process for 15 minutes, keyed by a SHA-256 of the client
//! and the code, and the second verify takes the refresh token from there.
//! Limitation: with several instances, connect must reach the instance that
//! verified (sticky sessions), or the admin generates a new code.
//! Access tokens last an hour. Each one is kept for 55 minutes per refresh token,
//! also in this process, because Zoho allows only ten new access tokens per refresh
//! token in ten minutes. A 401 `INVALID_OAUTH` drops the kept token, and the next
//! attempt gets a new one. Zoho's token endpoint reports failures as HTTP 200 with
//! an `error` field.
//!
//! Create: `POST tickets` in the chosen department, with the visitor as the contact
//! (Zoho finds or creates it by email), priority High, channel Chat, and the
//! transcript as the HTML description. The tags follow with `associateTag` ⚠. A
//! ticket that could not be tagged still counts as sent.
//!
//! Zoho has no idempotency key, and its search reads an index that lags. So the
//! description ends with a line naming the escalation ("Baton escalation esc_….").
//! `find` lists the department's newest tickets (read straight from the account,
//! not the search index), keeps the visitor's by email, and reads each one's
//! description for that line. It needs no setup from the admin (a custom field
//! would). ⚠ A ticket moved to another department, or pushed out of the newest 100,
//! before the retry is not found.

use std::{
    collections::BTreeMap,
    sync::{Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use app::domain::helpdesk::{Choice, Desk, Verified};
use async_trait::async_trait;
use reqwest::{header, RequestBuilder};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{
    account_label, failure, form::zoho_hosts, freshdesk::escalation_tag, now_unix, packet::escape, unreachable,
    vendor_reason, Answer, Connector, DeskHttp, Form, HandoffPacket, SendError, Ticket, VerifyError,
};

pub struct ZohoDesk;

/// The scopes a grant code needs, in the words of the Self Client's form.
const SCOPES: &str =
    "Desk.tickets.READ, Desk.tickets.CREATE, Desk.tickets.UPDATE, Desk.contacts.READ, Desk.contacts.CREATE, \
     Desk.basic.READ";
/// How long an exchanged grant code's refresh token is remembered: the verify and
/// connect steps of Settings happen within minutes of each other.
const GRANT_TTL: Duration = Duration::from_secs(15 * 60);
/// Zoho's access tokens live 3,600 s. Keeping them 55 minutes leaves a margin.
const ACCESS_TTL: Duration = Duration::from_secs(55 * 60);
const SUBJECT_CHARS: usize = 255;
const DESCRIPTION_CHARS: usize = 65_535;
/// ⚠ Zoho's documentation gives no limit for a contact's names that we could check:
/// this is a cautious one.
const NAME_CHARS: usize = 80;
/// ⚠ The ticket list's largest page.
const LIST_LIMIT: &str = "100";
/// The most of the visitor's recent tickets `find` opens to read their description.
const MAX_CANDIDATES: usize = 10;
/// ⚠ How long to wait when Zoho throttles the token endpoint (10 tokens per 10 min).
const THROTTLED_WAIT: Duration = Duration::from_secs(60);

/// Grant code → refresh token, for the connect step after verify.
static GRANTS: Cache = Cache::new(GRANT_TTL);
/// Refresh token → access token, so that dispatches do not refresh every time.
static ACCESS: Cache = Cache::new(ACCESS_TTL);

/// A process-wide map from a SHA-256 to a secret that expires `ttl` after it was
/// put. Expired entries are dropped on every use.
struct Cache {
    ttl: Duration,
    entries: Mutex<BTreeMap<[u8; 32], (SecretString, Instant)>>,
}

impl Cache {
    const fn new(ttl: Duration) -> Cache {
        Cache { ttl, entries: Mutex::new(BTreeMap::new()) }
    }

    fn live(&self, now: Instant) -> MutexGuard<'_, BTreeMap<[u8; 32], (SecretString, Instant)>> {
        // A panic elsewhere while holding the lock left no half-written entry: go on.
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.retain(|_, (_, at)| now.saturating_duration_since(*at) < self.ttl);
        entries
    }

    fn get(&self, key: &[u8; 32], now: Instant) -> Option<String> {
        self.live(now).get(key).map(|(secret, _)| secret.expose_secret().to_owned())
    }

    fn put(&self, key: [u8; 32], secret: &str, now: Instant) {
        self.live(now).insert(key, (SecretString::from(secret.to_owned()), now));
    }

    fn forget(&self, key: &[u8; 32]) {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner).remove(key);
    }
}

/// The cache key of `parts`: their SHA-256, one part a line, so no secret is kept as
/// a key.
fn key(parts: &[&str]) -> [u8; 32] {
    let mut hash = Sha256::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hash.update(b"\n");
        }
        hash.update(part.as_bytes());
    }
    hash.finalize().into()
}

/// The data centre's accounts host and Desk host. Parsing the form checked them.
fn hosts(form: &Form) -> Option<(&'static str, &'static str)> {
    zoho_hosts(form.get("data_centre"))
}

/// Which grant a token request used: the same `error` means different things.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grant {
    Code,
    Refresh,
}

/// Why no token came from Zoho's accounts server.
#[derive(Debug)]
enum TokenError {
    /// The credentials are wrong: the reason is written for the admin.
    Refused(String),
    Failed(SendError),
}

impl TokenError {
    fn for_admin(self) -> VerifyError {
        match self {
            TokenError::Refused(reason) => VerifyError(reason),
            TokenError::Failed(err) => VerifyError(err.to_string()),
        }
    }

    fn for_send(self) -> SendError {
        match self {
            TokenError::Refused(reason) => SendError::Permanent { reason },
            TokenError::Failed(err) => err,
        }
    }
}

/// What an `error` from the token endpoint means. Throttling is worth a retry
/// (Zoho sends it as `Access Denied` with "too many requests" ⚠).
fn token_refusal(grant: Grant, accounts: &str, error: &str, description: &str) -> TokenError {
    if description.to_ascii_lowercase().contains("too many requests") {
        let reason = format!("{accounts} is limiting new access tokens: {description}");
        return TokenError::Failed(SendError::Retry { reason, after: Some(THROTTLED_WAIT) });
    }
    let reason = match (error, grant) {
        ("invalid_client" | "invalid_client_secret", _) => {
            format!("Zoho ({accounts}) does not accept this client: check the data centre, client id and secret")
        }
        ("invalid_code", Grant::Code) => {
            "the grant code is wrong or expired (they last minutes): generate a new one".to_owned()
        }
        ("invalid_code", Grant::Refresh) => {
            "Zoho no longer accepts the refresh token (it was revoked, or belongs to another client): generate a new \
             grant code and connect again"
                .to_owned()
        }
        (other, _) => {
            let said: String = [other, description].join(": ").trim_end_matches(": ").chars().take(200).collect();
            format!("Zoho ({accounts}) refused to sign in: {said}")
        }
    };
    TokenError::Refused(reason)
}

/// One request to `accounts`' token endpoint, which reports failures as HTTP 200
/// with an `error` field.
async fn token(http: &DeskHttp, accounts: &str, grant: Grant, params: &[(&str, &str)]) -> Result<Value, TokenError> {
    let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
    let request = http
        .client()
        .post(http.url(accounts, "/oauth/v2/token"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body);
    let answer = http.send(request).await.map_err(|err| TokenError::Failed(unreachable(Desk::ZohoDesk, &err)))?;
    if answer.status.is_server_error() || answer.status.as_u16() == 429 {
        return Err(TokenError::Failed(failure(Desk::ZohoDesk, &answer, now_unix())));
    }
    let json = answer.json().unwrap_or(Value::Null);
    if let Some(error) = json["error"].as_str() {
        return Err(token_refusal(grant, accounts, error, json["error_description"].as_str().unwrap_or_default()));
    }
    if !answer.status.is_success() {
        return Err(TokenError::Failed(failure(Desk::ZohoDesk, &answer, now_unix())));
    }
    Ok(json)
}

/// The refresh token for the form's grant code: from an exchange this process made
/// in the last 15 minutes, or from a new one.
async fn exchange(http: &DeskHttp, form: &Form, accounts: &str) -> Result<String, TokenError> {
    let (client_id, client_secret) = (form.get("client_id"), form.get("client_secret"));
    // The secret is part of the key: only someone holding it can reuse an exchange.
    let grant = key(&[client_id, client_secret, form.get("grant_code")]);
    if let Some(refresh) = GRANTS.get(&grant, Instant::now()) {
        return Ok(refresh);
    }
    let params = [
        ("grant_type", "authorization_code"),
        ("client_id", client_id),
        ("client_secret", client_secret),
        ("code", form.get("grant_code")),
    ];
    let json = token(http, accounts, Grant::Code, &params).await?;
    let Some(refresh) = json["refresh_token"].as_str().filter(|t| !t.is_empty()) else {
        return Err(TokenError::Refused(
            "Zoho took the grant code but gave no refresh token: generate a new code in the Self Client and try again"
                .to_owned(),
        ));
    };
    let now = Instant::now();
    GRANTS.put(grant, refresh, now);
    if let Some(access) = json["access_token"].as_str().filter(|t| !t.is_empty()) {
        ACCESS.put(key(&[client_id, refresh]), access, now);
    }
    Ok(refresh.to_owned())
}

/// An access token, and whether it was made for this call. A refusal of a kept
/// token is worth one more attempt. A refusal of a new one is not.
struct Session {
    access: String,
    fresh: bool,
    key: [u8; 32],
}

impl Session {
    /// `request` with the access token and, for every call but `/organizations`, the
    /// organization.
    fn sign(&self, request: RequestBuilder, org_id: Option<&str>) -> RequestBuilder {
        let request = request.header(header::AUTHORIZATION, format!("Zoho-oauthtoken {}", self.access));
        match org_id {
            Some(org_id) => request.header("orgId", org_id),
            None => request,
        }
    }
}

/// An access token for the form's refresh token, kept or new.
async fn session(http: &DeskHttp, form: &Form, accounts: &str) -> Result<Session, TokenError> {
    let key = key(&[form.get("client_id"), form.get("refresh_token")]);
    if let Some(access) = ACCESS.get(&key, Instant::now()) {
        return Ok(Session { access, fresh: false, key });
    }
    let params = [
        ("grant_type", "refresh_token"),
        ("client_id", form.get("client_id")),
        ("client_secret", form.get("client_secret")),
        ("refresh_token", form.get("refresh_token")),
    ];
    let json = token(http, accounts, Grant::Refresh, &params).await?;
    let Some(access) = json["access_token"].as_str().filter(|t| !t.is_empty()) else {
        let reason = "Zoho's token answer had no access_token".to_owned();
        return Err(TokenError::Failed(SendError::Retry { reason, after: None }));
    };
    ACCESS.put(key, access, Instant::now());
    Ok(Session { access: access.to_owned(), fresh: true, key })
}

/// The session and Desk host for a stored connection.
async fn signed_in(http: &DeskHttp, form: &Form) -> Result<(Session, &'static str), SendError> {
    let Some((accounts, desk)) = hosts(form) else {
        let reason = "the stored Zoho Desk connection names no data centre: connect Zoho Desk again".to_owned();
        return Err(SendError::Permanent { reason });
    };
    if !form.has("refresh_token") {
        let reason = "the stored Zoho Desk connection has no refresh token: connect Zoho Desk again".to_owned();
        return Err(SendError::Permanent { reason });
    }
    let session = session(http, form, accounts).await.map_err(TokenError::for_send)?;
    Ok((session, desk))
}

/// What Zoho puts where `vendor_reason` does not look: `errorCode`, and each error's
/// `fieldName` with its `errorType`.
fn zoho_details(answer: &Answer) -> Option<String> {
    let json = answer.json()?;
    let mut parts: Vec<String> = json["errorCode"].as_str().map(str::to_owned).into_iter().collect();
    for error in json["errors"].as_array().into_iter().flatten().take(3) {
        if let (Some(field), Some(kind)) = (error["fieldName"].as_str(), error["errorType"].as_str()) {
            parts.push(format!("{field} {kind}"));
        }
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// `vendor_reason` with Zoho's details.
fn reason(answer: &Answer) -> String {
    match zoho_details(answer) {
        Some(details) => format!("{} ({details})", vendor_reason(answer)),
        None => vendor_reason(answer),
    }
}

/// `failure` with Zoho's details.
fn refusal(answer: &Answer) -> SendError {
    match (failure(Desk::ZohoDesk, answer, now_unix()), zoho_details(answer)) {
        (err, None) => err,
        (SendError::Retry { reason, after }, Some(details)) => {
            SendError::Retry { reason: format!("{reason} ({details})"), after }
        }
        (SendError::Permanent { reason }, Some(details)) => {
            SendError::Permanent { reason: format!("{reason} ({details})") }
        }
    }
}

/// Whether a 401 says the access token is no longer good (rather than, say, a
/// missing scope ⚠).
fn stale(answer: &Answer) -> bool {
    answer.status.as_u16() == 401
        && answer.json().is_none_or(|json| json["errorCode"].as_str().is_none_or(|code| code == "INVALID_OAUTH"))
}

/// A sent request's answer, when it is a success.
fn checked(session: &Session, answer: Answer) -> Result<Answer, SendError> {
    if answer.status.is_success() {
        return Ok(answer);
    }
    if stale(&answer) {
        ACCESS.forget(&session.key);
        if !session.fresh {
            let reason = "Zoho Desk refused the kept access token: the next attempt gets a new one".to_owned();
            return Err(SendError::Retry { reason, after: None });
        }
    }
    Err(refusal(&answer))
}

async fn call(http: &DeskHttp, session: &Session, request: RequestBuilder) -> Result<Answer, SendError> {
    let answer = http.send(request).await.map_err(|err| unreachable(Desk::ZohoDesk, &err))?;
    checked(session, answer)
}

/// One GET of verify: its JSON (Zoho answers an empty list with 204 ⚠), or why not,
/// in words for the admin.
async fn read(
    http: &DeskHttp,
    session: &Session,
    desk: &str,
    path: &str,
    query: &[(&str, &str)],
    org_id: Option<&str>,
) -> Result<Value, VerifyError> {
    let request = session.sign(http.client().get(http.url(desk, path)).query(query), org_id);
    let answer = http.send(request).await.map_err(|err| VerifyError(format!("cannot reach {desk}: {err}")))?;
    match answer.status.as_u16() {
        200..=299 => Ok(answer.json().unwrap_or(Value::Null)),
        401 | 403 => {
            ACCESS.forget(&session.key);
            Err(VerifyError(format!(
                "Zoho Desk refused access ({}): generate the grant code with the scopes {SCOPES}",
                reason(&answer)
            )))
        }
        _ => Err(VerifyError(refusal(&answer).to_string())),
    }
}

/// A Zoho id, sent as a number or as a string of digits (both are seen ⚠). Anything
/// else is not one: ids go into paths.
fn id_of(value: &Value) -> Option<String> {
    let id = match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        _ => return None,
    };
    let ok = (1..=40).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric());
    ok.then_some(id)
}

fn ticket(value: &Value) -> Option<Ticket> {
    let id = id_of(&value["id"])?;
    let url = value["webUrl"].as_str().filter(|u| u.starts_with("https://")).map(str::to_owned);
    Some(Ticket { id, url })
}

/// The line that marks the ticket of one escalation. The final period keeps one id
/// from matching another that starts with it.
fn marker(escalation_id: &str) -> String {
    escape(&format!("Baton escalation {escalation_id}."))
}

/// `text` cut to at most `max` characters, on a character boundary.
fn cut(text: &str, max: usize) -> &str {
    text.char_indices().nth(max).map_or(text, |(at, _)| &text[..at])
}

/// A contact's first and last names. Zoho requires the last name: a one-word name is
/// the last name, and without a name it is the email's local part.
fn contact_name(name: Option<&str>, email: &str) -> (Option<String>, String) {
    if let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) {
        return match name.split_once(char::is_whitespace) {
            Some((first, rest)) => (Some(cut(first, NAME_CHARS).to_owned()), cut(rest.trim(), NAME_CHARS).to_owned()),
            None => (None, cut(name, NAME_CHARS).to_owned()),
        };
    }
    let local = email.split('@').next().map(str::trim).filter(|l| !l.is_empty()).unwrap_or("Visitor");
    (None, cut(local, NAME_CHARS).to_owned())
}

/// `html` in at most `max` characters: a longer one is cut after the last whole
/// list item that fits and ends with `note`.
fn shorten_html(html: &str, max: usize, note: &str) -> String {
    if html.chars().count() <= max {
        return html.to_owned();
    }
    let head = cut(html, max.saturating_sub(note.chars().count()));
    let head = head.rfind("</li>").map_or(head, |at| &head[..at + "</li>".len()]);
    format!("{head}{note}")
}

/// The ticket's description: the packet's HTML, shortened to Zoho's limit if it must
/// be, then the escalation's marker, which `find` looks for and no cut removes.
fn description(packet: &HandoffPacket) -> String {
    let line = format!("<p>{}</p>", marker(&packet.escalation_id));
    let note = format!(
        "</ul><p>The transcript is cut here: <a href=\"{}\">read all of it in Baton</a>.</p>",
        escape(&packet.link)
    );
    let room = DESCRIPTION_CHARS.saturating_sub(line.chars().count());
    format!("{}{line}", shorten_html(&packet.html_body(), room, &note))
}

#[async_trait]
impl Connector for ZohoDesk {
    fn desk(&self) -> Desk {
        Desk::ZohoDesk
    }

    async fn verify(&self, http: &DeskHttp, form: &mut Form) -> Result<Verified, VerifyError> {
        let Some((accounts, desk)) = hosts(form) else {
            return Err(VerifyError("choose the data centre: com, eu, in, com.au, jp or com.cn".to_owned()));
        };
        if !form.has("refresh_token") {
            if !form.has("grant_code") {
                return Err(VerifyError(
                    "Zoho Desk needs a grant code: api-console.zoho.com → Self Client → Generate Code".to_owned(),
                ));
            }
            let refresh = exchange(http, form, accounts).await.map_err(TokenError::for_admin)?;
            form.set("refresh_token", refresh);
        }
        // The code is spent: what connect stores is the refresh token.
        form.remove("grant_code");
        let session = session(http, form, accounts).await.map_err(TokenError::for_admin)?;
        let org_id = form.get("org_id").to_owned();

        let organizations = read(http, &session, desk, "/api/v1/organizations", &[], None).await?;
        let organizations = organizations["data"].as_array().cloned().unwrap_or_default();
        let Some(org) = organizations.iter().find(|o| id_of(&o["id"]).as_deref() == Some(org_id.as_str())) else {
            let known: Vec<String> = organizations
                .iter()
                .filter_map(|o| {
                    let id = id_of(&o["id"])?;
                    Some(match o["companyName"].as_str() {
                        Some(name) => format!("{id} ({name})"),
                        None => id,
                    })
                })
                .collect();
            let known = if known.is_empty() { "none".to_owned() } else { known.join(", ") };
            return Err(VerifyError(format!("organization {org_id} not found; the ones this account has: {known}")));
        };
        let company = org["companyName"].as_str().filter(|n| !n.trim().is_empty()).unwrap_or("Zoho Desk").to_owned();

        let departments =
            read(http, &session, desk, "/api/v1/departments", &[("limit", LIST_LIMIT)], Some(&org_id)).await?;
        let choices: Vec<Choice> = departments["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["isEnabled"].as_bool() != Some(false))
            .filter_map(|d| {
                let label = d["name"].as_str().unwrap_or("Unnamed department").to_owned();
                Some(Choice { value: id_of(&d["id"])?, label, parent: None })
            })
            .collect();
        if choices.is_empty() {
            return Err(VerifyError(format!("{company} has no enabled department to put tickets in")));
        }
        let department = if form.has("department_id") {
            let wanted = form.get("department_id");
            let Some(found) = choices.iter().find(|c| c.value == wanted) else {
                let names: Vec<&str> = choices.iter().map(|c| c.label.as_str()).collect();
                return Err(VerifyError(format!(
                    "department {wanted} is not an enabled department of {company}; the enabled ones: {}",
                    names.join(", ")
                )));
            };
            Some(found.label.clone())
        } else {
            None
        };

        // `find` lists tickets: without Desk.tickets.READ, only the first retry would fail.
        read(http, &session, desk, "/api/v1/tickets", &[("limit", "1")], Some(&org_id)).await.map_err(|err| {
            VerifyError(format!("signed in, but Zoho Desk would not list tickets, which Baton needs: {err}"))
        })?;

        // The card names the department tickets go to.
        let name = match department {
            Some(department) => format!("{company}, {department}"),
            None => company,
        };
        let choices = BTreeMap::from([("department_id".to_owned(), choices)]);
        Ok(Verified { account: account_label(&name, None, desk), choices })
    }

    async fn find(&self, http: &DeskHttp, form: &Form, packet: &HandoffPacket) -> Result<Option<Ticket>, SendError> {
        let (session, desk) = signed_in(http, form).await?;
        let org_id = form.get("org_id");
        let list = http.client().get(http.url(desk, "/api/v1/tickets")).query(&[
            ("departmentId", form.get("department_id")),
            ("sortBy", "-createdTime"),
            ("limit", LIST_LIMIT),
        ]);
        let list = call(http, &session, session.sign(list, Some(org_id))).await?.json().unwrap_or(Value::Null);
        let visitor = packet.visitor_email.as_str();
        let theirs: Vec<String> = list["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| {
                [&t["email"], &t["contact"]["email"]]
                    .iter()
                    .any(|email| email.as_str().is_some_and(|email| email.trim().eq_ignore_ascii_case(visitor)))
            })
            .filter_map(|t| id_of(&t["id"]))
            .take(MAX_CANDIDATES)
            .collect();
        let wanted = marker(&packet.escalation_id);
        for id in theirs {
            let request = http.client().get(http.url(desk, &format!("/api/v1/tickets/{id}")));
            let answer =
                http.send(session.sign(request, Some(org_id))).await.map_err(|err| unreachable(Desk::ZohoDesk, &err))?;
            if answer.status.as_u16() == 404 {
                // Deleted since the list was read.
                continue;
            }
            let full = checked(&session, answer)?.json().unwrap_or(Value::Null);
            if full["description"].as_str().is_some_and(|d| d.contains(&wanted)) {
                return Ok(Some(ticket(&full).unwrap_or(Ticket { id, url: None })));
            }
        }
        Ok(None)
    }

    async fn create(&self, http: &DeskHttp, form: &Form, packet: &HandoffPacket) -> Result<Ticket, SendError> {
        let (session, desk) = signed_in(http, form).await?;
        let org_id = form.get("org_id");
        let (first_name, last_name) = contact_name(packet.visitor_name.as_deref(), &packet.visitor_email);
        let mut contact = json!({"lastName": last_name, "email": packet.visitor_email});
        if let Some(first_name) = first_name {
            contact["firstName"] = json!(first_name);
        }
        let body = json!({
            "subject": cut(&packet.subject(), SUBJECT_CHARS),
            "departmentId": form.get("department_id"),
            "contact": contact,
            "description": description(packet),
            "priority": "High",
            "channel": "Chat",
            "status": "Open",
        });
        let request = http.client().post(http.url(desk, "/api/v1/tickets")).json(&body);
        let created = call(http, &session, session.sign(request, Some(org_id))).await?.json().unwrap_or(Value::Null);
        let ticket = ticket(&created).ok_or_else(|| SendError::Retry {
            reason: "Zoho Desk's answer named no ticket id".to_owned(),
            after: None,
        })?;
        let [baton, cause] = packet.tags();
        let tags = json!({"tags": [baton, cause, escalation_tag(&packet.escalation_id)]});
        let path = format!("/api/v1/tickets/{}/associateTag", ticket.id);
        let request = http.client().post(http.url(desk, &path)).json(&tags);
        if let Err(err) = call(http, &session, session.sign(request, Some(org_id))).await {
            // The ticket exists. A second one would be worse than a missing tag.
            tracing::warn!(ticket = %ticket.id, reason = %err, "Zoho Desk ticket created but not tagged");
        }
        Ok(ticket)
    }
}

#[cfg(test)]
mod tests {
    use app::domain::AuthorKind;

    use super::*;
    use crate::helpdesk::tests::answer;
    use crate::helpdesk::packet::tests::{message, packet};

    #[test]
    fn a_name_splits_at_its_first_space_and_the_last_name_is_never_empty() {
        assert_eq!(contact_name(Some("Jordan Lee"), "j@acme.com"), (Some("Jordan".to_owned()), "Lee".to_owned()));
        assert_eq!(
            contact_name(Some("  Ana María  de la Cruz "), "a@acme.com"),
            (Some("Ana".to_owned()), "María  de la Cruz".to_owned())
        );
        assert_eq!(contact_name(Some("Cher"), "c@acme.com"), (None, "Cher".to_owned()));
        assert_eq!(contact_name(None, "sam.rivera@example.com"), (None, "sam.rivera".to_owned()));
        assert_eq!(contact_name(Some("   "), "sam@example.com"), (None, "sam".to_owned()));
        assert_eq!(contact_name(None, "@example.com"), (None, "Visitor".to_owned()));
        let long = "é".repeat(200);
        assert_eq!(contact_name(Some(&long), "x@y.z").1.chars().count(), NAME_CHARS);
    }

    #[test]
    fn text_is_cut_on_a_character_boundary() {
        assert_eq!(cut("héllo", 2), "hé");
        assert_eq!(cut("héllo", 5), "héllo");
        assert_eq!(cut("héllo", 50), "héllo");
        assert_eq!(cut("", 3), "");
        assert_eq!(cut(&"€".repeat(300), SUBJECT_CHARS).chars().count(), SUBJECT_CHARS);
    }

    #[test]
    fn a_long_transcript_is_cut_after_a_whole_item_and_keeps_the_marker() {
        let mut long = packet();
        long.escalation_id = "esc_0123456789abcdef".to_owned();
        long.transcript =
            (1..=3000).map(|seq| message(seq, AuthorKind::Visitor, None, &"ça va ".repeat(10))).collect();
        assert!(long.html_body().chars().count() > DESCRIPTION_CHARS);
        let text = description(&long);
        assert!(text.chars().count() <= DESCRIPTION_CHARS, "{}", text.chars().count());
        assert!(text.ends_with("<p>Baton escalation esc_0123456789abcdef.</p>"), "{}", cut(&text, 100));
        assert!(text.contains("</li></ul><p>The transcript is cut here:"));
        assert!(text.contains(&escape(&long.link)));

        let short = description(&packet());
        assert!(short.starts_with(&packet().html_body()) && short.ends_with("<p>Baton escalation esc-1.</p>"));
    }

    #[test]
    fn one_escalation_marker_does_not_match_another() {
        let text = description(&HandoffPacket { escalation_id: "esc_abcdef".to_owned(), ..packet() });
        assert!(text.contains(&marker("esc_abcdef")));
        assert!(!text.contains(&marker("esc_abc")));
    }

    #[test]
    fn kept_secrets_expire_and_can_be_forgotten() {
        let cache = Cache::new(GRANT_TTL);
        let start = Instant::now();
        let grant = key(&["client", "secret", "code"]);
        cache.put(grant, "refresh-1", start);
        assert_eq!(cache.get(&grant, start + Duration::from_secs(14 * 60)).as_deref(), Some("refresh-1"));
        assert_eq!(cache.get(&grant, start + GRANT_TTL), None);
        assert!(cache.entries.lock().unwrap_or_else(PoisonError::into_inner).is_empty(), "expired entries go");

        cache.put(grant, "refresh-2", start);
        cache.forget(&grant);
        assert_eq!(cache.get(&grant, start), None);
    }

    #[test]
    fn keys_hash_each_part_apart() {
        assert_ne!(key(&["ab", "c"]), key(&["a", "bc"]));
        assert_eq!(key(&["a", "b"]), key(&["a", "b"]));
    }

    #[test]
    fn ids_are_read_as_numbers_or_strings_and_nothing_else() {
        assert_eq!(id_of(&json!(1892000000042034_u64)).as_deref(), Some("1892000000042034"));
        assert_eq!(id_of(&json!("1892000000042034")).as_deref(), Some("1892000000042034"));
        for bad in [json!("../orgs"), json!(""), json!(null), json!(1.5), json!({"id": 1})] {
            assert_eq!(id_of(&bad), None, "{bad}");
        }
        let url = "https://desk.zoho.com/support/acme/ShowHomePage.do#Cases/dv/77";
        let found = ticket(&json!({"id": "77", "webUrl": url}));
        assert!(found.is_some_and(|t| t.id == "77" && t.url.is_some()));
        let found = ticket(&json!({"id": 77, "webUrl": "javascript:alert(1)"}));
        assert_eq!(found, Some(Ticket { id: "77".to_owned(), url: None }));
    }

    #[test]
    fn token_errors_say_what_to_do() {
        let said = |grant, error, description| match token_refusal(grant, "accounts.zoho.eu", error, description) {
            TokenError::Refused(reason) => reason,
            TokenError::Failed(err) => panic!("{error}: not a refusal: {err}"),
        };
        assert!(said(Grant::Code, "invalid_client", "").contains("check the data centre, client id and secret"));
        assert!(said(Grant::Refresh, "invalid_client", "").contains("accounts.zoho.eu"));
        assert!(said(Grant::Code, "invalid_code", "").contains("generate a new one"));
        assert!(said(Grant::Refresh, "invalid_code", "").contains("refresh token"));
        assert_eq!(said(Grant::Code, "odd", ""), "Zoho (accounts.zoho.eu) refused to sign in: odd");
        let throttled = token_refusal(
            Grant::Refresh,
            "accounts.zoho.eu",
            "Access Denied",
            "You have made too many requests continuously. Please try again after some time.",
        );
        assert!(matches!(throttled, TokenError::Failed(SendError::Retry { after: Some(_), .. })), "{throttled:?}");
    }


    #[test]
    fn zoho_errors_keep_their_code_and_fields_and_only_a_bad_token_is_stale() {
        let body = json!({
            "errorCode": "INVALID_DATA",
            "message": "An invalid value was given.",
            "errors": [{"fieldName": "/departmentId", "errorType": "invalid"}],
        });
        let invalid = answer(422, &body.to_string());
        let err = refusal(&invalid);
        assert!(matches!(&err, SendError::Permanent { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("An invalid value"), "{text}");
        assert!(text.contains("(INVALID_DATA, /departmentId invalid)"), "{text}");
        assert!(matches!(refusal(&answer(503, "")), SendError::Retry { .. }));

        assert!(stale(&answer(401, r#"{"errorCode":"INVALID_OAUTH","message":"The OAuth Token is invalid."}"#)));
        assert!(stale(&answer(401, "")));
        assert!(!stale(&answer(401, r#"{"errorCode":"SCOPE_MISMATCH"}"#)));
        assert!(!stale(&answer(403, r#"{"errorCode":"INVALID_OAUTH"}"#)));

        let kept = Session { access: "a".to_owned(), fresh: false, key: key(&["kept"]) };
        let bad = || answer(401, r#"{"errorCode":"INVALID_OAUTH"}"#);
        assert!(matches!(checked(&kept, bad()), Err(SendError::Retry { .. })));
        let new = Session { fresh: true, ..kept };
        assert!(matches!(checked(&new, bad()), Err(SendError::Permanent { .. })));
        assert!(checked(&new, answer(204, "")).is_ok());
    }
}
