//! Team sessions in storage (`auth::session` is the `tower-sessions` store over these).
//! A session row holds the record as JSON, and its member's id in a column of its own,
//! so all of a member's sessions can be ended at once.

use sqlx::Row;

use super::{now_ms, Store};

/// One session row.
pub struct SessionRow<'a> {
    pub id: &'a str,
    pub member_id: Option<&'a str>,
    pub data: &'a str,
    pub expires_at: i64,
}

impl Store {
    /// Is this session there and unexpired?
    pub async fn session_alive(&self, id: &str) -> Result<bool, sqlx::Error> {
        let row = sqlx::query("SELECT 1 FROM sessions WHERE id = $1 AND expires_at > $2")
            .bind(id)
            .bind(now_ms())
            .fetch_optional(self.pool())
            .await?;
        Ok(row.is_some())
    }

    /// The record of an unexpired session, as JSON.
    pub async fn session_data(&self, id: &str) -> Result<Option<String>, sqlx::Error> {
        let row = sqlx::query("SELECT data FROM sessions WHERE id = $1 AND expires_at > $2")
            .bind(id)
            .bind(now_ms())
            .fetch_optional(self.pool())
            .await?;
        row.map(|row| row.try_get("data")).transpose()
    }

    /// Inserts a session unless its id is taken. True if a row was written.
    pub async fn insert_session(&self, session: SessionRow<'_>) -> Result<bool, sqlx::Error> {
        let sql = "INSERT INTO sessions (id, member_id, data, expires_at) VALUES ($1, $2, $3, $4) \
                   ON CONFLICT (id) DO NOTHING";
        Ok(self.write_session(sql, session).await? == 1)
    }

    /// Updates a session that exists, and never writes one back: a session ended while
    /// one of its requests was in flight must stay ended when that request saves.
    pub async fn update_session(&self, session: SessionRow<'_>) -> Result<(), sqlx::Error> {
        let sql = "UPDATE sessions SET member_id = $2, data = $3, expires_at = $4 WHERE id = $1";
        self.write_session(sql, session).await.map(|_| ())
    }

    /// Runs `sql` with the session's id, member, data and expiry as `$1`..`$4`.
    async fn write_session(&self, sql: &str, session: SessionRow<'_>) -> Result<u64, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let written = sqlx::query(sql)
            .bind(session.id)
            .bind(session.member_id)
            .bind(session.data)
            .bind(session.expires_at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(written)
    }

    pub async fn delete_session(&self, id: &str) -> Result<(), sqlx::Error> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await
    }

    /// Ends every session of `member_id` but `keep`; returns the ended sessions' ids.
    pub async fn delete_other_sessions(&self, member_id: &str, keep: &str) -> Result<Vec<String>, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query("DELETE FROM sessions WHERE member_id = $1 AND id <> $2 RETURNING id")
            .bind(member_id)
            .bind(keep)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        rows.iter().map(|row| row.try_get::<String, _>("id")).collect()
    }

    pub async fn delete_expired_sessions(&self) -> Result<(), sqlx::Error> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now_ms()).execute(&mut *tx).await?;
        tx.commit().await
    }
}
