//! `spawn_app()`: starts Baton on port 0 against a fresh database and returns a client for it.
//!
//! Every test runs on SQLite. PostgreSQL runs too when `DATABASE_URL_TEST` names a server
//! (each test gets its own database on it) or when `CI` is set, in which case the default
//! `postgres://postgres@127.0.0.1:5432/test` must be reachable: in CI a missing PostgreSQL
//! is a failure, never a skip.

use std::{str::FromStr, time::Duration};

use server::{config::Settings, Application};
use sqlx::{postgres::PgConnectOptions, ConnectOptions, Connection, Executor, PgConnection};
use tempfile::TempDir;
use tokio::{sync::oneshot, task::JoinHandle};

pub const DEFAULT_POSTGRES_TEST_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server tests should use, if any.
pub fn postgres_admin_url() -> Option<String> {
    if let Ok(url) = std::env::var("DATABASE_URL_TEST") {
        if !url.trim().is_empty() {
            return Some(url);
        }
    }
    let in_ci = std::env::var("CI").map(|v| !v.is_empty() && v != "false" && v != "0").unwrap_or(false);
    in_ci.then(|| DEFAULT_POSTGRES_TEST_URL.to_owned())
}

/// Runs each named `async fn(Db)` as two tests: `sqlite` and `postgres`.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Db::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::helpers::postgres_admin_url().is_none() {
                    eprintln!("skipped: set DATABASE_URL_TEST (or CI) to run the PostgreSQL variant");
                    return;
                }
                super::$name($crate::helpers::Db::Postgres).await
            }
        }
    )*};
}

/// A fresh database for one test: a SQLite file in a temporary directory, or a new
/// PostgreSQL database dropped again when this value is dropped (even after a panic).
pub struct TestDatabase {
    pub url: String,
    pub dir: TempDir,
    postgres: Option<(String, String)>, // (admin url, database name)
}

impl TestDatabase {
    pub async fn new(db: Db) -> TestDatabase {
        let dir = tempfile::tempdir().expect("temp dir");
        match db {
            Db::Sqlite => {
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("baton.db").display());
                TestDatabase { url, dir, postgres: None }
            }
            Db::Postgres => {
                let admin_url = postgres_admin_url().unwrap_or_else(|| DEFAULT_POSTGRES_TEST_URL.to_owned());
                let name = format!("baton_test_{:016x}", rand::random::<u64>());
                let mut admin = PgConnection::connect(&admin_url)
                    .await
                    .unwrap_or_else(|e| panic!("PostgreSQL at {admin_url} is required here: {e}"));
                admin.execute(format!(r#"CREATE DATABASE "{name}""#).as_str()).await.expect("create database");
                admin.close().await.ok();
                let options = PgConnectOptions::from_str(&admin_url).expect("postgres url").database(&name);
                TestDatabase { url: options.to_url_lossy().to_string(), dir, postgres: Some((admin_url, name)) }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else { return };
        // Drop may run inside the test's runtime: do the async clean-up on a thread of its own.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            runtime.block_on(async {
                if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                    let _ = admin.execute(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str()).await;
                }
            });
        })
        .join();
    }
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub seeded: server::demo::Seeded,
    stop: Option<oneshot::Sender<()>>,
    served: Option<JoinHandle<std::io::Result<()>>>,
}

pub const ADMIN_EMAIL: &str = "admin@acme.test";
pub const ADMIN_PASSWORD: &str = "a-long-admin-password";

/// The settings `spawn_app` uses: port 0, on `database`, with a known admin password.
pub fn test_settings(database: &TestDatabase) -> Settings {
    let mut settings = Settings::for_database(database.url.clone(), database.dir.path().to_path_buf());
    settings.admin_email = ADMIN_EMAIL.to_owned();
    settings.admin_password = Some(ADMIN_PASSWORD.into());
    // The site `make build` made (tests run in `server/`, where `target/site` is not).
    settings.site_root = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/site").into();
    settings
}

/// Baton on port 0, on `database`, with a known admin password.
pub async fn spawn_app(database: &TestDatabase) -> TestApp {
    spawn_app_with(test_settings(database)).await
}

/// An HTTP client whose connections come from `address` (any of 127.0.0.0/8 reaches
/// a server on 127.0.0.1): a second visitor or attacker, as far as Baton can tell.
pub fn client_from(address: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(address))
        .cookie_store(true)
        .timeout(Duration::from_secs(20))
        .build()
        .expect("http client")
}

pub async fn spawn_app_with(settings: Settings) -> TestApp {
    let app = Application::build(&settings).await.expect("application builds");
    let address = format!("http://{}", app.local_addr());
    let seeded = app.seeded().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let served = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("http client");
    TestApp { address, client, seeded, stop: Some(stop), served: Some(served) }
}

impl TestApp {
    /// A client for a Baton running elsewhere (another process), at `address`.
    pub fn at(address: &str) -> TestApp {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("http client");
        TestApp {
            address: address.to_owned(),
            client,
            seeded: server::demo::Seeded::AlreadyThere { admin_email: None },
            stop: None,
            served: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request reaches the server")
    }

    /// Stops the server gracefully and waits until its database pool is closed.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(served) = self.served.take() {
            tokio::time::timeout(Duration::from_secs(10), served)
                .await
                .expect("server stops within 10 s")
                .expect("server task")
                .expect("server ran cleanly");
        }
    }
}

/// A pool on the test database for looking behind the API.
pub async fn inspect(database: &TestDatabase) -> server::store::Store {
    server::store::Store::connect(&database.url, 2).await.expect("inspection pool")
}

// ---- typed helpers for the public API ---------------------------------------------------

use reqwest::{cookie::Jar, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

/// A conversation as the visitor holds it.
#[derive(Debug, Clone)]
pub struct VisitorChat {
    pub conversation_id: String,
    pub token: String,
}

/// A browser-like client with its own cookie jar (one per team member).
pub struct Member {
    pub client: reqwest::Client,
    pub jar: Arc<Jar>,
    pub id: String,
}

pub fn new_client(jar: Arc<Jar>) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_provider(jar)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("http client")
}

impl TestApp {
    /// POSTs JSON to an `/api/v1/` call and returns the status and the JSON body.
    pub async fn call(&self, client: &reqwest::Client, path: &str, body: Value) -> (StatusCode, Value) {
        let response = client.post(self.url(&format!("/api/v1/{path}"))).json(&body).send().await.expect("request");
        let status = response.status();
        let text = response.text().await.expect("body");
        let json =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{path} answered {status} with non-JSON: {text}"));
        (status, json)
    }

    pub async fn start_chat(&self) -> VisitorChat {
        self.start_chat_with(json!({"bot_id": "demo"})).await
    }

    /// A chat whose visitor gave their email up front (lead capture): asking for a
    /// person escalates at once.
    pub async fn start_chat_with_email(&self, email: &str) -> VisitorChat {
        self.start_chat_with(json!({"bot_id": "demo", "email": email})).await
    }

    pub async fn start_chat_with(&self, body: Value) -> VisitorChat {
        let (status, body) = self.call(&self.client, "widget/start", body).await;
        assert_eq!(status, 200, "{body}");
        VisitorChat {
            conversation_id: body["conversation_id"].as_str().unwrap().to_owned(),
            token: body["visitor_token"].as_str().unwrap().to_owned(),
        }
    }

    /// The visitor's `widget/send`.
    pub async fn visitor_send(&self, chat: &VisitorChat, client_id: &str, text: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .post(self.url("/api/v1/widget/send"))
            .bearer_auth(&chat.token)
            .json(&json!({"conversation_id": chat.conversation_id, "client_id": client_id, "text": text}))
            .send()
            .await
            .expect("send");
        let status = response.status();
        (status, response.json().await.expect("json"))
    }

    pub async fn history(&self, chat: &VisitorChat, after_seq: i64) -> Value {
        let response = self
            .client
            .post(self.url("/api/v1/widget/history"))
            .bearer_auth(&chat.token)
            .json(&json!({"conversation_id": chat.conversation_id, "after_seq": after_seq}))
            .send()
            .await
            .expect("history");
        assert_eq!(response.status(), 200);
        response.json().await.expect("json")
    }

    /// Polls the visitor's history until `done` holds (10 s at most).
    pub async fn wait_for_history(&self, chat: &VisitorChat, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let history = self.history(chat, 0).await;
            if done(&history) {
                return history;
            }
            assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}: {history}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// A visitor who asked for a person and, asked for it, gave their email: the
    /// conversation is in `needs_human`.
    pub async fn escalated_chat(&self) -> VisitorChat {
        let chat = self.start_chat().await;
        let (status, body) = self.visitor_send(&chat, "ask-human", "Can I talk to a human please?").await;
        assert_eq!(status, 200, "{body}");
        self.wait_for_history(&chat, "the request for an email", |h| {
            h["messages"].as_array().unwrap().last().is_some_and(|m| m["text"].as_str().unwrap().contains("email"))
        })
        .await;
        let (status, body) = self.visitor_send(&chat, "give-email", "sure, it's sam@example.com").await;
        assert_eq!(status, 200, "{body}");
        self.wait_for_history(&chat, "the escalation", |h| h["state"] == "needs_human").await;
        chat
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Member {
        let jar = Arc::new(Jar::default());
        let client = new_client(jar.clone());
        let (status, body) = self.call(&client, "auth/login", json!({"email": email, "password": password})).await;
        assert_eq!(status, 200, "sign-in as {email}: {body}");
        Member { client, jar, id: body["member"]["id"].as_str().unwrap().to_owned() }
    }

    /// Eve, the admin of a second workspace (a second tenant), signed in.
    pub async fn admin_of_another_workspace(&self, database: &TestDatabase) -> Member {
        let store = inspect(database).await;
        let hash = server::auth::password::hash("other-admin-password").unwrap();
        let mut tx = store.begin_write().await.unwrap();
        sqlx::query("INSERT INTO workspaces (id, name, created_at) VALUES ('ws_other', 'Other', 0)")
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO members (id, workspace_id, email, name, role, password_hash, created_at) \
             VALUES ('mem_other', 'ws_other', 'eve@other.test', 'Eve', 'admin', $1, 0)",
        )
        .bind(&hash)
        .execute(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
        self.sign_in("eve@other.test", "other-admin-password").await
    }

    pub async fn admin(&self) -> Member {
        self.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// A new agent in the admin's workspace, signed in.
    pub async fn agent(&self, admin: &Member, name: &str) -> Member {
        let email = format!("{}@acme.test", name.to_lowercase().replace(' ', "."));
        let body = json!({"email": email, "name": name, "password": "agent-password-123", "role": "agent"});
        let (status, created) = self.call(&admin.client, "team/members", body).await;
        assert_eq!(status, 200, "{created}");
        self.sign_in(&email, "agent-password-123").await
    }

    /// The session cookie header of a member, for WebSocket handshakes.
    pub fn cookie_header(&self, member: &Member) -> String {
        use reqwest::cookie::CookieStore;
        let url = self.address.parse().expect("url");
        member.jar.cookies(&url).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("{}{}", self.address.replacen("http://", "ws://", 1), path)
    }
}

/// Texts of a history's messages, in order.
pub fn texts(history: &Value) -> Vec<String> {
    history["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap().to_owned()).collect()
}

pub const ESCALATION_NOTE: &str = "A team member has been notified and will join this chat shortly.";

// ---- WebSockets ----------------------------------------------------------------------------

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, protocol::frame::coding::CloseCode, Message as Ws};

pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn connect(url: &str, headers: &[(&str, &str)]) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let mut request = url.into_client_request().expect("ws request");
    for (name, value) in headers {
        request.headers_mut().insert(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            http::HeaderValue::from_str(value).unwrap(),
        );
    }
    tokio_tungstenite::connect_async(request).await.map(|(socket, _)| socket)
}

/// The visitor's live socket, authenticated, after `after_seq`.
pub async fn widget_socket(app: &TestApp, chat: &VisitorChat, after_seq: i64) -> Socket {
    let url = app.ws_url(&format!("/live/widget?conversation_id={}&after_seq={after_seq}", chat.conversation_id));
    let mut socket = connect(&url, &[]).await.expect("widget socket");
    send_json(&mut socket, json!({"type": "auth", "token": chat.token})).await;
    socket
}

pub async fn inbox_socket(app: &TestApp, member: &Member) -> Socket {
    let cookie = app.cookie_header(member);
    let origin = app.address.clone();
    connect(&app.ws_url("/live/inbox"), &[("cookie", &cookie), ("origin", &origin)]).await.expect("inbox socket")
}

pub async fn send_json(socket: &mut Socket, frame: Value) {
    socket.send(Ws::Text(frame.to_string().into())).await.expect("send frame");
}

/// The next JSON frame (control frames skipped), within 10 s; `None` once closed.
pub async fn next_json(socket: &mut Socket) -> Option<Value> {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), socket.next()).await.expect("a frame within 10 s");
        match frame {
            Some(Ok(Ws::Text(text))) => return Some(serde_json::from_str(&text).expect("JSON frame")),
            Some(Ok(Ws::Ping(_) | Ws::Pong(_))) => continue,
            Some(Ok(Ws::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(other)) => panic!("unexpected frame {other:?}"),
        }
    }
}

/// Frames until one satisfies `done` (10 s); returns all of them.
pub async fn frames_until(socket: &mut Socket, what: &str, done: impl Fn(&Value) -> bool) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let frame = next_json(socket).await.unwrap_or_else(|| panic!("socket closed waiting for {what}: {seen:?}"));
        let finished = done(&frame);
        seen.push(frame);
        if finished {
            return seen;
        }
    }
}

/// The close code the server ends the socket with.
pub async fn close_code(socket: &mut Socket) -> Option<CloseCode> {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), socket.next()).await.expect("close within 10 s");
        match frame {
            Some(Ok(Ws::Close(frame))) => return frame.map(|f| f.code),
            Some(Ok(_)) => continue,
            None | Some(Err(_)) => return None,
        }
    }
}
