//! The visitor half of the API: `widget/start`, `widget/send`, `widget/history`.

use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with, texts, Db, TestDatabase, ESCALATION_NOTE};
use crate::on_both_databases;

async fn start_returns_a_token_the_state_and_the_greeting(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;

    let (status, body) = app.call(&app.client, "widget/start", json!({"bot_id": "demo", "name": "Jordan"})).await;

    assert_eq!(status, 200, "{body}");
    let token = body["visitor_token"].as_str().unwrap();
    assert_eq!(token.len(), 64, "256 random bits in hex");
    assert_eq!(body["state"], "bot");
    let greeting = &body["messages"][0];
    assert_eq!(greeting["seq"], 1);
    assert_eq!(greeting["author"]["kind"], "bot");
    assert!(greeting["at"].as_str().unwrap().ends_with('Z'), "RFC 3339 in UTC: {greeting}");
    // The token is stored only as a hash.
    let store = crate::helpers::inspect(&database).await;
    let stored: i64 = sqlx::Row::get(
        &sqlx::query("SELECT COUNT(*) FROM conversations WHERE visitor_token_hash = $1")
            .bind(token)
            .fetch_one(store.pool())
            .await
            .unwrap(),
        0,
    );
    assert_eq!(stored, 0);
    app.stop().await;
}

async fn bad_start_input_gets_typed_errors(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;

    let (status, body) = app.call(&app.client, "widget/start", json!({"bot_id": "nope"})).await;
    assert_eq!((status.as_u16(), body["error"]["code"].as_str()), (404, Some("not_found")));

    let (status, body) = app.call(&app.client, "widget/start", json!({"bot_id": "demo", "email": "jordan@"})).await;
    assert_eq!((status.as_u16(), body["error"]["code"].as_str()), (400, Some("invalid_input")), "{body}");

    let (status, body) = app.call(&app.client, "widget/start", json!({"name": "no bot id"})).await;
    assert_eq!((status.as_u16(), body["error"]["code"].as_str()), (400, Some("invalid_input")), "{body}");

    let response = app
        .client
        .post(app.url("/api/v1/widget/start"))
        .header("content-type", "application/json")
        .body("{\"bot_id\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_input");
    app.stop().await;
}

async fn a_sent_message_is_stored_once_even_when_resent(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let chat = app.start_chat().await;

    let (status, first) = app.visitor_send(&chat, "c-1", "  Where is my order?  ").await;
    let (again_status, again) = app.visitor_send(&chat, "c-1", "Where is my order?").await;

    assert_eq!(status, 200, "{first}");
    assert_eq!(again_status, 200);
    assert_eq!(first["message"], again["message"], "the resend returns the stored message");
    assert_eq!(first["message"]["text"], "Where is my order?", "stored trimmed");
    assert_eq!(first["message"]["author"]["kind"], "visitor");
    let history = app.wait_for_history(&chat, "the bot's answer", |h| h["messages"].as_array().unwrap().len() >= 3).await;
    let visitor_copies = texts(&history).iter().filter(|t| *t == "Where is my order?").count();
    assert_eq!(visitor_copies, 1);
    app.stop().await;
}

async fn bad_messages_get_typed_errors_and_store_nothing(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let chat = app.start_chat().await;

    let cases = [
        ("", 400, "invalid_input"),
        ("   \n ", 400, "invalid_input"),
        (&"x".repeat(4001) as &str, 413, "too_large"),
        ("nul \0 inside", 400, "invalid_input"),
    ];
    for (i, (text, status, code)) in cases.iter().enumerate() {
        let (got, body) = app.visitor_send(&chat, &format!("bad-{i}"), text).await;
        assert_eq!((got.as_u16(), body["error"]["code"].as_str()), (*status, Some(*code)), "{body}");
    }
    let (got, body) = app.visitor_send(&chat, "has spaces", "hi").await;
    assert_eq!((got.as_u16(), body["error"]["code"].as_str()), (400, Some("invalid_input")), "{body}");

    let history = app.history(&chat, 0).await;
    assert_eq!(history["messages"].as_array().unwrap().len(), 1, "only the greeting: {history}");
    app.stop().await;
}

async fn a_visitor_token_opens_only_its_own_conversation(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let mine = app.start_chat().await;
    let theirs = app.start_chat().await;

    let body = json!({"conversation_id": theirs.conversation_id, "client_id": "x", "text": "hello"});
    let wrong_token = app.client.post(app.url("/api/v1/widget/send")).bearer_auth(&mine.token).json(&body).send().await.unwrap();
    let no_token = app.client.post(app.url("/api/v1/widget/send")).json(&body).send().await.unwrap();
    let garbage = app.client.post(app.url("/api/v1/widget/history")).bearer_auth("not-a-token").json(&body).send().await.unwrap();

    assert_eq!(wrong_token.status(), 404, "another visitor's conversation is not found, not forbidden");
    assert_eq!(no_token.status(), 401);
    assert_eq!(garbage.status(), 401);
    let history = app.history(&theirs, 0).await;
    assert_eq!(history["messages"].as_array().unwrap().len(), 1, "nothing was stored in theirs");
    app.stop().await;
}

async fn asking_for_a_person_escalates_with_the_system_note(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;

    let chat = app.escalated_chat().await;

    let history = app.history(&chat, 0).await;
    assert_eq!(history["state"], "needs_human");
    let messages = history["messages"].as_array().unwrap();
    let last = messages.last().unwrap();
    assert_eq!(last["author"]["kind"], "system");
    assert_eq!(last["text"], ESCALATION_NOTE);
    let seqs: Vec<i64> = messages.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "seq grows by one per message");
    app.stop().await;
}

async fn history_after_a_seq_returns_only_later_messages(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let chat = app.escalated_chat().await;

    let all = app.history(&chat, 0).await;
    let later = app.history(&chat, 2).await;

    let all = all["messages"].as_array().unwrap();
    assert_eq!(later["messages"].as_array().unwrap()[..], all[2..]);
    app.stop().await;
}

on_both_databases!(
    start_returns_a_token_the_state_and_the_greeting,
    bad_start_input_gets_typed_errors,
    a_sent_message_is_stored_once_even_when_resent,
    bad_messages_get_typed_errors_and_store_nothing,
    a_visitor_token_opens_only_its_own_conversation,
    asking_for_a_person_escalates_with_the_system_note,
    history_after_a_seq_returns_only_later_messages,
);

#[tokio::test]
async fn too_many_messages_get_429_with_retry_after() {
    let database = TestDatabase::new(Db::Sqlite).await;
    let mut settings = server::Settings::for_database(database.url.clone(), database.dir.path().to_path_buf());
    settings.visitor_messages_per_minute = 3;
    let app = spawn_app_with(settings).await;
    let chat = app.start_chat().await;
    for i in 0..3 {
        let (status, body) = app.visitor_send(&chat, &format!("m{i}"), "hello").await;
        assert_eq!(status, 200, "{body}");
    }

    let response = app
        .client
        .post(app.url("/api/v1/widget/send"))
        .bearer_auth(&chat.token)
        .json(&json!({"conversation_id": chat.conversation_id, "client_id": "m3", "text": "hello"}))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry_after >= 1);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    // A resend of an already stored message is not a new message: it is never limited.
    let (status, _) = app.visitor_send(&chat, "m0", "hello").await;
    assert_eq!(status, 200);
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_api_call_is_a_typed_404() {
    let database = TestDatabase::new(Db::Sqlite).await;
    let app = spawn_app(&database).await;

    let (status, body) = app.call(&app.client, "widget/teleport", json!({})).await;

    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
    app.stop().await;
}

#[tokio::test]
async fn an_oversized_body_is_a_typed_413() {
    let database = TestDatabase::new(Db::Sqlite).await;
    let app = spawn_app(&database).await;

    let (status, body) =
        app.call(&app.client, "widget/start", json!({"bot_id": "demo", "name": "x".repeat(100_000)})).await;

    assert_eq!(status, 413);
    assert_eq!(body["error"]["code"], "too_large");
    app.stop().await;
}
