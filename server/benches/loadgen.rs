//! `make bench`: a load generator, not a test. It starts the release `server` on a
//! fresh database (SQLite, or PostgreSQL with `--database postgres://…`), opens visitor
//! WebSockets and agent Inbox sockets, sends visitor messages over HTTP, and prints
//! acknowledgement and delivery latency (send → frame on the visitor's own socket,
//! send → frame on each team socket), throughput, the server's CPU per message and
//! its memory.
//!
//!     cargo bench -p server --bench loadgen -- --visitors 500 --agents 10 --rate 300 --seconds 15
//!     cargo bench -p server --bench loadgen -- --claimed --rate 0        # the write path, no AI turns
//!     cargo bench -p server --bench loadgen -- --claimed --in-process --rate 0 --visitors 1000   # without HTTP
//!     cargo bench -p server --bench loadgen -- --suite [--database postgres://…]   # `make bench`'s table
//!
//! `--suite` also measures what this machine allows (fsyncs/s and batched rows/s on
//! the same disk and database, the loopback round trip) and prints each figure beside it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::HashMap,
    io::{BufRead, BufReader},
    net::{Ipv4Addr, SocketAddr},
    process::{Child, Command, Stdio},
    str::FromStr,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use server::handoff::Handoff;
use sqlx::{postgres::PgConnectOptions, AnyConnection, ConnectOptions, Connection, Executor, PgConnection};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message as Ws};

#[derive(Parser, Clone, Debug)]
#[command(about = "Baton's load generator: figures, not a test")]
struct Args {
    /// Visitors that send messages, each with its own socket.
    #[arg(long, default_value_t = 500)]
    visitors: usize,
    /// Agents, each with an Inbox socket (every team socket sees every message).
    #[arg(long, default_value_t = 10)]
    agents: usize,
    /// Visitor messages per second in all; 0 sends each visitor's next message as soon
    /// as the last is acknowledged (a closed loop: the figure is what the server sustains).
    #[arg(long, default_value_t = 300.0)]
    rate: f64,
    #[arg(long, default_value_t = 15)]
    seconds: u64,
    /// A PostgreSQL URL; the run makes and drops a fresh database in it. SQLite without it.
    #[arg(long)]
    database: Option<String>,
    /// Agents claim every conversation first, so visitor messages and agent replies
    /// flow without AI turns: the store's write path itself.
    #[arg(long)]
    claimed: bool,
    /// Idle visitor sockets (authenticated, never sending) besides the senders.
    #[arg(long, default_value_t = 0)]
    idle: usize,
    /// The server runs inside the load generator, and the measured messages go to its
    /// handoff directly, not over HTTP, with no sockets open: the write path alone
    /// (the visitor's token read, the group commit with its unique client id, the publish).
    #[arg(long)]
    in_process: bool,
    /// `make bench`: every scenario below on this database, as one table.
    #[arg(long)]
    suite: bool,
    /// Passed by `cargo bench`.
    #[arg(long, hide = true)]
    bench: bool,
}

const ADMIN_EMAIL: &str = "admin@bench.test";
const ADMIN_PASSWORD: &str = "bench-admin-password";

/// When each message was sent, and when each socket saw it.
#[derive(Default)]
struct Timings {
    sent: HashMap<String, Instant>,
    acked: Vec<Duration>,
    visitor: Vec<Duration>,
    team: Vec<Duration>,
}

/// What one run measured.
struct Report {
    acked: usize,
    per_second: f64,
    ack: (Duration, Duration),
    visitor: (Duration, Duration),
    team: (Duration, Duration),
    /// AI answers delivered to visitors per second while the load ran.
    bot_per_second: f64,
    cpu_ms_per_message: f64,
    rss_mib: (u64, u64),
    /// Server memory per idle visitor socket, when the run opened idle sockets.
    idle_kib: Option<f64>,
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    samples.sort();
    let rank = ((p / 100.0) * (samples.len() - 1) as f64).round() as usize;
    samples[rank]
}

fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// The process's user + system CPU time so far.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at the last ')'.
    let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("").split_whitespace().collect();
    let ticks: u64 = fields.get(11).and_then(|u| u.parse().ok()).unwrap_or(0)
        + fields.get(12).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Duration::from_secs_f64(ticks as f64 / hz as f64)
}

/// Lifts this process's open-file limit to its hard limit; the server inherits it.
fn raise_file_limit() -> u64 {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: plain syscalls on a valid, owned struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
    limit.rlim_cur
}

async fn fresh_postgres(url: &str) -> (String, String) {
    let name = format!("baton_bench_{:08x}", rand::random::<u32>());
    let mut admin = PgConnection::connect(url).await.expect("PostgreSQL reachable");
    admin.execute(format!(r#"CREATE DATABASE "{name}""#).as_str()).await.expect("create database");
    let options = PgConnectOptions::from_str(url).unwrap().database(&name);
    (options.to_url_lossy().to_string(), name)
}

async fn drop_postgres(url: &str, name: &str) {
    let mut admin = PgConnection::connect(url).await.expect("PostgreSQL");
    let _ = admin.execute(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str()).await;
}

fn start_server(database_url: &str, data_dir: &std::path::Path) -> (Child, String) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let binary = format!("{root}/target/release/server");
    let mut child = Command::new(&binary)
        .current_dir(root)
        .env("BATON_ADDR", "127.0.0.1:0")
        .env("BATON_DATA_DIR", data_dir)
        .env("DATABASE_URL", database_url)
        .env("BATON_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("BATON_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("BATON_VISITOR_MESSAGES_PER_MINUTE", "0")
        .env("BATON_LOGIN_ATTEMPTS_PER_MINUTE", "0")
        .env("BATON_LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE", "0")
        .env("BATON_STARTS_PER_ADDRESS_PER_MINUTE", "0")
        .env("BATON_STARTS_PER_CHATBOT_PER_MINUTE", "0")
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

/// The server under load: the release binary in its own process, or (`--in-process`)
/// the same `Application` on this process's runtime.
#[allow(clippy::large_enum_variant)] // one per run
enum Server {
    Child(Child),
    InProcess { handoff: Handoff, stop: tokio::sync::oneshot::Sender<()>, served: tokio::task::JoinHandle<()> },
}

impl Server {
    async fn start(in_process: bool, database_url: &str, data_dir: &std::path::Path) -> (Server, String) {
        if !in_process {
            let (child, url) = start_server(database_url, data_dir);
            return (Server::Child(child), url);
        }
        let mut settings = server::Settings::for_database(database_url, data_dir.to_path_buf());
        settings.db_max_connections = 16; // the binary's default
        settings.admin_email = ADMIN_EMAIL.to_owned();
        settings.admin_password = Some(ADMIN_PASSWORD.to_owned().into());
        settings.site_root = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/site").into();
        settings.visitor_messages_per_minute = 0;
        settings.login_attempts_per_minute = 0;
        settings.login_attempts_per_address_per_minute = 0;
        settings.starts_per_address_per_minute = 0;
        settings.starts_per_chatbot_per_minute = 0;
        let application = server::Application::build(&settings).await.expect("the server starts");
        let url = format!("http://{}", application.local_addr());
        let handoff = application.handoff();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(async move {
            let _ = application.run_until_stopped(async move { stopped.await.unwrap_or_default() }).await;
        });
        (Server::InProcess { handoff, stop, served }, url)
    }

    fn pid(&self) -> u32 {
        match self {
            Server::Child(child) => child.id(),
            Server::InProcess { .. } => std::process::id(),
        }
    }

    fn handoff(&self) -> Option<Handoff> {
        match self {
            Server::Child(_) => None,
            Server::InProcess { handoff, .. } => Some(handoff.clone()),
        }
    }

    async fn stop(self) {
        match self {
            Server::Child(mut child) => {
                let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
                let _ = child.wait();
            }
            Server::InProcess { stop, served, .. } => {
                let _ = stop.send(());
                let _ = served.await;
            }
        }
    }
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

type Socket = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// A socket from loopback address 127.0.0.`from` (so 10,000 of them do not run out of
/// one address's ephemeral ports).
async fn socket(server: SocketAddr, from: u8, url: &str, headers: &[(&str, String)]) -> Socket {
    let mut request = url.into_client_request().unwrap();
    for (name, value) in headers {
        request.headers_mut().insert(http::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
    }
    let tcp = tokio::net::TcpSocket::new_v4().unwrap();
    tcp.bind(SocketAddr::from((Ipv4Addr::new(127, 0, 0, from), 0))).unwrap();
    let stream = tcp.connect(server).await.expect("connect");
    stream.set_nodelay(true).unwrap();
    tokio_tungstenite::client_async(request, stream).await.expect("socket").0
}

/// Records, for every message frame whose text is one of ours, how long it took; and
/// counts the AI's answers while `measuring`.
fn watch(mut socket: Socket, shared: Shared, team: bool) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(Ok(frame)) = socket.next().await {
            let Ws::Text(text) = frame else { continue };
            if !text.contains("\"message\"") {
                continue;
            }
            let Ok(frame) = serde_json::from_str::<Value>(&text) else { continue };
            let author = &frame["message"]["author"]["kind"];
            if !team && author == "bot" && shared.measuring.load(Ordering::Relaxed) {
                shared.bot.fetch_add(1, Ordering::Relaxed);
            }
            let Some(body) = frame["message"]["text"].as_str() else { continue };
            if !body.starts_with("lg-") || author != "visitor" {
                continue;
            }
            let now = Instant::now();
            let mut t = shared.timings.lock().unwrap();
            if let Some(sent) = t.sent.get(body).copied() {
                if team {
                    t.team.push(now - sent)
                } else {
                    t.visitor.push(now - sent)
                }
            }
        }
    })
}

#[derive(Clone, Default)]
struct Shared {
    timings: Arc<Mutex<Timings>>,
    measuring: Arc<AtomicBool>,
    bot: Arc<AtomicUsize>,
}

struct Chat {
    id: String,
    token: String,
}

async fn start_chat(client: &reqwest::Client, base: &str, email: bool, i: usize) -> Chat {
    // Those that will be claimed give their email up front: asking for a person hands over at once.
    let body = if email {
        json!({"bot_id": "demo", "email": format!("visitor{i}@bench.test")})
    } else {
        json!({"bot_id": "demo"})
    };
    let start = post(client, base, "widget/start", None, body).await;
    Chat {
        id: start["conversation_id"].as_str().unwrap().to_owned(),
        token: start["visitor_token"].as_str().unwrap().to_owned(),
    }
}

async fn visitor_socket(server: SocketAddr, ws_base: &str, chat: &Chat, from: u8) -> Socket {
    let mut ws =
        socket(server, from, &format!("{ws_base}/live/widget?conversation_id={}&after_seq=0", chat.id), &[]).await;
    ws.send(Ws::Text(json!({"type": "auth", "token": chat.token}).to_string().into())).await.unwrap();
    ws
}

async fn run(args: &Args, database_url: &str) -> Report {
    let dir = tempfile::tempdir().unwrap();
    let (server, base) = Server::start(args.in_process, database_url, dir.path()).await;
    let pid = server.pid();
    let address: SocketAddr = base.trim_start_matches("http://").trim_end_matches('/').parse().unwrap();
    let ws_base = base.replacen("http://", "ws://", 1);
    let client = reqwest::Client::builder().pool_max_idle_per_host(1024).tcp_nodelay(true).build().unwrap();
    let shared = Shared::default();
    let agents_wanted = if args.claimed { args.agents.max(1) } else { args.agents.min(args.visitors) };

    // Agents: created by the admin, each with its own Inbox socket.
    let admin_jar = Arc::new(reqwest::cookie::Jar::default());
    let admin = reqwest::Client::builder().cookie_provider(admin_jar).build().unwrap();
    post(&admin, &base, "auth/login", None, json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})).await;
    let mut agents = Vec::new();
    let mut watchers = Vec::new();
    for i in 0..agents_wanted {
        let email = format!("agent{i}@bench.test");
        let member = json!({"email": email, "name": format!("Agent {i}"), "password": ADMIN_PASSWORD, "role": "agent"});
        post(&admin, &base, "team/members", None, member).await;
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let agent = reqwest::Client::builder().cookie_provider(jar.clone()).build().unwrap();
        post(&agent, &base, "auth/login", None, json!({"email": email, "password": ADMIN_PASSWORD})).await;
        use reqwest::cookie::CookieStore;
        let cookie = jar.cookies(&base.parse().unwrap()).unwrap().to_str().unwrap().to_owned();
        let headers = [("cookie", cookie), ("origin", base.clone())];
        let inbox = socket(address, 1, &format!("{ws_base}/live/inbox"), &headers).await;
        watchers.push(watch(inbox, shared.clone(), true));
        agents.push(agent);
    }

    // Idle visitors: conversations first, then their sockets, so the difference in
    // memory is the sockets' alone.
    let mut idle_kib = None;
    if args.idle > 0 {
        let mut idle = Vec::with_capacity(args.idle);
        for chunk in (0..args.idle).collect::<Vec<_>>().chunks(64) {
            let starts = chunk.iter().map(|&i| start_chat(&client, &base, false, i));
            idle.extend(futures_util::future::join_all(starts).await);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let before = status_kib(pid, "VmRSS:");
        for (i, chat) in idle.iter().enumerate() {
            let from = 2 + (i % 200) as u8;
            let ws = visitor_socket(address, &ws_base, chat, from).await;
            watchers.push(watch(ws, shared.clone(), false));
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        let after = status_kib(pid, "VmRSS:");
        idle_kib = Some(after.saturating_sub(before) as f64 / args.idle as f64);
    }

    // Senders: a conversation and a socket each. Without `--claimed`, the first
    // `agents` escalate and are claimed (the bot answers the others); with it, all are.
    let mut chats = Vec::new();
    for i in 0..args.visitors {
        let claim = args.claimed || i < agents_wanted;
        let chat = start_chat(&client, &base, claim, i).await;
        let ws = visitor_socket(address, &ws_base, &chat, 1).await;
        watchers.push(watch(ws, shared.clone(), false));
        if claim {
            let body = json!({"conversation_id": chat.id, "client_id": "esc", "text": "I need a human"});
            post(&client, &base, "widget/send", Some(&chat.token), body).await;
        }
        chats.push((chat, claim));
    }
    // The AI hands each over in its own turn; claim each once it has.
    for (i, (chat, _)) in chats.iter().filter(|(_, claim)| *claim).enumerate() {
        let agent = &agents[i % agents.len()];
        let claim = json!({"conversation_id": chat.id});
        let mut tries = 0;
        while !agent
            .post(format!("{base}/api/v1/inbox/claim"))
            .json(&claim)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            tries += 1;
            assert!(tries < 200, "conversation {} was never handed over", chat.id);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let chats: Vec<Chat> = chats.into_iter().map(|(chat, _)| chat).collect();
    let handoff = server.handoff();
    if handoff.is_some() {
        // The write path alone: nobody listening.
        for watcher in watchers.drain(..) {
            watcher.abort();
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_loaded = status_kib(pid, "VmRSS:");

    // Load: at `rate` messages per second overall, or closed-loop with `--rate 0`.
    let closed = args.rate <= 0.0;
    let per_visitor = Duration::from_secs_f64(if closed { 1.0 } else { args.visitors as f64 / args.rate });
    let cpu_before = cpu_time(pid);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds);
    shared.measuring.store(true, Ordering::Relaxed);
    let mut senders = Vec::new();
    for (i, chat) in chats.into_iter().enumerate() {
        let (client, base, timings, handoff) = (client.clone(), base.clone(), shared.timings.clone(), handoff.clone());
        let offset = per_visitor.mul_f64(i as f64 / args.visitors as f64);
        senders.push(tokio::spawn(async move {
            if !closed {
                tokio::time::sleep(offset).await;
            }
            let mut ticks = tokio::time::interval(per_visitor);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut n = 0;
            while Instant::now() < deadline {
                if !closed {
                    ticks.tick().await;
                }
                let text = format!("lg-{i}-{n}");
                let client_id = format!("c{n}");
                let sent = Instant::now();
                let ok = match &handoff {
                    Some(handoff) => handoff.visitor_send(Some(&chat.token), &chat.id, &client_id, &text).await.is_ok(),
                    None => {
                        timings.lock().unwrap().sent.insert(text.clone(), sent);
                        let body = json!({"conversation_id": chat.id, "client_id": client_id, "text": text});
                        client
                            .post(format!("{base}/api/v1/widget/send"))
                            .bearer_auth(&chat.token)
                            .json(&body)
                            .send()
                            .await
                            .is_ok_and(|r| r.status().is_success())
                    }
                };
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
    let cpu = cpu_time(pid).saturating_sub(cpu_before);
    shared.measuring.store(false, Ordering::Relaxed);
    let bot = shared.bot.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(2)).await; // let the last frames arrive
    let rss_peak = status_kib(pid, "VmHWM:");
    server.stop().await;
    for watcher in watchers {
        watcher.abort();
    }

    let mut t = shared.timings.lock().unwrap();
    let acked = t.acked.len();
    let p = |samples: &mut Vec<Duration>| (percentile(samples, 50.0), percentile(samples, 99.0));
    Report {
        acked,
        per_second: acked as f64 / elapsed.as_secs_f64(),
        ack: p(&mut t.acked),
        visitor: p(&mut t.visitor),
        team: p(&mut t.team),
        bot_per_second: bot as f64 / elapsed.as_secs_f64(),
        cpu_ms_per_message: cpu.as_secs_f64() * 1000.0 / acked.max(1) as f64,
        rss_mib: (rss_loaded / 1024, rss_peak / 1024),
        idle_kib,
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn print_report(args: &Args, label: &str, r: &Report) {
    let mode = if args.claimed { "claimed by agents" } else { "the AI answering" };
    let rate = if args.rate <= 0.0 { "closed loop".to_owned() } else { format!("target {} msg/s", args.rate) };
    println!(
        "\n== {label}: {} senders ({mode}), {} agents, {} idle sockets, {rate}, {} s",
        args.visitors, args.agents, args.idle, args.seconds
    );
    println!(
        "messages acknowledged {}, {:.0} msg/s; server CPU {:.3} ms per message",
        r.acked, r.per_second, r.cpu_ms_per_message
    );
    if args.in_process {
        println!("send stored (in process)       p50 {}  p99 {}", ms(r.ack.0), ms(r.ack.1));
    } else {
        println!("send acknowledged (HTTP)       p50 {}  p99 {}", ms(r.ack.0), ms(r.ack.1));
        println!("delivered to visitor's socket  p50 {}  p99 {}", ms(r.visitor.0), ms(r.visitor.1));
        println!("delivered to each team socket  p50 {}  p99 {}", ms(r.team.0), ms(r.team.1));
    }
    if !args.claimed {
        println!("AI answers delivered           {:.0} per second", r.bot_per_second);
    }
    if !args.in_process {
        println!("server RSS {} MiB loaded, peak {} MiB", r.rss_mib.0, r.rss_mib.1);
    }
    if let Some(kib) = r.idle_kib {
        println!("server memory per idle visitor socket {kib:.1} KiB");
    }
}

/// What the disk and database allow: durable single-row commits per second (each one
/// an fsync), and rows per second committed in batches as big as a group commit's.
struct DiskLimits {
    commits: f64,
    batched_rows: f64,
}

const LIMIT_BATCH: usize = 512;

async fn measure_limits(url: &str, setup: &str) -> DiskLimits {
    sqlx::any::install_default_drivers();
    let mut conn = AnyConnection::connect(url).await.expect("the database for the limits");
    conn.execute(setup).await.unwrap();
    conn.execute("CREATE TABLE IF NOT EXISTS bench_limit (id BIGINT PRIMARY KEY, text TEXT NOT NULL)").await.unwrap();
    let window = Duration::from_secs(2);
    let mut id: i64 = 0;
    let started = Instant::now();
    let mut commits = 0u64;
    while started.elapsed() < window {
        id += 1;
        let sql = format!("BEGIN; INSERT INTO bench_limit (id, text) VALUES ({id}, 'a visitor message'); COMMIT;");
        conn.execute(sql.as_str()).await.unwrap();
        commits += 1;
    }
    let commits = commits as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut rows = 0u64;
    while started.elapsed() < window {
        let mut sql = String::from("BEGIN;");
        for _ in 0..LIMIT_BATCH {
            id += 1;
            sql.push_str(&format!("INSERT INTO bench_limit (id, text) VALUES ({id}, 'a visitor message');"));
        }
        sql.push_str("COMMIT;");
        conn.execute(sql.as_str()).await.unwrap();
        rows += LIMIT_BATCH as u64;
    }
    DiskLimits { commits, batched_rows: rows as f64 / started.elapsed().as_secs_f64() }
}

/// The same pragmas as Baton's own connections (WAL, an fsync per commit).
async fn sqlite_limits(dir: &std::path::Path) -> DiskLimits {
    let url = format!("sqlite://{}/limits.db?mode=rwc", dir.display());
    measure_limits(&url, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;").await
}

async fn postgres_limits(url: &str) -> DiskLimits {
    measure_limits(url, "SELECT 1").await
}

/// The median TCP round trip of one byte on 127.0.0.1.
async fn loopback_round_trip() -> Duration {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        stream.set_nodelay(true).unwrap();
        let mut byte = [0u8; 1];
        while stream.read_exact(&mut byte).await.is_ok() {
            if stream.write_all(&byte).await.is_err() {
                break;
            }
        }
    });
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let mut samples = Vec::with_capacity(5000);
    let mut byte = [7u8; 1];
    for _ in 0..5000 {
        let sent = Instant::now();
        stream.write_all(&byte).await.unwrap();
        stream.read_exact(&mut byte).await.unwrap();
        samples.push(sent.elapsed());
    }
    percentile(&mut samples, 50.0)
}

/// One run on a fresh database: a new one in PostgreSQL at `postgres` (dropped after),
/// or SQLite file number `n` in `dir`.
async fn run_on_fresh(args: &Args, postgres: Option<&str>, dir: &std::path::Path, n: usize) -> Report {
    match postgres {
        Some(url) => {
            let (fresh, name) = fresh_postgres(url).await;
            let report = run(args, &fresh).await;
            drop_postgres(url, &name).await;
            report
        }
        None => run(args, &format!("sqlite://{}/bench-{n}.db?mode=rwc", dir.display())).await,
    }
}

/// `make bench`: each scenario on a fresh database, then one table.
async fn suite(args: &Args) {
    let postgres = args.database.clone().filter(|url| url.starts_with("postgres"));
    let label = if postgres.is_some() { "PostgreSQL" } else { "SQLite" };
    let dir = tempfile::tempdir().unwrap();
    let limits = match &postgres {
        Some(url) => {
            let (fresh, name) = fresh_postgres(url).await;
            let limits = postgres_limits(&fresh).await;
            drop_postgres(url, &name).await;
            limits
        }
        None => sqlite_limits(dir.path()).await,
    };
    let round_trip = loopback_round_trip().await;
    let scenario = |claimed: bool, visitors: usize, agents: usize, rate: f64, idle: usize| Args {
        claimed,
        visitors,
        agents,
        rate,
        idle,
        seconds: args.seconds,
        ..args.clone()
    };
    let write_path = Args { in_process: true, ..scenario(true, 1000, 2, 0.0, 0) };
    let mut runs = vec![
        ("the AI answering every message, closed loop", scenario(false, 200, 2, 0.0, 0)),
        ("claimed by agents, closed loop", scenario(true, 400, 2, 0.0, 0)),
        ("claimed by agents, 2,000 msg/s", scenario(true, 400, 2, 2000.0, 0)),
        ("claimed by agents, 1,000 msg/s", scenario(true, 400, 2, 1000.0, 0)),
        ("claimed, in process: the write path without HTTP, closed loop", write_path),
    ];
    if postgres.is_none() {
        runs.push(("claimed, 2,000 msg/s, 10,000 idle sockets + 50 agents", scenario(true, 200, 50, 2000.0, 10_000)));
    }
    let mut reports = Vec::new();
    for (name, scenario) in &runs {
        let report = run_on_fresh(scenario, postgres.as_deref(), dir.path(), reports.len()).await;
        print_report(scenario, &format!("{label}: {name}"), &report);
        reports.push(report);
    }

    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("\n### {label} on this machine ({cores} cores), {} s per run\n", args.seconds);
    println!("| figure | measured | this machine's limit | ratio |");
    println!("|---|---|---|---|");
    let ratio = |a: f64, b: f64| if b > 0.0 { format!("{:.1} %", 100.0 * a / b) } else { "–".into() };
    let rtt = round_trip.as_secs_f64() * 1000.0;
    let (ai, closed, steady) = (&reports[0], &reports[1], &reports[2]);
    println!(
        "| durable visitor messages/s, claimed (the write path) | {:.0} | {:.0} rows/s in batches of {LIMIT_BATCH}; {:.0} single-row commits/s | {} of batched; {:.1}× single commits |",
        closed.per_second, limits.batched_rows, limits.commits, ratio(closed.per_second, limits.batched_rows), closed.per_second / limits.commits.max(1.0)
    );
    println!(
        "| acknowledgement at 2,000 msg/s, claimed: p50 / p99 ({:.0} msg/s sustained) | {} / {} | loopback round trip {rtt:.3} ms | p50 = {:.0}× round trip |",
        steady.per_second, ms(steady.ack.0), ms(steady.ack.1), steady.ack.0.as_secs_f64() * 1000.0 / rtt
    );
    println!(
        "| delivery at 2,000 msg/s, claimed: visitor p50 / p99; team p50 / p99 | {} / {}; {} / {} | loopback round trip {rtt:.3} ms | – |",
        ms(steady.visitor.0), ms(steady.visitor.1), ms(steady.team.0), ms(steady.team.1)
    );
    println!(
        "| server CPU per message: claimed / the AI answering | {:.3} ms / {:.3} ms | 2 cores = {:.0} msg/s at the claimed cost | – |",
        closed.cpu_ms_per_message, ai.cpu_ms_per_message, cores as f64 * 1000.0 / closed.cpu_ms_per_message.max(0.001)
    );
    println!(
        "| visitor messages/s with the AI answering each (closed loop); AI answers/s | {:.0}; {:.0} | the claimed rate, {:.0} | {} |",
        ai.per_second, ai.bot_per_second, closed.per_second, ratio(ai.per_second, closed.per_second)
    );
    let half = &reports[3];
    println!(
        "| acknowledgement at 1,000 msg/s, claimed: p50 / p99 ({:.0} msg/s sustained) | {} / {} | loopback round trip {rtt:.3} ms | p50 = {:.0}× round trip |",
        half.per_second, ms(half.ack.0), ms(half.ack.1), half.ack.0.as_secs_f64() * 1000.0 / rtt
    );
    let alone = &reports[4];
    println!(
        "| durable visitor messages/s, claimed, in process: the write path without HTTP ({} senders); stored p50 / p99; CPU per message | {:.0}; {} / {}; {:.3} ms | {:.0} rows/s in batches of {LIMIT_BATCH}; {:.0} single-row commits/s | {} of batched; {:.1}× single commits |",
        runs[4].1.visitors, alone.per_second, ms(alone.ack.0), ms(alone.ack.1), alone.cpu_ms_per_message, limits.batched_rows, limits.commits, ratio(alone.per_second, limits.batched_rows), alone.per_second / limits.commits.max(1.0)
    );
    if let Some(idle) = reports.get(5) {
        println!(
            "| 10,000 idle visitor sockets + 50 agents: KiB per idle socket; RSS | {:.1} KiB; {} MiB (peak {}) | goal ≤ 6 KiB | – |",
            idle.idle_kib.unwrap_or(0.0), idle.rss_mib.0, idle.rss_mib.1
        );
        println!(
            "| …with them all connected, 2,000 msg/s: delivery to visitor p50 / p99; to each of 50 team sockets p50 / p99 | {} / {}; {} / {} | loopback round trip {rtt:.3} ms | – |",
            ms(idle.visitor.0), ms(idle.visitor.1), ms(idle.team.0), ms(idle.team.1)
        );
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let files = raise_file_limit();
    if args.idle + args.visitors + args.agents + 64 > files as usize {
        eprintln!(
            "warning: {} sockets asked for, but the open-file limit is {files}",
            args.idle + args.visitors + args.agents
        );
    }
    if args.suite {
        suite(&args).await;
        return;
    }
    let postgres = args.database.as_deref().filter(|url| url.starts_with("postgres"));
    let dir = tempfile::tempdir().unwrap();
    let report = run_on_fresh(&args, postgres, dir.path(), 0).await;
    print_report(&args, if postgres.is_some() { "PostgreSQL" } else { "SQLite" }, &report);
}
