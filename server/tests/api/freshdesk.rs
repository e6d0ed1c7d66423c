//! Freshdesk against a local fake that follows its documentation (`helpdesks.md`):
//! `agents/me` for verify (401 `invalid_credentials`), `POST tickets` (201, no
//! idempotency key), and the ticket list filtered by requester email, which is how
//! Baton finds a ticket an earlier, killed attempt created.

use std::sync::Arc;

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
    helpdesk::{dispatched, spawn_with_desks, start_process, wait_for, Shared},
    helpers::{Db, TestApp, TestDatabase},
    on_both_databases,
    process::terminate_and_wait,
};

const API_KEY: &str = "fd-canary-key-5530";

fn signed_in(headers: &HeaderMap) -> bool {
    let expected = base64::engine::general_purpose::STANDARD.encode(format!("{API_KEY}:X"));
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Basic {expected}"))
}

fn refused() -> Response {
    let body = json!({"code": "invalid_credentials", "message": "You have to be logged in to perform this action."});
    (StatusCode::UNAUTHORIZED, Json(body)).into_response()
}

async fn me(headers: HeaderMap) -> Response {
    if !signed_in(&headers) {
        return refused();
    }
    Json(json!({"id": 42, "available": true, "contact": {"name": "Fran Agent", "email": "fran@acme.test"}}))
        .into_response()
}

async fn list(State(fake): State<Shared>, headers: HeaderMap, Query(query): Query<Vec<(String, String)>>) -> Response {
    if !signed_in(&headers) {
        return refused();
    }
    let email = query.iter().find(|(k, _)| k == "email").map(|(_, v)| v.clone());
    let fake = fake.lock().unwrap();
    let tickets: Vec<&Value> =
        fake.tickets.iter().filter(|t| email.as_deref().is_none_or(|e| t["email"].as_str() == Some(e))).collect();
    Json(json!(tickets)).into_response()
}

async fn create(State(fake): State<Shared>, headers: HeaderMap, Json(mut ticket): Json<Value>) -> Response {
    if !signed_in(&headers) {
        return refused();
    }
    let mut fake = fake.lock().unwrap();
    fake.create_calls += 1;
    for field in ["email", "subject", "description"] {
        if !ticket[field].is_string() {
            let errors = json!([{"field": field, "message": "It should be a/an String", "code": "missing_field"}]);
            let body = json!({"description": "Validation failed", "errors": errors});
            return (StatusCode::BAD_REQUEST, Json(body)).into_response();
        }
    }
    ticket["id"] = json!(500 + fake.tickets.len());
    fake.tickets.push(ticket.clone());
    if let Some(pid) = fake.kill_after_create.take() {
        let killed = std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status().unwrap();
        assert!(killed.success());
    }
    (StatusCode::CREATED, Json(ticket)).into_response()
}

async fn fake_freshdesk() -> (String, Shared) {
    let fake: Shared = Arc::default();
    let router = Router::new()
        .route("/api/v2/agents/me", get(me))
        .route("/api/v2/tickets", get(list).post(create))
        .with_state(fake.clone());
    let origin = crate::helpdesk::serve_fake(router).await;
    (origin, fake)
}

async fn connect_freshdesk(app: &TestApp) {
    let body = json!({"bot_id": "demo", "desk": "freshdesk", "credentials": {"domain": "acme", "api_key": API_KEY}});
    crate::helpdesk::connect_and_hand_off(app, body).await;
}

async fn a_wrong_key_is_refused_and_a_right_one_connects_freshdesk(db: Db) {
    let database = TestDatabase::new(db).await;
    let (origin, _fake) = fake_freshdesk().await;
    let app = spawn_with_desks(&database, &origin).await;
    let admin = app.admin().await;

    let wrong = json!({"bot_id": "demo", "desk": "freshdesk", "credentials": {"domain": "acme", "api_key": "nope"}});
    let (status, answer) = app.call(&admin.client, "settings/helpdesk/verify", wrong).await;
    assert_eq!(status, 422, "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("refused the API key"), "{answer}");

    connect_freshdesk(&app).await;
    let (_, answer) = app.call(&admin.client, "settings/integrations", json!({"bot_id": "demo"})).await;
    let card = &answer["integrations"]["desks"][1];
    assert_eq!(card["desk"], "freshdesk");
    assert_eq!(card["account"], "Fran Agent <fran@acme.test> at acme.freshdesk.com");
    assert_eq!(card["active"], true);
    assert!(!answer.to_string().contains(API_KEY));
    app.stop().await;
}

async fn a_freshdesk_ticket_survives_a_sender_killed_after_the_201(db: Db) {
    let database = TestDatabase::new(db).await;
    let (origin, fake) = fake_freshdesk().await;
    let (mut child, app) = start_process(&database, &origin);
    connect_freshdesk(&app).await;
    fake.lock().unwrap().kill_after_create = Some(child.id());

    let chat = app.start_chat_with_email("sam@example.com").await;
    let (status, body) = app.visitor_send(&chat, "c1", "I want to talk to a human <please>").await;
    assert_eq!(status, 200, "{body}");
    wait_for("the kill", || child.try_wait().ok().flatten()).await;

    let (mut again, app) = start_process(&database, &origin);
    let last = dispatched(&app, 1).await;
    assert_eq!(last["status"], "sent", "{last}");
    assert!(last["ticket_url"].as_str().unwrap().ends_with("acme.freshdesk.com/a/tickets/500"), "{last}");
    let ticket = {
        let fake = fake.lock().unwrap();
        assert_eq!((fake.tickets.len(), fake.create_calls), (1, 1), "one ticket, created once");
        fake.tickets[0].clone()
    };
    assert_eq!(ticket["email"], "sam@example.com");
    assert_eq!((ticket["status"].as_u64(), ticket["source"].as_u64()), (Some(2), Some(7)));
    let tags = ticket["tags"].as_array().unwrap();
    assert!(
        tags.contains(&json!("baton")) && tags.iter().any(|t| t.as_str().unwrap().starts_with("baton-")),
        "{tags:?}"
    );
    assert!(ticket["description"].as_str().unwrap().contains("&lt;please&gt;"), "{ticket}");
    terminate_and_wait(&mut again);
}

on_both_databases!(
    a_wrong_key_is_refused_and_a_right_one_connects_freshdesk,
    a_freshdesk_ticket_survives_a_sender_killed_after_the_201,
);
