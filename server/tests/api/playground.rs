//! Settings → Playground over HTTP: the real brain, knowledge and email step over a
//! transcript the page holds, with why each turn went as it did; nothing is stored,
//! so the Inbox and its counts stay as they were. Admins of the workspace only.

use serde_json::{json, Value};

use crate::{
    helpers::{spawn_app, Db, TestDatabase},
    on_both_databases,
};

fn visitor(text: &str) -> Value {
    json!({"from": "visitor", "text": text})
}

fn bot(text: &str) -> Value {
    json!({"from": "bot", "text": text})
}

async fn the_playground_explains_each_turn_and_stores_nothing(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    let (_, counts_before) = app.call(&admin.client, "inbox/counts", json!({})).await;

    // A question the knowledge base answers.
    let lines = vec![bot("Hi!"), visitor("How much is the Team plan?")];
    let (status, answer) =
        app.call(&admin.client, "settings/playground", json!({"bot_id": "demo", "lines": lines})).await;
    assert_eq!(status, 200, "{answer}");
    let turn = &answer["turn"];
    assert_eq!(turn["decision"], "answer", "{turn}");
    assert!(turn["reply"].as_str().unwrap().contains("$29"), "{turn}");
    assert_eq!(turn["entry"]["answers"], true, "{turn}");
    assert_eq!(turn["brain"], "the built-in AI");

    // An explicit request: the email step first, with the signal that fired.
    let mut lines = vec![bot("Hi!"), visitor("I want to talk to a human please")];
    let (status, answer) =
        app.call(&admin.client, "settings/playground", json!({"bot_id": "demo", "lines": lines})).await;
    assert_eq!(status, 200, "{answer}");
    let turn = answer["turn"].clone();
    assert_eq!(turn["decision"], "ask_for_email", "{turn}");
    assert_eq!(turn["reason"], "explicit_request");
    assert!(turn["signals"].as_array().unwrap().iter().any(|s| s["kind"] == "explicit_request"), "{turn}");
    assert!(turn["summary"].as_str().is_some_and(|s| !s.is_empty()), "{turn}");
    let pending = turn["pending"].clone();
    assert!(pending.is_object(), "{turn}");

    // A bad address is asked again; a good one hands over (in words only).
    lines.push(bot(turn["reply"].as_str().unwrap()));
    lines.push(visitor("it's sam@example"));
    let body = json!({"bot_id": "demo", "lines": lines, "pending": pending});
    let (_, answer) = app.call(&admin.client, "settings/playground", body).await;
    assert_eq!(answer["turn"]["decision"], "ask_again", "{answer}");
    lines.push(bot(answer["turn"]["reply"].as_str().unwrap()));
    lines.push(visitor("sam@example.com"));
    let body = json!({"bot_id": "demo", "lines": lines, "pending": answer["turn"]["pending"]});
    let (_, answer) = app.call(&admin.client, "settings/playground", body).await;
    assert_eq!(answer["turn"]["decision"], "escalate", "{answer}");
    assert!(answer["turn"]["reply"].as_str().unwrap().contains("sam@example.com"), "{answer}");
    assert!(answer["turn"].get("pending").is_none(), "{answer}");

    let (_, counts_after) = app.call(&admin.client, "inbox/counts", json!({})).await;
    assert_eq!(counts_before, counts_after, "nothing reached the Inbox");
    let (_, all) = app.call(&admin.client, "inbox/conversations", json!({"filter": "all"})).await;
    assert!(!all.to_string().contains("sam@example.com"), "{all}");
    app.stop().await;
}

async fn the_playground_refuses_bad_transcripts_agents_and_other_workspaces(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    for (lines, status) in [
        (json!([]), 400),
        (json!([visitor("hi"), bot("Hello!")]), 400),
        (json!([visitor("   ")]), 400),
        (json!([visitor(&"x".repeat(4001))]), 413),
        (json!(vec![visitor("hi"); 61]), 413),
        (json!([{"from": "agent", "text": "hi"}]), 400),
    ] {
        let (got, answer) =
            app.call(&admin.client, "settings/playground", json!({"bot_id": "demo", "lines": lines})).await;
        assert_eq!(got, status, "{lines}: {answer}");
    }
    let body = json!({"bot_id": "demo", "lines": [visitor("hi")]});
    let agent = app.agent(&admin, "Dana Agent").await;
    let (status, _) = app.call(&agent.client, "settings/playground", body.clone()).await;
    assert_eq!(status, 403);
    let eve = app.admin_of_another_workspace(&database).await;
    let (status, _) = app.call(&eve.client, "settings/playground", body).await;
    assert_eq!(status, 404);
    app.stop().await;
}

on_both_databases!(
    the_playground_explains_each_turn_and_stores_nothing,
    the_playground_refuses_bad_transcripts_agents_and_other_workspaces
);
