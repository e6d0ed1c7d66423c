//! The `server` binary itself: configuration listing, start-up banner, SIGTERM.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::helpers::{Db, TestDatabase};

const BINARY: &str = env!("CARGO_BIN_EXE_server");

pub fn server_command(database: &TestDatabase) -> Command {
    let mut command = Command::new(BINARY);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BATON_ADDR", "127.0.0.1:0")
        .env("BATON_DATA_DIR", database.dir.path())
        .env("DATABASE_URL", &database.url)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Reads stdout until the banner names the URL; returns it and every banner line.
/// The rest of stdout is then closed on purpose: the server must not care.
pub fn read_banner(child: &mut Child) -> (String, Vec<String>) {
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("banner line");
        let done = line.contains("Inbox:");
        lines.push(line);
        if done {
            break;
        }
    }
    let url = lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("Baton is running at ").map(str::to_owned))
        .unwrap_or_else(|| panic!("no URL in banner: {lines:?}"));
    (url, lines)
}

pub fn terminate_and_wait(child: &mut Child) -> std::process::ExitStatus {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(Instant::now() < deadline, "server did not stop within 10 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn help_lists_every_setting_with_its_environment_variable() {
    let output = Command::new(BINARY).arg("--help").output().expect("server --help runs");

    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for var in [
        "BATON_ADDR", "BATON_DATA_DIR", "DATABASE_URL", "BATON_ADMIN_EMAIL", "BATON_ADMIN_PASSWORD", "BATON_LOG_FORMAT",
    ] {
        assert!(help.contains(var), "--help mentions {var}:\n{help}");
    }
}

#[tokio::test]
async fn the_binary_starts_without_leptos_variables_prints_how_to_sign_in_and_stops_on_sigterm() {
    let database = TestDatabase::new(Db::Sqlite).await;
    let mut child = server_command(&database).spawn().expect("server starts");

    let (url, banner) = read_banner(&mut child);
    let health = reqwest::get(format!("{url}/healthz")).await.expect("healthz");
    let status = terminate_and_wait(&mut child);

    assert_eq!(health.status(), 200);
    let banner = banner.join("\n");
    assert!(banner.contains(&format!("{url}/demo")), "{banner}");
    assert!(banner.contains("sign in as admin@baton.local with password "), "{banner}");
    assert!(status.success(), "graceful exit on SIGTERM, got {status:?}");
}

#[tokio::test]
async fn the_generated_password_is_printed_only_on_first_start() {
    let database = TestDatabase::new(Db::Sqlite).await;
    let mut first = server_command(&database).spawn().expect("first start");
    let (_, first_banner) = read_banner(&mut first);
    terminate_and_wait(&mut first);

    let mut second = server_command(&database).spawn().expect("second start");
    let (_, second_banner) = read_banner(&mut second);
    terminate_and_wait(&mut second);

    assert!(first_banner.join("\n").contains("with password "));
    let second_banner = second_banner.join("\n");
    assert!(!second_banner.contains("with password "), "{second_banner}");
    assert!(second_banner.contains("sign in as admin@baton.local"), "{second_banner}");
}

#[tokio::test]
async fn an_unsupported_database_url_fails_fast_with_a_clear_message() {
    let database = TestDatabase::new(Db::Sqlite).await;
    let output =
        server_command(&database).env("DATABASE_URL", "mysql://root@127.0.0.1/baton").output().expect("server runs");

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unsupported database URL"), "{stderr}");
}

/// Every line the process writes to stdout and stderr, collected until it exits.
fn collect_output(child: &mut Child) -> std::sync::mpsc::Receiver<String> {
    let (lines, collected) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    for stream in [Box::new(stdout) as Box<dyn std::io::Read + Send>, Box::new(stderr)] {
        let lines = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
    }
    collected
}

#[tokio::test]
async fn a_visitor_token_never_reaches_the_logs_even_at_debug_level() {
    use futures_util::SinkExt;
    let database = TestDatabase::new(Db::Sqlite).await;
    let mut command = server_command(&database);
    command.env("RUST_LOG", "debug");
    let mut child = command.spawn().expect("server starts");
    let output = collect_output(&mut child);
    let url = loop {
        let line = output.recv_timeout(Duration::from_secs(30)).expect("the banner");
        if let Some(url) = line.trim().strip_prefix("Baton is running at ") {
            break url.to_owned();
        }
    };
    let client = reqwest::Client::new();
    let api = |path: &str| format!("{url}/api/v1/{path}");
    let started: serde_json::Value = client
        .post(api("widget/start"))
        .json(&serde_json::json!({"bot_id": "demo"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (id, token) = (started["conversation_id"].as_str().unwrap(), started["visitor_token"].as_str().unwrap());
    let bearer = format!("Bearer {token}");
    let body = serde_json::json!({"conversation_id": id, "client_id": "log-1", "text": "hello"});
    let sent = client.post(api("widget/send")).header("authorization", &bearer).json(&body).send().await.unwrap();
    assert_eq!(sent.status(), 200);
    let body = serde_json::json!({"conversation_id": id, "after_seq": 0});
    client.post(api("widget/history")).header("authorization", &bearer).json(&body).send().await.unwrap();
    // A wrong token too: refusals must not echo it either.
    client
        .post(api("widget/history"))
        .header("authorization", format!("Bearer {token}x"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let ws = format!("{}/live/widget?conversation_id={id}&after_seq=0", url.replacen("http://", "ws://", 1));
    let (mut socket, _) = tokio_tungstenite::connect_async(ws).await.expect("socket");
    let auth = serde_json::json!({"type": "auth", "token": token}).to_string();
    socket.send(tokio_tungstenite::tungstenite::Message::Text(auth.into())).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(socket);
    let status = terminate_and_wait(&mut child);
    assert!(status.success());

    let logs: Vec<String> = output.try_iter().collect();
    assert!(logs.len() > 5, "debug logging was on: {logs:?}");
    let leaked: Vec<&String> = logs.iter().filter(|line| line.contains(&token[..16])).collect();
    assert!(leaked.is_empty(), "the visitor token is in the logs: {leaked:?}");
}

#[tokio::test]
async fn add_member_creates_an_account_that_can_sign_in_and_refuses_bad_input() {
    let database = TestDatabase::new(Db::Sqlite).await;
    let app = crate::helpers::spawn_app(&database).await;
    let add = |email: &str, password: &str| {
        server_command(&database)
            .env("BATON_MEMBER_PASSWORD", password)
            .args(["add-member", "--email", email, "--name", "Ana Agent", "--role", "agent"])
            .output()
            .expect("server add-member runs")
    };

    let added = add("ana@acme.test", "ana-password-123");
    let too_short = add("bo@acme.test", "short");
    let taken = add("ana@acme.test", "another-password-1");

    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    assert!(String::from_utf8_lossy(&added.stdout).contains("Added Ana Agent <ana@acme.test> as agent"));
    assert!(!too_short.status.success());
    assert!(String::from_utf8_lossy(&too_short.stderr).contains("at least 12 characters"));
    assert!(!taken.status.success());
    assert!(String::from_utf8_lossy(&taken.stderr).contains("already exists"));
    let ana = app.sign_in("ana@acme.test", "ana-password-123").await;
    let (_, me) = app.call(&ana.client, "auth/me", serde_json::json!({})).await;
    assert_eq!(me["member"]["role"], "agent");
    app.stop().await;
}
