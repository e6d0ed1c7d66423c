//! What an attacker from outside tries: markup in every text that reaches a page,
//! pages without a script policy, floods of conversations, sign-ins and typing frames,
//! a forged `Host`, and bodies and texts shaped to slip past the checks.

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::{helpers::*, on_both_databases};

const TITLE_PAYLOAD: &str = "</title><script>window.__x=2</script>";

fn widget_update(title: &str, greeting: &str) -> Value {
    json!({"widget": {
        "bot_id": "demo", "title": title, "greeting": greeting, "color": "#0f766e",
        "launcher_position": "right", "allowed_origins": ["*"],
    }})
}

/// The text of the page's `<title>` element, as the server wrote it.
fn title_element(html: &str) -> &str {
    let start = html.find("<title>").expect("a <title>") + "<title>".len();
    let end = html[start..].find("</title>").expect("a </title>") + start;
    &html[start..end]
}

async fn markup_in_the_widget_s_title_and_greeting_stays_text_in_the_page(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    let greeting = "<img src=x onerror=\"window.__x=3\"><svg onload=window.__x=4>";
    let (status, body) = app.call(&admin.client, "settings/widget", widget_update(TITLE_PAYLOAD, greeting)).await;
    assert_eq!(status, 200, "{body}");

    let html = app.get("/widget/demo").await.text().await.unwrap();

    assert_eq!(
        title_element(&html),
        "&lt;/title&gt;&lt;script&gt;window.__x=2&lt;/script&gt; · Baton",
        "the head's title is escaped"
    );
    for injected in ["<script>window.__x", "<img src=x", "<svg onload"] {
        assert!(!html.contains(injected), "{injected:?} reached the page as markup");
    }
    assert!(html.contains("&lt;img src=x onerror="), "the greeting is shown as text");
    app.stop().await;
}

/// The `script-src` nonce of a page's policy.
fn nonce_of(policy: &str) -> String {
    let start = policy.find("'nonce-").expect("a nonce in the policy") + "'nonce-".len();
    policy[start..].split('\'').next().unwrap().to_owned()
}

async fn every_response_carries_the_script_policy_and_the_safety_headers(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;

    for path in ["/", "/widget/demo", "/widget/nope", "/inbox", "/settings", "/demo", "/no/such/page"] {
        let response = app.get(path).await;
        let headers = response.headers().clone();
        let policy = headers["content-security-policy"].to_str().unwrap().to_owned();
        assert!(policy.contains("script-src 'self' 'nonce-"), "{path}: {policy}");
        assert!(policy.contains("'wasm-unsafe-eval'") && policy.contains("object-src 'none'"), "{path}: {policy}");
        assert!(policy.contains("base-uri 'none'") && policy.contains("frame-ancestors"), "{path}: {policy}");
        assert!(!policy.contains("'unsafe-eval'"), "{path}: {policy}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "strict-origin-when-cross-origin", "{path}");
        let nonce = nonce_of(&policy);
        let html = response.text().await.unwrap();
        for script in html.split("<script").skip(1) {
            let tag = script.split('>').next().unwrap_or_default();
            assert!(tag.contains(&format!("nonce=\"{nonce}\"")), "{path}: <script{tag}> lacks this response's nonce");
        }
    }
    let first = nonce_of(app.get("/inbox").await.headers()["content-security-policy"].to_str().unwrap());
    let second = nonce_of(app.get("/inbox").await.headers()["content-security-policy"].to_str().unwrap());
    assert_ne!(first, second, "a fresh nonce for every response");

    for path in ["/embed.js", "/favicon.svg", "/pkg/baton.css", "/healthz"] {
        let headers = app.get(path).await.headers().clone();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "strict-origin-when-cross-origin", "{path}");
        assert!(headers.contains_key("content-security-policy"), "{path}");
    }
    let api = app.client.post(app.url("/api/v1/widget/config")).json(&json!({"bot_id": "demo"})).send().await.unwrap();
    assert_eq!(api.headers()["x-content-type-options"], "nosniff");
    assert_eq!(api.headers()["content-security-policy"], "default-src 'none'; frame-ancestors 'none'");
    app.stop().await;
}

async fn an_unknown_chatbot_s_widget_is_404_every_time(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;

    for attempt in 0..100 {
        let response = app.get("/widget/no-such-bot").await;
        assert_eq!(response.status(), 404, "attempt {attempt}");
        assert!(response.text().await.unwrap().contains("This chat does not exist"), "attempt {attempt}");
    }
    for attempt in 0..20 {
        assert_eq!(app.get("/widget/demo").await.status(), 200, "attempt {attempt}");
    }
    app.stop().await;
}

/// `widget/start` from `client`: the status and, when limited, `Retry-After`.
async fn start_from(app: &TestApp, client: &reqwest::Client, forwarded: Option<&str>) -> (StatusCode, Option<String>) {
    let mut request = client.post(app.url("/api/v1/widget/start")).json(&json!({"bot_id": "demo"}));
    if let Some(forwarded) = forwarded {
        request = request.header("x-forwarded-for", forwarded);
    }
    let response = request.send().await.unwrap();
    let retry = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    (response.status(), retry)
}

async fn new_conversations_are_limited_per_address_and_per_chatbot(db: Db) {
    let database = TestDatabase::new(db).await;
    let mut settings = test_settings(&database);
    settings.starts_per_address_per_minute = 3;
    settings.starts_per_chatbot_per_minute = 5;
    let app = spawn_app_with(settings).await;
    let (first, second, third) =
        (client_from([127, 0, 0, 2]), client_from([127, 0, 0, 3]), client_from([127, 0, 0, 4]));

    for _ in 0..3 {
        assert_eq!(start_from(&app, &first, None).await.0, 200);
    }
    let (status, retry) = start_from(&app, &first, None).await;
    assert_eq!(status, 429, "the fourth start from one address");
    assert!(retry.is_some_and(|secs| secs.parse::<u64>().unwrap() >= 1), "with Retry-After");
    // A client cannot claim another address: no proxy is trusted by default.
    assert_eq!(start_from(&app, &first, Some("203.0.113.9")).await.0, 429);

    assert_eq!(start_from(&app, &second, None).await.0, 200, "another address starts");
    assert_eq!(start_from(&app, &second, None).await.0, 200);
    assert_eq!(start_from(&app, &third, None).await.0, 429, "the chatbot's own limit: 5 a minute from everyone");
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM conversations")
        .fetch_one(inspect(&database).await.pool())
        .await
        .unwrap();
    assert_eq!(stored, 5, "nothing was stored for a refused start");
    app.stop().await;
}

async fn behind_a_trusted_proxy_the_forwarded_address_is_the_client(db: Db) {
    let database = TestDatabase::new(db).await;
    let mut settings = test_settings(&database);
    settings.starts_per_address_per_minute = 2;
    settings.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    let app = spawn_app_with(settings).await;
    let proxy = client_from([127, 0, 0, 2]);

    for _ in 0..2 {
        assert_eq!(start_from(&app, &proxy, Some("198.51.100.1, 203.0.113.7")).await.0, 200);
    }
    assert_eq!(start_from(&app, &proxy, Some("203.0.113.7")).await.0, 429, "the same client behind the proxy");
    assert_eq!(start_from(&app, &proxy, Some("203.0.113.8")).await.0, 200, "another client behind it");
    app.stop().await;
}

async fn login(client: &reqwest::Client, app: &TestApp, email: &str, password: &str) -> StatusCode {
    let body = json!({"email": email, "password": password});
    client.post(app.url("/api/v1/auth/login")).json(&body).send().await.unwrap().status()
}

async fn sign_in_attempts_are_limited_per_address_whatever_the_email(db: Db) {
    let database = TestDatabase::new(db).await;
    let mut settings = test_settings(&database);
    settings.login_attempts_per_address_per_minute = 20;
    let app = spawn_app_with(settings).await;
    let guesser = client_from([127, 0, 0, 2]);

    let mut statuses = Vec::new();
    for n in 0..30 {
        statuses.push(login(&guesser, &app, &format!("random{n}@acme.test"), "a-wrong-password").await);
    }
    assert!(statuses[..20].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[20..].iter().all(|s| *s == 429), "{statuses:?}");
    assert_eq!(login(&client_from([127, 0, 0, 3]), &app, ADMIN_EMAIL, ADMIN_PASSWORD).await, 200);
    app.stop().await;
}

async fn a_guesser_cannot_lock_the_owner_out(db: Db) {
    let database = TestDatabase::new(db).await;
    let mut settings = test_settings(&database);
    settings.login_attempts_per_minute = 10;
    settings.login_attempts_per_address_per_minute = 0;
    let app = spawn_app_with(settings).await;
    let guesser = client_from([127, 0, 0, 2]);

    let mut statuses = Vec::new();
    for _ in 0..15 {
        statuses.push(login(&guesser, &app, ADMIN_EMAIL, "a-wrong-password").await);
    }
    assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS), "the guesser is throttled: {statuses:?}");
    assert_eq!(login(&guesser, &app, ADMIN_EMAIL, ADMIN_PASSWORD).await, 429, "even with the right password");
    assert_eq!(
        login(&client_from([127, 0, 0, 3]), &app, ADMIN_EMAIL, ADMIN_PASSWORD).await,
        200,
        "the owner, from an address with no failures, signs in"
    );
    app.stop().await;
}

async fn a_flood_of_sign_ins_is_refused_before_it_is_hashed(db: Db) {
    let database = TestDatabase::new(db).await;
    let mut settings = test_settings(&database);
    settings.login_attempts_per_minute = 0;
    settings.login_attempts_per_address_per_minute = 0;
    let app = spawn_app_with(settings).await;
    let clients: Vec<reqwest::Client> = (2..102).map(|n| client_from([127, 0, 1, n])).collect();

    let statuses = join_all(clients.iter().map(|client| login(client, &app, ADMIN_EMAIL, "a-wrong-password"))).await;

    let refused = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    let checked = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    assert_eq!(refused + checked, statuses.len(), "only 401 or 429: {statuses:?}");
    assert!(refused > 0, "beyond the hashing queue, 429: {statuses:?}");
    assert!(checked >= 16, "the queue's worth was checked: {statuses:?}");
    assert_eq!(login(&client_from([127, 0, 2, 1]), &app, ADMIN_EMAIL, ADMIN_PASSWORD).await, 200, "then it drains");
    app.stop().await;
}

/// Typing frames on `socket` about `conversation_id` until `frames_until` sees the
/// `pong` that follows them.
async fn typing_seen(socket: &mut Socket, conversation_id: Option<&str>) -> usize {
    let frames = frames_until(socket, "the pong", |f| f["type"] == "pong").await;
    frames
        .iter()
        .filter(|f| f["type"] == "typing")
        .filter(|f| conversation_id.is_none_or(|id| f["conversation_id"] == id))
        .count()
}

async fn a_flood_of_typing_frames_reaches_the_others_as_one(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    let chat = app.escalated_chat().await;
    let (status, body) = app.call(&admin.client, "inbox/claim", json!({"conversation_id": chat.conversation_id})).await;
    assert_eq!(status, 200, "{body}");
    let mut team = inbox_socket(&app, &admin).await;
    let mut visitor = widget_socket(&app, &chat, 0).await;
    frames_until(&mut visitor, "the state", |f| f["type"] == "state").await;

    for _ in 0..500 {
        send_json(&mut visitor, json!({"type": "typing"})).await;
    }
    send_json(&mut visitor, json!({"type": "ping"})).await;
    frames_until(&mut visitor, "the visitor's pong", |f| f["type"] == "pong").await;
    send_json(&mut team, json!({"type": "ping"})).await;
    assert_eq!(typing_seen(&mut team, Some(&chat.conversation_id)).await, 1, "500 visitor frames, one forwarded");

    for _ in 0..500 {
        send_json(&mut team, json!({"type": "typing", "conversation_id": chat.conversation_id})).await;
    }
    send_json(&mut team, json!({"type": "ping"})).await;
    frames_until(&mut team, "the agent's pong", |f| f["type"] == "pong").await;
    send_json(&mut visitor, json!({"type": "ping"})).await;
    assert_eq!(typing_seen(&mut visitor, None).await, 1, "500 agent frames, one forwarded");

    tokio::time::sleep(Duration::from_millis(2100)).await;
    send_json(&mut visitor, json!({"type": "typing"})).await;
    send_json(&mut visitor, json!({"type": "ping"})).await;
    frames_until(&mut visitor, "the visitor's pong", |f| f["type"] == "pong").await;
    send_json(&mut team, json!({"type": "ping"})).await;
    assert_eq!(typing_seen(&mut team, Some(&chat.conversation_id)).await, 1, "after 2 s, typing shows again");
    app.stop().await;
}

/// A team call with browser headers `headers`.
async fn create_member_with(app: &TestApp, admin: &Member, email: &str, headers: &[(&str, &str)]) -> StatusCode {
    let body = json!({"email": email, "name": "Mallory", "password": "mallory-password-1", "role": "admin"});
    let mut request = admin.client.post(app.url("/api/v1/team/members")).json(&body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap().status()
}

async fn a_claimed_host_does_not_make_a_foreign_origin_baton_s(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;
    let https_ours = app.address.replacen("http://", "https://", 1);

    let spoofed = [("host", "evil.example"), ("origin", "http://evil.example")];
    assert_eq!(create_member_with(&app, &admin, "m1@acme.test", &spoofed).await, 403);
    assert_eq!(
        create_member_with(&app, &admin, "m2@acme.test", &[("origin", &https_ours)]).await,
        403,
        "scheme counts"
    );
    assert_eq!(create_member_with(&app, &admin, "m3@acme.test", &[("origin", &app.address)]).await, 200);

    let cookie = app.cookie_header(&admin);
    let spoofed_socket = connect(
        &app.ws_url("/live/inbox"),
        &[("cookie", &cookie), ("host", "evil.example"), ("origin", "http://evil.example")],
    )
    .await;
    assert!(
        matches!(spoofed_socket, Err(tokio_tungstenite::tungstenite::Error::Http(ref r)) if r.status() == 403),
        "the Inbox socket refuses it too"
    );
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM members WHERE email IN ('m1@acme.test', 'm2@acme.test')")
        .fetch_one(inspect(&database).await.pool())
        .await
        .unwrap();
    assert_eq!(count, 0, "no member was created by a forged request");
    app.stop().await;
}

async fn with_a_public_url_only_that_origin_is_baton_s(db: Db) {
    let database = TestDatabase::new(db).await;
    let mut settings = test_settings(&database);
    settings.public_url = Some("https://baton.acme.test".to_owned());
    let app = spawn_app_with(settings).await;
    let admin = app.admin().await;

    assert_eq!(create_member_with(&app, &admin, "m1@acme.test", &[("origin", &app.address)]).await, 403);
    assert_eq!(create_member_with(&app, &admin, "m2@acme.test", &[("origin", "https://baton.acme.test")]).await, 200);
    app.stop().await;
}

/// A raw HTTP/1.1 request; returns the status and the body.
async fn raw_request(app: &TestApp, request: &[u8]) -> (u16, String) {
    let mut tcp = TcpStream::connect(app.address.trim_start_matches("http://")).await.unwrap();
    tcp.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer).to_string();
    let status = answer.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    (status, body)
}

async fn an_oversized_chunked_body_is_a_typed_413_too(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let host = app.address.trim_start_matches("http://").to_owned();
    let name = "x".repeat(70 * 1024);
    let json = format!(r#"{{"bot_id": "demo", "name": "{name}"}}"#);
    let mut request = format!(
        "POST /api/v1/widget/start HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for chunk in json.as_bytes().chunks(8 * 1024) {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");

    let (status, body) = raw_request(&app, &request).await;

    assert_eq!(status, 413, "{body}");
    assert!(body.contains(r#""code":"too_large""#), "{body}");
    let (status, body) = app.call(&app.client, "widget/start", json!({"bot_id": "demo", "name": name})).await;
    assert_eq!((status.as_u16(), body["error"]["code"].as_str()), (413, Some("too_large")), "with Content-Length");
    app.stop().await;
}

async fn invisible_text_is_empty_and_names_lose_their_direction_tricks(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;

    let chat = app.start_chat_with(json!({"bot_id": "demo", "name": "Sam\u{202E}gnp.exe"})).await;
    for (i, text) in ["\u{200B}", "\u{200B}\u{200C}\u{200D}\u{2060}\u{FEFF}", " \u{00AD}\u{2800} "].iter().enumerate() {
        let (status, body) = app.visitor_send(&chat, &format!("blank-{i}"), text).await;
        assert_eq!((status.as_u16(), body["error"]["code"].as_str()), (400, Some("invalid_input")), "{text:?}: {body}");
    }
    assert_eq!(texts(&app.history(&chat, 0).await).len(), 1, "only the greeting is stored");

    let (status, body) = app.call(&admin.client, "inbox/conversations", json!({"filter": "all"})).await;
    assert_eq!(status, 200);
    assert_eq!(body["conversations"][0]["visitor"]["name"], "Samgnp.exe");
    let member = json!({"email": "ana@acme.test", "name": "\u{2067}Ana\u{2069}", "password": "agent-password-123", "role": "agent"});
    let (status, body) = app.call(&admin.client, "team/members", member).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["member"]["name"], "Ana");
    let (status, body) = app.call(&admin.client, "settings/widget", widget_update("Acme\u{202D} help", "Hi")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["widget"]["title"], "Acme help");
    app.stop().await;
}

async fn malformed_bodies_are_explained_in_plain_words(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let cases = [
        ("[]", "the request body must be a JSON object, not a list"),
        ("{}", "`bot_id` is missing"),
        (r#"{"bot_id": 5}"#, "`bot_id` must be a string, not the number 5"),
        (r#"{"bot_id": "demo", "name": ["x"]}"#, "`name` must be a string, not a list"),
        ("{\"bot_id\": ", "the request body is not valid JSON (line 1, column 11)"),
    ];
    for (body, message) in cases {
        let response = app
            .client
            .post(app.url("/api/v1/widget/start"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{body}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], "invalid_input", "{body}");
        assert_eq!(error["error"]["message"], message, "{body}");
    }
    let admin = app.admin().await;
    let (status, body) = app.call(&admin.client, "inbox/conversations", json!({"filter": "everything"})).await;
    assert_eq!(status, 400);
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("`filter` must be one of `needs_human`"), "{message}");
    assert!(!message.contains("struct") && !message.contains("enum"), "{message}");
    app.stop().await;
}

on_both_databases!(
    markup_in_the_widget_s_title_and_greeting_stays_text_in_the_page,
    every_response_carries_the_script_policy_and_the_safety_headers,
    an_unknown_chatbot_s_widget_is_404_every_time,
    new_conversations_are_limited_per_address_and_per_chatbot,
    behind_a_trusted_proxy_the_forwarded_address_is_the_client,
    sign_in_attempts_are_limited_per_address_whatever_the_email,
    a_guesser_cannot_lock_the_owner_out,
    a_flood_of_sign_ins_is_refused_before_it_is_hashed,
    a_flood_of_typing_frames_reaches_the_others_as_one,
    a_claimed_host_does_not_make_a_foreign_origin_baton_s,
    with_a_public_url_only_that_origin_is_baton_s,
    an_oversized_chunked_body_is_a_typed_413_too,
    invisible_text_is_empty_and_names_lose_their_direction_tricks,
    malformed_bodies_are_explained_in_plain_words,
);
