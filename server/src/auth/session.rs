//! Team sessions with `tower-sessions`: this is its `SessionStore` over Baton's own
//! pool, so sessions live in the `sessions` table on SQLite and PostgreSQL alike.
//! The member id is also kept in its own column, so all of a member's sessions can
//! be ended at once.

use async_trait::async_trait;
use sqlx::Row;
use tower_sessions::{
    session::{Id, Record},
    session_store::{self, ExpiredDeletion},
    SessionStore,
};

use crate::store::{now_ms, Store};

/// The session key holding the signed-in member's id.
pub const MEMBER_KEY: &str = "member_id";

/// Is this session still there and unexpired? (A database error counts as alive:
/// a socket is not cut because of a passing fault.)
pub async fn session_alive(store: &Store, id: &Id) -> bool {
    sqlx::query("SELECT 1 FROM sessions WHERE id = $1 AND expires_at > $2")
        .bind(id.to_string())
        .bind(now_ms())
        .fetch_optional(store.pool())
        .await
        .map(|row| row.is_some())
        .unwrap_or(true)
}

/// Ends every session of `member_id` but `keep`, returning their fingerprints so their
/// live sockets can be closed too.
pub async fn end_other_sessions(store: &Store, member_id: &str, keep: &Id) -> Result<Vec<String>, sqlx::Error> {
    let mut tx = store.begin_write().await?;
    let rows = sqlx::query("DELETE FROM sessions WHERE member_id = $1 AND id <> $2 RETURNING id")
        .bind(member_id)
        .bind(keep.to_string())
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    rows.iter().map(|row| row.try_get::<String, _>("id").map(|id| super::visitor_token::hash(&id))).collect()
}

/// A session's id is a bearer secret; events about a session name it by this hash.
pub fn fingerprint(id: &Id) -> String {
    super::visitor_token::hash(&id.to_string())
}

#[derive(Clone)]
pub struct SqlSessionStore {
    store: Store,
}

impl std::fmt::Debug for SqlSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqlSessionStore")
    }
}

impl SqlSessionStore {
    pub fn new(store: Store) -> SqlSessionStore {
        SqlSessionStore { store }
    }

    /// Ends every session of a member (sign-out everywhere, password change).
    pub async fn delete_member_sessions(&self, member_id: &str) -> Result<(), sqlx::Error> {
        let mut tx = self.store.begin_write().await?;
        sqlx::query("DELETE FROM sessions WHERE member_id = $1").bind(member_id).execute(&mut *tx).await?;
        tx.commit().await
    }
}

impl SqlSessionStore {
    /// Inserts the record unless its id is taken. True if a row was written.
    async fn insert(&self, record: &Record) -> session_store::Result<bool> {
        let sql = "INSERT INTO sessions (id, member_id, data, expires_at) VALUES ($1, $2, $3, $4) \
                   ON CONFLICT (id) DO NOTHING";
        Ok(self.write(sql, record).await? == 1)
    }

    /// Runs `sql` with the record's id, member, data and expiry as `$1`..`$4`, in a write
    /// transaction; returns the rows affected.
    async fn write(&self, sql: &str, record: &Record) -> session_store::Result<u64> {
        let data = serde_json::to_string(record).map_err(backend)?;
        let mut tx = self.store.begin_write().await.map_err(backend)?;
        let written = sqlx::query(sql)
            .bind(record.id.to_string())
            .bind(member_of(record))
            .bind(data)
            .bind(expires_ms(record))
            .execute(&mut *tx)
            .await
            .map_err(backend)?
            .rows_affected();
        tx.commit().await.map_err(backend)?;
        Ok(written)
    }
}

fn backend(err: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

fn expires_ms(record: &Record) -> i64 {
    i64::try_from(record.expiry_date.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn member_of(record: &Record) -> Option<String> {
    record.data.get(MEMBER_KEY).and_then(|v| v.as_str()).map(str::to_owned)
}

#[async_trait]
impl SessionStore for SqlSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // Ids are 128 random bits; on the astronomically rare collision, draw again.
        while !self.insert(record).await? {
            record.id = Id::default();
        }
        Ok(())
    }

    /// Updates a session that exists, and never writes one back: a session ended while
    /// one of its requests was in flight (signed out elsewhere, password changed) must
    /// stay ended when that request finishes and saves its new expiry.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let sql = "UPDATE sessions SET member_id = $2, data = $3, expires_at = $4 WHERE id = $1";
        self.write(sql, record).await.map(|_| ())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row = sqlx::query("SELECT data FROM sessions WHERE id = $1 AND expires_at > $2")
            .bind(id.to_string())
            .bind(now_ms())
            .fetch_optional(self.store.pool())
            .await
            .map_err(backend)?;
        match row {
            Some(row) => {
                let data: String = row.try_get("data").map_err(backend)?;
                Ok(Some(serde_json::from_str(&data).map_err(|e| session_store::Error::Decode(e.to_string()))?))
            }
            None => Ok(None),
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let mut tx = self.store.begin_write().await.map_err(backend)?;
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }
}

#[async_trait]
impl ExpiredDeletion for SqlSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        let mut tx = self.store.begin_write().await.map_err(backend)?;
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now_ms())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }
}
