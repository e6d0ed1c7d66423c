//! Intercom against a local fake that follows its documentation and its 2.14 description
//! (`helpdesks.md`, `helpdesks/intercom.yaml`): `/me` per region, contact search and
//! creation (with the 409 for a contact the search index does not show yet),
//! conversations, admin notes, tags, and the conversation search by which Baton finds a
//! conversation that an earlier, killed attempt created.
//!
//! Regions: Baton sends every region's calls to the one test origin. `DeskHttp::url`
//! keeps the path, drops the host, and the `Host` header is the origin's, so the fake cannot
//! tell which region a call was meant for. It relies on the order verify tries them
//! in instead (US, Europe, Australia; a chosen region first): `me_refusals` answers
//! the next `/me` calls with 401 before the token is looked at, so one refusal is a
//! token of the European region for a verify without a region, or for one that chose US.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde_json::{json, Value};

use crate::{
    escalation::say,
    helpdesk::{dispatched, spawn_with_desks, start_process, wait_for},
    helpers::{inspect, Db, TestApp, TestDatabase},
    on_both_databases,
    process::terminate_and_wait,
};

pub const ACCESS_TOKEN: &str = "ic-canary-token-7714";
const ADMIN_ID: &str = "991267459";
const APP_CODE: &str = "acmeapp1";
/// The Intercom card's place in Settings (the desks' priority order).
const CARD: usize = 2;

#[derive(Default)]
struct FakeIntercom {
    /// Contacts as Intercom shows them, plus `indexed`: whether search shows them yet.
    contacts: Vec<Value>,
    conversations: Vec<Value>,
    tags: Vec<Value>,
    /// Statuses for the next `/me` calls, before the token is looked at.
    me_refusals: VecDeque<u16>,
    me_calls: usize,
    contact_creations: usize,
    /// When each conversation creation was asked for.
    conversation_calls: Vec<Instant>,
    /// The next conversation creation is throttled until this many seconds from then.
    throttle_for: Option<u64>,
    /// A process to SIGKILL once a conversation is created, before the answer goes back.
    kill_after_create: Option<u32>,
}

type Fake = Arc<Mutex<FakeIntercom>>;

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({"type": "error.list", "request_id": null, "errors": [{"code": code, "message": message}]});
    (status, Json(body)).into_response()
}

/// Intercom's checks on every call: the token, the pinned version, JSON answers.
fn signed_in(headers: &HeaderMap) -> Result<(), Box<Response>> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    if header("authorization") != format!("Bearer {ACCESS_TOKEN}") {
        return Err(Box::new(error(StatusCode::UNAUTHORIZED, "unauthorized", "Access Token Invalid")));
    }
    if header("intercom-version") != "2.14" {
        return Err(Box::new(error(StatusCode::BAD_REQUEST, "intercom_version_invalid", "Requested version is invalid")));
    }
    if !header("accept").contains("application/json") {
        return Err(Box::new(error(StatusCode::NOT_ACCEPTABLE, "not_acceptable", "Accept must be application/json")));
    }
    Ok(())
}

async fn me(State(fake): State<Fake>, headers: HeaderMap) -> Response {
    let refusal = {
        let mut fake = fake.lock().unwrap();
        fake.me_calls += 1;
        fake.me_refusals.pop_front()
    };
    if refusal.is_some() {
        return error(StatusCode::UNAUTHORIZED, "unauthorized", "Access Token Invalid");
    }
    if let Err(refused) = signed_in(&headers) {
        return *refused;
    }
    Json(json!({
        "type": "admin",
        "id": ADMIN_ID,
        "name": "Ciaran Lee",
        "email": "ciaran@acme.test",
        "email_verified": true,
        "app": {"type": "app", "id_code": APP_CODE, "name": "Acme", "region": "EU"},
        "has_inbox_seat": true,
    }))
    .into_response()
}

/// A contact as Intercom answers it (without the fake's `indexed`).
fn shown(contact: &Value) -> Value {
    let mut contact = contact.clone();
    contact.as_object_mut().unwrap().remove("indexed");
    contact
}

async fn search_contacts(State(fake): State<Fake>, headers: HeaderMap, Json(search): Json<Value>) -> Response {
    if let Err(refused) = signed_in(&headers) {
        return *refused;
    }
    let query = &search["query"];
    if query["field"] != "email" || query["operator"] != "=" || !query["value"].is_string() {
        return error(StatusCode::BAD_REQUEST, "parameter_invalid", "the fake searches contacts by email only");
    }
    let fake = fake.lock().unwrap();
    let found: Vec<Value> =
        fake.contacts.iter().filter(|c| c["indexed"] == true && c["email"] == query["value"]).map(shown).collect();
    Json(json!({"type": "list", "data": found, "total_count": found.len(),
        "pages": {"type": "pages", "page": 1, "per_page": 50, "total_pages": 1}}))
    .into_response()
}

async fn create_contact(State(fake): State<Fake>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if let Err(refused) = signed_in(&headers) {
        return *refused;
    }
    let mut fake = fake.lock().unwrap();
    fake.contact_creations += 1;
    let Some(email) = body["email"].as_str() else {
        return error(StatusCode::BAD_REQUEST, "parameter_not_found", "email is required");
    };
    if let Some(existing) = fake.contacts.iter().find(|c| c["email"] == email) {
        let id = existing["id"].as_str().unwrap();
        let message = format!("A contact matching those details already exists with id={id}");
        return error(StatusCode::CONFLICT, "conflict", &message);
    }
    let contact = json!({
        "type": "contact",
        "id": format!("6762f0dd1bb69f9f2193b{:03x}", fake.contacts.len()),
        "role": body["role"].as_str().unwrap_or("user"),
        "email": email,
        "name": body["name"],
        "indexed": true,
    });
    fake.contacts.push(contact.clone());
    Json(shown(&contact)).into_response()
}

async fn show_contact(State(fake): State<Fake>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(refused) = signed_in(&headers) {
        return *refused;
    }
    let fake = fake.lock().unwrap();
    match fake.contacts.iter().find(|c| c["id"] == id.as_str()) {
        Some(contact) => Json(shown(contact)).into_response(),
        None => error(StatusCode::NOT_FOUND, "not_found", "User Not Found"),
    }
}

async fn create_conversation(State(fake): State<Fake>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if let Err(refused) = signed_in(&headers) {
        return *refused;
    }
    let mut fake = fake.lock().unwrap();
    fake.conversation_calls.push(Instant::now());
    if let Some(seconds) = fake.throttle_for.take() {
        let reset = server::helpdesk::now_unix() + seconds;
        let mut response = error(StatusCode::TOO_MANY_REQUESTS, "rate_limit_exceeded", "Exceeded rate limit");
        // Intercom's throttling headers: a Unix time to wait for, no Retry-After.
        let headers = response.headers_mut();
        headers.insert("x-ratelimit-limit", "10000".parse().unwrap());
        headers.insert("x-ratelimit-remaining", "0".parse().unwrap());
        headers.insert("x-ratelimit-reset", reset.to_string().parse().unwrap());
        return response;
    }
    let (kind, contact_id) = (body["from"]["type"].as_str(), body["from"]["id"].as_str());
    let contact = fake.contacts.iter().find(|c| Some(c["id"].as_str().unwrap()) == contact_id);
    let role_fits = |contact: &Value| kind == Some("contact") || contact["role"].as_str() == kind;
    if !matches!(kind, Some("user" | "lead" | "contact")) || !contact.is_some_and(role_fits) {
        return error(StatusCode::NOT_FOUND, "not_found", "User Not Found");
    }
    let Some(text) = body["body"].as_str().filter(|t| !t.is_empty()) else {
        return error(StatusCode::BAD_REQUEST, "parameter_not_found", "body is required");
    };
    let id = (500 + fake.conversations.len()).to_string();
    fake.conversations.push(json!({
        "type": "conversation",
        "id": id,
        "source": {"type": "conversation", "body": text, "author": {"type": kind, "id": contact_id}},
        "contacts": {"type": "contact.list", "contacts": [{"type": "contact", "id": contact_id}]},
        "tags": {"type": "tag.list", "tags": []},
        "conversation_parts": {"type": "conversation_part.list", "conversation_parts": [], "total_count": 0},
    }));
    if let Some(pid) = fake.kill_after_create.take() {
        let killed = std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status().unwrap();
        assert!(killed.success());
    }
    Json(json!({"type": "user_message", "id": "403918330", "created_at": server::helpdesk::now_unix(),
        "body": text, "message_type": "inapp", "conversation_id": id}))
    .into_response()
}

/// Whether `conversation` passes one search filter (a single one or an AND/OR group).
fn passes(conversation: &Value, filter: &Value) -> Result<bool, String> {
    if let Some(group) = filter["operator"].as_str().filter(|op| *op == "AND" || *op == "OR") {
        let filters = filter["value"].as_array().ok_or("a group's value must be a list")?;
        let results = filters.iter().map(|f| passes(conversation, f)).collect::<Result<Vec<bool>, String>>()?;
        return Ok(if group == "AND" { results.iter().all(|r| *r) } else { results.iter().any(|r| *r) });
    }
    let (Some("="), Some(value)) = (filter["operator"].as_str(), filter["value"].as_str()) else {
        return Err(format!("the fake takes only `=` with a text value: {filter}"));
    };
    match filter["field"].as_str() {
        Some("contact_ids") => {
            Ok(conversation["contacts"]["contacts"].as_array().unwrap().iter().any(|c| c["id"] == value))
        }
        // Intercom matches the body word by word, not as one value.
        Some("source.body") => {
            Ok(conversation["source"]["body"].as_str().unwrap().split_whitespace().any(|word| word == value))
        }
        other => Err(format!("the fake cannot search {other:?}")),
    }
}

async fn search_conversations(State(fake): State<Fake>, headers: HeaderMap, Json(search): Json<Value>) -> Response {
    if let Err(refused) = signed_in(&headers) {
        return *refused;
    }
    if search["pagination"]["per_page"].as_u64().is_some_and(|n| n > 150) {
        return error(StatusCode::BAD_REQUEST, "parameter_invalid", "per_page must be at most 150");
    }
    let fake = fake.lock().unwrap();
    let mut found = Vec::new();
    for conversation in &fake.conversations {
        match passes(conversation, &search["query"]) {
            Ok(true) => found.push(conversation.clone()),
            Ok(false) => {}
            Err(problem) => return error(StatusCode::BAD_REQUEST, "invalid_field", &problem),
        }
    }
    Json(json!({"type": "conversation.list", "conversations": found, "total_count": found.len(),
        "pages": {"type": "pages", "page": 1, "per_page": 150, "total_pages": 1}}))
    .into_response()
}

async fn show_conversation(State(fake): State<Fake>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(refused) = signed_in(&headers) {
        return *refused;
    }
    let fake = fake.lock().unwrap();
    match fake.conversations.iter().find(|c| c["id"] == id.as_str()) {
        Some(conversation) => Json(conversation.clone()).into_response(),
        None => error(StatusCode::NOT_FOUND, "not_found", "Resource Not Found"),
    }
}

async fn reply(
    State(fake): State<Fake>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    if let Err(refused) = signed_in(&headers) {
        return *refused;
    }
    let admin_note = body["message_type"] == "note" && body["type"] == "admin" && body["admin_id"] == ADMIN_ID;
    let Some(text) = body["body"].as_str().filter(|_| admin_note) else {
        return error(StatusCode::BAD_REQUEST, "parameter_invalid", "the fake takes admin notes only");
    };
    let mut fake = fake.lock().unwrap();
    let Some(conversation) = fake.conversations.iter_mut().find(|c| c["id"] == id.as_str()) else {
        return error(StatusCode::NOT_FOUND, "not_found", "Resource Not Found");
    };
    let parts = conversation["conversation_parts"]["conversation_parts"].as_array_mut().unwrap();
    let count = parts.len() + 1;
    parts.push(json!({"type": "conversation_part", "id": count.to_string(), "part_type": "note",
        "body": text, "author": {"type": "admin", "id": ADMIN_ID}}));
    conversation["conversation_parts"]["total_count"] = json!(count);
    Json(conversation.clone()).into_response()
}

async fn create_tag(State(fake): State<Fake>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if let Err(refused) = signed_in(&headers) {
        return *refused;
    }
    let Some(name) = body["name"].as_str() else {
        return error(StatusCode::BAD_REQUEST, "parameter_invalid", "invalid tag parameters");
    };
    let mut fake = fake.lock().unwrap();
    if let Some(tag) = fake.tags.iter().find(|t| t["name"] == name) {
        return Json(tag.clone()).into_response();
    }
    let tag = json!({"type": "tag", "id": (100 + fake.tags.len()).to_string(), "name": name});
    fake.tags.push(tag.clone());
    Json(tag).into_response()
}

async fn tag_conversation(
    State(fake): State<Fake>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    if let Err(refused) = signed_in(&headers) {
        return *refused;
    }
    if body["admin_id"] != ADMIN_ID {
        return error(StatusCode::NOT_FOUND, "admin_not_found", "Admin not found");
    }
    let mut fake = fake.lock().unwrap();
    let Some(tag) = fake.tags.iter().find(|t| t["id"] == body["id"]).cloned() else {
        return error(StatusCode::NOT_FOUND, "tag_not_found", "Tag not found");
    };
    let Some(conversation) = fake.conversations.iter_mut().find(|c| c["id"] == id.as_str()) else {
        return error(StatusCode::NOT_FOUND, "not_found", "Conversation not found");
    };
    conversation["tags"]["tags"].as_array_mut().unwrap().push(tag.clone());
    Json(tag).into_response()
}

/// The fake on a free loopback port; its origin is what Baton is pointed at.
async fn fake_intercom() -> (String, Fake) {
    let fake: Fake = Arc::default();
    let router = Router::new()
        .route("/me", get(me))
        .route("/contacts", post(create_contact))
        .route("/contacts/search", post(search_contacts))
        .route("/contacts/{id}", get(show_contact))
        .route("/conversations", post(create_conversation))
        .route("/conversations/search", post(search_conversations))
        .route("/conversations/{id}", get(show_conversation))
        .route("/conversations/{id}/reply", post(reply))
        .route("/conversations/{id}/tags", post(tag_conversation))
        .route("/tags", post(create_tag))
        .with_state(fake.clone());
    let origin = crate::helpdesk::serve_fake(router).await;
    (origin, fake)
}

fn credentials(token: &str, region: Option<&str>) -> Value {
    let mut credentials = json!({"access_token": token});
    if let Some(region) = region {
        credentials["region"] = json!(region);
    }
    json!({"bot_id": "demo", "desk": "intercom", "credentials": credentials})
}

/// Verifies Intercom without a region, connects it with the region verify found, and
/// turns live handoff off. The region found.
pub async fn connect_intercom(app: &TestApp) -> String {
    let admin = app.admin().await;
    let (status, answer) = app.call(&admin.client, "settings/helpdesk/verify", credentials(ACCESS_TOKEN, None)).await;
    assert_eq!(status, 200, "{answer}");
    let region = answer["verified"]["choices"]["region"][0]["value"].as_str().unwrap().to_owned();
    let body = credentials(ACCESS_TOKEN, Some(&region));
    crate::helpdesk::connect_and_hand_off(app, body).await;
    region
}

fn seed_contact(fake: &Fake, id: &str, role: &str, email: &str, indexed: bool) {
    let contact = json!({"type": "contact", "id": id, "role": role, "email": email, "name": null, "indexed": indexed});
    fake.lock().unwrap().contacts.push(contact);
}

/// The fake's only conversation once it carries both tags (the last step of a send).
async fn tagged_conversation(fake: &Fake) -> Value {
    wait_for("a tagged conversation", || {
        let fake = fake.lock().unwrap();
        fake.conversations.first().filter(|c| c["tags"]["tags"].as_array().unwrap().len() == 2).cloned()
    })
    .await
}

fn notes(conversation: &Value) -> Vec<String> {
    let parts = conversation["conversation_parts"]["conversation_parts"].as_array().unwrap();
    parts.iter().filter(|p| p["part_type"] == "note").map(|p| p["body"].as_str().unwrap().to_owned()).collect()
}

fn tag_names(conversation: &Value) -> Vec<String> {
    let tags = conversation["tags"]["tags"].as_array().unwrap();
    tags.iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect()
}

async fn a_wrong_token_is_refused_in_every_region_and_stores_nothing(db: Db) {
    let database = TestDatabase::new(db).await;
    let (origin, fake) = fake_intercom().await;
    let app = spawn_with_desks(&database, &origin).await;
    let admin = app.admin().await;

    let (status, answer) = app.call(&admin.client, "settings/helpdesk/verify", credentials("wrong", None)).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["error"]["code"], "verification_failed");
    assert!(answer["error"]["message"].as_str().unwrap().contains("refused the access token in every region"));
    assert_eq!(fake.lock().unwrap().me_calls, 3, "US, Europe and Australia were tried");
    let body = credentials("wrong", Some("us"));
    let (status, answer) = app.call(&admin.client, "settings/helpdesk/connect", body).await;
    assert_eq!(status, 422, "{answer}");

    let store = inspect(&database).await;
    let stored: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM helpdesk_connections").fetch_one(store.pool()).await.unwrap();
    assert_eq!(stored, 0, "a refused token stores nothing");
    app.stop().await;
}

async fn verify_finds_the_token_s_region_and_names_it_when_another_was_chosen(db: Db) {
    let database = TestDatabase::new(db).await;
    let (origin, fake) = fake_intercom().await;
    let app = spawn_with_desks(&database, &origin).await;
    let admin = app.admin().await;

    // Refused in the US, accepted in Europe.
    fake.lock().unwrap().me_refusals.push_back(401);
    let (status, answer) = app.call(&admin.client, "settings/helpdesk/verify", credentials(ACCESS_TOKEN, None)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["verified"]["choices"]["region"], json!([{"value": "eu", "label": "Europe"}]), "{answer}");
    assert_eq!(answer["verified"]["account"], "Ciaran Lee <ciaran@acme.test> at Acme (Europe)");

    fake.lock().unwrap().me_refusals.push_back(401);
    let body = credentials(ACCESS_TOKEN, Some("us"));
    let (status, answer) = app.call(&admin.client, "settings/helpdesk/verify", body).await;
    assert_eq!(status, 422, "{answer}");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(message.contains("United States region: this token belongs to the Europe region"), "{message}");

    let body = credentials(ACCESS_TOKEN, Some("eu"));
    let (status, answer) = app.call(&admin.client, "settings/helpdesk/connect", body).await;
    assert_eq!(status, 200, "{answer}");
    let card = &answer["integrations"]["desks"][CARD];
    assert_eq!((&card["desk"], &card["connected"]), (&json!("intercom"), &json!(true)), "{card}");
    assert_eq!(card["account"], "Ciaran Lee <ciaran@acme.test> at Acme (Europe)");
    assert_eq!(card["secret_hint"], "7714");
    assert!(!answer.to_string().contains(ACCESS_TOKEN));
    app.stop().await;
}

async fn an_escalation_becomes_one_conversation_with_the_transcript_note_and_tags(db: Db) {
    let database = TestDatabase::new(db).await;
    let (origin, fake) = fake_intercom().await;
    seed_contact(&fake, "6762f0dd1bb69f9f2193bb01", "user", "jordan@acme.com", true);
    let app = spawn_with_desks(&database, &origin).await;
    connect_intercom(&app).await;

    let chat = app.start_chat().await;
    say(&app, &chat, "c1", "I was charged twice for my subscription <b>this month</b>").await;
    say(&app, &chat, "c2", "I want to talk to a human").await;
    let (status, body) = app.visitor_send(&chat, "email", "jordan@acme.com").await;
    assert_eq!(status, 200, "{body}");
    app.wait_for_history(&chat, "the handoff", |h| h["state"] == "handed_off").await;

    let conversation = tagged_conversation(&fake).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    {
        let fake = fake.lock().unwrap();
        assert_eq!(fake.conversations.len(), 1, "exactly one conversation");
        assert_eq!(fake.contact_creations, 0, "the contact was found by email");
    }
    assert_eq!(conversation["source"]["author"], json!({"type": "user", "id": "6762f0dd1bb69f9f2193bb01"}));
    let first = conversation["source"]["body"].as_str().unwrap();
    assert!(first.starts_with("I was charged twice for my subscription <b>this month</b>"), "plain text: {first}");
    assert!(first.lines().last().unwrap().starts_with("Baton escalation esc_"), "{first}");
    let notes = notes(&conversation);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("&lt;b&gt;this month&lt;/b&gt;") && !notes[0].contains("<b>this month"), "{notes:?}");
    assert!(notes[0].contains("I want to talk to a human") && notes[0].contains("Summary:"), "{notes:?}");
    let tags = tag_names(&conversation);
    assert!(tags.contains(&"baton".to_owned()) && tags.len() == 2, "{tags:?}");

    let last = dispatched(&app, CARD).await;
    assert_eq!(last["status"], "sent", "{last}");
    assert_eq!(last["ticket_url"], format!("https://app.intercom.com/a/apps/{APP_CODE}/inbox/inbox/conversation/500"));
    app.stop().await;
}

async fn a_contact_the_search_does_not_show_yet_is_reused_from_the_conflict(db: Db) {
    let database = TestDatabase::new(db).await;
    let (origin, fake) = fake_intercom().await;
    // Created moments ago: Intercom has it, its search index does not yet.
    seed_contact(&fake, "6762f0dd1bb69f9f2193bb02", "lead", "sam@example.com", false);
    let app = spawn_with_desks(&database, &origin).await;
    connect_intercom(&app).await;

    let chat = app.start_chat_with_email("sam@example.com").await;
    say(&app, &chat, "c1", "I want to talk to a human").await;
    let conversation = tagged_conversation(&fake).await;
    let last = dispatched(&app, CARD).await;
    assert_eq!(last["status"], "sent", "{last}");
    assert_eq!(conversation["source"]["author"], json!({"type": "lead", "id": "6762f0dd1bb69f9f2193bb02"}));
    let counts = {
        let fake = fake.lock().unwrap();
        (fake.contacts.len(), fake.contact_creations, fake.conversations.len())
    };
    assert_eq!(counts, (1, 1, 1), "the 409 named the contact: no second contact, one conversation");
    app.stop().await;
}

async fn a_429_waits_for_the_rate_limit_reset_and_leaves_one_conversation(db: Db) {
    const RESET_SECS: u64 = 10;
    let database = TestDatabase::new(db).await;
    let (origin, fake) = fake_intercom().await;
    fake.lock().unwrap().throttle_for = Some(RESET_SECS);
    let app = spawn_with_desks(&database, &origin).await;
    connect_intercom(&app).await;

    let chat = app.start_chat_with_email("sam@example.com").await;
    say(&app, &chat, "c1", "I want to talk to a human").await;
    tagged_conversation(&fake).await;
    let last = dispatched(&app, CARD).await;
    assert_eq!(last["status"], "sent", "{last}");
    let (conversations, calls) = {
        let fake = fake.lock().unwrap();
        (fake.conversations.len(), fake.conversation_calls.clone())
    };
    assert_eq!((conversations, calls.len()), (1, 2), "429, then one conversation");
    // Without the header the retry would come after the backoff (2–4 s, plus a poll).
    let waited = calls[1] - calls[0];
    assert!(waited >= Duration::from_secs(RESET_SECS) - Duration::from_millis(1500), "retried after {waited:?}");
    app.stop().await;
}

async fn a_sender_killed_after_intercom_created_the_conversation_still_leaves_one(db: Db) {
    let database = TestDatabase::new(db).await;
    let (origin, fake) = fake_intercom().await;
    let (mut child, app) = start_process(&database, &origin);
    connect_intercom(&app).await;
    fake.lock().unwrap().kill_after_create = Some(child.id());

    let chat = app.start_chat_with_email("sam@example.com").await;
    let (status, body) = app.visitor_send(&chat, "c1", "I want to talk to a human <please>").await;
    assert_eq!(status, 200, "{body}");
    wait_for("the kill", || child.try_wait().ok().flatten()).await;
    assert!(notes(&fake.lock().unwrap().conversations[0]).is_empty(), "killed before the note");

    // Restarted, the dispatcher finds the conversation by the escalation id in its first
    // message, adds the note and tags the killed attempt did not get to, and records it.
    let (mut again, app) = start_process(&database, &origin);
    let last = dispatched(&app, CARD).await;
    assert_eq!(last["status"], "sent", "{last}");
    assert!(last["ticket_url"].as_str().unwrap().ends_with("/inbox/inbox/conversation/500"), "{last}");
    let conversation = tagged_conversation(&fake).await;
    {
        let fake = fake.lock().unwrap();
        assert_eq!((fake.conversations.len(), fake.conversation_calls.len()), (1, 1), "one conversation, made once");
    }
    let notes = notes(&conversation);
    assert!(notes.len() == 1 && notes[0].contains("&lt;please&gt;"), "{notes:?}");
    terminate_and_wait(&mut again);
}

on_both_databases!(
    a_wrong_token_is_refused_in_every_region_and_stores_nothing,
    verify_finds_the_token_s_region_and_names_it_when_another_was_chosen,
    an_escalation_becomes_one_conversation_with_the_transcript_note_and_tags,
    a_contact_the_search_does_not_show_yet_is_reused_from_the_conflict,
    a_429_waits_for_the_rate_limit_reset_and_leaves_one_conversation,
    a_sender_killed_after_intercom_created_the_conversation_still_leaves_one,
);
