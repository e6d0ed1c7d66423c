//! The OpenAI-compatible brain against a local fake chat-completions server that
//! speaks the wire format: answers, tool calls, errors, Retry-After and timeouts.
//! Whatever the endpoint does, the visitor gets an answer. (SQLite only: the brain
//! does not touch the database differently on PostgreSQL.)

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
    Json, Router,
};
use serde_json::{json, Value};
use server::{
    config::{BrainKind, Settings},
    security::egress::Allowed,
};

use crate::escalation::{last_bot_text, say};
use crate::helpers::{spawn_app_with, test_settings, texts, Db, TestApp, TestDatabase, ADMIN_EMAIL, ADMIN_PASSWORD};

/// What the fake answers next.
enum Script {
    Content(&'static str),
    ToolCall { name: &'static str, arguments: Value },
    Status(u16, Option<&'static str>),
    NotJson,
    Hang,
    /// 307 to `/v1/elsewhere`, which records what reaches it.
    Redirect,
}

/// The Authorization header and the body of one request.
type Seen = (Option<String>, Value);

#[derive(Clone, Default)]
struct Fake {
    script: Arc<Mutex<VecDeque<Script>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    redirected: Arc<Mutex<Vec<Option<String>>>>,
}

impl Fake {
    fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn completion(message: Value) -> Value {
    json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "fake-model",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    })
}

async fn chat_completions(State(fake): State<Fake>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
    fake.seen.lock().unwrap().push((auth, body));
    let next = fake.script.lock().unwrap().pop_front();
    match next.unwrap_or(Script::Status(500, None)) {
        Script::Content(text) => Json(completion(json!({"role": "assistant", "content": text}))).into_response(),
        Script::ToolCall { name, arguments } => Json(completion(json!({
            "role": "assistant",
            "content": null,
            "tool_calls": [{"id": "call_1", "type": "function",
                            "function": {"name": name, "arguments": arguments.to_string()}}]
        })))
        .into_response(),
        Script::Status(code, retry_after) => {
            let status = StatusCode::from_u16(code).unwrap();
            let body = Json(json!({"error": {"message": "scripted failure", "type": "server_error"}}));
            match retry_after {
                Some(after) => (status, [("retry-after", after)], body).into_response(),
                None => (status, body).into_response(),
            }
        }
        Script::NotJson => (StatusCode::OK, "<html>gateway</html>").into_response(),
        Script::Hang => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        Script::Redirect => (StatusCode::TEMPORARY_REDIRECT, [("location", "/v1/elsewhere")]).into_response(),
    }
}

/// Where a redirect points: anything reaching it counts as a followed redirect.
async fn elsewhere(State(fake): State<Fake>, headers: HeaderMap) -> Response {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
    fake.redirected.lock().unwrap().push(auth);
    Json(completion(json!({"role": "assistant", "content": "followed the redirect"}))).into_response()
}

/// The fake on a random port.
async fn spawn_fake(script: Vec<Script>) -> (Fake, std::net::SocketAddr) {
    let fake = Fake { script: Arc::new(Mutex::new(script.into())), ..Fake::default() };
    let router = Router::new()
        .route("/v1/chat/completions", post(chat_completions))
        .route("/v1/elsewhere", post(elsewhere))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (fake, address)
}

/// Settings for Baton on `database` with the OpenAI-compatible brain at the fake.
fn settings_with_fake(database: &TestDatabase, address: std::net::SocketAddr) -> Settings {
    let mut settings = Settings::for_database(database.url.clone(), database.dir.path().to_path_buf());
    settings.admin_email = ADMIN_EMAIL.to_owned();
    settings.admin_password = Some(ADMIN_PASSWORD.into());
    settings.brain = BrainKind::Openai;
    settings.llm_base_url = format!("http://{address}/v1");
    settings.llm_model = "fake-model".to_owned();
    settings.llm_api_key = Some("sk-test-key".into());
    settings.llm_timeout_secs = 1;
    settings.llm_retries = 2;
    settings.llm_deadline_secs = 5;
    settings
}

/// The fake on a random port, and Baton using it.
async fn baton_with_fake(database: &TestDatabase, script: Vec<Script>) -> (TestApp, Fake) {
    let (fake, address) = spawn_fake(script).await;
    (spawn_app_with(settings_with_fake(database, address)).await, fake)
}

/// A card number the visitor types never reaches the model's provider; an order
/// number that only looks like one does, and the transcript keeps what was typed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn card_numbers_never_reach_the_model() {
    let database = TestDatabase::new(Db::Sqlite).await;
    let (app, fake) = baton_with_fake(&database, vec![Script::Content("Thanks, noted.")]).await;
    let chat = app.start_chat().await;
    let typed = "Charge 4111-1111-1111-1111 for order 1234-5678-9012-3456 please";
    let history = say(&app, &chat, "o1", typed).await;
    assert_eq!(last_bot_text(&history), "Thanks, noted.");
    let body = fake.requests()[0].1.to_string();
    assert!(!body.contains("4111-1111-1111-1111") && !body.contains("4111111111111111"), "{body}");
    let sent = "Charge [card number removed] for order 1234-5678-9012-3456 please";
    assert!(body.contains(sent), "{body}");
    assert!(texts(&history).iter().any(|t| t == typed), "the transcript keeps what was typed: {history}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_answers_with_the_knowledge_base_and_tools_in_its_request() {
    let database = TestDatabase::new(Db::Sqlite).await;
    let (app, fake) = baton_with_fake(&database, vec![Script::Content("Team is $29 a month.")]).await;
    let chat = app.start_chat().await;
    let history = say(&app, &chat, "o1", "How much is the Team plan?").await;
    assert_eq!(last_bot_text(&history), "Team is $29 a month.");

    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let (auth, body) = &requests[0];
    assert_eq!(auth.as_deref(), Some("Bearer sk-test-key"));
    assert_eq!(body["model"], "fake-model");
    let tools: Vec<&str> =
        body["tools"].as_array().unwrap().iter().map(|t| t["function"]["name"].as_str().unwrap()).collect();
    assert_eq!(tools, ["escalate_to_human", "request_email"]);
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages[0]["role"], "system");
    assert!(
        messages[0]["content"].as_str().unwrap().contains("Team at $29 a month"),
        "the knowledge base is in the prompt"
    );
    assert_eq!(messages.last().unwrap(), &json!({"role": "user", "content": "How much is the Team plan?"}));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_call_escalates_after_baton_collects_the_email() {
    let database = TestDatabase::new(Db::Sqlite).await;
    let arguments = json!({
        "reason": "explicit_request",
        "summary": "Customer wants a person to help migrate 3 TB from Dropbox",
        "reply": "Happy to get someone for you."
    });
    let (app, fake) = baton_with_fake(&database, vec![Script::ToolCall { name: "escalate_to_human", arguments }]).await;
    let chat = app.start_chat().await;
    let history = say(&app, &chat, "t1", "I need a human to help me move 3 TB from Dropbox").await;
    assert_eq!(last_bot_text(&history), "Happy to get someone for you. Can I get the best email to reach you at?");
    assert_eq!(history["state"], "bot", "no handoff before the email");

    app.visitor_send(&chat, "t2", "morgan@example.com").await;
    let history = app.wait_for_history(&chat, "the handoff", |h| h["state"] == "needs_human").await;
    assert!(texts(&history).iter().any(|t| t.contains("morgan@example.com")), "{history}");
    assert_eq!(fake.requests().len(), 1, "the email answer is Baton's, not the model's");

    let admin = app.admin().await;
    let (_, detail) =
        app.call(&admin.client, "inbox/conversation", json!({"conversation_id": chat.conversation_id})).await;
    assert_eq!(detail["conversation"]["reason"], "explicit_request");
    assert_eq!(detail["conversation"]["summary"], "Customer wants a person to help migrate 3 TB from Dropbox");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_and_rate_limits_are_retried() {
    let database = TestDatabase::new(Db::Sqlite).await;
    let script = vec![Script::Status(503, None), Script::Status(429, Some("0")), Script::Content("Third time lucky.")];
    let (app, fake) = baton_with_fake(&database, script).await;
    let chat = app.start_chat().await;
    let history = say(&app, &chat, "r1", "hello, what can you do?").await;
    assert_eq!(last_bot_text(&history), "Third time lucky.");
    assert_eq!(fake.requests().len(), 3);
    app.stop().await;
}

/// Each case: what the endpoint does, and how many requests Baton should make
/// before the built-in brain answers from the knowledge base instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_endpoint_fails_the_built_in_brain_answers() {
    let cases: Vec<(&str, Vec<Script>, usize)> = vec![
        ("a timeout on every attempt", vec![Script::Hang, Script::Hang, Script::Hang], 3),
        ("a rejected key is not retried", vec![Script::Status(401, None)], 1),
        ("a body that is not JSON", vec![Script::NotJson], 1),
        ("an unknown tool", vec![Script::ToolCall { name: "delete_everything", arguments: json!({}) }], 1),
        (
            "malformed tool arguments",
            vec![Script::ToolCall { name: "escalate_to_human", arguments: json!({"reason": "boredom"}) }],
            1,
        ),
        ("an empty answer", vec![Script::Content("   ")], 1),
        ("a redirect is not followed (it would carry the key along)", vec![Script::Redirect], 1),
    ];
    for (case, script, expected_requests) in cases {
        let database = TestDatabase::new(Db::Sqlite).await;
        let (app, fake) = baton_with_fake(&database, script).await;
        let chat = app.start_chat().await;
        let history = say(&app, &chat, "f1", "How much is the Team plan?").await;
        assert!(last_bot_text(&history).contains("Team at $29 a month"), "{case}: {history}");
        assert_eq!(history["state"], "bot", "{case}");
        assert_eq!(fake.requests().len(), expected_requests, "{case}");
        assert!(fake.redirected.lock().unwrap().is_empty(), "{case}: a redirect was followed");
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_drafts_replies_for_agents_and_falls_back_when_it_cannot() {
    let database = TestDatabase::new(Db::Sqlite).await;
    let arguments = json!({"reason": "explicit_request", "summary": "Customer wants a person"});
    let script = vec![
        Script::ToolCall { name: "request_email", arguments },
        Script::Content("Hi! I'm on it."),
        Script::Status(400, None),
    ];
    let (app, _fake) = baton_with_fake(&database, script).await;
    let chat = app.start_chat_with_email("jo@example.com").await;
    app.visitor_send(&chat, "d1", "a person please").await;
    app.wait_for_history(&chat, "the handoff", |h| h["state"] == "needs_human").await;

    let admin = app.admin().await;
    let suggest = json!({"conversation_id": chat.conversation_id});
    let (status, body) = app.call(&admin.client, "inbox/suggest", suggest.clone()).await;
    assert_eq!((status.as_u16(), body["text"].as_str()), (200, Some("Hi! I'm on it.")));
    let (status, body) = app.call(&admin.client, "inbox/suggest", suggest).await;
    assert_eq!(status, 200);
    assert!(body["text"].as_str().unwrap().starts_with("Hi Jo,"), "the built-in draft: {body}");
    app.stop().await;
}


/// `make eval` scores the OpenAI-compatible brain the same way as the built-in one:
/// what the model decides is what the report counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_eval_scores_the_openai_compatible_brain_by_what_the_model_decides() {
    let database = TestDatabase::new(Db::Sqlite).await;
    let arguments = json!({"reason": "explicit_request", "summary": "Customer wants a person", "reply": "Sure."});
    let script = vec![
        Script::ToolCall { name: "escalate_to_human", arguments },
        Script::Content("The Team plan is $29 a month."),
    ];
    let (fake, address) = spawn_fake(script).await;
    let brain = server::startup::brain(&settings_with_fake(&database, address)).expect("the brain builds");
    let entries = server::brain::eval::parse("explicit_request | please get me a person\nnone | what does Team cost?")
        .expect("parses");
    let runtime = tokio::runtime::Handle::current();
    let report = tokio::task::spawn_blocking(move || server::brain::eval::evaluate_brain(&*brain, &entries, &runtime))
        .await
        .expect("the eval runs");
    assert_eq!(fake.requests().len(), 2, "one request per visitor turn");
    let any = report.any_escalation;
    assert_eq!((any.true_positives, any.false_positives, any.false_negatives), (1, 0, 0), "{}", report.render(5));
}

// Settings → AI model: a chatbot's own endpoint, over a server whose default is the
// built-in brain.

const CHATBOT_KEY: &str = "sk-chatbot-0123456789wxyz";

/// Baton with the built-in brain as its default, and a fake endpoint for one chatbot,
/// which the operator allowed (it is on loopback), with port 9 (where nothing answers).
async fn baton_and_fake(db: Db, script: Vec<Script>) -> (TestDatabase, TestApp, Fake, String) {
    let database = TestDatabase::new(db).await;
    let (fake, address) = spawn_fake(script).await;
    let mut settings = test_settings(&database);
    settings.allowed_internal_hosts = vec![allowed(&address.to_string()), allowed("127.0.0.1:9")];
    let app = spawn_app_with(settings).await;
    (database, app, fake, format!("http://{address}/v1"))
}

fn allowed(entry: &str) -> Allowed {
    entry.parse().unwrap_or_else(|err| panic!("{entry}: {err}"))
}

/// An admin cannot point a chatbot at the server's own network: every way of writing
/// a loopback address is refused before anything is sent, a name that resolves
/// there too; the operator's allowlist lets exactly its entries through; a redirect
/// from an allowed endpoint is not followed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_inside_the_network_are_refused_unless_the_operator_allows_them() {
    let database = TestDatabase::new(Db::Sqlite).await;
    let (inside, inside_address) = spawn_fake(vec![Script::Content("internal secret")]).await;
    let (allowed_fake, allowed_address) = spawn_fake(vec![Script::Content("OK"), Script::Redirect]).await;
    let mut settings = test_settings(&database);
    settings.allowed_internal_hosts = vec![allowed(&allowed_address.to_string())];
    let app = spawn_app_with(settings).await;
    let admin = app.admin().await;

    let port = inside_address.port();
    for base_url in [
        format!("http://127.0.0.1:{port}/v1"),
        format!("http://localhost:{port}/v1"),
        format!("http://2130706433:{port}/v1"),
        format!("http://0x7f000001:{port}/v1"),
        format!("http://127.1:{port}/v1"),
        format!("http://[::1]:{port}/v1"),
        format!("http://[::ffff:127.0.0.1]:{port}/v1"),
        format!("http://0.0.0.0:{port}/v1"),
        format!("http://127.0.0.1:{}/v1", allowed_address.port() ^ 1),
        "http://169.254.169.254/v1".to_owned(),
        "http://10.0.0.1:11434/v1".to_owned(),
        "http://[fd00::1]/v1".to_owned(),
    ] {
        let form = json!({"bot_id": "demo", "base_url": base_url, "model": "m"});
        let (status, answer) = app.call(&admin.client, "settings/model/test", form).await;
        assert_eq!(status, 400, "{base_url}: {answer}");
        assert_eq!(answer["error"]["code"], "invalid_input");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(message.starts_with("base_url: "), "{base_url}: {message}");
        assert!(message.contains("BATON_ALLOWED_INTERNAL_HOSTS"), "{base_url}: {message}");
        let draft = json!({"model": {"bot_id": "demo", "kind": "openai", "base_url": base_url, "model": "m"}});
        let (status, answer) = app.call(&admin.client, "settings/model/save", draft).await;
        assert_eq!(status, 400, "{base_url}: {answer}");
        assert!(answer["error"]["message"].as_str().unwrap_or_default().starts_with("base_url: "), "{answer}");
    }
    let form = json!({"bot_id": "demo", "base_url": format!("http://localhost:{port}/v1"), "model": "m"});
    let (_, said) = app.call(&admin.client, "settings/model/test", form).await;
    assert!(said["error"]["message"].as_str().unwrap_or_default().contains("loopback address"), "{said}");
    assert!(inside.requests().is_empty(), "nothing reached the inside service");

    // The allowed entry answers; its redirect is reported, not followed.
    let form = json!({"bot_id": "demo", "base_url": format!("http://{allowed_address}/v1"), "model": "m"});
    let (status, tested) = app.call(&admin.client, "settings/model/test", form.clone()).await;
    assert_eq!(status, 200, "{tested}");
    assert_eq!(tested["tested"]["reply"], "OK");
    let (status, answer) = app.call(&admin.client, "settings/model/test", form).await;
    assert_eq!(status, 422, "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap_or_default().contains("redirects"), "{answer}");
    assert!(allowed_fake.redirected.lock().unwrap().is_empty(), "the redirect was not followed");
    let (_, read) = app.call(&admin.client, "settings/model", json!({"bot_id": "demo"})).await;
    assert_eq!(read["model"]["kind"], "default", "nothing refused was stored: {read}");
    app.stop().await;
}

async fn a_chatbot_can_have_its_own_endpoint_with_a_write_only_key(db: Db) {
    let (database, app, fake, base_url) =
        baton_and_fake(db, vec![Script::Content("OK"), Script::Content("From the chatbot's own model.")]).await;
    let admin = app.admin().await;
    let (status, read) = app.call(&admin.client, "settings/model", json!({"bot_id": "demo"})).await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["model"]["kind"], "default");
    assert_eq!(read["model"]["server_default"], "the built-in AI");
    assert_eq!(read["model"]["key_set"], false);

    // Test connection makes one real request with the form's key, and stores nothing.
    let form = json!({"bot_id": "demo", "base_url": base_url, "model": "fake-model", "api_key": CHATBOT_KEY});
    let (status, tested) = app.call(&admin.client, "settings/model/test", form).await;
    assert_eq!(status, 200, "{tested}");
    assert_eq!(tested["tested"]["reply"], "OK");
    assert_eq!(tested["tested"]["model"], "fake-model");
    assert_eq!(fake.requests()[0].0.as_deref(), Some(format!("Bearer {CHATBOT_KEY}").as_str()));
    let (_, read) = app.call(&admin.client, "settings/model", json!({"bot_id": "demo"})).await;
    assert_eq!(read["model"]["kind"], "default", "a test stores nothing");

    let draft = json!({"model": {"bot_id": "demo", "kind": "openai", "base_url": format!("{base_url}/"),
                                 "model": " fake-model ", "api_key": CHATBOT_KEY}});
    let (status, saved) = app.call(&admin.client, "settings/model/save", draft).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["model"]["base_url"], base_url.as_str(), "stored without the trailing slash");
    assert_eq!(saved["model"]["model"], "fake-model");
    assert_eq!(saved["model"]["key_set"], true);
    assert_eq!(saved["model"]["key_hint"], "wxyz");
    assert!(!saved.to_string().contains(CHATBOT_KEY), "the key is never sent back: {saved}");
    let store = crate::helpers::inspect(&database).await;
    let chatbot = store.chatbot_by_public_id("demo").await.unwrap().unwrap();
    let sealed = chatbot.model.key_sealed.expect("a sealed key");
    assert!(!sealed.contains(CHATBOT_KEY) && !sealed.contains("0123456789"), "sealed at rest: {sealed}");

    // The next bot turn goes to the chatbot's endpoint, with its key.
    let chat = app.start_chat().await;
    let history = say(&app, &chat, "m1", "Can you tell me about the Team plan?").await;
    assert_eq!(last_bot_text(&history), "From the chatbot's own model.");
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].0.as_deref(), Some(format!("Bearer {CHATBOT_KEY}").as_str()));
    assert_eq!(requests[1].1["model"], "fake-model");

    // A test without a key at the stored address uses the stored key; the endpoint's
    // refusal comes back as 422 in plain words.
    fake.script.lock().unwrap().push_back(Script::Status(401, None));
    let form = json!({"bot_id": "demo", "base_url": base_url, "model": "fake-model"});
    let (status, refused) = app.call(&admin.client, "settings/model/test", form).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["code"], "verification_failed");
    assert!(refused["error"]["message"].as_str().unwrap().contains("refused the API key"), "{refused}");
    assert_eq!(fake.requests()[2].0.as_deref(), Some(format!("Bearer {CHATBOT_KEY}").as_str()));

    // Another address without a new key: the key is forgotten, never sent there.
    let moved = json!({"model": {"bot_id": "demo", "kind": "openai", "base_url": "http://127.0.0.1:9/v1",
                                 "model": "fake-model"}});
    let (status, saved) = app.call(&admin.client, "settings/model/save", moved).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["model"]["key_set"], false);

    // Back to the built-in brain: the endpoint hears nothing more.
    let builtin = json!({"model": {"bot_id": "demo", "kind": "builtin", "base_url": base_url, "model": "fake-model"}});
    let (status, saved) = app.call(&admin.client, "settings/model/save", builtin).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["model"]["base_url"], base_url.as_str(), "kept for switching back");
    let history = say(&app, &chat, "m2", "How much is the Team plan?").await;
    assert!(last_bot_text(&history).contains("$29"), "{history}");
    assert_eq!(fake.requests().len(), 3);

    let (_, activity) = app.call(&admin.client, "settings/activity", json!({"bot_id": "demo"})).await;
    let actions: Vec<&str> = activity["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str().filter(|a| *a == "model_changed"))
        .collect();
    assert_eq!(actions.len(), 3, "{activity}");
    assert!(!activity.to_string().contains(CHATBOT_KEY));
    app.stop().await;
}

async fn model_settings_refuse_bad_input_and_other_workspaces(db: Db) {
    let (database, app, fake, base_url) = baton_and_fake(db, vec![]).await;
    let admin = app.admin().await;
    let save = |model: Value| json!({"model": model});
    let cases = [
        (json!({"bot_id": "demo", "kind": "openai", "base_url": "ftp://x/v1", "model": "m"}), "base_url"),
        (json!({"bot_id": "demo", "kind": "openai", "base_url": "", "model": "m"}), "base_url"),
        (json!({"bot_id": "demo", "kind": "openai", "base_url": base_url, "model": "  "}), "model"),
        (json!({"bot_id": "demo", "kind": "openai", "base_url": base_url, "model": "m", "api_key": "sk a"}), "api_key"),
    ];
    for (model, field) in cases {
        let (status, answer) = app.call(&admin.client, "settings/model/save", save(model.clone())).await;
        assert_eq!(status, 400, "{model}: {answer}");
        assert_eq!(answer["error"]["code"], "invalid_input");
        assert!(answer["error"]["message"].as_str().unwrap().starts_with(field), "{answer}");
    }
    let (status, answer) =
        app.call(&admin.client, "settings/model/save", save(json!({"bot_id": "demo", "kind": "gpt"}))).await;
    assert_eq!(status, 400, "an unknown kind: {answer}");
    let (status, answer) = app.call(&admin.client, "settings/model/save", json!({"model": "openai"})).await;
    assert_eq!(status, 400, "malformed: {answer}");

    // Nothing answers at the address: 422 that says so.
    let form = json!({"bot_id": "demo", "base_url": "http://127.0.0.1:9/v1", "model": "m"});
    let (status, answer) = app.call(&admin.client, "settings/model/test", form).await;
    assert_eq!(status, 422, "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("nothing answered"), "{answer}");

    let agent = app.agent(&admin, "Dana Agent").await;
    let (status, _) = app.call(&agent.client, "settings/model", json!({"bot_id": "demo"})).await;
    assert_eq!(status, 403);
    let form = json!({"bot_id": "demo", "base_url": base_url, "model": "m"});
    let (status, _) = app.call(&agent.client, "settings/model/test", form.clone()).await;
    assert_eq!(status, 403);
    let eve = app.admin_of_another_workspace(&database).await;
    let (status, _) = app.call(&eve.client, "settings/model", json!({"bot_id": "demo"})).await;
    assert_eq!(status, 404);
    let (status, _) = app.call(&eve.client, "settings/model/test", form).await;
    assert_eq!(status, 404);
    let draft = save(json!({"bot_id": "demo", "kind": "builtin"}));
    let (status, _) = app.call(&eve.client, "settings/model/save", draft).await;
    assert_eq!(status, 404);
    assert!(fake.requests().is_empty(), "refused calls reach no endpoint");
    let (_, read) = app.call(&admin.client, "settings/model", json!({"bot_id": "demo"})).await;
    assert_eq!(read["model"]["kind"], "default", "nothing was stored: {read}");
    app.stop().await;
}

crate::on_both_databases!(
    a_chatbot_can_have_its_own_endpoint_with_a_write_only_key,
    model_settings_refuse_bad_input_and_other_workspaces
);
