//! Team sessions with `tower-sessions`: this is its `SessionStore` over Baton's own
//! storage (`store::sessions`), so sessions live in the database on SQLite and
//! PostgreSQL alike, and every instance sees a sign-out at once.

use async_trait::async_trait;
use tower_sessions::{
    session::{Id, Record},
    session_store::{self, ExpiredDeletion},
    SessionStore,
};

use crate::store::{sessions::SessionRow, Store};

/// The session key holding the signed-in member's id.
pub const MEMBER_KEY: &str = "member_id";

/// Is this session still there and unexpired? (A database error counts as alive:
/// a socket is not cut because of a passing fault.)
pub async fn session_alive(store: &Store, id: &Id) -> bool {
    store.session_alive(&id.to_string()).await.unwrap_or(true)
}

/// Ends every session of `member_id` but `keep`, returning their fingerprints so their
/// live sockets can be closed too.
pub async fn end_other_sessions(store: &Store, member_id: &str, keep: &Id) -> Result<Vec<String>, sqlx::Error> {
    let ended = store.delete_other_sessions(member_id, &keep.to_string()).await?;
    Ok(ended.iter().map(|id| fingerprint_of(id)).collect())
}

/// The fingerprint of a session id as stored.
pub fn fingerprint_of(id: &str) -> String {
    super::visitor_token::hash(id)
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
}

fn backend(err: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

fn expires_ms(record: &Record) -> i64 {
    i64::try_from(record.expiry_date.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn member_of(record: &Record) -> Option<&str> {
    record.data.get(MEMBER_KEY).and_then(|v| v.as_str())
}

/// The row for `record`: `data` is the record as JSON, `id` its id as text.
fn row<'a>(record: &'a Record, id: &'a str, data: &'a str) -> SessionRow<'a> {
    SessionRow { id, member_id: member_of(record), data, expires_at: expires_ms(record) }
}

#[async_trait]
impl SessionStore for SqlSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // Ids are 128 random bits; on the astronomically rare collision, draw again.
        loop {
            let (id, data) = (record.id.to_string(), serde_json::to_string(record).map_err(backend)?);
            if self.store.insert_session(row(record, &id, &data)).await.map_err(backend)? {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    /// Updates a session that exists, and never writes one back: a session ended while
    /// one of its requests was in flight (signed out elsewhere, password changed) must
    /// stay ended when that request finishes and saves its new expiry.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let (id, data) = (record.id.to_string(), serde_json::to_string(record).map_err(backend)?);
        self.store.update_session(row(record, &id, &data)).await.map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self.store.session_data(&id.to_string()).await.map_err(backend)? {
            Some(data) => Ok(Some(serde_json::from_str(&data).map_err(|e| session_store::Error::Decode(e.to_string()))?)),
            None => Ok(None),
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.store.delete_session(&id.to_string()).await.map_err(backend)
    }
}

#[async_trait]
impl ExpiredDeletion for SqlSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        self.store.delete_expired_sessions().await.map_err(backend)
    }
}
