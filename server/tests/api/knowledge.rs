//! Settings → Knowledge over HTTP: entries added, edited and deleted by admins of the
//! chatbot's workspace only, files imported whole or not at all, "What would the bot
//! answer?", and the next bot turn answering from what was just saved.

use serde_json::{json, Value};

use crate::{
    helpers::{inspect, spawn_app, Db, TestDatabase},
    on_both_databases,
};

const QUESTION: &str = "How long is the Zorblax warranty?";

fn entry(title: &str, body: &str) -> Value {
    json!({"bot_id": "demo", "entry": {"kind": "qa", "title": title, "body": body}})
}

fn titles(answer: &Value) -> Vec<String> {
    answer["entries"].as_array().unwrap().iter().map(|e| e["title"].as_str().unwrap().to_owned()).collect()
}

/// `(action, chatbot_id is set)` of every activity row, oldest first.
async fn activity(database: &TestDatabase) -> Vec<(String, bool)> {
    let store = inspect(database).await;
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT action, chatbot_id FROM activity ORDER BY created_at, id")
            .fetch_all(store.pool())
            .await
            .unwrap();
    rows.into_iter().map(|(action, chatbot)| (action, chatbot.is_some())).collect()
}

async fn entries_are_added_edited_and_deleted_and_the_next_turn_answers_from_them(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    let (status, before) = app.call(&admin.client, "settings/knowledge", json!({"bot_id": "demo"})).await;
    assert_eq!(status, 200, "{before}");
    let shipped = titles(&before).len();
    assert!(shipped > 0, "the demo chatbot ships with knowledge: {before}");

    let ask = json!({"bot_id": "demo", "question": QUESTION});
    let (_, unknown) = app.call(&admin.client, "settings/knowledge/ask", ask.clone()).await;
    assert!(unknown["probe"].get("answer").is_none(), "nothing knows of Zorblax yet: {unknown}");
    assert!(unknown["probe"]["reply"].as_str().unwrap().starts_with("I'm not sure"), "{unknown}");

    let body = entry(" What is the Zorblax warranty? ", "Every Zorblax carries a 7-year warranty.\n");
    let (status, added) = app.call(&admin.client, "settings/knowledge/save", body).await;
    assert_eq!(status, 200, "{added}");
    assert_eq!(titles(&added).len(), shipped + 1);
    let new = &added["entries"][0];
    assert_eq!((new["title"].as_str(), new["kind"].as_str()), (Some("What is the Zorblax warranty?"), Some("qa")));
    assert_eq!(new["body"], "Every Zorblax carries a 7-year warranty.");
    let id = new["id"].as_str().unwrap().to_owned();

    let (status, probe) = app.call(&admin.client, "settings/knowledge/ask", ask.clone()).await;
    assert_eq!(status, 200, "{probe}");
    let probe = &probe["probe"];
    assert_eq!(probe["answer"]["entry_id"], id, "{probe}");
    assert!(probe["answer"]["score"].as_f64().unwrap() >= probe["needs"].as_f64().unwrap(), "{probe}");
    assert_eq!(probe["reply"], "Every Zorblax carries a 7-year warranty.");

    let chat = app.start_chat().await;
    app.visitor_send(&chat, "z1", QUESTION).await;
    app.wait_for_history(&chat, "the bot's answer from the new entry", |h| {
        h["messages"].as_array().is_some_and(|m| m.iter().any(|m| m["text"].as_str().unwrap_or("").contains("7-year")))
    })
    .await;

    let edit = json!({"bot_id": "demo", "entry": {"id": id, "kind": "qa", "title": "What is the Zorblax warranty?",
        "body": "Every Zorblax carries a 9-year warranty."}});
    let (status, edited) = app.call(&admin.client, "settings/knowledge/save", edit).await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(titles(&edited).len(), shipped + 1, "an edit adds nothing");
    let (_, probe) = app.call(&admin.client, "settings/knowledge/ask", ask.clone()).await;
    assert_eq!(probe["probe"]["reply"], "Every Zorblax carries a 9-year warranty.", "re-indexed at once: {probe}");

    let (status, deleted) =
        app.call(&admin.client, "settings/knowledge/delete", json!({"bot_id": "demo", "entry_id": id})).await;
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(titles(&deleted).len(), shipped);
    let (_, probe) = app.call(&admin.client, "settings/knowledge/ask", ask).await;
    assert!(probe["probe"].get("answer").is_none(), "{probe}");
    let (status, again) =
        app.call(&admin.client, "settings/knowledge/delete", json!({"bot_id": "demo", "entry_id": id})).await;
    assert_eq!(status, 404, "{again}");

    let changes = [("knowledge_added", true), ("knowledge_edited", true), ("knowledge_deleted", true)];
    assert_eq!(activity(&database).await, changes.map(|(a, c)| (a.to_owned(), c)));
    app.stop().await;
}

async fn files_are_imported_whole_or_not_at_all(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    let (_, before) = app.call(&admin.client, "settings/knowledge", json!({"bot_id": "demo"})).await;
    let shipped = titles(&before).len();
    let import = |format: &str, text: &str| json!({"bot_id": "demo", "format": format, "text": text});

    let markdown =
        "# Zorblax help\n\n## Does the Zorblax float?\nYes, in fresh water.\n\n## Zorblax colours\nRed and teal.\n";
    let (status, answer) = app.call(&admin.client, "settings/knowledge/import", import("markdown", markdown)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["imported"], 2);
    let csv = "question,answer\n\"Can a Zorblax sing, too?\",\"Only on Sundays.\"\nIs the Zorblax loud?,Barely\n";
    let (status, answer) = app.call(&admin.client, "settings/knowledge/import", import("csv", csv)).await;
    assert_eq!((status.as_u16(), &answer["imported"]), (200, &json!(2)), "{answer}");
    assert_eq!(titles(&answer).len(), shipped + 4);
    let kinds: Vec<&str> =
        answer["entries"].as_array().unwrap()[..4].iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"article"), "a heading without `?` is an article: {kinds:?}");
    let (_, probe) = app
        .call(&admin.client, "settings/knowledge/ask", json!({"bot_id": "demo", "question": "will my zorblax float"}))
        .await;
    assert_eq!(probe["probe"]["answer"]["title"], "Does the Zorblax float?", "{probe}");

    let big = format!("question,answer\n{}", "Is this long?,Yes\n".repeat(5000));
    assert!(big.len() > 64 * 1024, "more than other calls may send");
    let (status, answer) = app.call(&admin.client, "settings/knowledge/import", import("csv", &big)).await;
    assert_eq!((status.as_u16(), answer["error"]["code"].as_str()), (413, Some("too_large")), "{answer}");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("at most 1000 at a time"),
        "past the 64 KiB other calls get, to the entry count: {answer}"
    );

    let refused = [
        (import("csv", "q1,a1\nq2,a2\nonly a question\n"), 400, "line 3: expected 2 fields"),
        (import("markdown", "## One\ntext\n## Two\n\n"), 400, "line 3: body:"),
        (import("markdown", "no headings here"), 400, "text:"),
        (import("csv", ""), 400, "text:"),
        (import("pdf", "%PDF"), 400, ""),
    ];
    for (body, status, starts) in refused {
        let (got, answer) = app.call(&admin.client, "settings/knowledge/import", body).await;
        assert_eq!(got, status, "{answer}");
        assert!(answer["error"]["message"].as_str().unwrap().starts_with(starts), "{starts}: {answer}");
    }
    let (_, after) = app.call(&admin.client, "settings/knowledge", json!({"bot_id": "demo"})).await;
    assert_eq!(titles(&after).len(), shipped + 4, "no refused file left an entry behind");
    let imports = activity(&database).await;
    assert_eq!(imports, [("knowledge_imported".to_owned(), true), ("knowledge_imported".to_owned(), true)]);
    app.stop().await;
}

async fn knowledge_calls_refuse_agents_other_workspaces_and_bad_input(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    let (_, listed) = app.call(&admin.client, "settings/knowledge", json!({"bot_id": "demo"})).await;
    let demo_entry = listed["entries"][0]["id"].as_str().unwrap().to_owned();

    let eve = app.admin_of_another_workspace(&database).await;
    let store = inspect(&database).await;
    let mut tx = store.begin_write().await.unwrap();
    sqlx::query(
        "INSERT INTO chatbots (id, workspace_id, public_id, name, greeting, live_handoff, created_at) \
         VALUES ('bot_other', 'ws_other', 'other', 'Other bot', 'Hi', 1, 0)",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let edit = json!({"id": demo_entry, "kind": "qa", "title": "Hijacked", "body": "Hijacked"});
    let (status, answer) =
        app.call(&eve.client, "settings/knowledge/save", json!({"bot_id": "other", "entry": edit.clone()})).await;
    assert_eq!(status, 404, "another workspace's entry, through one's own chatbot: {answer}");
    let (status, answer) =
        app.call(&eve.client, "settings/knowledge/delete", json!({"bot_id": "other", "entry_id": demo_entry})).await;
    assert_eq!(status, 404, "{answer}");

    let agent = app.agent(&admin, "Ada Agent").await;
    let calls = [
        ("settings/knowledge", json!({"bot_id": "demo"})),
        ("settings/knowledge/save", json!({"bot_id": "demo", "entry": edit})),
        ("settings/knowledge/delete", json!({"bot_id": "demo", "entry_id": demo_entry})),
        ("settings/knowledge/import", json!({"bot_id": "demo", "format": "csv", "text": "q,a"})),
        ("settings/knowledge/ask", json!({"bot_id": "demo", "question": "refunds"})),
    ];
    for (path, body) in &calls {
        for (client, expected) in [(&eve.client, 404), (&agent.client, 403)] {
            let (status, answer) = app.call(client, path, body.clone()).await;
            assert_eq!(status, expected, "{path}: {answer}");
        }
    }

    let bad = [
        (entry(" ", "An answer"), "title: the question is empty"),
        (entry("A question?", ""), "body: the answer is empty"),
        (entry(&"q".repeat(301), "x"), "title:"),
        (entry("A question?", &"b".repeat(8001)), "body:"),
        (json!({"bot_id": "demo", "entry": {"kind": "faq", "title": "q", "body": "a"}}), ""),
        (json!({"bot_id": "demo", "entry": {"kind": "qa", "title": "q"}}), ""),
        (json!({"bot_id": "demo", "entry": {"id": "kb_nope", "kind": "qa", "title": "q", "body": "a"}}), "not found"),
    ];
    for (body, starts) in bad {
        let (status, answer) = app.call(&admin.client, "settings/knowledge/save", body).await;
        let expected = if starts == "not found" { 404 } else { 400 };
        assert_eq!(status, expected, "{answer}");
        assert!(answer["error"]["message"].as_str().unwrap().starts_with(starts), "{starts}: {answer}");
    }
    for question in ["  ", &"w".repeat(1001)] {
        let body = json!({"bot_id": "demo", "question": question});
        let (status, answer) = app.call(&admin.client, "settings/knowledge/ask", body).await;
        assert_eq!((status.as_u16(), &answer["error"]["code"]), (400, &json!("invalid_input")), "{answer}");
    }
    let response = admin
        .client
        .post(app.url("/api/v1/settings/knowledge/save"))
        .header("content-type", "application/json")
        .body("{\"bot_id\": \"demo\", \"entry\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let (_, after) = app.call(&admin.client, "settings/knowledge", json!({"bot_id": "demo"})).await;
    assert_eq!(after["entries"], listed["entries"], "nothing refused was stored");
    assert!(activity(&database).await.iter().all(|(action, _)| action == "member_added"), "only the agent's addition");
    app.stop().await;
}

on_both_databases!(
    entries_are_added_edited_and_deleted_and_the_next_turn_answers_from_them,
    files_are_imported_whole_or_not_at_all,
    knowledge_calls_refuse_agents_other_workspaces_and_bad_input,
);
