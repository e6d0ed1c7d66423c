//! Settings → General over HTTP: chatbots created with a public id and embed tag,
//! read, archived (the widget says the chat is closed and starts nothing; the
//! Inbox still reads its conversations) and put back; admins of the workspace only.

use serde_json::{json, Value};

use crate::{
    helpers::{spawn_app, Db, TestDatabase},
    on_both_databases,
};

fn actions(page: &Value) -> Vec<&str> {
    page["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect()
}

async fn a_chatbot_is_created_read_archived_and_put_back(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;

    let (status, created) =
        app.call(&admin.client, "settings/chatbots/create", json!({"name": "  Globex   Help "})).await;
    assert_eq!(status, 200, "{created}");
    let chatbot = &created["chatbot"];
    assert_eq!(chatbot["name"], "Globex Help");
    let bot_id = chatbot["bot_id"].as_str().unwrap().to_owned();
    assert!(bot_id.starts_with("globex-help-") && bot_id.len() == "globex-help-".len() + 6, "{bot_id}");
    assert_eq!(chatbot["archived"], false);
    let embed = chatbot["embed"].as_str().unwrap();
    assert!(embed.ends_with(&format!(r#"/embed.js" data-bot="{bot_id}" async></script>"#)), "{embed}");
    assert_eq!(created["widget"]["title"], "Globex Help");

    let (_, listed) = app.call(&admin.client, "settings/chatbots", json!({})).await;
    let ids: Vec<&str> = listed["chatbots"].as_array().unwrap().iter().map(|c| c["bot_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["demo", bot_id.as_str()], "oldest first");
    let (status, read) = app.call(&admin.client, "settings/chatbot", json!({"bot_id": bot_id})).await;
    assert_eq!((status.as_u16(), &read["chatbot"]), (200, chatbot), "{read}");
    let (_, look) = app.call(&app.client, "widget/config", json!({"bot_id": bot_id})).await;
    assert_eq!((look["title"].as_str(), &look["closed"]), (Some("Globex Help"), &json!(false)), "{look}");

    let chat = app.start_chat().await;
    let (status, archived) =
        app.call(&admin.client, "settings/chatbots/archive", json!({"bot_id": "demo", "archived": true})).await;
    assert_eq!(status, 200, "{archived}");
    assert_eq!(archived["chatbot"]["archived"], true);
    let (_, look) = app.call(&app.client, "widget/config", json!({"bot_id": "demo"})).await;
    assert_eq!(look["closed"], true, "{look}");
    let (status, refused) = app.call(&app.client, "widget/start", json!({"bot_id": "demo"})).await;
    assert_eq!((status.as_u16(), refused["error"]["code"].as_str()), (409, Some("conflict")), "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("closed"), "{refused}");
    let (status, refused) = app.visitor_send(&chat, "late-1", "are you still there?").await;
    assert_eq!(status, 409, "an open conversation of an archived chatbot takes nothing more: {refused}");
    let (status, detail) =
        app.call(&admin.client, "inbox/conversation", json!({"conversation_id": chat.conversation_id})).await;
    assert_eq!(status, 200, "the Inbox still reads it: {detail}");
    let (status, again) =
        app.call(&admin.client, "settings/chatbots/archive", json!({"bot_id": "demo", "archived": true})).await;
    assert_eq!(status, 409, "{again}");
    let (_, listed) = app.call(&admin.client, "settings/chatbots", json!({})).await;
    assert_eq!(listed["chatbots"][0]["archived"], true);

    let (status, back) =
        app.call(&admin.client, "settings/chatbots/archive", json!({"bot_id": "demo", "archived": false})).await;
    assert_eq!((status.as_u16(), &back["chatbot"]["archived"]), (200, &json!(false)), "{back}");
    let (status, _) = app.visitor_send(&chat, "late-2", "hello again").await;
    assert_eq!(status, 200);

    let (_, activity) = app.call(&admin.client, "settings/activity", json!({})).await;
    assert_eq!(actions(&activity)[..3], ["chatbot_restored", "chatbot_archived", "chatbot_created"], "{activity}");
    app.stop().await;
}

async fn chatbot_calls_refuse_agents_other_workspaces_and_bad_names(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    let agent = app.agent(&admin, "Ada Agent").await;
    let eve = app.admin_of_another_workspace(&database).await;
    let calls = [
        ("settings/chatbot", json!({"bot_id": "demo"})),
        ("settings/chatbots/archive", json!({"bot_id": "demo", "archived": true})),
    ];
    for (path, body) in &calls {
        for (client, expected) in [(&eve.client, 404), (&agent.client, 403)] {
            let (status, answer) = app.call(client, path, body.clone()).await;
            assert_eq!(status, expected, "{path}: {answer}");
        }
    }
    let (status, _) = app.call(&agent.client, "settings/chatbots/create", json!({"name": "Mine"})).await;
    assert_eq!(status, 403);
    let (status, theirs) = app.call(&eve.client, "settings/chatbots/create", json!({"name": "Eve's bot"})).await;
    assert_eq!(status, 200, "{theirs}");
    let (_, ours) = app.call(&admin.client, "settings/chatbots", json!({})).await;
    assert_eq!(ours["chatbots"].as_array().unwrap().len(), 1, "another workspace's chatbot is not ours: {ours}");

    for (name, says) in [(json!("   "), "name: the name is empty"), (json!("x".repeat(61)), "name: the name is longer")]
    {
        let (status, answer) = app.call(&admin.client, "settings/chatbots/create", json!({"name": name})).await;
        assert_eq!((status.as_u16(), answer["error"]["code"].as_str()), (400, Some("invalid_input")), "{answer}");
        assert!(answer["error"]["message"].as_str().unwrap().starts_with(says), "{answer}");
    }
    for body in [json!({}), json!({"name": 7}), json!({"bot_id": "demo"})] {
        let (status, answer) = app.call(&admin.client, "settings/chatbots/create", body).await;
        assert_eq!(status, 400, "{answer}");
    }
    let (status, answer) = app.call(&admin.client, "settings/chatbots/archive", json!({"bot_id": "demo"})).await;
    assert_eq!(status, 400, "{answer}");
    let (_, after) = app.call(&admin.client, "settings/chatbots", json!({})).await;
    assert_eq!(after, ours, "nothing refused was stored");
    app.stop().await;
}

on_both_databases!(
    a_chatbot_is_created_read_archived_and_put_back,
    chatbot_calls_refuse_agents_other_workspaces_and_bad_names,
);
