//! Settings → Team: the list with last sign-ins, members added with a one-time
//! password, role changes that keep the last admin one, and removal that hands the
//! member's chats back to the queue and ends their sessions and sockets at once.

use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::{helpers::*, on_both_databases};

/// The member of a `team/list` answer with this email.
fn member<'a>(team: &'a Value, email: &str) -> &'a Value {
    let members = team["members"].as_array().expect("members");
    members.iter().find(|m| m["email"] == email).unwrap_or_else(|| panic!("{email} in {team}"))
}

async fn activity_actions(database: &TestDatabase) -> Vec<String> {
    let store = inspect(database).await;
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT action FROM activity ORDER BY created_at, id").fetch_all(store.pool()).await.unwrap();
    rows.into_iter().map(|(action,)| action).collect()
}

async fn members_are_listed_with_their_last_sign_in_and_may_get_a_one_time_password(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    let (status, team) = app.call(&admin.client, "team/list", json!({})).await;
    assert_eq!(status, 200, "{team}");
    assert_eq!(team["members"].as_array().unwrap().len(), 1, "{team}");
    let me = member(&team, ADMIN_EMAIL);
    assert_eq!(me["role"], "admin");
    assert!(me["last_sign_in_at"].as_str().is_some_and(|at| at.ends_with('Z')), "{me}");
    assert!(me["added_at"].as_str().is_some(), "{me}");

    let body = json!({"email": "Sam@Acme.test", "name": "Sam Lee", "role": "agent"});
    let (status, added) = app.call(&admin.client, "team/members", body).await;
    assert_eq!(status, 200, "{added}");
    assert_eq!(added["member"]["email"], "sam@acme.test");
    let one_time = added["password"].as_str().expect("a one-time password").to_owned();
    assert!(one_time.len() >= 12, "{one_time}");
    let (_, team) = app.call(&admin.client, "team/list", json!({})).await;
    assert_eq!(member(&team, "sam@acme.test")["last_sign_in_at"], Value::Null, "never signed in yet");

    app.sign_in("sam@acme.test", &one_time).await;
    let (_, team) = app.call(&admin.client, "team/list", json!({})).await;
    assert!(member(&team, "sam@acme.test")["last_sign_in_at"].is_string(), "{team}");

    let body = json!({"email": "kim@acme.test", "name": "Kim", "password": "kims-own-password", "role": "admin"});
    let (status, added) = app.call(&admin.client, "team/members", body).await;
    assert_eq!(status, 200, "{added}");
    assert!(added.get("password").is_none(), "a password the admin set is never answered back: {added}");
    app.sign_in("kim@acme.test", "kims-own-password").await;

    let body = json!({"email": "sam@acme.test", "name": "Sam again", "role": "agent"});
    let (status, refused) = app.call(&admin.client, "team/members", body).await;
    assert_eq!((status.as_u16(), refused["error"]["code"].as_str()), (409, Some("conflict")), "{refused}");
    assert_eq!(activity_actions(&database).await, ["member_added", "member_added"]);
    app.stop().await;
}

async fn roles_change_but_the_last_admin_stays_an_admin(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    let ana = app.agent(&admin, "Ana").await;
    let admin_id = admin.id.clone();

    let demote_me = json!({"member_id": admin_id, "role": "agent"});
    let (status, refused) = app.call(&admin.client, "team/role", demote_me.clone()).await;
    assert_eq!((status.as_u16(), refused["error"]["code"].as_str()), (409, Some("conflict")), "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("last admin"), "{refused}");

    let (status, team) = app.call(&admin.client, "team/role", json!({"member_id": ana.id, "role": "admin"})).await;
    assert_eq!(status, 200, "{team}");
    assert_eq!(member(&team, "ana@acme.test")["role"], "admin");
    let (status, _) = app.call(&ana.client, "team/list", json!({})).await;
    assert_eq!(status, 200, "Ana's next call is an admin's");

    let (status, team) = app.call(&admin.client, "team/role", demote_me).await;
    assert_eq!(status, 200, "{team}");
    assert_eq!(member(&team, ADMIN_EMAIL)["role"], "agent");
    let (status, body) = app.call(&admin.client, "team/list", json!({})).await;
    assert_eq!((status.as_u16(), body["error"]["code"].as_str()), (403, Some("forbidden")), "{body}");
    let (status, refused) = app.call(&ana.client, "team/role", json!({"member_id": ana.id, "role": "agent"})).await;
    assert_eq!(status, 409, "now Ana is the last admin: {refused}");
    assert_eq!(activity_actions(&database).await, ["member_added", "role_changed", "role_changed"]);
    app.stop().await;
}

async fn a_removed_member_s_chats_go_back_to_the_queue_and_their_sessions_end(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    let ana = app.agent(&admin, "Ana").await;
    let chat = app.escalated_chat().await;
    let (status, claimed) = app.call(&ana.client, "inbox/claim", json!({"conversation_id": chat.conversation_id})).await;
    assert_eq!(status, 200, "{claimed}");
    let mut ana_socket = inbox_socket(&app, &ana).await;
    let mut admin_socket = inbox_socket(&app, &admin).await;

    let (status, team) = app.call(&admin.client, "team/remove", json!({"member_id": ana.id})).await;
    assert_eq!(status, 200, "{team}");
    assert_eq!(team["members"].as_array().unwrap().len(), 1, "{team}");

    assert_eq!(close_code(&mut ana_socket).await, Some(CloseCode::Policy), "Ana's socket closes");
    let (status, _) = app.call(&ana.client, "inbox/conversations", json!({"filter": "all"})).await;
    assert_eq!(status, 401, "Ana's session has ended");
    let login = json!({"email": "ana@acme.test", "password": "agent-password-123"});
    let (status, _) = app.call(&app.client, "auth/login", login).await;
    assert_eq!(status, 401, "Ana can no longer sign in");

    frames_until(&mut admin_socket, "the chat back in the queue", |frame| {
        frame["type"] == "conversation" && frame["conversation"]["state"] == "needs_human"
    })
    .await;
    let (_, detail) = app.call(&admin.client, "inbox/conversation", json!({"conversation_id": chat.conversation_id})).await;
    assert_eq!(detail["conversation"]["state"], "needs_human", "{detail}");
    assert_eq!(detail["conversation"].get("agent").cloned().unwrap_or(Value::Null), Value::Null, "{detail}");
    let notes: Vec<&str> = detail["notes"].as_array().unwrap().iter().map(|n| n["text"].as_str().unwrap()).collect();
    assert!(notes.iter().any(|n| n.contains("Ana was removed from the team")), "{notes:?}");
    let history = app.history(&chat, 0).await;
    assert_eq!(history["state"], "needs_human", "the visitor waits for the next person");
    assert!(!texts(&history).iter().any(|t| t.contains("removed")), "the team's note never reaches the visitor");

    let (status, claimed) = app.call(&admin.client, "inbox/claim", json!({"conversation_id": chat.conversation_id})).await;
    assert_eq!(status, 200, "anyone may take it now: {claimed}");
    assert_eq!(activity_actions(&database).await, ["member_added", "member_removed"]);
    app.stop().await;
}

async fn team_calls_refuse_agents_other_workspaces_oneself_and_bad_input(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    let ana = app.agent(&admin, "Ana").await;
    let admin_id = admin.id.clone();

    let calls = [
        ("team/list", json!({})),
        ("team/role", json!({"member_id": admin_id, "role": "agent"})),
        ("team/remove", json!({"member_id": admin_id})),
        ("team/members", json!({"email": "x@acme.test", "name": "X", "role": "admin"})),
    ];
    for (path, body) in &calls {
        let (status, answer) = app.call(&ana.client, path, body.clone()).await;
        assert_eq!((status.as_u16(), answer["error"]["code"].as_str()), (403, Some("forbidden")), "{path}: {answer}");
        let (status, _) = app.call(&app.client, path, body.clone()).await;
        assert_eq!(status, 401, "{path} signed out");
    }

    let eve = app.admin_of_another_workspace(&database).await;
    for (path, body) in [
        ("team/role", json!({"member_id": ana.id, "role": "admin"})),
        ("team/remove", json!({"member_id": ana.id})),
    ] {
        let (status, answer) = app.call(&eve.client, path, body).await;
        assert_eq!((status.as_u16(), answer["error"]["code"].as_str()), (404, Some("not_found")), "{path}: {answer}");
    }
    let (_, theirs) = app.call(&eve.client, "team/list", json!({})).await;
    assert_eq!(theirs["members"].as_array().unwrap().len(), 1, "another workspace's list is its own: {theirs}");

    let (status, answer) = app.call(&admin.client, "team/remove", json!({"member_id": admin_id})).await;
    assert_eq!(status, 409, "nobody removes themself: {answer}");
    let (status, answer) = app.call(&admin.client, "team/remove", json!({"member_id": "mem_nobody"})).await;
    assert_eq!(status, 404, "{answer}");
    let bad = [
        ("team/role", json!({"member_id": ana.id, "role": "owner"}), "`role` must be `admin` or `agent`, not `owner`"),
        ("team/role", json!({"role": "admin"}), "`member_id` is missing"),
        ("team/members", json!({"email": "not-an-email", "name": "X", "role": "agent"}), "is not a valid email"),
        ("team/members", json!({"email": "y@acme.test", "name": " ", "role": "agent"}), "the name is empty"),
        ("team/members", json!({"email": "y@acme.test", "name": "Y", "password": "short", "role": "agent"}), "password"),
    ];
    for (path, body, says) in bad {
        let (status, answer) = app.call(&admin.client, path, body.clone()).await;
        assert_eq!((status.as_u16(), answer["error"]["code"].as_str()), (400, Some("invalid_input")), "{body}: {answer}");
        assert!(answer["error"]["message"].as_str().unwrap().contains(says), "{body}: {answer}");
    }
    let (_, team) = app.call(&admin.client, "team/list", json!({})).await;
    assert_eq!(team["members"].as_array().unwrap().len(), 2, "nothing was added or removed: {team}");
    assert_eq!(member(&team, "ana@acme.test")["role"], "agent");
    app.stop().await;
}

on_both_databases!(
    members_are_listed_with_their_last_sign_in_and_may_get_a_one_time_password,
    roles_change_but_the_last_admin_stays_an_admin,
    a_removed_member_s_chats_go_back_to_the_queue_and_their_sessions_end,
    team_calls_refuse_agents_other_workspaces_oneself_and_bad_input,
);
