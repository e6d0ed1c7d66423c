//! What survives a crash, and what crosses instances: real server processes.

use std::{
    process::Child,
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::json;

use crate::helpers::{
    frames_until, postgres_admin_url, widget_socket, Db, TestApp, TestDatabase, VisitorChat, ADMIN_EMAIL, ADMIN_PASSWORD,
};
use crate::process::{read_banner, server_command, terminate_and_wait};

fn start(database: &TestDatabase) -> (Child, TestApp) {
    let mut child = server_command(database)
        .env("BATON_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("BATON_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("BATON_VISITOR_MESSAGES_PER_MINUTE", "0")
        .env("BATON_STARTS_PER_ADDRESS_PER_MINUTE", "0")
        // A dead instance's turns are taken over after 2 s, not 30: the test waits less.
        .env("BATON_BOT_TURN_LEASE_SECS", "2")
        .spawn()
        .expect("server starts");
    let (url, _) = read_banner(&mut child);
    (child, TestApp::at(&url))
}

/// A visitor's (client id, text) pairs the server acknowledged, in order.
type Acked = Arc<Mutex<Vec<(String, String)>>>;

/// Sends `{label} message {i}` for i = 0, 1, … one after another until the server is
/// gone, recording each acknowledged send in `acked`.
fn send_until_gone(app: &TestApp, chat: &VisitorChat, label: String, acked: Acked) -> tokio::task::JoinHandle<()> {
    let (app, chat) = (TestApp::at(&app.address), chat.clone());
    tokio::spawn(async move {
        for i in 0.. {
            let (client_id, text) = (format!("k{i}"), format!("{label} message {i}"));
            let body = json!({"conversation_id": chat.conversation_id, "client_id": client_id, "text": text});
            match app.client.post(app.url("/api/v1/widget/send")).bearer_auth(&chat.token).json(&body).send().await {
                Ok(response) if response.status() == 200 => acked.lock().unwrap().push((client_id, text)),
                _ => break, // the server is gone
            }
        }
    })
}

/// The conversation's whole history, page by page (a page holds at most 1000 messages).
async fn whole_history(app: &TestApp, chat: &VisitorChat) -> Vec<serde_json::Value> {
    let mut messages: Vec<serde_json::Value> = Vec::new();
    loop {
        let after = messages.last().map_or(0, |m| m["seq"].as_i64().unwrap());
        let page = app.history(chat, after).await["messages"].as_array().unwrap().clone();
        if page.is_empty() {
            return messages;
        }
        messages.extend(page);
    }
}

/// Every ack is there, exactly once, in the order acknowledged; at most the one in
/// flight at the kill may follow (stored but never acknowledged); seqs have no gaps.
fn assert_every_ack_once(chat: &VisitorChat, messages: &[serde_json::Value], acked: &[(String, String)]) {
    let visitor: Vec<(String, String)> = messages
        .iter()
        .filter(|m| m["author"]["kind"] == "visitor")
        .map(|m| (m["client_id"].as_str().unwrap().to_owned(), m["text"].as_str().unwrap().to_owned()))
        .collect();
    assert!(
        visitor.len() == acked.len() || visitor.len() == acked.len() + 1,
        "{}: {} stored vs {} acknowledged",
        chat.conversation_id,
        visitor.len(),
        acked.len()
    );
    assert_eq!(visitor[..acked.len()], acked[..], "every acknowledged message, in order");
    let seqs: Vec<i64> = messages.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "no gaps, no duplicates");
}

async fn every_acknowledged_message_survives_sigkill_once_and_in_order(db: Db) {
    let database = TestDatabase::new(db).await;
    let (mut child, app) = start(&database);
    let chat = app.start_chat().await;
    let acked = Acked::default();
    let sender = send_until_gone(&app, &chat, "visitor".into(), acked.clone());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    child.kill().expect("SIGKILL"); // kill() sends SIGKILL on Unix
    child.wait().expect("reaped");
    let _ = tokio::time::timeout(Duration::from_secs(15), sender).await;
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 10, "the stream was under way when the server died: {} acks", acked.len());

    let (mut again, app) = start(&database);
    let messages = whole_history(&app, &chat).await;
    terminate_and_wait(&mut again);
    assert_every_ack_once(&chat, &messages, &acked);
}

/// Group commit, killed mid-batch: 40 visitors send at once, so commits hold many of
/// their messages each. After a SIGKILL, every acknowledged message is there exactly
/// once and in order in its own conversation; only a message in flight at the kill
/// (stored but never acknowledged) may follow, one per conversation at most.
async fn a_sigkill_mid_batch_keeps_every_acknowledged_message_once(db: Db) {
    let database = TestDatabase::new(db).await;
    let (mut child, app) = start(&database);
    let mut chats = Vec::new();
    for _ in 0..40 {
        chats.push(app.start_chat().await);
    }
    let acked: Vec<Acked> = chats.iter().map(|_| Acked::default()).collect();
    let senders: Vec<_> = chats
        .iter()
        .zip(&acked)
        .enumerate()
        .map(|(n, (chat, acked))| send_until_gone(&app, chat, format!("visitor {n}"), acked.clone()))
        .collect();
    tokio::time::sleep(Duration::from_millis(2000)).await;
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    for sender in senders {
        let _ = tokio::time::timeout(Duration::from_secs(15), sender).await;
    }
    let acked: Vec<Vec<(String, String)>> = acked.iter().map(|acked| acked.lock().unwrap().clone()).collect();
    let total: usize = acked.iter().map(Vec::len).sum();
    assert!(total > 100, "the load was under way when the server died: {total} acks");

    let (mut again, app) = start(&database);
    for (chat, acked) in chats.iter().zip(&acked) {
        let messages = whole_history(&app, chat).await;
        assert_every_ack_once(chat, &messages, acked);
    }
    terminate_and_wait(&mut again);
}

/// How many bot messages answer the visitor's question (everything after it: the
/// greeting comes before).
fn answers(history: &serde_json::Value) -> usize {
    let messages = history["messages"].as_array().unwrap();
    let asked = messages.iter().position(|m| m["author"]["kind"] == "visitor").unwrap_or(messages.len());
    messages[asked..].iter().filter(|m| m["author"]["kind"] == "bot").count()
}

/// The AI's turn is owed from the moment the question is stored: killed with turns
/// in flight and not yet begun, the server answers each exactly once after a restart
/// (and, on PostgreSQL, with a second instance sweeping too, still exactly once).
async fn every_acknowledged_question_gets_exactly_one_answer_across_a_sigkill(db: Db) {
    let database = TestDatabase::new(db).await;
    let (mut child, app) = start(&database);
    let mut chats = Vec::new();
    for _ in 0..30 {
        chats.push(app.start_chat().await);
    }

    let sends = chats.iter().map(|chat| app.visitor_send(chat, "q", "How much is the Team plan?"));
    let statuses = futures_util::future::join_all(sends).await;
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    assert!(statuses.iter().all(|(status, _)| *status == 200), "all 30 acknowledged");

    let (mut again, app) = start(&database);
    let mut second = (db == Db::Postgres).then(|| start(&database));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    for chat in &chats {
        loop {
            let history = app.history(chat, 0).await;
            if answers(&history) >= 1 {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "a question was never answered: {history}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // Past a lease and a sweep: nobody answers a second time.
    tokio::time::sleep(Duration::from_secs(8)).await;
    for chat in &chats {
        let history = app.history(chat, 0).await;
        assert_eq!(answers(&history), 1, "exactly one answer: {history}");
        assert!(history["messages"].as_array().unwrap().last().unwrap()["text"].as_str().unwrap().contains("$29"));
    }
    terminate_and_wait(&mut again);
    if let Some((child, _)) = second.as_mut() {
        terminate_and_wait(child);
    }
}

crate::on_both_databases!(
    every_acknowledged_message_survives_sigkill_once_and_in_order,
    a_sigkill_mid_batch_keeps_every_acknowledged_message_once,
    every_acknowledged_question_gets_exactly_one_answer_across_a_sigkill,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_postgres_deliver_live_to_each_other() {
    if postgres_admin_url().is_none() {
        eprintln!("skipped: needs PostgreSQL (DATABASE_URL_TEST or CI)");
        return;
    }
    let database = TestDatabase::new(Db::Postgres).await;
    let (mut a_child, a) = start(&database);
    let (mut b_child, b) = start(&database);

    // The visitor lives on A; the agent on B.
    let chat = a.start_chat_with_email("sam@example.com").await;
    let mut visitor = widget_socket(&a, &chat, 0).await;
    frames_until(&mut visitor, "the state", |f| f["type"] == "state").await;
    let admin = b.admin().await;
    let mut team = crate::helpers::inbox_socket(&b, &admin).await;

    a.visitor_send(&chat, "v1", "Please, a human").await;
    frames_until(&mut team, "the visitor's message on B", |f| f["message"]["text"] == "Please, a human").await;
    frames_until(&mut team, "the escalation on B", |f| f["conversation"]["state"] == "needs_human").await;

    let (status, _) = b.call(&admin.client, "inbox/claim", json!({"conversation_id": chat.conversation_id})).await;
    assert_eq!(status, 200);
    b.call(&admin.client, "inbox/reply", json!({"conversation_id": chat.conversation_id, "client_id": "r1", "text": "Hello from B"}))
        .await;

    let seen = frames_until(&mut visitor, "B's reply on A", |f| f["message"]["text"] == "Hello from B").await;
    assert!(seen.iter().any(|f| f["message"]["text"] == "Admin joined the chat"));
    let seqs: Vec<i64> = seen.iter().filter_map(|f| f["message"]["seq"].as_i64()).collect();
    assert!(seqs.windows(2).all(|pair| pair[0] < pair[1]), "in order, each once: {seqs:?}");
    terminate_and_wait(&mut a_child);
    terminate_and_wait(&mut b_child);
}
