//! Zoho Desk against a local fake of its accounts server and its Desk API, following
//! the vendor's documentation (`helpdesks.md`). The token endpoint reports failures
//! as HTTP 200 with an `error`, and each grant code works once. Desk wants
//! `Zoho-oauthtoken` and an `orgId` header, refuses unknown query parameters, and
//! answers an empty list with 204. Every host goes to the one fake origin, and the
//! paths tell the accounts server (`/oauth/v2/token`) from Desk (`/api/v1/…`).

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use axum::{
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Form, Json, Router,
};
use serde_json::{json, Value};

use crate::{
    helpdesk::{dispatched, spawn_with_desks, start_process, wait_for, Shared},
    helpers::{Db, TestApp, TestDatabase},
    on_both_databases,
    process::terminate_and_wait,
};

const CLIENT_ID: &str = "1000.ZOHOFAKECLIENT";
const CLIENT_SECRET: &str = "zoho-secret-canary-6161";
const ORG_ID: &str = "7001234";
const SUPPORT: &str = "2000000000001";
const SALES: &str = "2000000000002";
const ARCHIVE: &str = "2000000000003";
/// Zoho Desk's card: the fifth, in the priority order.
const CARD: usize = 4;

/// The accounts server's side: the one grant code, and the tokens it gave out.
#[derive(Default)]
struct Accounts {
    grant_code: String,
    code_used: bool,
    exchanges: usize,
    refreshes: usize,
    refresh_tokens: Vec<String>,
    access_tokens: Vec<String>,
}

#[derive(Clone)]
struct Fake {
    desk: Shared,
    accounts: Arc<Mutex<Accounts>>,
}

/// A value no other fake gives out: Baton keeps exchanged codes and access tokens
/// per process, and the in-process tests run side by side.
fn unique(what: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("1000.{what}.{}.{nanos}.{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({"errorCode": code, "message": message}))).into_response()
}

/// Zoho's token endpoint. Failures are HTTP 200 with an `error`, as Zoho sends them.
async fn token(State(fake): State<Fake>, Form(params): Form<HashMap<String, String>>) -> Json<Value> {
    let param = |name: &str| params.get(name).map(String::as_str).unwrap_or_default();
    let mut accounts = fake.accounts.lock().unwrap();
    if param("client_id") != CLIENT_ID || param("client_secret") != CLIENT_SECRET {
        return Json(json!({"error": "invalid_client"}));
    }
    let access = unique("access");
    match param("grant_type") {
        "authorization_code" => {
            if accounts.code_used || param("code") != accounts.grant_code {
                return Json(json!({"error": "invalid_code"}));
            }
            accounts.code_used = true;
            accounts.exchanges += 1;
            let refresh = unique("refresh");
            accounts.refresh_tokens.push(refresh.clone());
            accounts.access_tokens.push(access.clone());
            Json(json!({
                "access_token": access,
                "refresh_token": refresh,
                "api_domain": "https://www.zohoapis.com",
                "token_type": "Bearer",
                "expires_in": 3600,
            }))
        }
        "refresh_token" if accounts.refresh_tokens.iter().any(|t| t == param("refresh_token")) => {
            accounts.refreshes += 1;
            accounts.access_tokens.push(access.clone());
            Json(json!({
                "access_token": access,
                "api_domain": "https://www.zohoapis.com",
                "token_type": "Bearer",
                "expires_in": 3600,
            }))
        }
        "refresh_token" => Json(json!({"error": "invalid_code"})),
        _ => Json(json!({"error": "unsupported_grant_type"})),
    }
}

/// Why the fake refuses a Desk call, if it does: an access token it did not give
/// out, or (`org`) a missing or wrong `orgId` header.
fn refused(fake: &Fake, headers: &HeaderMap, org: bool) -> Option<Response> {
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Zoho-oauthtoken "));
    let known = given.is_some_and(|given| fake.accounts.lock().unwrap().access_tokens.iter().any(|t| t == given));
    if !known {
        return Some(error(StatusCode::UNAUTHORIZED, "INVALID_OAUTH", "The OAuth Token you provided is invalid."));
    }
    if org && headers.get("orgid").and_then(|v| v.to_str().ok()) != Some(ORG_ID) {
        return Some(error(StatusCode::UNPROCESSABLE_ENTITY, "INVALID_DATA", "The orgId is missing or invalid."));
    }
    None
}

/// Zoho refuses query parameters it does not know.
fn extra(query: &[(String, String)], known: &[&str]) -> Option<Response> {
    let (name, _) = query.iter().find(|(name, _)| !known.contains(&name.as_str()))?;
    let message = format!("Extra query parameter '{name}' is present in the input.");
    Some(error(StatusCode::UNPROCESSABLE_ENTITY, "UNPROCESSABLE_ENTITY", &message))
}

async fn organizations(State(fake): State<Fake>, headers: HeaderMap) -> Response {
    if let Some(refusal) = refused(&fake, &headers, false) {
        return refusal;
    }
    // Ids come as numbers and as strings.
    Json(json!({"data": [
        {"id": 7001234, "companyName": "Acme Support Co", "portalName": "acme"},
        {"id": "7009999", "companyName": "Side Project", "portalName": "side"},
    ]}))
    .into_response()
}

async fn departments(
    State(fake): State<Fake>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    if let Some(refusal) = refused(&fake, &headers, true).or_else(|| extra(&query, &["from", "limit", "isEnabled"])) {
        return refusal;
    }
    Json(json!({"data": [
        {"id": SUPPORT, "name": "Support", "isEnabled": true},
        {"id": SALES, "name": "Sales", "isEnabled": true},
        {"id": ARCHIVE, "name": "Archive", "isEnabled": false},
    ]}))
    .into_response()
}

/// The ticket list: read from the account (no search index), without descriptions.
async fn list(State(fake): State<Fake>, headers: HeaderMap, Query(query): Query<Vec<(String, String)>>) -> Response {
    let known = ["from", "limit", "sortBy", "departmentId", "include", "status", "viewId"];
    if let Some(refusal) = refused(&fake, &headers, true).or_else(|| extra(&query, &known)) {
        return refusal;
    }
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let limit = param("limit").and_then(|l| l.parse().ok()).unwrap_or(10);
    let department = param("departmentId");
    let desk = fake.desk.lock().unwrap();
    let mut tickets: Vec<Value> = desk
        .tickets
        .iter()
        .filter(|t| department.is_none_or(|d| t["departmentId"] == d))
        .map(|t| {
            json!({
                "id": t["id"], "ticketNumber": t["ticketNumber"], "subject": t["subject"], "email": t["email"],
                "contactId": t["contactId"], "departmentId": t["departmentId"], "status": t["status"],
                "createdTime": t["createdTime"], "webUrl": t["webUrl"],
            })
        })
        .collect();
    if param("sortBy") == Some("-createdTime") {
        tickets.reverse();
    }
    tickets.truncate(limit);
    if tickets.is_empty() {
        return StatusCode::NO_CONTENT.into_response();
    }
    Json(json!({"data": tickets})).into_response()
}

async fn one(State(fake): State<Fake>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Some(refusal) = refused(&fake, &headers, true) {
        return refusal;
    }
    let desk = fake.desk.lock().unwrap();
    match desk.tickets.iter().find(|t| t["id"] == id.as_str()) {
        Some(ticket) => Json(ticket.clone()).into_response(),
        None => error(StatusCode::NOT_FOUND, "URL_NOT_FOUND", "The URL you requested could not be found."),
    }
}

async fn create(State(fake): State<Fake>, headers: HeaderMap, body: String) -> Response {
    if let Some(refusal) = refused(&fake, &headers, true) {
        return refusal;
    }
    let mut desk = fake.desk.lock().unwrap();
    if let Some(scripted) = desk.creating(&body) {
        return scripted;
    }
    let Ok(mut ticket) = serde_json::from_str::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "INVALID_DATA", "The request body is not JSON.");
    };
    let mut errors = Vec::new();
    for (field, value) in [
        ("/subject", &ticket["subject"]),
        ("/departmentId", &ticket["departmentId"]),
        ("/contact/lastName", &ticket["contact"]["lastName"]),
    ] {
        if !value.is_string() {
            errors.push(json!({"fieldName": field, "errorType": "missing"}));
        }
    }
    let enabled = ticket["departmentId"].as_str().is_some_and(|d| [SUPPORT, SALES].contains(&d));
    let too_long = |field: &str, max: usize| ticket[field].as_str().is_some_and(|t| t.chars().count() > max);
    for (field, wrong) in [
        ("/departmentId", !enabled),
        ("/subject", too_long("subject", 255)),
        ("/description", too_long("description", 65_535)),
    ] {
        if wrong {
            errors.push(json!({"fieldName": field, "errorType": "invalid"}));
        }
    }
    if !errors.is_empty() {
        let body = json!({"errorCode": "INVALID_DATA", "message": "An invalid value was given.", "errors": errors});
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response();
    }
    let n = desk.tickets.len();
    let id = (3_000_000_000_001 + n).to_string();
    ticket["webUrl"] = json!(format!("https://desk.zoho.com/support/acme/ShowHomePage.do#Cases/dv/{id}"));
    ticket["id"] = json!(id);
    ticket["ticketNumber"] = json!((101 + n).to_string());
    ticket["email"] = ticket["contact"]["email"].clone();
    ticket["contactId"] = json!("4000000000001");
    ticket["createdTime"] = json!(format!("2026-12-03T10:00:{:02}.000Z", n % 60));
    ticket["tags"] = json!([]);
    desk.tickets.push(ticket.clone());
    if let Some(pid) = desk.kill_after_create.take() {
        let killed = std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status().unwrap();
        assert!(killed.success());
    }
    Json(ticket).into_response()
}

async fn tag(
    State(fake): State<Fake>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    if let Some(refusal) = refused(&fake, &headers, true) {
        return refusal;
    }
    let mut desk = fake.desk.lock().unwrap();
    let Some(ticket) = desk.tickets.iter_mut().find(|t| t["id"] == id.as_str()) else {
        return error(StatusCode::NOT_FOUND, "URL_NOT_FOUND", "The URL you requested could not be found.");
    };
    let tags = body["tags"].as_array().cloned().unwrap_or_default();
    ticket["tags"] = json!(tags);
    let named: Vec<Value> = tags.iter().map(|name| json!({"name": name})).collect();
    Json(json!({"data": named})).into_response()
}

/// The fake on a free loopback port, with a grant code of its own.
async fn fake_zoho() -> (String, Fake) {
    let accounts = Accounts { grant_code: unique("grant"), ..Accounts::default() };
    let fake = Fake { desk: Arc::default(), accounts: Arc::new(Mutex::new(accounts)) };
    let router = Router::new()
        .route("/oauth/v2/token", post(token))
        .route("/api/v1/organizations", get(organizations))
        .route("/api/v1/departments", get(departments))
        .route("/api/v1/tickets", get(list).post(create))
        .route("/api/v1/tickets/{id}", get(one))
        .route("/api/v1/tickets/{id}/associateTag", post(tag))
        .with_state(fake.clone());
    let origin = crate::helpdesk::serve_fake(router).await;
    (origin, fake)
}

/// A verify or connect body with the fake's grant code.
fn zoho(fake: &Fake, secret: &str, org_id: &str, department: Option<&str>) -> Value {
    let code = fake.accounts.lock().unwrap().grant_code.clone();
    let mut credentials = json!({
        "data_centre": "com",
        "client_id": CLIENT_ID,
        "client_secret": secret,
        "grant_code": code,
        "org_id": org_id,
    });
    if let Some(department) = department {
        credentials["department_id"] = json!(department);
    }
    json!({"bot_id": "demo", "desk": "zoho_desk", "credentials": credentials})
}

/// What Settings does: verify (for the departments), connect with the same grant
/// code and the Sales department, then turn live handoff off.
async fn connect_zoho(app: &TestApp, fake: &Fake) {
    let admin = app.admin().await;
    let body = zoho(fake, CLIENT_SECRET, ORG_ID, None);
    let (status, answer) = app.call(&admin.client, "settings/helpdesk/verify", body).await;
    assert_eq!(status, 200, "{answer}");
    let body = zoho(fake, CLIENT_SECRET, ORG_ID, Some(SALES));
    crate::helpdesk::connect_and_hand_off(app, body).await;
}

async fn a_wrong_client_secret_or_grant_code_is_refused_in_plain_words_and_nothing_is_stored(db: Db) {
    let database = TestDatabase::new(db).await;
    let (origin, fake) = fake_zoho().await;
    let app = spawn_with_desks(&database, &origin).await;
    let admin = app.admin().await;

    let wrong = zoho(&fake, "not-the-secret", ORG_ID, Some(SALES));
    for path in ["settings/helpdesk/verify", "settings/helpdesk/connect"] {
        let (status, answer) = app.call(&admin.client, path, wrong.clone()).await;
        assert_eq!(status, 422, "{path}: {answer}");
        assert_eq!(answer["error"]["code"], "verification_failed", "{answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains("check the data centre, client id and secret"), "{message}");
    }
    let mut expired = zoho(&fake, CLIENT_SECRET, ORG_ID, None);
    expired["credentials"]["grant_code"] = json!("1000.some-older-code");
    let (status, answer) = app.call(&admin.client, "settings/helpdesk/verify", expired).await;
    assert_eq!(status, 422, "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("generate a new one"), "{answer}");

    let (_, answer) = app.call(&admin.client, "settings/integrations", json!({"bot_id": "demo"})).await;
    let card = &answer["integrations"]["desks"][CARD];
    assert_eq!((&card["desk"], &card["connected"]), (&json!("zoho_desk"), &json!(false)), "{card}");
    assert_eq!(fake.accounts.lock().unwrap().exchanges, 0);
    app.stop().await;
}

async fn verify_then_connect_with_the_same_grant_code_connects_zoho_desk(db: Db) {
    let database = TestDatabase::new(db).await;
    let (origin, fake) = fake_zoho().await;
    let app = spawn_with_desks(&database, &origin).await;
    let admin = app.admin().await;

    // The first verify spends the code; every later step uses what it exchanged.
    let body = zoho(&fake, CLIENT_SECRET, "7005555", None);
    let (status, answer) = app.call(&admin.client, "settings/helpdesk/verify", body).await;
    assert_eq!(status, 422, "{answer}");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(message.contains("organization 7005555 not found"), "{message}");
    assert!(message.contains("7001234 (Acme Support Co)") && message.contains("7009999 (Side Project)"), "{message}");

    let body = zoho(&fake, CLIENT_SECRET, ORG_ID, None);
    let (status, answer) = app.call(&admin.client, "settings/helpdesk/verify", body).await;
    assert_eq!(status, 200, "{answer}");
    let choices: Vec<(&str, &str)> = answer["verified"]["choices"]["department_id"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["value"].as_str().unwrap(), c["label"].as_str().unwrap()))
        .collect();
    assert_eq!(choices, [(SUPPORT, "Support"), (SALES, "Sales")], "a disabled department is no choice");
    assert_eq!(answer["verified"]["account"], "Acme Support Co at desk.zoho.com");

    let body = zoho(&fake, CLIENT_SECRET, ORG_ID, Some(ARCHIVE));
    let (status, answer) = app.call(&admin.client, "settings/helpdesk/connect", body).await;
    assert_eq!(status, 422, "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("not an enabled department"), "{answer}");

    let body = zoho(&fake, CLIENT_SECRET, ORG_ID, Some(SALES));
    let (status, answer) = app.call(&admin.client, "settings/helpdesk/connect", body).await;
    assert_eq!(status, 200, "{answer}");
    let card = &answer["integrations"]["desks"][CARD];
    assert_eq!(card["connected"], true, "{card}");
    assert_eq!(card["account"], "Acme Support Co, Sales at desk.zoho.com", "{card}");
    let (exchanges, refresh_tokens) = {
        let accounts = fake.accounts.lock().unwrap();
        (accounts.exchanges, accounts.refresh_tokens.clone())
    };
    assert_eq!(exchanges, 1, "the grant code was exchanged once, by the first verify");
    let text = answer.to_string();
    assert!(!text.contains(CLIENT_SECRET) && !refresh_tokens.iter().any(|t| text.contains(t.as_str())), "{text}");
    app.stop().await;
}

async fn an_escalation_becomes_one_zoho_ticket_in_the_chosen_department(db: Db) {
    let database = TestDatabase::new(db).await;
    let (origin, fake) = fake_zoho().await;
    let app = spawn_with_desks(&database, &origin).await;
    connect_zoho(&app, &fake).await;

    let visitor = json!({"bot_id": "demo", "name": "Sam Rivera Cole", "email": "sam@example.com"});
    let chat = app.start_chat_with(visitor).await;
    let (status, body) = app.visitor_send(&chat, "c1", "I want to talk to a human <please>").await;
    assert_eq!(status, 200, "{body}");
    let last = dispatched(&app, CARD).await;
    assert_eq!(last["status"], "sent", "{last}");
    tokio::time::sleep(Duration::from_millis(300)).await;

    let ticket = {
        let desk = fake.desk.lock().unwrap();
        assert_eq!((desk.tickets.len(), desk.create_calls), (1, 1), "exactly one ticket");
        desk.tickets[0].clone()
    };
    assert_eq!(ticket["departmentId"], SALES);
    assert_eq!(ticket["contact"], json!({"firstName": "Sam", "lastName": "Rivera Cole", "email": "sam@example.com"}));
    let kind = (&ticket["priority"], &ticket["channel"], &ticket["status"]);
    assert_eq!(kind, (&json!("High"), &json!("Chat"), &json!("Open")));
    let description = ticket["description"].as_str().unwrap();
    assert!(description.contains("I want to talk to a human &lt;please&gt;"), "{description}");
    assert!(description.contains("Summary:") && description.contains("Baton escalation esc_"), "{description}");
    assert!(!ticket["subject"].as_str().unwrap().is_empty());
    assert_eq!(last["ticket_url"], ticket["webUrl"], "{last}");
    let tags = ticket["tags"].as_array().unwrap();
    assert!(
        tags.contains(&json!("baton")) && tags.iter().any(|t| t.as_str().unwrap().starts_with("baton-")),
        "{tags:?}"
    );
    app.stop().await;
}

async fn a_zoho_ticket_survives_a_sender_killed_after_zoho_created_it(db: Db) {
    let database = TestDatabase::new(db).await;
    let (origin, fake) = fake_zoho().await;
    let (mut child, app) = start_process(&database, &origin);
    connect_zoho(&app, &fake).await;
    fake.desk.lock().unwrap().kill_after_create = Some(child.id());

    let chat = app.start_chat_with_email("sam@example.com").await;
    let (status, body) = app.visitor_send(&chat, "c1", "I want to talk to a human").await;
    assert_eq!(status, 200, "{body}");
    wait_for("the kill", || child.try_wait().ok().flatten()).await;

    // The new process keeps no token: it refreshes, lists the department's newest
    // tickets, and finds the killed attempt's ticket by the escalation in its description.
    let (mut again, app) = start_process(&database, &origin);
    let last = dispatched(&app, CARD).await;
    assert_eq!(last["status"], "sent", "{last}");
    let (counts, ticket) = {
        let desk = fake.desk.lock().unwrap();
        ((desk.tickets.len(), desk.create_calls), desk.tickets[0].clone())
    };
    assert_eq!(counts, (1, 1), "one ticket, created once");
    assert_eq!(last["ticket_url"], ticket["webUrl"], "{last}");
    assert_eq!(ticket["contact"]["lastName"], "sam", "without a name, the email's local part");
    assert!(fake.accounts.lock().unwrap().refreshes >= 1, "the restarted sender got its own access token");
    terminate_and_wait(&mut again);
}

async fn an_outage_and_a_refused_token_are_retried_into_one_zoho_ticket(db: Db) {
    let database = TestDatabase::new(db).await;
    let (origin, fake) = fake_zoho().await;
    {
        let mut desk = fake.desk.lock().unwrap();
        let unavailable = json!({"errorCode": "SERVICE_UNAVAILABLE", "message": "Try again later."});
        desk.script.push_back((503, vec![], unavailable));
        let revoked = json!({"errorCode": "INVALID_OAUTH", "message": "The OAuth Token you provided is invalid."});
        desk.script.push_back((401, vec![], revoked));
    }
    let app = spawn_with_desks(&database, &origin).await;
    connect_zoho(&app, &fake).await;

    let chat = app.start_chat_with_email("sam@example.com").await;
    let (status, body) = app.visitor_send(&chat, "c1", "I want to talk to a human").await;
    assert_eq!(status, 200, "{body}");
    let last = dispatched(&app, CARD).await;
    assert_eq!(last["status"], "sent", "{last}");
    let counts = {
        let desk = fake.desk.lock().unwrap();
        (desk.create_calls, desk.tickets.len())
    };
    assert_eq!(counts, (3, 1), "503, a refused access token, then one ticket");
    assert_eq!(fake.accounts.lock().unwrap().refreshes, 1, "the refused token was replaced, once");
    app.stop().await;
}

on_both_databases!(
    a_wrong_client_secret_or_grant_code_is_refused_in_plain_words_and_nothing_is_stored,
    verify_then_connect_with_the_same_grant_code_connects_zoho_desk,
    an_escalation_becomes_one_zoho_ticket_in_the_chosen_department,
    a_zoho_ticket_survives_a_sender_killed_after_zoho_created_it,
    an_outage_and_a_refused_token_are_retried_into_one_zoho_ticket,
);
