//! The widget as websites embed it: its look (`widget/config`, `settings/widget`),
//! the `frame-ancestors` policy from the allowed origins, the embed script's one
//! cross-origin call, the demo host page, and the bot's request for an email.

use serde_json::{json, Value};

use crate::escalation::say;
use crate::helpers::{spawn_app, Db, TestApp, TestDatabase};
use crate::on_both_databases;

fn widget(origins: Value) -> Value {
    json!({"widget": {
        "bot_id": "demo",
        "title": "Globex help",
        "greeting": "Hello from Globex.",
        "color": "#FDE047",
        "launcher_position": "left",
        "allowed_origins": origins,
    }})
}

/// The `frame-ancestors` directive of `path`'s Content-Security-Policy.
async fn frame_policy(app: &TestApp, path: &str) -> String {
    let response = app.get(path).await;
    let policy = response.headers().get("content-security-policy").map(|v| v.to_str().unwrap().to_owned());
    let policy = policy.unwrap_or_else(|| panic!("{path} has no Content-Security-Policy"));
    let directive = policy.split(';').map(str::trim).find(|d| d.starts_with("frame-ancestors"));
    directive.unwrap_or_else(|| panic!("{path}: no frame-ancestors in {policy}")).to_owned()
}

async fn the_demo_chatbot_has_a_look_and_may_be_framed_anywhere(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;

    let (status, look) = app.call(&app.client, "widget/config", json!({"bot_id": "demo"})).await;
    assert_eq!(status, 200, "{look}");
    assert_eq!(look["title"], "Acme support");
    assert_eq!(look["color"], "#4338ca");
    assert_eq!(look["color_ink"], "#ffffff");
    assert_eq!(look["launcher_position"], "right");
    assert!(look["greeting"].as_str().unwrap().starts_with("Hi!"));

    let (status, body) = app.call(&app.client, "widget/config", json!({"bot_id": "nope"})).await;
    assert_eq!((status.as_u16(), body["error"]["code"].as_str()), (404, Some("not_found")));

    assert_eq!(frame_policy(&app, "/widget/demo").await, "frame-ancestors *");
    // Every other page: only Baton may frame it (the Inbox can't be clickjacked).
    for path in ["/inbox", "/settings", "/", "/widget/nope"] {
        assert_eq!(frame_policy(&app, path).await, "frame-ancestors 'self'", "{path}");
    }
    app.stop().await;
}

async fn an_admin_sets_the_look_and_the_allowed_origins(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;

    let (status, body) = app
        .call(&admin.client, "settings/widget", widget(json!(["https://www.globex.example/", "http://localhost:8080"])))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["widget"]["color"], "#fde047", "normalised");
    assert_eq!(body["widget"]["allowed_origins"], json!(["https://www.globex.example", "http://localhost:8080"]));

    let (_, look) = app.call(&app.client, "widget/config", json!({"bot_id": "demo"})).await;
    assert_eq!(look["title"], "Globex help");
    assert_eq!(look["greeting"], "Hello from Globex.");
    assert_eq!(look["launcher_position"], "left");
    assert_eq!(look["color_ink"], "#111827", "dark text on a pale brand colour");
    assert_eq!(
        frame_policy(&app, "/widget/demo").await,
        "frame-ancestors 'self' https://www.globex.example http://localhost:8080"
    );
    // The widget page itself shows the new look.
    let page = app.get("/widget/demo").await.text().await.unwrap();
    assert!(page.contains("Globex help") && page.contains("--brand: #fde047"), "{page}");

    // A new conversation opens with the new greeting.
    let (_, started) = app.call(&app.client, "widget/start", json!({"bot_id": "demo"})).await;
    assert_eq!(started["messages"][0]["text"], "Hello from Globex.");
    app.stop().await;
}

async fn widget_settings_refuse_bad_input_and_other_people(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let admin = app.admin().await;

    for (field, value) in [
        ("color", json!("red")),
        ("title", json!("  ")),
        ("launcher_position", json!("top")),
        ("allowed_origins", json!(["https://acme.example/shop"])),
        ("allowed_origins", json!(["https://acme.example; script-src *"])),
    ] {
        let mut body = widget(json!([]));
        body["widget"][field] = value.clone();
        let (status, answer) = app.call(&admin.client, "settings/widget", body).await;
        assert_eq!(
            (status.as_u16(), answer["error"]["code"].as_str()),
            (400, Some("invalid_input")),
            "{field} = {value}"
        );
    }
    let mut unknown = widget(json!([]));
    unknown["widget"]["bot_id"] = json!("nope");
    let (status, _) = app.call(&admin.client, "settings/widget", unknown).await;
    assert_eq!(status, 404);

    let agent = app.agent(&admin, "Ana Agent").await;
    let (status, answer) = app.call(&agent.client, "settings/widget", widget(json!([]))).await;
    assert_eq!((status.as_u16(), answer["error"]["code"].as_str()), (403, Some("forbidden")));
    let (status, _) = app.call(&app.client, "settings/widget", widget(json!([]))).await;
    assert_eq!(status, 401);

    // An admin of another workspace can't see or change this one's chatbot.
    let eve = app.admin_of_another_workspace(&database).await;
    let (status, _) = app.call(&eve.client, "settings/widget", widget(json!(["*"]))).await;
    assert_eq!(status, 404);
    let (_, look) = app.call(&app.client, "widget/config", json!({"bot_id": "demo"})).await;
    assert_eq!(look["title"], "Acme support", "unchanged");
    app.stop().await;
}

async fn the_bot_s_request_for_an_email_is_marked_for_the_widget(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let chat = app.start_chat().await;

    let history = say(&app, &chat, "e1", "Can I talk to a person?").await;
    let messages = history["messages"].as_array().unwrap();
    let asking = messages.last().unwrap();
    assert_eq!(asking["author"]["kind"], "bot");
    assert_eq!(asking["asks"], "email", "{asking}");
    assert!(messages[..messages.len() - 1].iter().all(|m| m.get("asks").is_none()), "only the request: {history}");

    let history = say(&app, &chat, "e2", "jordan@acme").await;
    assert_eq!(history["messages"].as_array().unwrap().last().unwrap()["asks"], "email", "asked again");
    app.stop().await;
}

on_both_databases!(
    the_demo_chatbot_has_a_look_and_may_be_framed_anywhere,
    an_admin_sets_the_look_and_the_allowed_origins,
    widget_settings_refuse_bad_input_and_other_people,
    the_bot_s_request_for_an_email_is_marked_for_the_widget,
);

#[tokio::test]
async fn any_website_may_read_the_look_but_nothing_else() {
    let database = TestDatabase::new(Db::Sqlite).await;
    let app = spawn_app(&database).await;

    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/widget/config"))
        .header("origin", "https://www.globex.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    assert_eq!(preflight.headers()["access-control-allow-headers"], "content-type");

    let look = app
        .client
        .post(app.url("/api/v1/widget/config"))
        .header("origin", "https://www.globex.example")
        .json(&json!({"bot_id": "demo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(look.headers()["access-control-allow-origin"], "*");

    let start = app
        .client
        .post(app.url("/api/v1/widget/start"))
        .header("origin", "https://www.globex.example")
        .json(&json!({"bot_id": "demo"}))
        .send()
        .await
        .unwrap();
    assert!(start.headers().get("access-control-allow-origin").is_none(), "only the look is cross-origin");
    app.stop().await;
}

#[tokio::test]
async fn the_demo_host_page_embeds_the_widget_with_one_tag() {
    let database = TestDatabase::new(Db::Sqlite).await;
    let app = spawn_app(&database).await;

    let page = app.get("/demo").await;
    assert_eq!(page.status(), 200);
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    let nonce = policy.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap().to_owned();
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(html.contains(&format!(r#"<script src="/embed.js" data-bot="demo" nonce="{nonce}" async></script>"#)), "{html}");
    assert!(!html.contains("/pkg/"), "the host page loads nothing of Baton but the embed script");
    app.stop().await;
}
