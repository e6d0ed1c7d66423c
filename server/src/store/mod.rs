//! Storage: one sqlx pool over SQLite (default) or PostgreSQL.
//!
//! Queries are written once, with runtime-checked SQL and `$1`-style parameters that
//! both backends accept; where the dialects differ, the migrations (one directory per
//! backend) absorb it. Times are stored as integer milliseconds since the Unix epoch.

pub mod activity;
pub mod conversations;
pub mod group;
pub mod helpdesks;
pub mod knowledge;
pub mod members;
pub mod sessions;

use std::{str::FromStr, time::Duration};

use sqlx::{
    any::{AnyConnectOptions, AnyPoolOptions},
    AnyPool, Executor,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL (expected sqlite:// or postgres://)")]
    UnsupportedUrl,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    /// Where write transactions run. On SQLite a one-connection pool: writes queue in
    /// Baton instead of racing for SQLite's single write lock (no SQLITE_BUSY on lock
    /// upgrades). On PostgreSQL the same pool as reads.
    writer: AnyPool,
    /// The hot path's writes (messages, state changes, bot turns): group-committed.
    group: group::GroupCommit,
    backend: Backend,
    /// SQLite's checkpoints run beside the writer (see `checkpoints`); they stop when
    /// the last clone of the store is dropped.
    _checkpoints: Option<std::sync::Arc<tokio::sync::oneshot::Sender<()>>>,
}

/// How often SQLite's WAL is copied back into the database file, off the writer's path.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl);
        };
        let options = AnyConnectOptions::from_str(url)?;
        let pool = pool_options(backend, max_connections).connect_with(options.clone()).await?;
        let (writer, lanes) = match backend {
            Backend::Sqlite => (pool_options(backend, 1).connect_with(options).await?, 1),
            // Up to four lanes of batches; the other connections serve reads and other writes.
            Backend::Postgres => (pool.clone(), (max_connections / 4).clamp(1, 4) as usize),
        };
        let group = group::GroupCommit::start(writer.clone(), lanes);
        let checkpoints = (backend == Backend::Sqlite).then(|| {
            let (stop, stopped) = tokio::sync::oneshot::channel();
            tokio::spawn(checkpoints(pool.clone(), stopped));
            std::sync::Arc::new(stop)
        });
        Ok(Store { pool, writer, group, backend, _checkpoints: checkpoints })
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.writer).await?;
        Ok(())
    }

    /// Does the database answer? Used by `/readyz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// PostgreSQL's `NOTIFY` on `channel` (the cross-instance bus's wake-up).
    pub async fn notify(&self, channel: &str, payload: &str) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT pg_notify($1, $2)").bind(channel).bind(payload).execute(self.pool()).await.map(|_| ())
    }

    /// A write transaction of its own (see `writer`), for changes off the hot path. Keep
    /// it short: on SQLite it holds the only writer, which the group commit waits for.
    pub async fn begin_write(&self) -> Result<conversations::Tx, sqlx::Error> {
        self.writer.begin().await
    }

    /// Runs `work` as one change in the next group commit of `key`'s lane (see
    /// `group`): it shares a transaction with other callers' changes, is rolled back
    /// alone if it fails, and is answered once its batch is durable. It may run more than
    /// once (the runs before the last are rolled back), so it does nothing outside `tx`.
    pub async fn write<T, E, F>(&self, key: &str, work: F) -> Result<T, E>
    where
        F: for<'t> Fn(&'t mut conversations::Tx) -> group::BoxFuture<'t, Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: From<sqlx::Error> + Send + 'static,
    {
        self.group.write(key, work).await
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }
}

/// Milliseconds since the Unix epoch: the storage form of every timestamp.
pub fn now_ms() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

fn pool_options(backend: Backend, max_connections: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max_connections.max(1))
        .acquire_timeout(Duration::from_secs(10))
        // sqlx pings a connection each time it is taken from the pool. A SQLite connection
        // is a file on this machine that cannot drop: its ping is only one more hand-off to
        // the connection's thread per query. A PostgreSQL one can (a restart, a failover).
        .test_before_acquire(backend == Backend::Postgres)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    // WAL lets readers work beside the writer; FULL syncs every commit so an
                    // acknowledged write survives a power cut, not only a crash.
                    // SQLite still checkpoints inside a commit every 1,000 pages (that keeps
                    // the WAL bounded), but `checkpoints` has copied most of it back by then.
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                         PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                    )
                    .await?;
                }
                Ok(())
            })
        })
}

/// Copies SQLite's WAL back into the database file every `CHECKPOINT_EVERY`, from a
/// reader connection, beside the writer (a passive checkpoint never blocks it). The
/// writer's own checkpoint, which SQLite runs inside the commit that fills 1,000 pages
/// while every change of that batch waits, then finds little left to copy: at 2,000
/// msg/s the p99 acknowledgement went from 22-160 ms to 7-13 ms (README). Without the
/// writer's own, the WAL would never start over under steady load (it grew to 430 MB in
/// 10 s), so it stays on.
async fn checkpoints(pool: AnyPool, mut stopped: tokio::sync::oneshot::Receiver<()>) {
    let mut every = tokio::time::interval(CHECKPOINT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = &mut stopped => return,
            _ = every.tick() => {}
        }
        if pool.is_closed() {
            return;
        }
        if let Err(err) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await {
            tracing::warn!(error = %err, "a WAL checkpoint failed; the next one retries");
        }
    }
}

/// A stored timestamp as RFC 3339 in UTC: the one place timestamps are formatted.
pub fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|at| at.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}

/// A new opaque id: a short kind prefix and 128 random bits in hex.
pub fn new_id(prefix: &str) -> String {
    let bits: u128 = rand::random();
    format!("{prefix}_{bits:032x}")
}

#[cfg(test)]
mod tests {
    use super::Store;

    /// The database file (not its WAL) grows by what was written well before SQLite's
    /// own checkpoint at 1,000 pages would copy it: the background checkpoint did.
    #[tokio::test]
    async fn what_is_written_reaches_the_database_file_without_waiting_for_1000_pages() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("checkpoint.db");
        let store = Store::connect(&format!("sqlite://{}?mode=rwc", path.display()), 2).await.expect("SQLite");
        let mut tx = store.begin_write().await.expect("tx");
        sqlx::query("CREATE TABLE t (v TEXT NOT NULL)").execute(&mut *tx).await.expect("table");
        tx.commit().await.expect("commit");
        tokio::time::sleep(super::CHECKPOINT_EVERY * 3).await;
        let before = std::fs::metadata(&path).expect("the file").len();
        let mut tx = store.begin_write().await.expect("tx");
        for _ in 0..100 {
            sqlx::query("INSERT INTO t (v) VALUES ($1)").bind("x".repeat(4000)).execute(&mut *tx).await.expect("row");
        }
        tx.commit().await.expect("commit");
        let mut grown = 0;
        for _ in 0..40 {
            tokio::time::sleep(super::CHECKPOINT_EVERY / 2).await;
            grown = std::fs::metadata(&path).expect("the file").len().saturating_sub(before);
            if grown >= 400_000 {
                break;
            }
        }
        assert!(grown >= 400_000, "about 100 pages were written; the database file grew by {grown} bytes");
    }
}
