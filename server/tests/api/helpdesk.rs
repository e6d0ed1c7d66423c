//! Help-desk mode against a local fake of Zendesk that follows the vendor's documented
//! requests and answers (`../shared/helpdesks.md`): verify and its traps, connect,
//! the routing of an escalation to a ticket, retries, permanent failures, and the
//! admin's Retry. The fake counts the tickets it was asked for.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use base64::Engine;
use serde_json::{json, Value};

use crate::{
    escalation::say,
    helpers::{
        inspect, postgres_admin_url, spawn_app_with, test_settings, texts, Db, TestApp, TestDatabase, ADMIN_EMAIL,
        ADMIN_PASSWORD,
    },
    on_both_databases,
    process::{read_banner, server_command, terminate_and_wait},
};

pub const AGENT_EMAIL: &str = "agent@acme.test";
pub const API_TOKEN: &str = "zd-canary-token-4821";

/// One scripted answer to the next ticket creation: status, headers, body.
type Scripted = (u16, Vec<(&'static str, String)>, Value);

#[derive(Default)]
pub struct FakeDesk {
    pub tickets: Vec<Value>,
    /// Idempotency-Key → ticket id, as Zendesk keeps them.
    keys: HashMap<String, u64>,
    pub script: VecDeque<Scripted>,
    pub create_calls: usize,
    pub bodies: Vec<String>,
    /// A process to SIGKILL once a ticket is created, before the answer goes back:
    /// the sender dies between the vendor's 201 and recording it.
    pub kill_after_create: Option<u32>,
    /// How long the next ticket creation takes to answer (after creating it).
    pub slow_create: Option<Duration>,
}

impl FakeDesk {
    /// Counts a ticket creation and keeps its body; answers with the next scripted
    /// answer, if any is left.
    pub fn creating(&mut self, body: &str) -> Option<Response> {
        self.create_calls += 1;
        self.bodies.push(body.to_owned());
        let (status, extra, answer) = self.script.pop_front()?;
        let mut response = (StatusCode::from_u16(status).unwrap(), Json(answer)).into_response();
        for (name, value) in extra {
            response.headers_mut().insert(name, value.parse().unwrap());
        }
        Some(response)
    }
}

pub type Shared = Arc<Mutex<FakeDesk>>;

pub const OAUTH_CLIENT: &str = "baton-client";
pub const OAUTH_SECRET: &str = "zd-oauth-secret-canary-3377";
const OAUTH_TOKEN: &str = "zd-access-token-1";

fn signed_in(headers: &HeaderMap) -> bool {
    let expected = base64::engine::general_purpose::STANDARD.encode(format!("{AGENT_EMAIL}/token:{API_TOKEN}"));
    let given = headers.get("authorization").and_then(|v| v.to_str().ok());
    given == Some(&format!("Basic {expected}")) || given == Some(&format!("Bearer {OAUTH_TOKEN}"))
}

/// Zendesk's token endpoint, client-credentials grant.
async fn token(Json(grant): Json<Value>) -> Response {
    let right = grant["grant_type"] == "client_credentials"
        && grant["client_id"] == OAUTH_CLIENT
        && grant["client_secret"] == OAUTH_SECRET;
    if !right {
        let body = json!({"error": "invalid_client", "error_description": "Client authentication failed"});
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }
    Json(json!({"access_token": OAUTH_TOKEN, "token_type": "bearer", "scope": grant["scope"]})).into_response()
}

async fn me(headers: HeaderMap) -> Json<Value> {
    // Zendesk answers 200 to anyone; bad credentials get the anonymous user.
    if signed_in(&headers) {
        Json(json!({"user": {"id": 7001, "name": "Alex Agent", "email": AGENT_EMAIL, "role": "admin"}}))
    } else {
        Json(json!({"user": {"id": null, "name": "Anonymous user", "role": "end-user"}}))
    }
}

async fn list(
    State(fake): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if !signed_in(&headers) {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": "Couldn't authenticate you"}))).into_response();
    }
    let fake = fake.lock().unwrap();
    let tickets: Vec<&Value> = fake
        .tickets
        .iter()
        .filter(|t| query.get("external_id").is_none_or(|id| t["external_id"].as_str() == Some(id)))
        .collect();
    Json(json!({"tickets": tickets, "count": tickets.len()})).into_response()
}

async fn create(State(fake): State<Shared>, headers: HeaderMap, body: String) -> Response {
    let slow = fake.lock().unwrap().slow_create.take();
    let answer = create_now(&fake, &headers, body);
    if let Some(wait) = slow {
        tokio::time::sleep(wait).await;
    }
    answer
}

fn create_now(fake: &Shared, headers: &HeaderMap, body: String) -> Response {
    if !signed_in(headers) {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": "Couldn't authenticate you"}))).into_response();
    }
    let mut fake = fake.lock().unwrap();
    if let Some(scripted) = fake.creating(&body) {
        return scripted;
    }
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    if let Some(id) = fake.keys.get(&key) {
        let ticket = fake.tickets.iter().find(|t| t["id"] == *id).cloned().unwrap();
        let mut response = (StatusCode::CREATED, Json(json!({"ticket": ticket}))).into_response();
        response.headers_mut().insert("x-idempotency-lookup", "hit".parse().unwrap());
        return response;
    }
    let Ok(parsed) = serde_json::from_str::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "InvalidJSON"}))).into_response();
    };
    let id = 1000 + fake.tickets.len() as u64;
    let mut ticket = parsed["ticket"].clone();
    ticket["id"] = json!(id);
    fake.tickets.push(ticket.clone());
    if !key.is_empty() {
        fake.keys.insert(key, id);
    }
    if let Some(pid) = fake.kill_after_create.take() {
        let killed = std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status().unwrap();
        assert!(killed.success());
        // Keys live about two hours at Zendesk; this one is gone, as if the retry came later.
        fake.keys.clear();
    }
    (StatusCode::CREATED, Json(json!({"ticket": ticket}))).into_response()
}

/// The fake on a free loopback port; its origin is what Baton is pointed at.
pub async fn fake_zendesk() -> (String, Shared) {
    let fake: Shared = Arc::default();
    let router = Router::new()
        .route("/api/v2/users/me.json", get(me))
        .route("/api/v2/tickets.json", get(list).post(create))
        .route("/oauth/tokens", axum::routing::post(token))
        .with_state(fake.clone());
    let origin = serve_fake(router).await;
    (origin, fake)
}

pub fn zendesk_credentials(token: &str) -> Value {
    json!({"subdomain": "acme", "email": AGENT_EMAIL, "api_token": token})
}

/// Baton pointed at `origin` for every desk.
pub async fn spawn_with_desks(database: &TestDatabase, origin: &str) -> TestApp {
    let mut settings = test_settings(database);
    settings.helpdesk_test_origin = Some(origin.to_owned());
    spawn_app_with(settings).await
}

pub async fn wait_for<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn verify_refuses_the_anonymous_user_and_stores_nothing(db: Db) {
    let database = TestDatabase::new(db).await;
    let (origin, _fake) = fake_zendesk().await;
    let app = spawn_with_desks(&database, &origin).await;
    let admin = app.admin().await;

    let body = json!({"bot_id": "demo", "desk": "zendesk", "credentials": zendesk_credentials("wrong-token")});
    let (status, answer) = app.call(&admin.client, "settings/helpdesk/verify", body.clone()).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["error"]["code"], "verification_failed");
    assert!(answer["error"]["message"].as_str().unwrap().contains("anonymous"), "{answer}");
    let (status, answer) = app.call(&admin.client, "settings/helpdesk/connect", body).await;
    assert_eq!(status, 422, "{answer}");

    let good = json!({"bot_id": "demo", "desk": "zendesk", "credentials": zendesk_credentials(API_TOKEN)});
    let (status, answer) = app.call(&admin.client, "settings/helpdesk/verify", good).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["verified"]["account"], format!("Alex Agent <{AGENT_EMAIL}> at acme.zendesk.com"));

    let store = inspect(&database).await;
    let stored: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM helpdesk_connections").fetch_one(store.pool()).await.unwrap();
    assert_eq!(stored, 0, "verify stores nothing");
    app.stop().await;
}

async fn a_connected_desk_shows_its_account_never_its_secret(db: Db) {
    let database = TestDatabase::new(db).await;
    let (origin, _fake) = fake_zendesk().await;
    let app = spawn_with_desks(&database, &origin).await;
    let admin = app.admin().await;

    let body = json!({"bot_id": "demo", "desk": "zendesk", "credentials": zendesk_credentials(API_TOKEN)});
    let (status, answer) = app.call(&admin.client, "settings/helpdesk/connect", body).await;
    assert_eq!(status, 200, "{answer}");
    let text = answer.to_string();
    assert!(!text.contains(API_TOKEN), "the token came back: {text}");
    let card = &answer["integrations"]["desks"][0];
    assert_eq!(card["desk"], "zendesk");
    assert_eq!(card["connected"], true);
    assert_eq!(card["secret_hint"], "4821");
    // Live handoff is on for the demo: the Inbox takes escalations, the desk waits.
    assert_eq!(answer["integrations"]["live_handoff"], true);
    assert_eq!(card["active"], false);

    let (status, answer) =
        app.call(&admin.client, "settings/live-handoff", json!({"bot_id": "demo", "on": false})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["integrations"]["desks"][0]["active"], true);

    let (status, answer) = app.call(&admin.client, "settings/integrations", json!({"bot_id": "demo"})).await;
    assert_eq!(status, 200, "{answer}");
    assert!(!answer.to_string().contains(API_TOKEN));

    // At rest the token is sealed: not in the database in plaintext.
    let store = inspect(&database).await;
    let sealed: String =
        sqlx::query_scalar("SELECT sealed FROM helpdesk_connections").fetch_one(store.pool()).await.unwrap();
    assert!(sealed.starts_with("v1.") && !sealed.contains(API_TOKEN) && !sealed.contains("acme"), "{sealed}");

    let (status, answer) =
        app.call(&admin.client, "settings/helpdesk/disconnect", json!({"bot_id": "demo", "desk": "zendesk"})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["integrations"]["desks"][0]["connected"], false);
    let (status, _) =
        app.call(&admin.client, "settings/helpdesk/disconnect", json!({"bot_id": "demo", "desk": "zendesk"})).await;
    assert_eq!(status, 409);
    app.stop().await;
}

async fn bad_input_is_named_and_other_workspaces_and_agents_are_refused(db: Db) {
    let database = TestDatabase::new(db).await;
    let (origin, fake) = fake_zendesk().await;
    let app = spawn_with_desks(&database, &origin).await;
    let admin = app.admin().await;

    let cases = [
        (json!({"bot_id": "demo", "desk": "jira", "credentials": {}}), "desk"),
        (
            json!({"bot_id": "demo", "desk": "zendesk", "credentials": zendesk_credentials(API_TOKEN).as_object().map(|c| { let mut c = c.clone(); c.insert("subdomain".into(), json!("169.254.169.254")); c })}),
            "subdomain",
        ),
        (
            json!({"bot_id": "demo", "desk": "zendesk", "credentials": {"subdomain": "evil.com/", "email": AGENT_EMAIL, "api_token": "x"}}),
            "subdomain",
        ),
        (
            json!({"bot_id": "demo", "desk": "zendesk", "credentials": {"subdomain": "acme", "email": AGENT_EMAIL, "api_token": "x", "base_url": "http://10.0.0.1"}}),
            "base_url",
        ),
        (
            json!({"bot_id": "demo", "desk": "zendesk", "credentials": {"subdomain": "acme", "email": AGENT_EMAIL}}),
            "credentials",
        ),
        (
            json!({"bot_id": "demo", "desk": "zendesk", "credentials": {"subdomain": "acme", "email": AGENT_EMAIL, "api_token": "x".repeat(3000)}}),
            "api_token",
        ),
        (
            json!({"bot_id": "demo", "desk": "zendesk", "credentials": {"subdomain": "acme", "email": AGENT_EMAIL, "api_token": "a\u{0}b"}}),
            "api_token",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) = app.call(&admin.client, "settings/helpdesk/verify", body.clone()).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"]["code"], "invalid_input");
        assert!(answer["error"]["message"].as_str().unwrap().starts_with(field), "{field}: {answer}");
    }
    let (status, answer) = app
        .call(
            &admin.client,
            "settings/helpdesk/verify",
            json!({"bot_id": "demo", "desk": "zendesk", "credentials": {"subdomain": 5}}),
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(fake.lock().unwrap().create_calls, 0);

    let eve = app.admin_of_another_workspace(&database).await;
    let body = json!({"bot_id": "demo", "desk": "zendesk", "credentials": zendesk_credentials(API_TOKEN)});
    for path in
        ["settings/helpdesk/connect", "settings/integrations", "settings/live-handoff", "settings/helpdesk/disconnect"]
    {
        let mut body = body.clone();
        body["on"] = json!(false);
        let (status, answer) = app.call(&eve.client, path, body).await;
        assert_eq!(status, 404, "{path}: {answer}");
    }
    let agent = app.agent(&admin, "Ada Agent").await;
    let (status, answer) = app.call(&agent.client, "settings/helpdesk/connect", body).await;
    assert_eq!(status, 403, "{answer}");
    let (status, _) = app.call(&agent.client, "settings/integrations", json!({"bot_id": "demo"})).await;
    assert_eq!(status, 403);
    let (status, _) = app.call(&agent.client, "settings/chatbots", json!({})).await;
    assert_eq!(status, 403, "the picker is for admins too");
    let (status, answer) = app.call(&eve.client, "settings/chatbots", json!({})).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer["chatbots"].as_array().unwrap().iter().all(|c| c["bot_id"] != "demo"), "{answer}");
    let (status, answer) = app.call(&admin.client, "settings/chatbots", json!({})).await;
    assert_eq!((status.as_u16(), &answer["chatbots"][0]["bot_id"]), (200, &json!("demo")), "{answer}");
    app.stop().await;
}

/// Connects the fake Zendesk to the demo chatbot and turns live handoff off.
pub async fn connect_zendesk(app: &TestApp) {
    let body = json!({"bot_id": "demo", "desk": "zendesk", "credentials": zendesk_credentials(API_TOKEN)});
    connect_and_hand_off(app, body).await;
}

/// Connects a desk to the demo chatbot with the connect call's `body` and turns live
/// handoff off, so escalations go to that desk.
pub async fn connect_and_hand_off(app: &TestApp, body: Value) {
    let admin = app.admin().await;
    let (status, answer) = app.call(&admin.client, "settings/helpdesk/connect", body).await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer) =
        app.call(&admin.client, "settings/live-handoff", json!({"bot_id": "demo", "on": false})).await;
    assert_eq!(status, 200, "{answer}");
}

/// Serves a fake vendor on a free loopback port; its origin is what Baton is pointed at.
pub async fn serve_fake(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.ok() });
    origin
}

async fn an_escalation_becomes_exactly_one_ticket_with_the_transcript(db: Db) {
    let database = TestDatabase::new(db).await;
    let (origin, fake) = fake_zendesk().await;
    let app = spawn_with_desks(&database, &origin).await;
    connect_zendesk(&app).await;

    let chat = app.start_chat().await;
    say(&app, &chat, "c1", "I was charged twice for my subscription <b>this month</b>").await;
    say(&app, &chat, "c2", "I want to talk to a human").await;
    let (status, body) = app.visitor_send(&chat, "email", "jordan@acme.com").await;
    assert_eq!(status, 200, "{body}");
    let history = app.wait_for_history(&chat, "the handoff", |h| h["state"] == "handed_off").await;
    let last = history["messages"].as_array().unwrap().last().unwrap()["text"].as_str().unwrap().to_owned();
    assert!(last.contains("shared this with our support team") && last.contains("jordan@acme.com"), "{last}");

    let ticket = wait_for("the ticket", || fake.lock().unwrap().tickets.first().cloned()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.lock().unwrap().tickets.len(), 1, "exactly one ticket");
    assert_eq!(ticket["requester"]["email"], "jordan@acme.com");
    assert_eq!(ticket["comment"]["public"], false);
    let html = ticket["comment"]["html_body"].as_str().unwrap();
    assert!(html.contains("charged twice") && html.contains("&lt;b&gt;this month&lt;/b&gt;"), "{html}");
    assert!(html.contains("I want to talk to a human") && html.contains("Summary:"), "{html}");
    assert!(ticket["tags"].as_array().unwrap().contains(&json!("baton")));
    assert!(!ticket["subject"].as_str().unwrap().is_empty());
    assert!(ticket["external_id"].as_str().unwrap().starts_with("esc_"));

    let admin = app.admin().await;
    let (_, answer) = app.call(&admin.client, "settings/integrations", json!({"bot_id": "demo"})).await;
    let last = &answer["integrations"]["desks"][0]["last_dispatch"];
    assert_eq!(last["status"], "sent", "{answer}");
    assert!(last["ticket_url"].as_str().unwrap().ends_with("/agent/tickets/1000"), "{answer}");
    app.stop().await;
}

/// A card number never reaches the desk's ticket, in the transcript, the summary or
/// the subject; a Luhn-invalid order number does; the Inbox keeps what was typed.
async fn card_numbers_never_reach_the_desk(db: Db) {
    let database = TestDatabase::new(db).await;
    let (origin, fake) = fake_zendesk().await;
    let app = spawn_with_desks(&database, &origin).await;
    connect_zendesk(&app).await;

    let chat = app.start_chat().await;
    let typed = "You charged my card 4111 1111 1111 1111 twice for order 4111111111111112";
    say(&app, &chat, "c1", typed).await;
    say(&app, &chat, "c2", "I want to talk to a human").await;
    let (status, body) = app.visitor_send(&chat, "email", "jordan@acme.com").await;
    assert_eq!(status, 200, "{body}");
    let ticket = wait_for("the ticket", || fake.lock().unwrap().tickets.first().cloned()).await;
    let sent = ticket.to_string();
    assert!(!sent.contains("4111 1111 1111 1111") && !sent.contains("4111111111111111"), "{sent}");
    assert!(sent.contains("[card number removed]") && sent.contains("4111111111111112"), "{sent}");
    let history = app.history(&chat, 0).await;
    assert!(texts(&history).iter().any(|t| t == typed), "the transcript keeps what was typed: {history}");
    app.stop().await;
}

async fn throttling_and_outages_are_retried_into_one_ticket(db: Db) {
    let database = TestDatabase::new(db).await;
    let (origin, fake) = fake_zendesk().await;
    {
        let mut fake = fake.lock().unwrap();
        fake.script.push_back((429, vec![("retry-after", "1".to_owned())], json!({"error": "TooManyRequests"})));
        fake.script.push_back((503, vec![], json!({"error": "Unavailable"})));
    }
    let app = spawn_with_desks(&database, &origin).await;
    connect_zendesk(&app).await;
    let chat = app.start_chat_with_email("sam@example.com").await;
    say(&app, &chat, "c2", "I want to talk to a human").await;
    app.wait_for_history(&chat, "the handoff", |h| h["state"] == "handed_off").await;

    wait_for("the ticket after two refusals", || fake.lock().unwrap().tickets.first().cloned()).await;
    let (calls, tickets) = {
        let fake = fake.lock().unwrap();
        (fake.create_calls, fake.tickets.len())
    };
    assert_eq!((calls, tickets), (3, 1), "429, 503, then one ticket");
    app.stop().await;
}

async fn a_permanent_refusal_fails_visibly_and_retry_sends_it(db: Db) {
    let database = TestDatabase::new(db).await;
    let (origin, fake) = fake_zendesk().await;
    fake.lock().unwrap().script.push_back((
        422,
        vec![],
        json!({"error": "RecordInvalid", "description": "Record validation errors", "details": {}}),
    ));
    let app = spawn_with_desks(&database, &origin).await;
    connect_zendesk(&app).await;
    let chat = app.start_chat_with_email("sam@example.com").await;
    say(&app, &chat, "c2", "I want to talk to a human").await;
    app.wait_for_history(&chat, "the handoff", |h| h["state"] == "handed_off").await;

    let admin = app.admin().await;
    let failed = dispatched(&app, 0).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(
        failed["error"].as_str().unwrap().contains("422")
            && failed["error"].as_str().unwrap().contains("RecordInvalid"),
        "{failed}"
    );
    assert_eq!(fake.lock().unwrap().create_calls, 1, "a 422 is not retried");

    // The Inbox's All view shows the conversation with the desk's reason.
    let conversation_id = failed["conversation_id"].as_str().unwrap().to_owned();
    let (status, list) = app.call(&admin.client, "inbox/conversations", json!({"filter": "all"})).await;
    assert_eq!(status, 200, "{list}");
    let listed = list["conversations"].as_array().unwrap().iter().find(|c| c["id"] == conversation_id.as_str());
    let dispatch = &listed.unwrap_or_else(|| panic!("not in All: {list}"))["dispatch"];
    assert_eq!((&dispatch["desk"], &dispatch["status"]), (&json!("zendesk"), &json!("failed")), "{dispatch}");
    assert!(dispatch["error"].as_str().unwrap().contains("RecordInvalid"), "{dispatch}");
    let (_, detail) = app.call(&admin.client, "inbox/conversation", json!({"conversation_id": conversation_id})).await;
    assert_eq!(detail["conversation"]["dispatch"], *dispatch, "{detail}");

    let body = json!({"bot_id": "demo", "conversation_id": conversation_id});
    let (status, answer) = app.call(&admin.client, "settings/helpdesk/retry", body.clone()).await;
    assert_eq!(status, 200, "{answer}");
    wait_for("the ticket after Retry", || fake.lock().unwrap().tickets.first().cloned()).await;
    let (status, _) = app.call(&admin.client, "settings/helpdesk/retry", body).await;
    assert_eq!(status, 409, "nothing left to retry");
    app.stop().await;
}

async fn an_oauth_client_connects_zendesk_and_its_tickets_go_with_the_bearer_token(db: Db) {
    let database = TestDatabase::new(db).await;
    let (origin, fake) = fake_zendesk().await;
    let app = spawn_with_desks(&database, &origin).await;
    let admin = app.admin().await;
    let oauth = |secret: &str| {
        let credentials = json!({"subdomain": "acme", "client_id": OAUTH_CLIENT, "client_secret": secret});
        json!({"bot_id": "demo", "desk": "zendesk", "credentials": credentials})
    };
    let (status, answer) = app.call(&admin.client, "settings/helpdesk/verify", oauth("wrong-secret")).await;
    assert_eq!(status, 422, "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("refused the OAuth client"), "{answer}");
    let (status, answer) = app.call(&admin.client, "settings/helpdesk/connect", oauth(OAUTH_SECRET)).await;
    assert_eq!(status, 200, "{answer}");
    assert!(!answer.to_string().contains(OAUTH_SECRET));
    let (status, _) = app.call(&admin.client, "settings/live-handoff", json!({"bot_id": "demo", "on": false})).await;
    assert_eq!(status, 200);

    let chat = app.start_chat_with_email("sam@example.com").await;
    say(&app, &chat, "c1", "I want to talk to a human").await;
    let ticket = wait_for("the ticket", || fake.lock().unwrap().tickets.first().cloned()).await;
    assert_eq!(ticket["requester"]["email"], "sam@example.com");
    app.stop().await;
}

/// The last dispatch of desk card `card` once it is no longer pending (or after 20 s).
pub async fn dispatched(app: &TestApp, card: usize) -> Value {
    let admin = app.admin().await;
    let mut last = Value::Null;
    for _ in 0..200 {
        let (_, answer) = app.call(&admin.client, "settings/integrations", json!({"bot_id": "demo"})).await;
        last = answer["integrations"]["desks"][card]["last_dispatch"].clone();
        if last["status"] == "sent" || last["status"] == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last
}

/// A local origin whose first `drops` connections are closed as soon as a request
/// arrives (a connection dropped mid-call); later ones are passed through to `target`.
async fn dropping(target: &str, drops: usize) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let target = target.trim_start_matches("http://").to_owned();
    tokio::spawn(async move {
        let mut dropped = 0;
        while let Ok((mut incoming, _)) = listener.accept().await {
            if dropped < drops {
                dropped += 1;
                let mut first = [0u8; 64];
                let _ = tokio::io::AsyncReadExt::read(&mut incoming, &mut first).await;
                drop(incoming);
                continue;
            }
            let target = target.clone();
            tokio::spawn(async move {
                if let Ok(mut outgoing) = tokio::net::TcpStream::connect(&target).await {
                    let _ = tokio::io::copy_bidirectional(&mut incoming, &mut outgoing).await;
                }
            });
        }
    });
    origin
}

async fn a_timeout_and_a_dropped_connection_are_retried_into_one_ticket(db: Db) {
    let database = TestDatabase::new(db).await;
    let (origin, fake) = fake_zendesk().await;
    // The first ticket creation answers after the 1 s limit (Zendesk created it all
    // the same); connect and verify go through the first two connections undropped.
    fake.lock().unwrap().slow_create = Some(Duration::from_secs(3));
    let mut settings = test_settings(&database);
    settings.helpdesk_test_origin = Some(origin.clone());
    settings.helpdesk_timeout_secs = 1;
    let app = spawn_app_with(settings).await;
    connect_zendesk(&app).await;
    let chat = app.start_chat_with_email("sam@example.com").await;
    say(&app, &chat, "c1", "I want to talk to a human").await;
    let last = dispatched(&app, 0).await;
    assert_eq!(last["status"], "sent", "{last}");
    let counts = {
        let fake = fake.lock().unwrap();
        (fake.tickets.len(), fake.create_calls)
    };
    assert_eq!(counts, (1, 1), "the retry found the ticket the timed-out call created, and made no other");
    app.stop().await;

    // A dropped connection: the next instance talks through an origin that drops its
    // first connection, then lets calls through.
    let database = TestDatabase::new(db).await;
    let (origin, fake) = fake_zendesk().await;
    let mut settings = test_settings(&database);
    settings.helpdesk_test_origin = Some(origin.clone());
    let app = spawn_app_with(settings).await;
    connect_zendesk(&app).await;
    app.stop().await;
    let mut settings = test_settings(&database);
    settings.helpdesk_test_origin = Some(dropping(&origin, 1).await);
    let app = spawn_app_with(settings).await;
    let chat = app.start_chat_with_email("sam@example.com").await;
    say(&app, &chat, "c1", "I want to talk to a human").await;
    wait_for("the ticket after a dropped connection", || fake.lock().unwrap().tickets.first().cloned()).await;
    assert_eq!(fake.lock().unwrap().tickets.len(), 1);
    app.stop().await;
}

/// A real server process pointed at `origin`, with a 2-second help-desk lease.
pub fn start_process(database: &TestDatabase, origin: &str) -> (std::process::Child, TestApp) {
    let mut child = server_command(database)
        .env("BATON_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("BATON_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("BATON_HELPDESK_TEST_ORIGIN", origin)
        .env("BATON_HELPDESK_LEASE_SECS", "2")
        .spawn()
        .expect("server starts");
    let (url, _) = read_banner(&mut child);
    (child, TestApp::at(&url))
}

async fn a_sender_killed_after_the_desk_created_the_ticket_still_leaves_one(db: Db) {
    let database = TestDatabase::new(db).await;
    let (origin, fake) = fake_zendesk().await;
    let (mut child, app) = start_process(&database, &origin);
    connect_zendesk(&app).await;
    fake.lock().unwrap().kill_after_create = Some(child.id());

    let chat = app.start_chat_with_email("sam@example.com").await;
    let (status, body) = app.visitor_send(&chat, "c1", "I want to talk to a human").await;
    assert_eq!(status, 200, "{body}");
    wait_for("the kill", || child.try_wait().ok().flatten()).await;
    assert_eq!(fake.lock().unwrap().tickets.len(), 1);

    // Restarted, the dispatcher finds the row still pending, looks the ticket up by
    // the escalation id, finds it, and records it without creating another.
    let (mut again, app) = start_process(&database, &origin);
    let last = dispatched(&app, 0).await;
    assert_eq!(last["status"], "sent", "{last}");
    let counts = {
        let fake = fake.lock().unwrap();
        (fake.tickets.len(), fake.create_calls)
    };
    assert_eq!(counts, (1, 1), "exactly one ticket, created once");
    terminate_and_wait(&mut again);
}

/// Canaries: a credential and an internal note planted in a run appear in no API
/// answer, no log line, no ticket and (on SQLite) no file of the data directory.
async fn planted_canaries_never_leak(db: Db) {
    const NOTE: &str = "internal-note-canary-9911";
    let database = TestDatabase::new(db).await;
    let (origin, fake) = fake_zendesk().await;
    let mut child = server_command(&database)
        .env("BATON_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("BATON_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("BATON_HELPDESK_TEST_ORIGIN", &origin)
        .env("RUST_LOG", "info")
        .spawn()
        .expect("server starts");
    // Every line the server prints (its log goes to stdout), read as it comes.
    let printed = Arc::new(Mutex::new(String::new()));
    let (started, url) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    std::thread::spawn({
        let printed = printed.clone();
        move || {
            for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)).map_while(Result::ok) {
                if let Some(url) = line.trim().strip_prefix("Baton is running at ") {
                    let _ = started.send(url.to_owned());
                }
                let mut printed = printed.lock().unwrap();
                printed.push_str(&line);
                printed.push('\n');
            }
        }
    });
    let url = url.recv_timeout(Duration::from_secs(30)).expect("the banner");
    let app = TestApp::at(&url);
    let admin = app.admin().await;
    let mut answers = String::new();
    for (path, body) in [
        (
            "settings/helpdesk/verify",
            json!({"bot_id": "demo", "desk": "zendesk", "credentials": zendesk_credentials(API_TOKEN)}),
        ),
        (
            "settings/helpdesk/connect",
            json!({"bot_id": "demo", "desk": "zendesk", "credentials": zendesk_credentials(API_TOKEN)}),
        ),
        ("settings/live-handoff", json!({"bot_id": "demo", "on": false})),
    ] {
        let (status, answer) = app.call(&admin.client, path, body).await;
        assert_eq!(status, 200, "{path}: {answer}");
        answers.push_str(&answer.to_string());
    }
    let chat = app.start_chat_with_email("sam@example.com").await;
    say(&app, &chat, "c1", "How much is the Team plan?").await;
    let (status, answer) =
        app.call(&admin.client, "inbox/note", json!({"conversation_id": chat.conversation_id, "text": NOTE})).await;
    assert_eq!(status, 200, "{answer}");
    say(&app, &chat, "c2", "I want to talk to a human").await;
    let ticket = wait_for("the ticket", || fake.lock().unwrap().tickets.first().cloned()).await;
    let last = dispatched(&app, 0).await;
    assert_eq!(last["status"], "sent", "{last}");
    let (_, integrations) = app.call(&admin.client, "settings/integrations", json!({"bot_id": "demo"})).await;
    answers.push_str(&integrations.to_string());
    answers.push_str(&app.history(&chat, 0).await.to_string());
    let page = admin.client.get(app.url("/settings")).send().await.unwrap().text().await.unwrap_or_default();
    terminate_and_wait(&mut child);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut logs = printed.lock().unwrap().clone();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut logs).unwrap();
    assert!(logs.contains("ticket created") && logs.contains("help desk connected"), "the dispatch is logged: {logs}");

    for (place, text) in [("API answers", &answers), ("logs", &logs), ("the settings page", &page)] {
        assert!(!text.contains(API_TOKEN), "the API token is in {place}");
        assert!(!text.contains(NOTE), "the note is in {place}");
    }
    let ticket = ticket.to_string();
    assert!(!ticket.contains(NOTE) && !ticket.contains(API_TOKEN), "the ticket holds a canary: {ticket}");
    if db == Db::Sqlite {
        for file in std::fs::read_dir(database.dir.path()).unwrap() {
            let path = file.unwrap().path();
            let bytes = std::fs::read(&path).unwrap_or_default();
            let found = bytes.windows(API_TOKEN.len()).any(|w| w == API_TOKEN.as_bytes());
            assert!(!found, "the API token is in plaintext in {}", path.display());
        }
    }
}

/// Two instances on one PostgreSQL database, each with its dispatcher: every
/// escalation becomes exactly one ticket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_postgres_send_each_escalation_once() {
    if postgres_admin_url().is_none() {
        eprintln!("skipped: set DATABASE_URL_TEST (or CI) to run the PostgreSQL variant");
        return;
    }
    let database = TestDatabase::new(Db::Postgres).await;
    let (origin, fake) = fake_zendesk().await;
    let (mut first, a) = start_process(&database, &origin);
    let (mut second, b) = start_process(&database, &origin);
    connect_zendesk(&a).await;
    let mut chats = Vec::new();
    for i in 0..10 {
        let app = if i % 2 == 0 { &a } else { &b };
        let chat = app.start_chat_with_email(&format!("visitor{i}@example.com")).await;
        let (status, body) = app.visitor_send(&chat, "c1", "I want to talk to a human").await;
        assert_eq!(status, 200, "{body}");
        chats.push(chat);
    }
    wait_for("ten tickets", || (fake.lock().unwrap().tickets.len() >= 10).then_some(())).await;
    // Past a lease and several polls of both instances: nothing is sent twice.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let counts = {
        let fake = fake.lock().unwrap();
        let mut ids: Vec<&str> = fake.tickets.iter().map(|t| t["external_id"].as_str().unwrap()).collect();
        ids.sort_unstable();
        ids.dedup();
        (fake.tickets.len(), ids.len(), fake.create_calls)
    };
    assert_eq!(counts, (10, 10, 10), "one ticket per escalation");
    terminate_and_wait(&mut first);
    terminate_and_wait(&mut second);
}

/// A key rotation: connected under key A; started with B and A as previous, which
/// seals the connection again under B; then started with B alone, it still sends.
async fn a_rotated_key_reseals_connections_at_start(db: Db) {
    const OLD: &str = "1111111111111111111111111111111111111111111111111111111111111111";
    const NEW: &str = "2222222222222222222222222222222222222222222222222222222222222222";
    let database = TestDatabase::new(db).await;
    let (origin, fake) = fake_zendesk().await;
    let keyed = |current: &str, previous: &[&str]| {
        let mut settings = test_settings(&database);
        settings.helpdesk_test_origin = Some(origin.clone());
        settings.secret_key = Some(current.into());
        settings.previous_secret_keys = previous.iter().map(|k| (*k).into()).collect();
        settings
    };
    let app = spawn_app_with(keyed(OLD, &[])).await;
    connect_zendesk(&app).await;
    app.stop().await;
    let app = spawn_app_with(keyed(NEW, &[OLD])).await;
    app.stop().await;

    let app = spawn_app_with(keyed(NEW, &[])).await;
    let chat = app.start_chat_with_email("sam@example.com").await;
    say(&app, &chat, "c2", "I want to talk to a human").await;
    wait_for("the ticket under the new key", || fake.lock().unwrap().tickets.first().cloned()).await;
    assert_eq!(dispatched(&app, 0).await["status"], "sent");
    app.stop().await;
}

on_both_databases!(
    a_rotated_key_reseals_connections_at_start,
    verify_refuses_the_anonymous_user_and_stores_nothing,
    a_connected_desk_shows_its_account_never_its_secret,
    bad_input_is_named_and_other_workspaces_and_agents_are_refused,
    an_escalation_becomes_exactly_one_ticket_with_the_transcript,
    throttling_and_outages_are_retried_into_one_ticket,
    a_permanent_refusal_fails_visibly_and_retry_sends_it,
    a_sender_killed_after_the_desk_created_the_ticket_still_leaves_one,
    an_oauth_client_connects_zendesk_and_its_tickets_go_with_the_bearer_token,
    planted_canaries_never_leak,
    a_timeout_and_a_dropped_connection_are_retried_into_one_ticket,
    card_numbers_never_reach_the_desk,
);
