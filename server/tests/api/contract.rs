//! Contract tests: every request the Zendesk and Intercom connectors make is checked
//! against the vendor's own OpenAPI description (`server/tests/specs/`) by Stoplight
//! Prism (npm `@stoplight/prism-cli` 5.14.2, installed in `end2end/` by setup). Prism
//! answers 422 (with the broken field) or 401 to a request its spec rejects, so a
//! body, header or auth scheme the vendor would refuse fails here.
//!
//! Zendesk's paths in its spec lack the real API's `.json` suffix: a small proxy in
//! front of Prism strips it (SOURCES.md, "Differences from the real API"), and records
//! what Prism answered to each call. Intercom's calls go through the same proxy, which
//! changes none of its paths. Intercom's spec serves every region from one origin, as
//! Baton's test origin does, so verify finds the token "in the US".

use std::{
    path::PathBuf,
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{body::Bytes, extract::State, http::Request, response::IntoResponse, Router};
use serde_json::json;
use tokio::process::{Child, Command};

use crate::{
    escalation::say,
    helpdesk::{connect_zendesk, dispatched},
    helpers::{spawn_app_with, test_settings, Db, TestDatabase},
    intercom::connect_intercom,
};

/// What Prism answered: method, the path Baton asked for, status, body.
type Seen = Arc<Mutex<Vec<(String, String, u16, String)>>>;

struct Prism {
    child: Child,
    origin: String,
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

fn prism_binary() -> PathBuf {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../end2end/node_modules/.bin/prism"));
    assert!(path.exists(), "Prism is not installed at {}: run `make setup` (npm ci in end2end/)", path.display());
    path
}

async fn free_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// Prism mocking `spec`, answering on a free loopback port.
async fn prism(spec: &str) -> Prism {
    let port = free_port().await;
    let spec = format!("{}/tests/specs/{spec}", env!("CARGO_MANIFEST_DIR"));
    let child = Command::new(prism_binary())
        .args(["mock", "-h", "127.0.0.1", "-p", &port.to_string(), &spec])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start prism");
    let origin = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if client.get(format!("{origin}/api/v2/users/me")).send().await.is_ok() {
            return Prism { child, origin };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("Prism did not start on port {port}");
}

async fn forward(State((prism, seen)): State<(String, Seen)>, request: Request<axum::body::Body>) -> impl IntoResponse {
    let (parts, body) = request.into_parts();
    let body: Bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
    let asked = parts.uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let stripped = match asked.split_once('?') {
        Some((path, query)) => format!("{}?{query}", path.trim_end_matches(".json")),
        None => asked.trim_end_matches(".json").to_owned(),
    };
    let mut outgoing = reqwest::Client::new().request(parts.method.clone(), format!("{prism}{stripped}")).body(body);
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            outgoing = outgoing.header(name, value);
        }
    }
    let answer = outgoing.send().await.expect("prism answers");
    let status = answer.status();
    let headers = answer.headers().clone();
    let text = answer.text().await.unwrap_or_default();
    seen.lock().unwrap().push((parts.method.to_string(), asked, status.as_u16(), text.clone()));
    let mut response = (status, text).into_response();
    if let Some(kind) = headers.get("content-type") {
        response.headers_mut().insert("content-type", kind.clone());
    }
    response
}

/// The `.json`-stripping proxy in front of `prism`; its origin is what Baton calls.
async fn proxy(prism: &Prism) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let router = Router::new().fallback(forward).with_state((prism.origin.clone(), seen.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.ok() });
    (origin, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prism_rejects_a_ticket_that_breaks_zendesk_s_spec() {
    // The control: a create without the required comment, and one without auth, are refused.
    let prism = prism("zendesk.yaml").await;
    let client = reqwest::Client::new();
    let url = format!("{}/api/v2/tickets", prism.origin);
    let missing = client.post(&url).basic_auth("a@b.test/token", Some("t")).json(&json!({"ticket": {"subject": "x"}}));
    let answer = missing.send().await.unwrap();
    assert_eq!(answer.status(), 422, "{}", answer.text().await.unwrap_or_default());
    let anonymous = client.post(&url).json(&json!({"ticket": {"comment": {"body": "x"}}})).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_zendesk_call_baton_makes_passes_zendesk_s_spec() {
    let prism = prism("zendesk.yaml").await;
    let (origin, seen) = proxy(&prism).await;
    let database = TestDatabase::new(Db::Sqlite).await;
    let mut settings = test_settings(&database);
    settings.helpdesk_test_origin = Some(origin);
    let app = spawn_app_with(settings).await;
    connect_zendesk(&app).await;
    let chat = app.start_chat_with_email("jordan@acme.com").await;
    say(&app, &chat, "c1", "I was charged twice, I want to talk to a person <now>").await;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !seen.lock().unwrap().iter().any(|(method, path, ..)| method == "POST" && path == "/api/v2/tickets.json") {
        assert!(tokio::time::Instant::now() < deadline, "no ticket was created: {:?}", seen.lock().unwrap());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seen = seen.lock().unwrap().clone();
    for (method, path, status, body) in &seen {
        assert!((200..300).contains(status), "{method} {path}: Prism answered {status}: {body}");
    }
    let paths: Vec<String> = seen.iter().map(|(m, p, ..)| format!("{m} {p}")).collect();
    assert!(paths.contains(&"GET /api/v2/users/me.json".to_owned()), "{paths:?}");
    assert!(paths.iter().any(|p| p.starts_with("GET /api/v2/tickets.json?")), "{paths:?}");
    app.stop().await;
}

/// A request as Intercom's spec wants it signed: any bearer token, API version 2.14.
fn intercom_signed(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    request.bearer_auth("any-token").header("Intercom-Version", "2.14").header("Accept", "application/json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prism_rejects_an_intercom_call_that_breaks_intercom_s_spec() {
    // The control: a conversation without its body, one without auth, and a note
    // without its admin are refused; the same conversation with its body passes (the
    // local copy of the spec lost the `format: uuid` no Intercom id satisfies).
    let prism = prism("intercom.yaml").await;
    let client = reqwest::Client::new();
    let url = format!("{}/conversations", prism.origin);
    let from = json!({"type": "user", "id": "6762f0dd1bb69f9f2193bb83"});
    let answer = intercom_signed(client.post(&url)).json(&json!({"from": from})).send().await.unwrap();
    assert_eq!(answer.status(), 422, "{}", answer.text().await.unwrap_or_default());
    let anonymous = client.post(&url).header("Intercom-Version", "2.14").json(&json!({"from": from, "body": "Hi"}));
    assert_eq!(anonymous.send().await.unwrap().status(), 401);
    let answer = intercom_signed(client.post(&url)).json(&json!({"from": from, "body": "Hi"})).send().await.unwrap();
    assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap_or_default());
    let note = json!({"message_type": "note", "type": "admin", "body": "<p>no admin</p>"});
    let reply = intercom_signed(client.post(format!("{}/conversations/499/reply", prism.origin))).json(&note);
    let answer = reply.send().await.unwrap();
    assert_eq!(answer.status(), 422, "{}", answer.text().await.unwrap_or_default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_intercom_call_baton_makes_passes_intercom_s_spec() {
    let prism = prism("intercom.yaml").await;
    let (origin, seen) = proxy(&prism).await;
    let database = TestDatabase::new(Db::Sqlite).await;
    let mut settings = test_settings(&database);
    settings.helpdesk_test_origin = Some(origin);
    let app = spawn_app_with(settings).await;
    assert_eq!(connect_intercom(&app).await, "us", "Prism accepts any token, and the US is tried first");
    let chat = app.start_chat_with_email("jordan@acme.com").await;
    say(&app, &chat, "c1", "I was charged twice, I want to talk to a person <now>").await;

    // Tagging is the last step of a send: `baton`, then the reason.
    let tagged = |seen: &Seen| {
        let seen = seen.lock().unwrap();
        let tags = seen.iter().filter(|(method, path, ..)| method == "POST" && path.starts_with("/conversations/"));
        tags.filter(|(_, path, ..)| path.ends_with("/tags")).count()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while tagged(&seen) < 2 {
        assert!(tokio::time::Instant::now() < deadline, "the conversation was not tagged: {:?}", seen.lock().unwrap());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let last = dispatched(&app, 2).await;
    assert_eq!(last["status"], "sent", "{last}");
    // Prism's answers are the spec's examples: `/me`'s workspace, the conversation 499.
    let url = "https://app.intercom.com/a/apps/this_is_an_id1_that_should_be_at_least_40/inbox/inbox/conversation/499";
    assert_eq!(last["ticket_url"], url, "{last}");

    let seen = seen.lock().unwrap().clone();
    for (method, path, status, body) in &seen {
        assert!((200..300).contains(status), "{method} {path}: Prism answered {status}: {body}");
    }
    let paths: Vec<String> = seen.iter().map(|(m, p, ..)| format!("{m} {p}")).collect();
    for call in [
        "GET /me",
        "POST /contacts/search",
        "POST /contacts",
        "POST /conversations",
        "POST /conversations/499/reply",
        "POST /tags",
        "POST /conversations/499/tags",
    ] {
        assert!(paths.iter().any(|p| p == call), "{call} was not made: {paths:?}");
    }
    app.stop().await;
}
