//! Settings → Activity over HTTP: every settings change writes its row, conversations'
//! moves are listed beside them, newest first, filterable by chatbot and member, a
//! page at a time; admins of the workspace only.

use serde_json::{json, Value};

use crate::{
    helpers::{spawn_app, Db, TestApp, TestDatabase},
    on_both_databases,
};

fn actions(page: &Value) -> Vec<String> {
    page["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect()
}

fn instructions(text: &str) -> Value {
    json!({"instructions": {"bot_id": "demo", "text": text, "self_serve_first": true,
        "always_escalate": ["lawyer"], "never_escalate": []}})
}

async fn list(app: &TestApp, client: &reqwest::Client, body: Value) -> Value {
    let (status, page) = app.call(client, "settings/activity", body).await;
    assert_eq!(status, 200, "{page}");
    page
}

async fn every_change_is_listed_newest_first_with_who_and_which_chatbot(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    // Rows of the same millisecond have no order between them: each step waits one out.
    let tick = || tokio::time::sleep(std::time::Duration::from_millis(3));
    let chat = app.escalated_chat().await;
    tick().await;
    let agent = app.agent(&admin, "Ada Agent").await;
    tick().await;
    let (status, answer) =
        app.call(&agent.client, "inbox/claim", json!({"conversation_id": chat.conversation_id})).await;
    assert_eq!(status, 200, "{answer}");
    tick().await;
    let (status, answer) = app.call(&admin.client, "settings/instructions/save", instructions("Be brief.")).await;
    assert_eq!(status, 200, "{answer}");
    tick().await;
    let widget = json!({"widget": {"bot_id": "demo", "title": "Globex help", "greeting": "Hello.",
        "color": "#fde047", "launcher_position": "left", "allowed_origins": []}});
    let (status, answer) = app.call(&admin.client, "settings/widget", widget).await;
    assert_eq!(status, 200, "{answer}");
    tick().await;
    let (status, answer) =
        app.call(&admin.client, "settings/live-handoff", json!({"bot_id": "demo", "on": false})).await;
    assert_eq!(status, 200, "{answer}");

    let page = list(&app, &admin.client, json!({})).await;
    let all = actions(&page);
    assert_eq!(
        all[..5],
        ["live_handoff_changed", "widget_changed", "instructions_changed", "conversation_claimed", "member_added"],
        "newest first: {page}"
    );
    assert!(all.contains(&"conversation_needs_human".to_owned()), "{all:?}");
    assert_eq!(page["next_before"], Value::Null, "one page holds it all");
    let newest = &page["entries"][0];
    assert_eq!(newest["actor"], json!({"kind": "member", "id": admin.id, "name": "Admin"}), "{newest}");
    assert_eq!((newest["bot_id"].as_str(), newest["bot_name"].as_str()), (Some("demo"), Some("Globex help")));
    assert_eq!(newest["detail"], "Turned Live Agent Handoff off");
    let claimed = &page["entries"][3];
    assert_eq!(claimed["actor"]["name"], "Ada Agent");
    assert_eq!(claimed["conversation_id"], chat.conversation_id.as_str());
    assert_eq!(claimed["detail"], "Conversation went from waiting for a person to claimed");
    let added = &page["entries"][4];
    assert_eq!((added["bot_id"].clone(), added["actor"]["kind"].clone()), (Value::Null, json!("member")));
    let escalated = page["entries"].as_array().unwrap().iter().find(|e| e["action"] == "conversation_needs_human");
    assert_ne!(escalated.unwrap()["actor"]["kind"], "member", "the visitor or the bot moved it: {page}");

    let of_demo = actions(&list(&app, &admin.client, json!({"bot_id": "demo"})).await);
    assert!(!of_demo.contains(&"member_added".to_owned()) && of_demo.len() == all.len() - 1, "{of_demo:?}");
    let by_ada = actions(&list(&app, &admin.client, json!({"member_id": agent.id})).await);
    assert_eq!(by_ada, ["conversation_claimed"]);
    let by_admin = actions(&list(&app, &admin.client, json!({"member_id": admin.id, "bot_id": "demo"})).await);
    assert_eq!(by_admin, ["live_handoff_changed", "widget_changed", "instructions_changed"]);
    app.stop().await;
}

async fn pages_go_on_where_the_last_one_stopped(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    for n in 0..57 {
        let (status, answer) =
            app.call(&admin.client, "settings/instructions/save", instructions(&format!("Version {n}."))).await;
        assert_eq!(status, 200, "{answer}");
    }
    let first = list(&app, &admin.client, json!({})).await;
    assert_eq!(first["entries"].as_array().unwrap().len(), 50);
    let before = first["next_before"].as_str().expect("a second page").to_owned();
    let second = list(&app, &admin.client, json!({"before": before})).await;
    assert_eq!(second["entries"].as_array().unwrap().len(), 7);
    assert_eq!(second["next_before"], Value::Null);
    let ids: Vec<&str> = [&first, &second]
        .iter()
        .flat_map(|page| page["entries"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()))
        .collect();
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 57, "no row twice, none skipped");
    let times: Vec<i64> = [&first, &second]
        .iter()
        .flat_map(|page| page["entries"].as_array().unwrap().iter())
        .map(|e| app::domain::clock::epoch_ms(e["at"].as_str().unwrap()).unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first across pages");
    app.stop().await;
}

async fn activity_refuses_agents_other_workspaces_and_bad_input(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    let agent = app.agent(&admin, "Ada Agent").await;
    let eve = app.admin_of_another_workspace(&database).await;

    let (status, answer) = app.call(&agent.client, "settings/activity", json!({})).await;
    assert_eq!((status.as_u16(), answer["error"]["code"].as_str()), (403, Some("forbidden")), "{answer}");
    let (status, _) = app.call(&app.client, "settings/activity", json!({})).await;
    assert_eq!(status, 401);
    for body in [json!({"bot_id": "demo"}), json!({"member_id": admin.id}), json!({"bot_id": "nope"})] {
        let (status, answer) = app.call(&eve.client, "settings/activity", body.clone()).await;
        assert_eq!((status.as_u16(), answer["error"]["code"].as_str()), (404, Some("not_found")), "{body}: {answer}");
    }
    let theirs = list(&app, &eve.client, json!({})).await;
    assert_eq!(theirs["entries"], json!([]), "another workspace's changes stay there: {theirs}");

    for before in ["yesterday", "12", "12.a b", "-1.act_1"] {
        let (status, answer) = app.call(&admin.client, "settings/activity", json!({"before": before})).await;
        assert_eq!((status.as_u16(), answer["error"]["code"].as_str()), (400, Some("invalid_input")), "{answer}");
        assert!(answer["error"]["message"].as_str().unwrap().starts_with("before:"), "{answer}");
    }
    let (status, answer) = app.call(&admin.client, "settings/activity", json!({"bot_id": 7})).await;
    assert_eq!(status, 400, "{answer}");
    let response = admin
        .client
        .post(app.url("/api/v1/settings/activity"))
        .header("content-type", "application/json")
        .body("{\"bot_id\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    app.stop().await;
}

on_both_databases!(
    every_change_is_listed_newest_first_with_who_and_which_chatbot,
    pages_go_on_where_the_last_one_stopped,
    activity_refuses_agents_other_workspaces_and_bad_input,
);
