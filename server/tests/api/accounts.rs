//! Team accounts: password changes end other sessions, the per-view counts, and a
//! member of one workspace never hears of another's conversations live.

use reqwest::StatusCode;
use serde_json::json;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::{helpers::*, on_both_databases};

async fn changing_the_password_ends_the_other_sessions_and_their_sockets(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let phone = app.admin().await;
    let laptop = app.admin().await;
    let mut laptop_socket = inbox_socket(&app, &laptop).await;
    let change = |current: &str, new: &str| json!({"current_password": current, "new_password": new});

    let (status, body) = app.call(&phone.client, "auth/password", change("not it", "a-brand-new-password")).await;
    assert_eq!((status.as_u16(), body["error"]["code"].as_str()), (400, Some("invalid_input")), "{body}");
    let (status, body) = app.call(&phone.client, "auth/password", change(ADMIN_PASSWORD, "short")).await;
    assert_eq!((status.as_u16(), body["error"]["code"].as_str()), (400, Some("invalid_input")), "{body}");
    let (status, body) = app.call(&phone.client, "auth/password", change(ADMIN_PASSWORD, "a-brand-new-password")).await;
    assert_eq!(status, 200, "{body}");

    assert_eq!(close_code(&mut laptop_socket).await, Some(CloseCode::Policy), "the other session's socket closes");
    let (_, me) = app.call(&laptop.client, "auth/me", json!({})).await;
    assert_eq!(me["member"], json!(null), "the other session has ended");
    let (status, _) = app.call(&laptop.client, "inbox/conversations", json!({"filter": "all"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app.call(&phone.client, "inbox/conversations", json!({"filter": "all"})).await;
    assert_eq!(status, 200, "the session that changed it stays signed in");
    let mut phone_socket = inbox_socket(&app, &phone).await;
    send_json(&mut phone_socket, json!({"type": "ping"})).await;
    assert_eq!(next_json(&mut phone_socket).await.unwrap()["type"], "pong");

    let old = app.call(&app.client, "auth/login", json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})).await;
    assert_eq!(old.0, StatusCode::UNAUTHORIZED, "the old password no longer works");
    app.sign_in(ADMIN_EMAIL, "a-brand-new-password").await;
    app.stop().await;
}

async fn a_password_change_needs_a_session_and_baton_s_own_origin(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    let body = json!({"current_password": ADMIN_PASSWORD, "new_password": "a-brand-new-password"});

    let (status, _) = app.call(&app.client, "auth/password", body.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let forged = admin
        .client
        .post(app.url("/api/v1/auth/password"))
        .header("origin", "https://evil.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    app.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    app.stop().await;
}

async fn each_view_s_count_follows_the_conversations(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    let ana = app.agent(&admin, "Ana").await;
    let counts = |member: &Member| {
        let client = member.client.clone();
        let app = &app;
        async move {
            let (status, body) = app.call(&client, "inbox/counts", json!({})).await;
            assert_eq!(status, 200, "{body}");
            ["needs_human", "mine", "open", "resolved"].map(|view| body[view].as_i64().unwrap())
        }
    };
    app.start_chat().await;
    let chat = app.escalated_chat().await;
    assert_eq!(counts(&ana).await, [1, 0, 1, 0]);

    app.call(&ana.client, "inbox/claim", json!({"conversation_id": chat.conversation_id})).await;
    assert_eq!(counts(&ana).await, [0, 1, 1, 0]);
    assert_eq!(counts(&admin).await, [0, 0, 1, 0], "mine counts only the caller's");

    app.call(&ana.client, "inbox/resolve", json!({"conversation_id": chat.conversation_id})).await;
    assert_eq!(counts(&ana).await, [0, 0, 0, 1]);
    let (_, all) = app.call(&ana.client, "inbox/counts", json!({})).await;
    assert_eq!(all["all"], 2, "the chat that never escalated counts under All");

    let eve = app.admin_of_another_workspace(&database).await;
    let (_, theirs) = app.call(&eve.client, "inbox/counts", json!({})).await;
    assert_eq!(theirs, json!({"needs_human": 0, "mine": 0, "open": 0, "resolved": 0, "all": 0}));
    app.stop().await;
}

async fn a_member_of_another_workspace_hears_nothing_live(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    let eve = app.admin_of_another_workspace(&database).await;
    let mut ours = inbox_socket(&app, &admin).await;
    let mut theirs = inbox_socket(&app, &eve).await;

    let chat = app.escalated_chat().await;
    frames_until(&mut ours, "the escalation", |f| f["conversation"]["state"] == "needs_human").await;
    send_json(&mut theirs, json!({"type": "typing", "conversation_id": chat.conversation_id})).await;
    send_json(&mut theirs, json!({"type": "ping"})).await;
    let heard = frames_until(&mut theirs, "the pong", |f| f["type"] == "pong").await;

    assert_eq!(heard[0]["type"], "error", "typing into another workspace's conversation: {heard:?}");
    assert_eq!(heard[0]["error"]["code"], "not_found");
    assert!(!serde_json::to_string(&heard).unwrap().contains(&chat.conversation_id), "{heard:?}");
    assert_eq!(heard.len(), 2, "nothing else reached the other workspace: {heard:?}");
    app.stop().await;
}

async fn only_the_agent_holding_the_chat_is_shown_typing_to_the_visitor(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    let ana = app.agent(&admin, "Ana").await;
    let chat = app.escalated_chat().await;
    app.call(&ana.client, "inbox/claim", json!({"conversation_id": chat.conversation_id})).await;
    let mut visitor = widget_socket(&app, &chat, 0).await;
    let mut admin_socket = inbox_socket(&app, &admin).await;
    let mut ana_socket = inbox_socket(&app, &ana).await;

    send_json(&mut admin_socket, json!({"type": "typing", "conversation_id": chat.conversation_id})).await;
    send_json(&mut admin_socket, json!({"type": "ping"})).await;
    frames_until(&mut admin_socket, "the pong, after the typing was handled", |f| f["type"] == "pong").await;
    send_json(&mut ana_socket, json!({"type": "typing", "conversation_id": chat.conversation_id})).await;

    let seen = frames_until(&mut visitor, "someone typing", |f| f["type"] == "typing").await;
    assert_eq!(seen.last().unwrap()["author"], json!({"kind": "agent", "name": "Ana"}), "{seen:?}");
    app.stop().await;
}

async fn a_request_in_flight_cannot_bring_an_ended_session_back(db: Db) {
    use server::auth::session::{end_other_sessions, SqlSessionStore};
    use tower_sessions::{
        session::{Id, Record},
        SessionStore,
    };
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    let store = inspect(&database).await;
    let sessions = SqlSessionStore::new(store.clone());
    let mut record = Record {
        id: Id::default(),
        data: [("member_id".to_owned(), json!(admin.id))].into_iter().collect(),
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
    };
    sessions.create(&mut record).await.unwrap();
    record.data.insert("seen".to_owned(), json!(1));
    sessions.save(&record).await.unwrap();
    let stored = sessions.load(&record.id).await.unwrap().expect("the session is stored");
    assert_eq!(stored.data["seen"], 1, "saving updates a live session");

    // The password changed in another session while a request of this one was in
    // flight; that request now saves the session's new expiry.
    end_other_sessions(&store, &admin.id, &Id::default()).await.unwrap();
    sessions.save(&record).await.unwrap();

    assert!(sessions.load(&record.id).await.unwrap().is_none(), "the ended session stays ended");
    app.stop().await;
}

on_both_databases!(
    a_request_in_flight_cannot_bring_an_ended_session_back,
    only_the_agent_holding_the_chat_is_shown_typing_to_the_visitor,
    changing_the_password_ends_the_other_sessions_and_their_sockets,
    a_password_change_needs_a_session_and_baton_s_own_origin,
    each_view_s_count_follows_the_conversations,
    a_member_of_another_workspace_hears_nothing_live,
);
