//! `/live/widget` and `/live/inbox`.

use serde_json::json;
use tokio_tungstenite::tungstenite::{protocol::frame::coding::CloseCode, Message as Ws};

use crate::helpers::{
    close_code, connect, frames_until, inbox_socket, next_json, send_json, spawn_app, texts, widget_socket, Db,
    TestDatabase, ESCALATION_NOTE,
};
use crate::on_both_databases;
use futures_util::SinkExt;

async fn the_widget_socket_catches_up_then_streams_live(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let chat = app.start_chat_with_email("sam@example.com").await;

    let mut socket = widget_socket(&app, &chat, 0).await;

    let greeting = next_json(&mut socket).await.unwrap();
    assert_eq!(greeting["type"], "message");
    assert_eq!(greeting["message"]["seq"], 1);
    assert_eq!(next_json(&mut socket).await.unwrap(), json!({"type": "state", "state": "bot"}));

    app.visitor_send(&chat, "live-1", "Can I speak to a person?").await;
    let frames = frames_until(&mut socket, "the escalation note", |f| f["message"]["text"] == ESCALATION_NOTE).await;
    let seqs: Vec<i64> = frames.iter().filter_map(|f| f["message"]["seq"].as_i64()).collect();
    assert_eq!(seqs, (2..2 + seqs.len() as i64).collect::<Vec<_>>(), "in order, no gaps, no duplicates: {frames:?}");
    // Messages first, then the state change they caused.
    let state = frames_until(&mut socket, "the state", |f| f["type"] == "state").await;
    assert_eq!(state.last().unwrap()["state"], "needs_human");

    send_json(&mut socket, json!({"type": "ping"})).await;
    frames_until(&mut socket, "pong", |f| f["type"] == "pong").await;
    app.stop().await;
}

async fn a_resumed_widget_socket_gets_only_what_it_missed(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let chat = app.escalated_chat().await;
    let history = app.history(&chat, 0).await;
    let total = history["messages"].as_array().unwrap().len() as i64;

    let mut socket = widget_socket(&app, &chat, 2).await;

    let mut seqs = Vec::new();
    loop {
        let frame = next_json(&mut socket).await.unwrap();
        if frame["type"] == "state" {
            assert_eq!(frame["state"], "needs_human");
            break;
        }
        seqs.push(frame["message"]["seq"].as_i64().unwrap());
    }
    assert_eq!(seqs, (3..=total).collect::<Vec<_>>());
    app.stop().await;
}

async fn a_wrong_or_missing_token_closes_with_1008(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let mine = app.start_chat().await;
    let theirs = app.start_chat().await;
    let url = app.ws_url(&format!("/live/widget?conversation_id={}", theirs.conversation_id));

    let mut wrong = connect(&url, &[]).await.unwrap();
    send_json(&mut wrong, json!({"type": "auth", "token": mine.token})).await;
    assert_eq!(close_code(&mut wrong).await, Some(CloseCode::Policy));

    let mut no_auth = connect(&url, &[]).await.unwrap();
    send_json(&mut no_auth, json!({"type": "ping"})).await;
    assert_eq!(close_code(&mut no_auth).await, Some(CloseCode::Policy));

    let mut garbage = connect(&url, &[]).await.unwrap();
    garbage.send(Ws::Text("not json".into())).await.unwrap();
    assert_eq!(close_code(&mut garbage).await, Some(CloseCode::Policy));
    app.stop().await;
}

async fn oversized_and_unknown_frames_are_refused(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let chat = app.start_chat().await;
    let mut socket = widget_socket(&app, &chat, 0).await;
    frames_until(&mut socket, "the state", |f| f["type"] == "state").await;

    send_json(&mut socket, json!({"type": "note", "text": "sneaky"})).await;
    let error = frames_until(&mut socket, "an error frame", |f| f["type"] == "error").await;
    assert_eq!(error.last().unwrap()["error"]["code"], "invalid_input");

    socket.send(Ws::Text("x".repeat(20 * 1024).into())).await.unwrap();
    assert_eq!(close_code(&mut socket).await, Some(CloseCode::Size));
    app.stop().await;
}

async fn the_inbox_socket_needs_baton_s_origin_and_a_session(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    let cookie = app.cookie_header(&admin);
    let url = app.ws_url("/live/inbox");

    let foreign = connect(&url, &[("cookie", &cookie), ("origin", "https://evil.example")]).await;
    let no_origin = connect(&url, &[("cookie", &cookie)]).await;
    let no_session = connect(&url, &[("origin", &app.address)]).await;

    let status = |r: Result<_, tokio_tungstenite::tungstenite::Error>| match r {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => 101,
    };
    assert_eq!(status(foreign), 403);
    assert_eq!(status(no_origin), 403);
    assert_eq!(status(no_session), 401);
    let mut ok = inbox_socket(&app, &admin).await;
    send_json(&mut ok, json!({"type": "ping"})).await;
    assert_eq!(next_json(&mut ok).await.unwrap()["type"], "pong");
    app.stop().await;
}

async fn the_team_sees_escalations_and_messages_live_and_the_visitor_sees_replies_live(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    let mut team = inbox_socket(&app, &admin).await;
    let chat = app.start_chat_with_email("sam@example.com").await;
    let mut visitor = widget_socket(&app, &chat, 0).await;
    frames_until(&mut visitor, "the state", |f| f["type"] == "state").await;

    app.visitor_send(&chat, "v-1", "I need a human").await;
    frames_until(&mut team, "the escalation", |f| {
        f["type"] == "conversation" && f["conversation"]["id"] == chat.conversation_id.as_str() && f["conversation"]["state"] == "needs_human"
    })
    .await;

    app.call(&admin.client, "inbox/claim", json!({"conversation_id": chat.conversation_id})).await;
    app.call(&admin.client, "inbox/note", json!({"conversation_id": chat.conversation_id, "text": "SECRET-NOTE-42"})).await;
    let note = frames_until(&mut team, "the note", |f| f["type"] == "note").await;
    assert_eq!(note.last().unwrap()["note"]["text"], "SECRET-NOTE-42");
    app.call(&admin.client, "inbox/reply", json!({"conversation_id": chat.conversation_id, "client_id": "r1", "text": "Hi, I'm here."}))
        .await;

    let seen = frames_until(&mut visitor, "the agent's reply", |f| f["message"]["text"] == "Hi, I'm here.").await;
    assert_eq!(seen.last().unwrap()["message"]["author"]["kind"], "agent");
    let joined = seen.iter().filter(|f| f["message"]["text"] == "Admin joined the chat").count();
    assert_eq!(joined, 1);
    assert!(!serde_json::to_string(&seen).unwrap().contains("SECRET-NOTE"), "no note on the visitor's socket");

    // Typing travels both ways.
    send_json(&mut team, json!({"type": "typing", "conversation_id": chat.conversation_id})).await;
    frames_until(&mut visitor, "the agent typing", |f| f["type"] == "typing" && f["author"]["kind"] == "agent").await;
    send_json(&mut visitor, json!({"type": "typing"})).await;
    frames_until(&mut team, "the visitor typing", |f| f["type"] == "typing" && f["author"]["kind"] == "visitor").await;
    app.stop().await;
}

async fn signing_out_closes_the_member_s_inbox_socket(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    let other_session = app.admin().await;
    let mut mine = inbox_socket(&app, &admin).await;
    let mut theirs = inbox_socket(&app, &other_session).await;

    let (status, _) = app.call(&admin.client, "auth/logout", json!({})).await;

    assert_eq!(status, 200);
    assert_eq!(close_code(&mut mine).await, Some(CloseCode::Policy));
    send_json(&mut theirs, json!({"type": "ping"})).await;
    assert_eq!(next_json(&mut theirs).await.unwrap()["type"], "pong", "another session stays open");
    app.stop().await;
}

on_both_databases!(
    signing_out_closes_the_member_s_inbox_socket,
    the_widget_socket_catches_up_then_streams_live,
    a_resumed_widget_socket_gets_only_what_it_missed,
    a_wrong_or_missing_token_closes_with_1008,
    oversized_and_unknown_frames_are_refused,
    the_inbox_socket_needs_baton_s_origin_and_a_session,
    the_team_sees_escalations_and_messages_live_and_the_visitor_sees_replies_live,
);

/// Random sequences of visitor and team actions, with notes carrying a marker: the
/// marker never appears in anything a visitor can receive (history or socket).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_note_reaches_any_visitor_payload_under_random_actions() {
    use rand::{rngs::StdRng, Rng, SeedableRng};
    let database = TestDatabase::new(Db::Sqlite).await;
    let mut settings = server::Settings::for_database(database.url.clone(), database.dir.path().to_path_buf());
    settings.admin_email = crate::helpers::ADMIN_EMAIL.into();
    settings.admin_password = Some(crate::helpers::ADMIN_PASSWORD.into());
    settings.visitor_messages_per_minute = 0;
    let app = crate::helpers::spawn_app_with(settings).await;
    let admin = app.admin().await;
    let chat = app.start_chat_with_email("sam@example.com").await;
    let mut visitor = widget_socket(&app, &chat, 0).await;
    let mut rng = StdRng::seed_from_u64(0xBA70);
    for step in 0..120 {
        let id = json!({"conversation_id": chat.conversation_id});
        match rng.gen_range(0..6) {
            0 => drop(app.visitor_send(&chat, &format!("v{step}"), "I want a person").await),
            1 => drop(app.visitor_send(&chat, &format!("v{step}"), "just a question").await),
            2 => drop(app.call(&admin.client, "inbox/claim", id).await),
            3 => drop(
                app.call(&admin.client, "inbox/reply", json!({"conversation_id": chat.conversation_id, "client_id": format!("r{step}"), "text": "ok"}))
                    .await,
            ),
            4 => drop(app.call(&admin.client, "inbox/resolve", id).await),
            _ => {
                let note = json!({"conversation_id": chat.conversation_id, "text": format!("NOTE-MARKER-{step}")});
                let (status, _) = app.call(&admin.client, "inbox/note", note).await;
                assert_eq!(status, 200);
            }
        }
    }
    // Everything the visitor can receive: the full history and every socket frame so far.
    let history = app.history(&chat, 0).await;
    send_json(&mut visitor, json!({"type": "ping"})).await;
    let frames = frames_until(&mut visitor, "the final pong", |f| f["type"] == "pong").await;
    let visible = format!("{history}{}", serde_json::to_string(&frames).unwrap());
    assert!(!visible.contains("NOTE-MARKER"), "a note leaked to the visitor");
    let (_, detail) = app.call(&admin.client, "inbox/conversation", json!({"conversation_id": chat.conversation_id})).await;
    assert!(detail["notes"].as_array().unwrap().len() > 5, "the run did write notes");
    assert!(texts(&history).len() > 10);
    app.stop().await;
}
