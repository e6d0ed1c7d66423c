//! The email always comes before the handoff, and the seed's example plays out exactly.

use serde_json::{json, Value};

use crate::helpers::{inspect, spawn_app, texts, Db, TestApp, TestDatabase, VisitorChat, ESCALATION_NOTE};
use crate::on_both_databases;

/// Sends, then waits for the bot's next message and returns the history.
pub async fn say(app: &TestApp, chat: &VisitorChat, client_id: &str, text: &str) -> Value {
    let before = app.history(chat, 0).await["messages"].as_array().unwrap().len();
    let (status, body) = app.visitor_send(chat, client_id, text).await;
    assert_eq!(status, 200, "{body}");
    app.wait_for_history(chat, "the bot's answer", |h| {
        let messages = h["messages"].as_array().unwrap();
        messages.len() > before + 1 && messages[before + 1..].iter().any(|m| m["author"]["kind"] == "bot")
    })
    .await
}

pub fn last_bot_text(history: &Value) -> String {
    let messages = history["messages"].as_array().unwrap();
    let bot = messages.iter().rev().find(|m| m["author"]["kind"] == "bot").unwrap();
    bot["text"].as_str().unwrap().to_owned()
}

async fn the_seed_conversation_plays_out_exactly(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let chat = app.start_chat().await;

    let history =
        say(&app, &chat, "s1", "I was charged twice for my subscription this month and I need this fixed.").await;
    assert_eq!(
        last_bot_text(&history),
        "I'm sorry about the double charge — that's something our team will want to sort out for you directly. \
         Can I get the best email to reach you at?"
    );
    assert_eq!(history["state"], "bot", "no handoff before the email");

    let (status, _) = app.visitor_send(&chat, "s2", "Sure, it's jordan@acme.com").await;
    assert_eq!(status, 200);
    let history = app.wait_for_history(&chat, "the handoff", |h| h["state"] == "needs_human").await;
    let all = texts(&history);
    assert_eq!(
        all[all.len() - 2],
        "Thanks, Jordan. I've passed this along to our support team with the details of the double charge, \
         and they'll follow up at jordan@acme.com shortly. Is there anything else I can help with in the meantime?"
    );
    assert_eq!(all[all.len() - 1], ESCALATION_NOTE);

    let admin = app.admin().await;
    let (_, detail) =
        app.call(&admin.client, "inbox/conversation", json!({"conversation_id": chat.conversation_id})).await;
    let conversation = &detail["conversation"];
    assert_eq!(conversation["state"], "needs_human");
    assert_eq!(conversation["reason"], "cannot_resolve");
    assert_eq!(
        conversation["summary"],
        "Customer charged twice for their subscription this month and is requesting a fix"
    );
    assert_eq!(conversation["visitor"]["email"], "jordan@acme.com");
    app.stop().await;
}

async fn an_invalid_email_is_asked_for_again_with_the_reason(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let chat = app.start_chat().await;
    say(&app, &chat, "a1", "Can I talk to a person?").await;

    let history = say(&app, &chat, "a2", "it's jordan@acme").await;
    let asked = last_bot_text(&history);
    assert!(asked.contains("doesn't look right") && asked.contains("dot"), "{asked}");
    assert_eq!(history["state"], "bot");

    let history = say(&app, &chat, "a3", "no thanks, just get me someone").await;
    assert!(last_bot_text(&history).contains("I need an email address"), "{history}");
    assert_eq!(history["state"], "bot");

    app.visitor_send(&chat, "a4", "jordan@acme.com").await;
    let history = app.wait_for_history(&chat, "the handoff", |h| h["state"] == "needs_human").await;
    assert!(texts(&history).iter().any(|t| t.starts_with("Thanks, Jordan.")));
    app.stop().await;
}

async fn an_email_given_at_start_is_reused_without_asking(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let chat = app.start_chat_with(json!({"bot_id": "demo", "name": "Pat Doe", "email": "Pat@Example.com"})).await;

    app.visitor_send(&chat, "p1", "I'd like to talk to a human").await;

    let history = app.wait_for_history(&chat, "the handoff", |h| h["state"] == "needs_human").await;
    let all = texts(&history);
    assert!(!all.iter().any(|t| t.contains("Can I get the best email")), "asked twice: {all:?}");
    assert!(all.iter().any(|t| t.contains("Thanks, Pat.") && t.contains("pat@example.com")), "{all:?}");
    app.stop().await;
}

async fn an_email_mentioned_earlier_in_the_chat_is_reused(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let chat = app.start_chat().await;
    say(&app, &chat, "e1", "My email is lee.morgan@example.org, how do I export my data?").await;

    app.visitor_send(&chat, "e2", "agent please").await;

    let history = app.wait_for_history(&chat, "the handoff", |h| h["state"] == "needs_human").await;
    assert!(texts(&history).iter().any(|t| t.contains("Thanks, Lee.") && t.contains("lee.morgan@example.org")));
    app.stop().await;
}

async fn without_live_handoff_the_bot_says_honestly_that_nobody_can_join(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let store = inspect(&database).await;
    let mut tx = store.begin_write().await.unwrap();
    sqlx::query("UPDATE chatbots SET live_handoff = 0 WHERE public_id = 'demo'").execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    let chat = app.start_chat().await;

    let history = say(&app, &chat, "n1", "Can I talk to a human?").await;

    assert!(last_bot_text(&history).contains("nobody from our team can join"), "{history}");
    assert_eq!(history["state"], "bot");
    app.stop().await;
}

on_both_databases!(
    the_seed_conversation_plays_out_exactly,
    an_invalid_email_is_asked_for_again_with_the_reason,
    an_email_given_at_start_is_reused_without_asking,
    an_email_mentioned_earlier_in_the_chat_is_reused,
    without_live_handoff_the_bot_says_honestly_that_nobody_can_join,
);

async fn a_visitor_who_is_clearly_frustrated_is_handed_over(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let chat = app.start_chat_with_email("robin@example.com").await;
    say(&app, &chat, "f1", "How do I export my data to CSV?").await;

    app.visitor_send(&chat, "f2", "This isn't helping at all").await;

    let history = app.wait_for_history(&chat, "the handoff", |h| h["state"] == "needs_human").await;
    assert!(texts(&history).iter().any(|t| t.starts_with("I'm sorry this has been frustrating.")), "{history}");
    let admin = app.admin().await;
    let (_, detail) =
        app.call(&admin.client, "inbox/conversation", json!({"conversation_id": chat.conversation_id})).await;
    assert_eq!(detail["conversation"]["reason"], "frustration");
    assert!(detail["conversation"]["summary"].as_str().unwrap().contains("export their data to CSV"), "{detail}");
    app.stop().await;
}

on_both_databases!(a_visitor_who_is_clearly_frustrated_is_handed_over);

/// Angry, helped, handed back: the calm question that follows is answered by the
/// AI, not held against the visitor as "frustrated, asked again".
async fn after_a_resolve_the_ai_answers_a_calm_visitor_instead_of_escalating_again(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    let chat = app.start_chat_with_email("robin@example.com").await;
    say(&app, &chat, "f1", "How do I export my data to CSV?").await;
    app.visitor_send(&chat, "f2", "This isn't helping at all").await;
    app.wait_for_history(&chat, "the handoff", |h| h["state"] == "needs_human").await;
    let id = json!({"conversation_id": chat.conversation_id});
    assert_eq!(app.call(&admin.client, "inbox/claim", id.clone()).await.0, 200);
    app.visitor_send(&chat, "q1", "How do I turn on two-factor authentication?").await;
    let reply = json!({"conversation_id": chat.conversation_id, "client_id": "a1", "text": "Your CSV export is on its way."});
    assert_eq!(app.call(&admin.client, "inbox/reply", reply).await.0, 200);
    assert_eq!(app.call(&admin.client, "inbox/resolve", id).await.0, 200);

    let history = say(&app, &chat, "q2", "How do I turn on two-factor authentication?").await;

    assert!(last_bot_text(&history).contains("Settings → Security"), "the knowledge base answers: {history}");
    assert_eq!(history["state"], "bot", "no second handoff");

    // Angry again, after the hand-back: that still goes to a person.
    app.visitor_send(&chat, "f3", "This isn't helping at all, this is useless").await;
    app.wait_for_history(&chat, "the second handoff", |h| h["state"] == "needs_human").await;
    app.stop().await;
}

on_both_databases!(after_a_resolve_the_ai_answers_a_calm_visitor_instead_of_escalating_again);
