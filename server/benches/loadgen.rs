//! `make bench`: a load generator, not a test. It starts the release `server` on a
//! fresh database (SQLite, or PostgreSQL with `--database postgres://…`), opens N
//! visitor WebSockets and M agent Inbox sockets, streams visitor messages at a fixed
//! total rate, and prints delivery latency (send → frame on the visitor's own socket,
//! send → frame on the team's socket), throughput and the server's memory.
//!
//!     cargo bench -p server --bench loadgen -- --visitors 500 --agents 10 --rate 300 --seconds 15
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::HashMap,
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    str::FromStr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use sqlx::{postgres::PgConnectOptions, ConnectOptions, Connection, Executor, PgConnection};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message as Ws};

struct Args {
    visitors: usize,
    agents: usize,
    rate: f64,
    seconds: u64,
    database: Option<String>,
}

fn args() -> Args {
    let mut args = Args { visitors: 200, agents: 10, rate: 200.0, seconds: 10, database: None };
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < raw.len() {
        let value = raw.get(i + 1).cloned().unwrap_or_default();
        match raw[i].as_str() {
            "--visitors" => args.visitors = value.parse().expect("--visitors N"),
            "--agents" => args.agents = value.parse().expect("--agents N"),
            "--rate" => args.rate = value.parse().expect("--rate messages/s"),
            "--seconds" => args.seconds = value.parse().expect("--seconds S"),
            "--database" => args.database = Some(value),
            _ => {
                i += 1; // cargo bench passes `--bench`; ignore what is not ours
                continue;
            }
        }
        i += 2;
    }
    args.agents = args.agents.min(args.visitors);
    args
}

const ADMIN_PASSWORD: &str = "bench-admin-password";

/// When each message was sent, and when each socket saw it.
#[derive(Default)]
struct Timings {
    sent: HashMap<String, Instant>,
    acked: Vec<Duration>,
    visitor: Vec<Duration>,
    team: Vec<Duration>,
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    samples.sort();
    let rank = ((p / 100.0) * (samples.len() - 1) as f64).round() as usize;
    samples[rank]
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

async fn fresh_postgres(url: &str) -> (String, String) {
    let name = format!("baton_bench_{:08x}", rand::random::<u32>());
    let mut admin = PgConnection::connect(url).await.expect("PostgreSQL reachable");
    admin.execute(format!(r#"CREATE DATABASE "{name}""#).as_str()).await.expect("create database");
    let options = PgConnectOptions::from_str(url).unwrap().database(&name);
    (options.to_url_lossy().to_string(), name)
}

fn start_server(database_url: &str, data_dir: &std::path::Path) -> (Child, String) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let binary = format!("{root}/target/release/server");
    let mut child = Command::new(&binary)
        .current_dir(root)
        .env("BATON_ADDR", "127.0.0.1:0")
        .env("BATON_DATA_DIR", data_dir)
        .env("DATABASE_URL", database_url)
        .env("BATON_ADMIN_EMAIL", "admin@bench.test")
        .env("BATON_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("BATON_VISITOR_MESSAGES_PER_MINUTE", "0")
        .env("BATON_LOGIN_ATTEMPTS_PER_MINUTE", "0")
        .env("BATON_LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE", "0")
        .env("BATON_STARTS_PER_ADDRESS_PER_MINUTE", "0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{binary}: {e} (run `make build` first)"));
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines.next().expect("banner").expect("banner line");
        if let Some(url) = line.trim().strip_prefix("Baton is running at ") {
            break url.to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, url)
}

async fn post(client: &reqwest::Client, base: &str, path: &str, token: Option<&str>, body: Value) -> Value {
    let mut request = client.post(format!("{base}/api/v1/{path}")).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert!(status.is_success(), "{path}: {status} {body}");
    body
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn socket(url: &str, headers: &[(&str, String)]) -> Socket {
    let mut request = url.into_client_request().unwrap();
    for (name, value) in headers {
        request.headers_mut().insert(http::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
    }
    tokio_tungstenite::connect_async(request).await.expect("socket").0
}

/// Records, for every message frame whose text is one of ours, how long it took.
fn watch(mut socket: Socket, timings: Arc<Mutex<Timings>>, team: bool) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(Ok(frame)) = socket.next().await {
            let Ws::Text(text) = frame else { continue };
            let Ok(frame) = serde_json::from_str::<Value>(&text) else { continue };
            let Some(body) = frame["message"]["text"].as_str() else { continue };
            if !body.starts_with("lg-") || frame["message"]["author"]["kind"] != "visitor" {
                continue;
            }
            let now = Instant::now();
            let mut t = timings.lock().unwrap();
            if let Some(sent) = t.sent.get(body).copied() {
                if team { t.team.push(now - sent) } else { t.visitor.push(now - sent) }
            }
        }
    })
}

async fn run(args: &Args, database_label: &str, database_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, base) = start_server(database_url, dir.path());
    let pid = server.id();
    let ws_base = base.replacen("http://", "ws://", 1);
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap();
    let timings = Arc::new(Mutex::new(Timings::default()));

    // Agents: created by the admin, each with its own Inbox socket.
    let admin_jar = Arc::new(reqwest::cookie::Jar::default());
    let admin = reqwest::Client::builder().cookie_provider(admin_jar).build().unwrap();
    post(&admin, &base, "auth/login", None, json!({"email": "admin@bench.test", "password": ADMIN_PASSWORD})).await;
    let mut agents = Vec::new();
    let mut watchers = Vec::new();
    for i in 0..args.agents {
        let email = format!("agent{i}@bench.test");
        post(&admin, &base, "team/members", None, json!({"email": email, "name": format!("Agent {i}"), "password": ADMIN_PASSWORD, "role": "agent"})).await;
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let agent = reqwest::Client::builder().cookie_provider(jar.clone()).build().unwrap();
        post(&agent, &base, "auth/login", None, json!({"email": email, "password": ADMIN_PASSWORD})).await;
        use reqwest::cookie::CookieStore;
        let cookie = jar.cookies(&base.parse().unwrap()).unwrap().to_str().unwrap().to_owned();
        let inbox = socket(&format!("{ws_base}/live/inbox"), &[("cookie", cookie), ("origin", base.clone())]).await;
        watchers.push(watch(inbox, timings.clone(), true));
        agents.push(agent);
    }
    let rss_base = rss_kib(pid, "VmRSS:");

    // Visitors: a conversation and a socket each; the first M escalate and are claimed.
    let mut chats = Vec::new();
    for i in 0..args.visitors {
        // The ones that will escalate give their email up front, so asking for a person hands over at once.
        let start_body = if i < args.agents {
            json!({"bot_id": "demo", "email": format!("visitor{i}@bench.test")})
        } else {
            json!({"bot_id": "demo"})
        };
        let start = post(&client, &base, "widget/start", None, start_body).await;
        let id = start["conversation_id"].as_str().unwrap().to_owned();
        let token = start["visitor_token"].as_str().unwrap().to_owned();
        let mut ws = socket(&format!("{ws_base}/live/widget?conversation_id={id}&after_seq=0"), &[]).await;
        ws.send(Ws::Text(json!({"type": "auth", "token": token}).to_string().into())).await.unwrap();
        watchers.push(watch(ws, timings.clone(), false));
        if i < args.agents {
            post(&client, &base, "widget/send", Some(&token), json!({"conversation_id": id, "client_id": "esc", "text": "I need a human"})).await;
        }
        chats.push((id, token));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    for (i, agent) in agents.iter().enumerate() {
        post(agent, &base, "inbox/claim", None, json!({"conversation_id": chats[i].0})).await;
    }
    let rss_idle = rss_kib(pid, "VmRSS:");

    // Load: every visitor sends in turn, at `rate` messages per second overall.
    let per_visitor = Duration::from_secs_f64(args.visitors as f64 / args.rate);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds);
    let mut senders = Vec::new();
    for (i, (id, token)) in chats.iter().cloned().enumerate() {
        let (client, base, timings) = (client.clone(), base.clone(), timings.clone());
        let offset = per_visitor.mul_f64(i as f64 / args.visitors as f64);
        senders.push(tokio::spawn(async move {
            tokio::time::sleep(offset).await;
            let mut ticks = tokio::time::interval(per_visitor);
            let mut n = 0;
            while Instant::now() < deadline {
                ticks.tick().await;
                let text = format!("lg-{i}-{n}");
                let sent = Instant::now();
                timings.lock().unwrap().sent.insert(text.clone(), sent);
                let body = json!({"conversation_id": id, "client_id": format!("c{n}"), "text": text});
                let ok = client
                    .post(format!("{base}/api/v1/widget/send"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if ok {
                    timings.lock().unwrap().acked.push(sent.elapsed());
                }
                n += 1;
            }
        }));
    }
    for sender in senders {
        let _ = sender.await;
    }
    let elapsed = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await; // let the last frames arrive
    let rss_peak = rss_kib(pid, "VmHWM:");
    let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
    let _ = server.wait();
    for watcher in watchers {
        watcher.abort();
    }

    let mut t = timings.lock().unwrap();
    let sent = t.sent.len();
    let acked = t.acked.len();
    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
    println!("\n== {database_label}: {} visitors, {} agents, target {} msg/s for {} s", args.visitors, args.agents, args.rate, args.seconds);
    println!("messages sent {sent}, acknowledged {acked}, {:.0} msg/s acknowledged", acked as f64 / elapsed.as_secs_f64());
    let (a50, a99) = (percentile(&mut t.acked, 50.0), percentile(&mut t.acked, 99.0));
    println!("send acknowledged (HTTP)       p50 {}  p99 {}", ms(a50), ms(a99));
    let (v50, v99, vn) = (percentile(&mut t.visitor, 50.0), percentile(&mut t.visitor, 99.0), t.visitor.len());
    println!("delivered to visitor's socket  p50 {}  p99 {}  ({vn} frames)", ms(v50), ms(v99));
    let (m50, m99, mn) = (percentile(&mut t.team, 50.0), percentile(&mut t.team, 99.0), t.team.len());
    println!("delivered to each team socket  p50 {}  p99 {}  ({mn} frames)", ms(m50), ms(m99));
    println!(
        "server RSS: {} MiB with {} agents, {} MiB with all {} sockets open, peak {} MiB",
        rss_base / 1024,
        args.agents,
        rss_idle / 1024,
        args.visitors + args.agents,
        rss_peak / 1024
    );
}

#[tokio::main]
async fn main() {
    let args = args();
    match args.database.clone() {
        Some(url) if url.starts_with("postgres") => {
            let (fresh, name) = fresh_postgres(&url).await;
            run(&args, "PostgreSQL", &fresh).await;
            let mut admin = PgConnection::connect(&url).await.expect("PostgreSQL");
            let _ = admin.execute(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str()).await;
        }
        _ => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}/bench.db?mode=rwc", dir.path().display());
            run(&args, "SQLite", &url).await;
        }
    }
}
