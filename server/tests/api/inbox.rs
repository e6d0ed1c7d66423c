//! The team half of the API: sign-in, the queue, claim, reply, note, resolve, members.

use serde_json::json;
use sqlx::Row;

use crate::helpers::{
    inspect, new_client, spawn_app, spawn_app_with, test_settings, texts, Db, TestDatabase, ADMIN_EMAIL, ESCALATION_NOTE,
};
use crate::on_both_databases;

async fn sign_in_sets_an_http_only_cookie_and_bad_credentials_get_401(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;

    let (status, body) = app.call(&app.client, "auth/login", json!({"email": ADMIN_EMAIL, "password": "wrong"})).await;
    assert_eq!((status.as_u16(), body["error"]["code"].as_str()), (401, Some("unauthenticated")));
    let (status, _) = app.call(&app.client, "auth/login", json!({"email": "nobody@acme.test", "password": "x"})).await;
    assert_eq!(status, 401);

    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": "  ADMIN@acme.test ", "password": crate::helpers::ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("baton_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["member"]["role"], "admin");
    assert_eq!(body["member"]["email"], ADMIN_EMAIL);
    app.stop().await;
}

async fn team_calls_without_a_session_get_401_and_logout_ends_it(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let anonymous = new_client(Default::default());

    let (status, body) = app.call(&anonymous, "inbox/conversations", json!({"filter": "all"})).await;
    assert_eq!((status.as_u16(), body["error"]["code"].as_str()), (401, Some("unauthenticated")));

    let admin = app.admin().await;
    let (status, _) = app.call(&admin.client, "inbox/conversations", json!({"filter": "all"})).await;
    assert_eq!(status, 200);
    let (status, _) = app.call(&admin.client, "auth/logout", json!({})).await;
    assert_eq!(status, 200);
    let (status, _) = app.call(&admin.client, "inbox/conversations", json!({"filter": "all"})).await;
    assert_eq!(status, 401);
    app.stop().await;
}

async fn a_full_handoff_plays_out_and_the_bot_answers_again_after_resolve(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    let ana = app.agent(&admin, "Ana").await;
    let chat = app.escalated_chat().await;

    // The queue shows it, with why and what the visitor needs.
    let (_, queue) = app.call(&ana.client, "inbox/conversations", json!({"filter": "needs_human"})).await;
    let listed = &queue["conversations"][0];
    assert_eq!(listed["id"], chat.conversation_id.as_str());
    assert_eq!(listed["reason"], "explicit_request");
    assert!(listed["summary"].as_str().unwrap().contains("asked to talk to a person"), "{listed}");

    // Claim.
    let (status, claimed) = app.call(&ana.client, "inbox/claim", json!({"conversation_id": chat.conversation_id})).await;
    assert_eq!(status, 200, "{claimed}");
    assert_eq!(claimed["conversation"]["state"], "claimed");
    assert_eq!(claimed["conversation"]["agent"]["name"], "Ana");

    // Live chat: the visitor writes, Ana answers; the bot stays silent.
    let (status, _) = app.visitor_send(&chat, "v-2", "My invoice is wrong").await;
    assert_eq!(status, 200);
    let reply = json!({"conversation_id": chat.conversation_id, "client_id": "a-1", "text": "Let me check that for you."});
    let (status, sent) = app.call(&ana.client, "inbox/reply", reply.clone()).await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(sent["message"]["author"], json!({"kind": "agent", "name": "Ana"}));
    let (_, resent) = app.call(&ana.client, "inbox/reply", reply).await;
    assert_eq!(resent["message"]["id"], sent["message"]["id"], "a resent reply is stored once");

    let history = app.history(&chat, 0).await;
    let texts_now = texts(&history);
    assert_eq!(texts_now.iter().filter(|t| *t == "Ana joined the chat").count(), 1);
    assert_eq!(texts_now.iter().filter(|t| *t == ESCALATION_NOTE).count(), 1);
    let after_claim = history["messages"].as_array().unwrap().iter().skip_while(|m| m["text"] != "Ana joined the chat");
    assert!(after_claim.clone().all(|m| m["author"]["kind"] != "bot"), "no bot talking over the agent: {history}");

    // Resolve: back to the AI.
    let (status, resolved) = app.call(&ana.client, "inbox/resolve", json!({"conversation_id": chat.conversation_id})).await;
    assert_eq!(status, 200, "{resolved}");
    assert_eq!(resolved["conversation"]["state"], "resolved");
    let (status, _) = app.visitor_send(&chat, "v-3", "One more question about shipping").await;
    assert_eq!(status, 200);
    let history = app
        .wait_for_history(&chat, "the bot's answer after resolve", |h| {
            h["messages"].as_array().unwrap().last().is_some_and(|m| m["author"]["kind"] == "bot")
        })
        .await;
    assert_eq!(history["state"], "bot");
    app.stop().await;
}

async fn fifty_concurrent_claims_have_exactly_one_winner_and_one_joined_note(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    let mut agents = Vec::new();
    for name in ["Ana", "Ben", "Cleo", "Dev", "Eli"] {
        agents.push(app.agent(&admin, name).await);
    }
    let chat = app.escalated_chat().await;

    let claims = (0..50).map(|i| {
        let agent = &agents[i % agents.len()];
        app.call(&agent.client, "inbox/claim", json!({"conversation_id": chat.conversation_id}))
    });
    let results = futures_util::future::join_all(claims).await;

    // The holder's own repeated claims are harmless no-ops (200), so count distinct winners.
    let winners: std::collections::BTreeSet<String> = results
        .iter()
        .filter(|(status, _)| *status == 200)
        .map(|(_, body)| body["conversation"]["agent"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(winners.len(), 1, "exactly one agent holds the chat: {winners:?}");
    for (status, body) in results.iter().filter(|(status, _)| *status != 200) {
        assert_eq!(*status, 409, "{body}");
        assert_eq!(body["error"]["code"], "conflict");
        assert!(body["error"]["message"].as_str().unwrap().contains("is already handling"), "names the holder: {body}");
    }
    let history = app.history(&chat, 0).await;
    let joined = texts(&history).iter().filter(|t| t.ends_with("joined the chat")).count();
    assert_eq!(joined, 1, "{history}");
    app.stop().await;
}

async fn only_the_holder_can_reply(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    let ana = app.agent(&admin, "Ana").await;
    let ben = app.agent(&admin, "Ben").await;
    let chat = app.escalated_chat().await;
    let reply = |id: &str| json!({"conversation_id": chat.conversation_id, "client_id": id, "text": "hello"});

    let (status, body) = app.call(&ana.client, "inbox/reply", reply("early")).await;
    assert_eq!((status.as_u16(), body["error"]["code"].as_str()), (409, Some("conflict")), "reply before claim");

    app.call(&ana.client, "inbox/claim", json!({"conversation_id": chat.conversation_id})).await;
    let (status, body) = app.call(&ben.client, "inbox/reply", reply("ben")).await;
    assert_eq!(status, 409);
    assert!(body["error"]["message"].as_str().unwrap().contains("Ana"), "{body}");
    let (status, body) = app.call(&ben.client, "inbox/resolve", json!({"conversation_id": chat.conversation_id})).await;
    assert_eq!(status, 409, "an agent cannot resolve another's chat: {body}");
    app.stop().await;
}

async fn a_queued_request_may_be_resolved_without_a_reply_and_says_who_did_it(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    let ana = app.agent(&admin, "Ana").await;
    let chat = app.escalated_chat().await;

    let (status, body) = app.call(&ana.client, "inbox/resolve", json!({"conversation_id": chat.conversation_id})).await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["conversation"]["state"], "resolved");
    let history = app.history(&chat, 0).await;
    assert_eq!(
        texts(&history).last().unwrap(),
        "Ana marked this conversation as resolved. The assistant will answer from here."
    );
    let actor: String = sqlx::query_scalar(
        "SELECT actor FROM conversation_audit WHERE conversation_id = $1 AND from_state = 'needs_human' \
         AND to_state = 'resolved'",
    )
    .bind(&chat.conversation_id)
    .fetch_one(inspect(&database).await.pool())
    .await
    .unwrap();
    assert_eq!(actor, ana.id, "the audit trail names who dismissed it");
    app.stop().await;
}

/// Random conversations in random states, held by the caller, by someone else or by
/// nobody: each view's list and count, as the server computes them, hold exactly what
/// the one shared rule says, the rule the browser applies to live updates.
async fn every_view_lists_and_counts_what_the_shared_rule_says(db: Db) {
    use app::{domain::StateKind, inbox::api::InboxFilter};
    use rand::{rngs::StdRng, seq::SliceRandom, Rng, SeedableRng};
    let database = TestDatabase::new(db).await;
    let mut settings = test_settings(&database);
    settings.starts_per_address_per_minute = 0;
    let app = spawn_app_with(settings).await;
    let admin = app.admin().await;
    let ana = app.agent(&admin, "Ana").await;
    let store = inspect(&database).await;
    let mut rng = StdRng::seed_from_u64(0x51EE);
    let mut truth = Vec::new();
    for i in 0..40 {
        let chat = app.start_chat().await;
        let state = *StateKind::ALL.choose(&mut rng).unwrap();
        let holder = match state {
            StateKind::Claimed => Some(if rng.gen_bool(0.5) { ana.id.clone() } else { admin.id.clone() }),
            _ => None,
        };
        let mut tx = store.begin_write().await.unwrap();
        sqlx::query("UPDATE conversations SET state = $1, agent_id = $2, escalated_at = $3 WHERE id = $4")
            .bind(state.as_str())
            .bind(holder.as_deref())
            .bind(1_000_000 + rng.gen_range(0..1_000) * 1_000 + i)
            .bind(&chat.conversation_id)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        truth.push((chat.conversation_id, state, holder.as_deref() == Some(ana.id.as_str())));
    }

    let (_, counts) = app.call(&ana.client, "inbox/counts", json!({})).await;
    let (_, everything) = app.call(&ana.client, "inbox/conversations", json!({"filter": "all"})).await;
    let summaries: Vec<app::domain::ConversationSummary> =
        serde_json::from_value(everything["conversations"].clone()).unwrap();
    for filter in InboxFilter::ALL {
        let (status, listed) = app.call(&ana.client, "inbox/conversations", json!({"filter": filter.as_str()})).await;
        assert_eq!(status, 200);
        let mut listed: Vec<String> =
            listed["conversations"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect();
        listed.sort();
        let mut expected: Vec<String> =
            truth.iter().filter(|(_, state, mine)| filter.holds(*state, *mine)).map(|(id, ..)| id.clone()).collect();
        expected.sort();
        let mut by_browser: Vec<String> =
            summaries.iter().filter(|c| filter.lists(c, &ana.id)).map(|c| c.id.clone()).collect();
        by_browser.sort();
        assert_eq!(listed, expected, "{filter:?}: the server's list");
        assert_eq!(by_browser, expected, "{filter:?}: the browser's rule");
        assert_eq!(counts[filter.as_str()], expected.len() as i64, "{filter:?}: the count");
    }
    app.stop().await;
}

async fn notes_reach_the_team_and_never_the_visitor(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    let chat = app.escalated_chat().await;
    let secret = "PRIVATE-NOTE-7f3a: refund approved by finance";

    let (status, body) = app.call(&admin.client, "inbox/note", json!({"conversation_id": chat.conversation_id, "text": secret})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["note"]["text"], secret);
    assert_eq!(body["note"]["author"]["id"], admin.id.as_str());

    let (_, detail) = app.call(&admin.client, "inbox/conversation", json!({"conversation_id": chat.conversation_id})).await;
    assert_eq!(detail["notes"][0]["text"], secret);
    assert!(!detail["messages"].to_string().contains("PRIVATE-NOTE"), "notes are not messages");
    let visitor_view = app.history(&chat, 0).await.to_string();
    assert!(!visitor_view.contains("PRIVATE-NOTE"), "{visitor_view}");
    let seqs: Vec<i64> = app.history(&chat, 0).await["messages"].as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "a note leaves no gap in the visitor's seqs");

    let (status, body) = app.call(&admin.client, "inbox/note", json!({"conversation_id": chat.conversation_id, "text": "  "})).await;
    assert_eq!((status.as_u16(), body["error"]["code"].as_str()), (400, Some("invalid_input")));
    app.stop().await;
}

async fn another_workspace_s_conversations_are_not_found(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let chat = app.escalated_chat().await;
    let eve = app.admin_of_another_workspace(&database).await;
    let id = json!({"conversation_id": chat.conversation_id});

    for call in ["inbox/conversation", "inbox/claim", "inbox/resolve"] {
        let (status, body) = app.call(&eve.client, call, id.clone()).await;
        assert_eq!((status.as_u16(), body["error"]["code"].as_str()), (404, Some("not_found")), "{call}: {body}");
    }
    let (status, _) = app.call(&eve.client, "inbox/note", json!({"conversation_id": chat.conversation_id, "text": "x"})).await;
    assert_eq!(status, 404);
    let (_, list) = app.call(&eve.client, "inbox/conversations", json!({"filter": "all"})).await;
    assert_eq!(list["conversations"], json!([]));
    let state: String = sqlx::query("SELECT state FROM conversations WHERE id = $1")
        .bind(&chat.conversation_id)
        .fetch_one(inspect(&database).await.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(state, "needs_human", "untouched");
    app.stop().await;
}

async fn only_admins_add_members_and_input_is_checked(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    let ana = app.agent(&admin, "Ana").await;
    let new = |email: &str, password: &str| json!({"email": email, "name": "New", "password": password, "role": "agent"});

    let (status, body) = app.call(&ana.client, "team/members", new("x@acme.test", "long-enough-password")).await;
    assert_eq!((status.as_u16(), body["error"]["code"].as_str()), (403, Some("forbidden")));
    let (status, _) = app.call(&admin.client, "team/members", new("ana@acme.test", "long-enough-password")).await;
    assert_eq!(status, 409, "the email is taken");
    let (status, _) = app.call(&admin.client, "team/members", new("not-an-email", "long-enough-password")).await;
    assert_eq!(status, 400);
    let (status, _) = app.call(&admin.client, "team/members", new("short@acme.test", "short")).await;
    assert_eq!(status, 400);
    let (status, body) = app
        .call(&admin.client, "team/members", json!({"email": "r@acme.test", "name": "R", "password": "long-enough-password", "role": "owner"}))
        .await;
    assert_eq!(status, 400, "unknown role: {body}");
    app.stop().await;
}

async fn concurrent_sends_of_one_client_id_store_one_message(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    let chat = app.escalated_chat().await;
    app.call(&admin.client, "inbox/claim", json!({"conversation_id": chat.conversation_id})).await;

    let replies = (0..20).map(|_| {
        let body = json!({"conversation_id": chat.conversation_id, "client_id": "same-reply", "text": "On it."});
        app.call(&admin.client, "inbox/reply", body)
    });
    // 10, not 20: racers that miss the stored copy each spend a rate-limit token (20/min).
    let visits = (0..10).map(|_| app.visitor_send(&chat, "same-visit", "Thanks!"));
    let (replies, visits) = futures_util::future::join(
        futures_util::future::join_all(replies),
        futures_util::future::join_all(visits),
    )
    .await;

    for (status, body) in replies.iter().chain(visits.iter()) {
        assert_eq!(*status, 200, "{body}");
    }
    let reply_ids: std::collections::BTreeSet<_> = replies.iter().map(|(_, b)| b["message"]["id"].to_string()).collect();
    let visit_ids: std::collections::BTreeSet<_> = visits.iter().map(|(_, b)| b["message"]["id"].to_string()).collect();
    assert_eq!((reply_ids.len(), visit_ids.len()), (1, 1), "every caller got the one stored message");
    let texts = texts(&app.history(&chat, 0).await);
    assert_eq!(texts.iter().filter(|t| *t == "On it.").count(), 1);
    assert_eq!(texts.iter().filter(|t| *t == "Thanks!").count(), 1);
    app.stop().await;
}

on_both_databases!(
    concurrent_sends_of_one_client_id_store_one_message,
    sign_in_sets_an_http_only_cookie_and_bad_credentials_get_401,
    team_calls_without_a_session_get_401_and_logout_ends_it,
    a_full_handoff_plays_out_and_the_bot_answers_again_after_resolve,
    fifty_concurrent_claims_have_exactly_one_winner_and_one_joined_note,
    only_the_holder_can_reply,
    a_queued_request_may_be_resolved_without_a_reply_and_says_who_did_it,
    every_view_lists_and_counts_what_the_shared_rule_says,
    notes_reach_the_team_and_never_the_visitor,
    another_workspace_s_conversations_are_not_found,
    only_admins_add_members_and_input_is_checked,
);

#[tokio::test]
async fn cross_site_team_calls_are_forbidden() {
    let database = TestDatabase::new(Db::Sqlite).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    let chat = app.escalated_chat().await;

    let response = admin
        .client
        .post(app.url("/api/v1/inbox/claim"))
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .json(&json!({"conversation_id": chat.conversation_id}))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 403);
    assert_eq!(app.history(&chat, 0).await["state"], "needs_human");
    app.stop().await;
}

#[tokio::test]
async fn who_am_i_answers_null_when_signed_out_and_the_member_when_signed_in() {
    let database = TestDatabase::new(Db::Sqlite).await;
    let app = spawn_app(&database).await;

    let (status, body) = app.call(&new_client(Default::default()), "auth/me", json!({})).await;
    assert_eq!((status.as_u16(), body), (200, json!({"member": null})));

    let admin = app.admin().await;
    let (status, body) = app.call(&admin.client, "auth/me", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["member"]["email"], ADMIN_EMAIL);
    app.stop().await;
}
