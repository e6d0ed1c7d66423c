//! HubSpot against a local fake that follows its documentation (`helpdesks.md`): the
//! account details and the ticket pipelines for verify (401 `INVALID_AUTHENTICATION`),
//! Baton's ticket property with unique values (a second ticket with one escalation id
//! is a 409), contacts found by email or created (a 409 "Contact already exists.
//! Existing ID: N" while search has not indexed one yet), and tickets read by the
//! unique property, which is how Baton finds a ticket an earlier attempt created.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde_json::{json, Value};

use crate::{
    escalation::say,
    helpdesk::{dispatched, spawn_with_desks, start_process, wait_for, Shared},
    helpers::{inspect, Db, TestApp, TestDatabase},
    on_both_databases,
    process::terminate_and_wait,
};

const TOKEN: &str = "pat-eu1-canary-token-6620";
const PROPERTY: &str = "baton_escalation_id";
/// HubSpot's card in Settings: the fourth desk of the priority order.
const CARD: usize = 3;
const FIRST_TICKET_URL: &str = "https://app-eu1.hubspot.com/contacts/4242/ticket/9001";

struct Contact {
    id: String,
    properties: Value,
    /// Whether search finds it yet (HubSpot's index lags a new contact).
    indexed: bool,
}

/// What the fake keeps beside the tickets (which live in the shared `FakeDesk`).
#[derive(Default)]
struct Crm {
    contacts: Vec<Contact>,
    /// Contacts created through the API (not seeded).
    contact_creates: usize,
    /// Ticket properties created through the API.
    properties: Vec<Value>,
    /// How many lookups by a unique property answer 404 (a replica behind).
    lookup_misses: usize,
    /// The next ticket is created but answered 502 (a gateway lost the answer).
    lose_next_answer: bool,
}

#[derive(Clone)]
struct Fake {
    desk: Shared,
    crm: Arc<Mutex<Crm>>,
}

fn signed_in(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {TOKEN}"))
}

fn hubspot_error(status: StatusCode, category: &str, message: &str) -> Response {
    let body = json!({
        "status": "error",
        "message": message,
        "correlationId": "8f7c2a1e-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
        "category": category,
    });
    (status, Json(body)).into_response()
}

fn refused() -> Response {
    hubspot_error(
        StatusCode::UNAUTHORIZED,
        "INVALID_AUTHENTICATION",
        "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more \
         details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
    )
}

fn invalid(message: &str) -> Response {
    hubspot_error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", message)
}

fn not_found() -> Response {
    hubspot_error(StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND", "Object not found.")
}

/// Two pipelines; the first has a closed stage, which Baton must not offer.
fn pipelines() -> Value {
    json!({"results": [
        {"id": "0", "label": "Support Pipeline", "displayOrder": 0, "archived": false, "stages": [
            {"id": "1", "label": "New", "displayOrder": 0, "metadata": {"ticketState": "OPEN"}},
            {"id": "4", "label": "Closed", "displayOrder": 3, "metadata": {"ticketState": "CLOSED"}},
        ]},
        {"id": "7781", "label": "Escalations", "displayOrder": 1, "archived": false, "stages": [
            {"id": "7782", "label": "Waiting on us", "displayOrder": 0, "metadata": {"ticketState": "OPEN"}},
        ]},
    ]})
}

fn is_stage(pipeline: &str, stage: &str) -> bool {
    pipelines()["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["id"] == pipeline && p["stages"].as_array().unwrap().iter().any(|s| s["id"] == stage))
}

async fn details(headers: HeaderMap) -> Response {
    if !signed_in(&headers) {
        return refused();
    }
    Json(json!({
        "portalId": 4242,
        "accountType": "STANDARD",
        "timeZone": "Europe/Berlin",
        "companyCurrency": "EUR",
        "utcOffset": "+01:00",
        "uiDomain": "app-eu1.hubspot.com",
        "dataHostingLocation": "eu1",
    }))
    .into_response()
}

async fn list_pipelines(headers: HeaderMap) -> Response {
    if !signed_in(&headers) {
        return refused();
    }
    Json(pipelines()).into_response()
}

async fn property(State(fake): State<Fake>, headers: HeaderMap, Path(name): Path<String>) -> Response {
    if !signed_in(&headers) {
        return refused();
    }
    let crm = fake.crm.lock().unwrap();
    match crm.properties.iter().find(|p| p["name"] == name) {
        Some(property) => Json(property.clone()).into_response(),
        None => hubspot_error(
            StatusCode::NOT_FOUND,
            "OBJECT_NOT_FOUND",
            &format!("Unable to find property {name} for object type tickets"),
        ),
    }
}

async fn create_property(State(fake): State<Fake>, headers: HeaderMap, Json(property): Json<Value>) -> Response {
    if !signed_in(&headers) {
        return refused();
    }
    let mut crm = fake.crm.lock().unwrap();
    let Some(name) = property["name"].as_str().map(str::to_owned) else {
        return invalid("Property name is required");
    };
    if crm.properties.iter().any(|p| p["name"] == name) {
        let message = format!("A property named '{name}' already exists.");
        return hubspot_error(StatusCode::CONFLICT, "OBJECT_ALREADY_EXISTS", &message);
    }
    crm.properties.push(property.clone());
    (StatusCode::CREATED, Json(property)).into_response()
}

async fn search_contacts(State(fake): State<Fake>, headers: HeaderMap, Json(query): Json<Value>) -> Response {
    if !signed_in(&headers) {
        return refused();
    }
    let filter = &query["filterGroups"][0]["filters"][0];
    if filter["propertyName"] != "email" || filter["operator"] != "EQ" || !filter["value"].is_string() {
        return invalid("the fake searches contacts by email EQ only");
    }
    let crm = fake.crm.lock().unwrap();
    let results: Vec<Value> = crm
        .contacts
        .iter()
        .filter(|c| c.indexed && c.properties["email"] == filter["value"])
        .map(|c| json!({"id": c.id, "properties": c.properties, "archived": false}))
        .collect();
    Json(json!({"total": results.len(), "results": results})).into_response()
}

async fn create_contact(State(fake): State<Fake>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if !signed_in(&headers) {
        return refused();
    }
    let mut crm = fake.crm.lock().unwrap();
    let properties = body["properties"].clone();
    if !properties["email"].is_string() {
        return invalid("email is required");
    }
    if let Some(existing) = crm.contacts.iter().find(|c| c.properties["email"] == properties["email"]) {
        let message = format!("Contact already exists. Existing ID: {}", existing.id);
        return hubspot_error(StatusCode::CONFLICT, "CONFLICT", &message);
    }
    crm.contact_creates += 1;
    let id = (501 + crm.contacts.len()).to_string();
    let answer = json!({"id": id, "properties": properties, "archived": false});
    crm.contacts.push(Contact { id, properties, indexed: false });
    (StatusCode::CREATED, Json(answer)).into_response()
}

async fn create_ticket(State(fake): State<Fake>, headers: HeaderMap, body: String) -> Response {
    if !signed_in(&headers) {
        return refused();
    }
    let mut crm = fake.crm.lock().unwrap();
    let mut desk = fake.desk.lock().unwrap();
    if let Some(scripted) = desk.creating(&body) {
        return scripted;
    }
    let Ok(mut ticket) = serde_json::from_str::<Value>(&body) else {
        return invalid("Invalid input JSON on line 1");
    };
    let properties = ticket["properties"].clone();
    for field in ["subject", "content", "hs_pipeline", "hs_pipeline_stage"] {
        if !properties[field].is_string() {
            return invalid(&format!("Property values were not valid: {field} is required"));
        }
    }
    if !is_stage(properties["hs_pipeline"].as_str().unwrap(), properties["hs_pipeline_stage"].as_str().unwrap()) {
        return invalid("Property values were not valid: hs_pipeline_stage is not a stage of hs_pipeline");
    }
    if properties["content"].as_str().unwrap().chars().count() > 65_536 {
        return invalid("Property values were not valid: content is longer than 65536 characters");
    }
    if let Some(key) = properties[PROPERTY].as_str() {
        if !crm.properties.iter().any(|p| p["name"] == PROPERTY) {
            return invalid(&format!("Property values were not valid: Property \"{PROPERTY}\" does not exist"));
        }
        if desk.tickets.iter().any(|t| t["properties"][PROPERTY] == key) {
            let message = format!("A ticket with {PROPERTY} '{key}' already exists");
            return hubspot_error(StatusCode::CONFLICT, "CONFLICT", &message);
        }
    }
    let association = &ticket["associations"][0];
    let contact = association["to"]["id"].as_str().unwrap_or_default();
    if !crm.contacts.iter().any(|c| c.id == contact) || association["types"][0]["associationTypeId"] != json!(16) {
        return invalid("associations: a ticket-to-contact association (16) to an existing contact is expected");
    }
    let id = (9001 + desk.tickets.len()).to_string();
    ticket["id"] = json!(id);
    desk.tickets.push(ticket.clone());
    if let Some(pid) = desk.kill_after_create.take() {
        let killed = std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status().unwrap();
        assert!(killed.success());
    }
    if std::mem::take(&mut crm.lose_next_answer) {
        return (StatusCode::BAD_GATEWAY, "<html><body>502 Bad Gateway</body></html>").into_response();
    }
    (StatusCode::CREATED, Json(json!({"id": id, "properties": properties, "archived": false}))).into_response()
}

async fn read_ticket(
    State(fake): State<Fake>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if !signed_in(&headers) {
        return refused();
    }
    let mut crm = fake.crm.lock().unwrap();
    let desk = fake.desk.lock().unwrap();
    let by = query.get("idProperty");
    if let Some(by) = by {
        if !crm.properties.iter().any(|p| p["name"] == *by && p["hasUniqueValue"] == true) {
            return invalid(&format!("{by} is not a unique property of tickets"));
        }
        if crm.lookup_misses > 0 {
            crm.lookup_misses -= 1;
            return not_found();
        }
    }
    let found = desk.tickets.iter().find(|t| match by {
        Some(by) => t["properties"][by.as_str()] == id,
        None => t["id"] == id,
    });
    match found {
        Some(t) => Json(json!({"id": t["id"], "properties": t["properties"], "archived": false})).into_response(),
        None => not_found(),
    }
}

async fn fake_hubspot() -> (String, Fake) {
    let fake = Fake { desk: Shared::default(), crm: Arc::default() };
    let router = Router::new()
        .route("/account-info/v3/details", get(details))
        .route("/crm/v3/pipelines/tickets", get(list_pipelines))
        .route("/crm/v3/properties/tickets", post(create_property))
        .route("/crm/v3/properties/tickets/{name}", get(property))
        .route("/crm/v3/objects/contacts", post(create_contact))
        .route("/crm/v3/objects/contacts/search", post(search_contacts))
        .route("/crm/v3/objects/tickets", post(create_ticket))
        .route("/crm/v3/objects/tickets/{id}", get(read_ticket))
        .with_state(fake.clone());
    let origin = crate::helpdesk::serve_fake(router).await;
    (origin, fake)
}

/// A contact already in HubSpot; `indexed`: whether search finds it yet.
fn seed_contact(fake: &Fake, email: &str, indexed: bool) -> String {
    let mut crm = fake.crm.lock().unwrap();
    let id = (501 + crm.contacts.len()).to_string();
    crm.contacts.push(Contact { id: id.clone(), properties: json!({"email": email}), indexed });
    id
}

fn hubspot(credentials: Value) -> Value {
    json!({"bot_id": "demo", "desk": "hubspot", "credentials": credentials})
}

fn credentials(token: &str, pipeline: &str, stage: &str) -> Value {
    json!({"access_token": token, "pipeline": pipeline, "stage": stage})
}

/// Connects the fake HubSpot (pipeline Escalations, stage Waiting on us) and turns live handoff off.
async fn connect_hubspot(app: &TestApp) {
    let body = hubspot(credentials(TOKEN, "7781", "7782"));
    crate::helpdesk::connect_and_hand_off(app, body).await;
}

async fn a_wrong_token_is_refused_and_the_pipeline_and_stage_are_chosen_from_hubspot(db: Db) {
    let database = TestDatabase::new(db).await;
    let (origin, fake) = fake_hubspot().await;
    let app = spawn_with_desks(&database, &origin).await;
    let admin = app.admin().await;

    let wrong = hubspot(json!({"access_token": "pat-eu1-wrong-token-0000"}));
    let (status, answer) = app.call(&admin.client, "settings/helpdesk/verify", wrong).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["error"]["code"], "verification_failed");
    assert!(answer["error"]["message"].as_str().unwrap().contains("refused the access token"), "{answer}");
    assert!(fake.crm.lock().unwrap().properties.is_empty(), "nothing is set up with a refused token");

    let right = hubspot(json!({"access_token": TOKEN}));
    let (status, answer) = app.call(&admin.client, "settings/helpdesk/verify", right).await;
    assert_eq!(status, 200, "{answer}");
    let verified = &answer["verified"];
    assert_eq!(verified["account"], "HubSpot portal 4242 at app-eu1.hubspot.com");
    assert_eq!(
        verified["choices"]["pipeline"],
        json!([{"value": "0", "label": "Support Pipeline"}, {"value": "7781", "label": "Escalations"}])
    );
    assert_eq!(
        verified["choices"]["stage"],
        json!([
            {"value": "1", "label": "New", "parent": "0"},
            {"value": "7782", "label": "Waiting on us", "parent": "7781"},
        ]),
        "open stages only, each with its pipeline"
    );
    let property = fake.crm.lock().unwrap().properties.first().cloned().unwrap();
    assert_eq!((&property["name"], &property["hasUniqueValue"]), (&json!(PROPERTY), &json!(true)), "{property}");

    for (pipeline, stage, named) in
        [("999", "1", "no ticket pipeline"), ("0", "7782", "not an open stage"), ("0", "4", "not an open stage")]
    {
        let body = hubspot(credentials(TOKEN, pipeline, stage));
        let (status, answer) = app.call(&admin.client, "settings/helpdesk/connect", body).await;
        assert_eq!(status, 422, "{pipeline}/{stage}: {answer}");
        assert!(answer["error"]["message"].as_str().unwrap().contains(named), "{pipeline}/{stage}: {answer}");
    }
    let store = inspect(&database).await;
    let stored: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM helpdesk_connections").fetch_one(store.pool()).await.unwrap();
    assert_eq!(stored, 0, "neither verify nor a refused connect stores anything");

    let body = hubspot(credentials(TOKEN, "7781", "7782"));
    let (status, answer) = app.call(&admin.client, "settings/helpdesk/connect", body).await;
    assert_eq!(status, 200, "{answer}");
    assert!(!answer.to_string().contains(TOKEN), "the token came back: {answer}");
    let card = &answer["integrations"]["desks"][CARD];
    assert_eq!((&card["desk"], &card["connected"]), (&json!("hubspot"), &json!(true)), "{card}");
    assert_eq!(card["account"], "HubSpot portal 4242 at app-eu1.hubspot.com");
    assert_eq!(card["secret_hint"], "6620");
    assert_eq!(fake.crm.lock().unwrap().properties.len(), 1, "the property is created once");
    app.stop().await;
}

async fn an_escalation_becomes_one_hubspot_ticket_for_the_visitors_contact(db: Db) {
    let database = TestDatabase::new(db).await;
    let (origin, fake) = fake_hubspot().await;
    let jordan = seed_contact(&fake, "jordan@acme.com", true);
    let app = spawn_with_desks(&database, &origin).await;
    connect_hubspot(&app).await;

    let chat = app.start_chat_with(json!({"bot_id": "demo", "name": "Jordan Lee"})).await;
    say(&app, &chat, "c1", "I was charged twice for my subscription <b>this month</b>").await;
    say(&app, &chat, "c2", "I want to talk to a human").await;
    let (status, body) = app.visitor_send(&chat, "email", "jordan@acme.com").await;
    assert_eq!(status, 200, "{body}");

    let ticket = wait_for("the ticket", || fake.desk.lock().unwrap().tickets.first().cloned()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.desk.lock().unwrap().tickets.len(), 1, "exactly one ticket");
    let properties = &ticket["properties"];
    assert!(!properties["subject"].as_str().unwrap().is_empty(), "{ticket}");
    let content = properties["content"].as_str().unwrap();
    assert!(content.starts_with("Tags: baton, "), "the tags lead the content: {content}");
    assert!(content.contains("charged twice") && content.contains("<b>this month</b>"), "plain text: {content}");
    assert!(content.contains("I want to talk to a human") && content.contains("Summary:"), "{content}");
    assert_eq!((&properties["hs_pipeline"], &properties["hs_pipeline_stage"]), (&json!("7781"), &json!("7782")));
    assert_eq!(properties["hs_ticket_priority"], "HIGH");
    assert!(properties[PROPERTY].as_str().unwrap().starts_with("esc_"), "{ticket}");
    let association = &ticket["associations"][0];
    assert_eq!(association["to"]["id"], jordan.as_str(), "{ticket}");
    assert_eq!(association["types"][0]["associationTypeId"], json!(16), "{ticket}");
    assert_eq!(fake.crm.lock().unwrap().contact_creates, 0, "the contact found by email is reused");
    let last = dispatched(&app, CARD).await;
    assert_eq!(last["status"], "sent", "{last}");
    assert_eq!(last["ticket_url"], FIRST_TICKET_URL, "{last}");

    // A visitor HubSpot does not know becomes a contact, named from the chat.
    let chat =
        app.start_chat_with(json!({"bot_id": "demo", "email": "sam@example.com", "name": "Sam Rivera Jones"})).await;
    say(&app, &chat, "c1", "I want to talk to a human").await;
    let second = wait_for("the second ticket", || fake.desk.lock().unwrap().tickets.get(1).cloned()).await;
    let (id, created) = {
        let crm = fake.crm.lock().unwrap();
        assert_eq!((crm.contacts.len(), crm.contact_creates), (2, 1));
        let sam = crm.contacts.iter().find(|c| c.properties["email"] == "sam@example.com").unwrap();
        (sam.id.clone(), sam.properties.clone())
    };
    assert_eq!((&created["firstname"], &created["lastname"]), (&json!("Sam"), &json!("Rivera Jones")), "{created}");
    assert_eq!(second["associations"][0]["to"]["id"], id.as_str(), "{second}");
    assert_ne!(second["properties"][PROPERTY], ticket["properties"][PROPERTY]);
    app.stop().await;
}

async fn a_hubspot_ticket_survives_a_sender_killed_after_hubspot_created_it(db: Db) {
    let database = TestDatabase::new(db).await;
    let (origin, fake) = fake_hubspot().await;
    let (mut child, app) = start_process(&database, &origin);
    connect_hubspot(&app).await;
    fake.desk.lock().unwrap().kill_after_create = Some(child.id());

    let chat = app.start_chat_with_email("sam@example.com").await;
    let (status, body) = app.visitor_send(&chat, "c1", "I want to talk to a human").await;
    assert_eq!(status, 200, "{body}");
    wait_for("the kill", || child.try_wait().ok().flatten()).await;
    assert_eq!(fake.desk.lock().unwrap().tickets.len(), 1);

    // Restarted, the dispatcher looks the ticket up by the escalation id and records it.
    let (mut again, app) = start_process(&database, &origin);
    let last = dispatched(&app, CARD).await;
    assert_eq!(last["status"], "sent", "{last}");
    assert_eq!(last["ticket_url"], FIRST_TICKET_URL, "{last}");
    let counts = {
        let desk = fake.desk.lock().unwrap();
        (desk.tickets.len(), desk.create_calls)
    };
    assert_eq!(counts, (1, 1), "one ticket, created once");
    assert_eq!(fake.crm.lock().unwrap().contacts.len(), 1);
    terminate_and_wait(&mut again);
}

async fn throttling_is_retried_into_one_hubspot_ticket_for_a_contact_search_had_not_indexed(db: Db) {
    let database = TestDatabase::new(db).await;
    let (origin, fake) = fake_hubspot().await;
    let sam = seed_contact(&fake, "sam@example.com", false);
    let limited = json!({
        "status": "error",
        "message": "You have reached your secondly limit.",
        "errorType": "RATE_LIMIT",
        "correlationId": "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9",
        "policyName": "SECONDLY",
        "category": "RATE_LIMITS",
    });
    fake.desk.lock().unwrap().script.push_back((429, vec![("retry-after", "1".to_owned())], limited));
    let app = spawn_with_desks(&database, &origin).await;
    connect_hubspot(&app).await;

    let chat = app.start_chat_with_email("sam@example.com").await;
    say(&app, &chat, "c1", "I want to talk to a human").await;
    let last = dispatched(&app, CARD).await;
    assert_eq!(last["status"], "sent", "{last}");
    let (calls, tickets) = {
        let desk = fake.desk.lock().unwrap();
        (desk.create_calls, desk.tickets.clone())
    };
    assert_eq!((calls, tickets.len()), (2, 1), "a 429, then one ticket");
    assert_eq!(tickets[0]["associations"][0]["to"]["id"], sam.as_str(), "the contact named by the 409");
    let contacts = {
        let crm = fake.crm.lock().unwrap();
        (crm.contacts.len(), crm.contact_creates)
    };
    assert_eq!(contacts, (1, 0), "no second contact");
    app.stop().await;
}

async fn a_ticket_whose_answer_was_lost_is_taken_when_hubspot_refuses_a_duplicate(db: Db) {
    let database = TestDatabase::new(db).await;
    let (origin, fake) = fake_hubspot().await;
    {
        // The first ticket is created but its answer lost; the retry's lookup misses
        // it once, so only the unique property stops a second ticket.
        let mut crm = fake.crm.lock().unwrap();
        crm.lose_next_answer = true;
        crm.lookup_misses = 1;
    }
    let app = spawn_with_desks(&database, &origin).await;
    connect_hubspot(&app).await;

    let chat = app.start_chat_with_email("sam@example.com").await;
    say(&app, &chat, "c1", "I want to talk to a human").await;
    let last = dispatched(&app, CARD).await;
    assert_eq!(last["status"], "sent", "{last}");
    assert_eq!(last["ticket_url"], FIRST_TICKET_URL, "{last}");
    let counts = {
        let desk = fake.desk.lock().unwrap();
        (desk.tickets.len(), desk.create_calls)
    };
    assert_eq!(counts, (1, 2), "the second creation was refused as a duplicate and the first ticket taken");
    let crm = {
        let crm = fake.crm.lock().unwrap();
        (crm.lookup_misses, crm.contacts.len())
    };
    assert_eq!(crm, (0, 1));
    app.stop().await;
}

on_both_databases!(
    a_wrong_token_is_refused_and_the_pipeline_and_stage_are_chosen_from_hubspot,
    an_escalation_becomes_one_hubspot_ticket_for_the_visitors_contact,
    a_hubspot_ticket_survives_a_sender_killed_after_hubspot_created_it,
    throttling_is_retried_into_one_hubspot_ticket_for_a_contact_search_had_not_indexed,
    a_ticket_whose_answer_was_lost_is_taken_when_hubspot_refuses_a_duplicate,
);
