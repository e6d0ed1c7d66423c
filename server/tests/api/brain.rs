//! The built-in brain end to end: answers from the knowledge base, "I don't know"
//! twice hands over, the admin's instructions, and drafted replies for agents.

use serde_json::json;
use server::store::knowledge::Instructions;

use crate::escalation::{last_bot_text, say};
use crate::helpers::{inspect, spawn_app, Db, TestDatabase};
use crate::on_both_databases;

async fn the_bot_answers_from_the_knowledge_base(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let chat = app.start_chat().await;
    let history = say(&app, &chat, "k1", "How much is the Team plan per month?").await;
    assert!(last_bot_text(&history).contains("Team at $29 a month"), "{history}");
    let history = say(&app, &chat, "k2", "and how do I get back a file I deleted?").await;
    assert!(last_bot_text(&history).contains("Trash"), "{history}");
    assert_eq!(history["state"], "bot");
    app.stop().await;
}

async fn not_knowing_twice_hands_the_chat_over_as_cannot_resolve(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let chat = app.start_chat_with_email("sam@example.com").await;
    let history = say(&app, &chat, "d1", "Do you sell refurbished laptops?").await;
    assert!(last_bot_text(&history).starts_with("I'm not sure about that one"), "{history}");
    assert_eq!(history["state"], "bot", "one miss is not a handoff");
    app.visitor_send(&chat, "d2", "What about printers and scanners?").await;
    app.wait_for_history(&chat, "the handoff", |h| h["state"] == "needs_human").await;
    let admin = app.admin().await;
    let (_, detail) =
        app.call(&admin.client, "inbox/conversation", json!({"conversation_id": chat.conversation_id})).await;
    assert_eq!(detail["conversation"]["reason"], "cannot_resolve");
    let summary = detail["conversation"]["summary"].as_str().unwrap();
    assert!(summary.contains("refurbished laptops"), "{summary}");
    app.stop().await;
}

async fn self_serve_first_offers_the_best_answer_once_before_handing_over(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let store = inspect(&database).await;
    let chatbot = store.chatbot_by_public_id("demo").await.unwrap().unwrap();
    let rules = Instructions { self_serve_first: true, ..Default::default() };
    store.set_instructions(&chatbot.id, &rules, None).await.unwrap();

    let chat = app.start_chat_with_email("kim@example.com").await;
    let history = say(&app, &chat, "s1", "I cancelled my subscription but I was still charged this month").await;
    let offer = last_bot_text(&history);
    assert!(offer.contains("Cancel subscription") && offer.contains("pass this to our team"), "{offer}");
    assert_eq!(history["state"], "bot");

    app.visitor_send(&chat, "s2", "I did exactly that, it didn't help").await;
    app.wait_for_history(&chat, "the handoff", |h| h["state"] == "needs_human").await;
    let admin = app.admin().await;
    let (_, detail) =
        app.call(&admin.client, "inbox/conversation", json!({"conversation_id": chat.conversation_id})).await;
    assert_eq!(detail["conversation"]["reason"], "cannot_resolve");
    assert!(detail["conversation"]["summary"].as_str().unwrap().contains("still charged"), "{detail}");
    app.stop().await;
}

async fn always_and_never_escalate_phrases_are_honoured(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let store = inspect(&database).await;
    let chatbot = store.chatbot_by_public_id("demo").await.unwrap().unwrap();
    let rules = Instructions {
        always_escalate: vec!["lawyer".into()],
        never_escalate: vec!["pricing".into()],
        ..Default::default()
    };
    store.set_instructions(&chatbot.id, &rules, None).await.unwrap();

    // "Never" wins over an explicit request: the bot answers instead.
    let chat = app.start_chat_with_email("ana@example.com").await;
    let history = say(&app, &chat, "n1", "can I talk to someone about pricing for the Team plan?").await;
    assert!(last_bot_text(&history).contains("$29"), "{history}");
    assert_eq!(history["state"], "bot");

    // "Always" hands over an ordinary-looking message.
    let chat = app.start_chat_with_email("lee@example.com").await;
    app.visitor_send(&chat, "a1", "Our lawyer has a question about where files are stored").await;
    app.wait_for_history(&chat, "the handoff", |h| h["state"] == "needs_human").await;
    app.stop().await;
}

async fn agents_get_a_drafted_reply_that_does_not_repeat_the_bot(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let chat = app.start_chat_with(json!({"bot_id": "demo", "name": "Robin Park", "email": "robin@example.com"})).await;
    say(&app, &chat, "g1", "what's the largest file I can upload in the browser?").await;
    app.visitor_send(&chat, "g2", "ok but can I talk to a person").await;
    app.wait_for_history(&chat, "the handoff", |h| h["state"] == "needs_human").await;

    let admin = app.admin().await;
    let (status, body) =
        app.call(&admin.client, "inbox/suggest", json!({"conversation_id": chat.conversation_id})).await;
    assert_eq!(status, 200, "{body}");
    let draft = body["text"].as_str().unwrap();
    assert!(draft.starts_with("Hi Robin,") && draft.contains("this is Admin"), "{draft}");
    // The bot already gave that answer and the visitor asked for a person after it:
    // the agent's draft does not repeat it.
    assert!(!draft.contains("5 GB in the web browser"), "{draft}");

    // Not a conversation of the caller's workspace (or none at all): 404; signed out: 401.
    let (status, _) = app.call(&admin.client, "inbox/suggest", json!({"conversation_id": "conv_elsewhere"})).await;
    assert_eq!(status, 404);
    let (status, _) = app.call(&app.client, "inbox/suggest", json!({"conversation_id": chat.conversation_id})).await;
    assert_eq!(status, 401);
    app.stop().await;
}

on_both_databases!(
    the_bot_answers_from_the_knowledge_base,
    not_knowing_twice_hands_the_chat_over_as_cannot_resolve,
    self_serve_first_offers_the_best_answer_once_before_handing_over,
    always_and_never_escalate_phrases_are_honoured,
    agents_get_a_drafted_reply_that_does_not_repeat_the_bot,
);

/// A machine where setup did not install the sentence model: Baton starts, is ready,
/// and the built-in brain runs on its rules alone.
async fn without_the_model_the_brain_runs_on_its_rules(db: Db) {
    let database = TestDatabase::new(db).await;
    let empty = tempfile::tempdir().expect("a temporary directory");
    let mut settings = crate::helpers::test_settings(&database);
    settings.model_dir = empty.path().to_path_buf();
    let app = crate::helpers::spawn_app_with(settings).await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    let chat = app.start_chat_with_email("sam@example.com").await;
    // The rules do not know this phrasing; only the classifier would.
    let history = say(&app, &chat, "r1", "can I get a callback from your team").await;
    assert_eq!(history["state"], "bot", "{history}");
    // What the rules know still escalates.
    app.visitor_send(&chat, "r2", "agent please").await;
    app.wait_for_history(&chat, "the handoff", |h| h["state"] == "needs_human").await;
    app.stop().await;
}

/// With the model (the default, installed by setup), a phrasing no rule knows is
/// understood as a request for a person, end to end.
async fn with_the_model_a_request_in_other_words_is_handed_over(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let chat = app.start_chat_with_email("sam@example.com").await;
    app.visitor_send(&chat, "m1", "can I get a callback from your team").await;
    app.wait_for_history(&chat, "the handoff", |h| h["state"] == "needs_human").await;
    let admin = app.admin().await;
    let (_, detail) =
        app.call(&admin.client, "inbox/conversation", json!({"conversation_id": chat.conversation_id})).await;
    assert_eq!(detail["conversation"]["reason"], "explicit_request", "{detail}");
    app.stop().await;
}

on_both_databases!(without_the_model_the_brain_runs_on_its_rules, with_the_model_a_request_in_other_words_is_handed_over);
