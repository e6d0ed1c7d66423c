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

/// Baton on port 0, on `database`, with a known admin password.
pub async fn spawn_app(database: &TestDatabase) -> TestApp {
    let mut settings = Settings::for_database(database.url.clone(), database.dir.path().to_path_buf());
    settings.admin_email = ADMIN_EMAIL.to_owned();
    settings.admin_password = Some(ADMIN_PASSWORD.to_owned());
    spawn_app_with(settings).await
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
