//! Settings calls outside the help desks: a chatbot's instructions, read and saved by
//! admins of its workspace only, checked field by field, and followed by the next
//! bot turn.

use serde_json::{json, Value};

use crate::{
    helpers::{spawn_app, Db, TestDatabase},
    on_both_databases,
};

fn saved(body: Value) -> Value {
    json!({"instructions": body})
}

async fn instructions_are_stored_as_checked_and_the_next_turn_follows_them(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    let (status, before) = app.call(&admin.client, "settings/instructions", json!({"bot_id": "demo"})).await;
    assert_eq!(status, 200, "{before}");
    assert_eq!(before["instructions"]["bot_id"], "demo");

    let body = saved(json!({
        "bot_id": "demo",
        "text": "  Answer in two sentences at most.\n",
        "self_serve_first": false,
        "always_escalate": [" Lawyer ", "", "lawyer", "Data deletion"],
        "never_escalate": ["Pricing"],
    }));
    let (status, answer) = app.call(&admin.client, "settings/instructions/save", body).await;
    assert_eq!(status, 200, "{answer}");
    let stored = &answer["instructions"];
    assert_eq!(stored["text"], "Answer in two sentences at most.");
    assert_eq!(stored["self_serve_first"], false);
    assert_eq!(stored["always_escalate"], json!(["lawyer", "data deletion"]));
    assert_eq!(stored["never_escalate"], json!(["pricing"]));
    let (_, again) = app.call(&admin.client, "settings/instructions", json!({"bot_id": "demo"})).await;
    assert_eq!(again["instructions"], *stored, "read back as saved");

    let chat = app.start_chat_with_email("lee@example.com").await;
    app.visitor_send(&chat, "a1", "Our LAWYER has a question about where files are stored").await;
    app.wait_for_history(&chat, "the handoff the new phrase asks for", |h| h["state"] == "needs_human").await;
    app.stop().await;
}

async fn instructions_refuse_bad_input_agents_and_other_workspaces(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    let good = json!({
        "bot_id": "demo",
        "text": "Be kind.",
        "self_serve_first": true,
        "always_escalate": ["refund"],
        "never_escalate": [],
    });
    let (status, answer) = app.call(&admin.client, "settings/instructions/save", saved(good.clone())).await;
    assert_eq!(status, 200, "{answer}");

    let with = |field: &str, value: Value| {
        let mut body = good.clone();
        body[field] = value;
        saved(body)
    };
    let cases = [
        (with("text", json!("x".repeat(4001))), "text"),
        (with("text", json!("a\u{0}b")), "text"),
        (with("always_escalate", json!(["two\nlines"])), "always_escalate"),
        (with("never_escalate", json!(["y".repeat(201)])), "never_escalate"),
        (
            with("always_escalate", json!((0..101).map(|n| format!("phrase {n}")).collect::<Vec<_>>())),
            "always_escalate",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) = app.call(&admin.client, "settings/instructions/save", body).await;
        assert_eq!(status, 400, "{field}: {answer}");
        assert_eq!(answer["error"]["code"], "invalid_input");
        assert!(answer["error"]["message"].as_str().unwrap().starts_with(field), "{field}: {answer}");
    }
    let (status, answer) =
        app.call(&admin.client, "settings/instructions/save", json!({"instructions": {"bot_id": "demo"}})).await;
    assert_eq!((status.as_u16(), &answer["error"]["code"]), (400, &json!("invalid_input")), "{answer}");
    let response = admin
        .client
        .post(app.url("/api/v1/settings/instructions/save"))
        .header("content-type", "application/json")
        .body("{\"instructions\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);

    let eve = app.admin_of_another_workspace(&database).await;
    let agent = app.agent(&admin, "Ada Agent").await;
    for (client, expected) in [(&eve.client, 404), (&agent.client, 403)] {
        let (status, answer) = app.call(client, "settings/instructions", json!({"bot_id": "demo"})).await;
        assert_eq!(status, expected, "{answer}");
        let (status, answer) = app.call(client, "settings/instructions/save", with("text", json!("Hacked"))).await;
        assert_eq!(status, expected, "{answer}");
    }
    let (_, after) = app.call(&admin.client, "settings/instructions", json!({"bot_id": "demo"})).await;
    assert_eq!(after["instructions"]["text"], "Be kind.", "nothing refused was stored: {after}");
    app.stop().await;
}

on_both_databases!(
    instructions_are_stored_as_checked_and_the_next_turn_follows_them,
    instructions_refuse_bad_input_agents_and_other_workspaces,
);
