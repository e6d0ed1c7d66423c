//! Connected help desks and the outbox of escalations on their way to them (see
//! migration 0007).

use app::domain::helpdesk::Desk;
use sqlx::{any::AnyRow, Row};

use super::{
    activity::{NewActivity, Query},
    conversations::Tx,
    Store,
};

/// One connected desk. `sealed` opens only with the server key and this chatbot
/// and desk as context (`connection_context`).
#[derive(Debug, Clone)]
pub struct ConnectionRecord {
    pub chatbot_id: String,
    pub desk: Desk,
    pub account: String,
    pub secret_hint: Option<String>,
    pub sealed: String,
    pub connected_by: String,
    pub connected_at: i64,
}

/// What a sealed connection is bound to.
pub fn connection_context(chatbot_id: &str, desk: Desk) -> String {
    format!("helpdesk:{chatbot_id}:{}", desk.as_str())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxStatus {
    Pending,
    Sent,
    Failed,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Result<OutboxStatus, sqlx::Error> {
        match text {
            "pending" => Ok(OutboxStatus::Pending),
            "sent" => Ok(OutboxStatus::Sent),
            "failed" => Ok(OutboxStatus::Failed),
            other => Err(sqlx::Error::Decode(format!("unknown outbox status {other:?}").into())),
        }
    }
}

#[derive(Debug, Clone)]
pub struct OutboxRecord {
    /// The escalation id.
    pub id: String,
    pub conversation_id: String,
    pub workspace_id: String,
    pub chatbot_id: String,
    pub desk: Desk,
    pub status: OutboxStatus,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub ticket_id: Option<String>,
    pub ticket_url: Option<String>,
    pub updated_at: i64,
}

impl OutboxRecord {
    /// The vendor's reason for the last failure, while it still matters (not once sent).
    pub fn shown_error(&self) -> Option<String> {
        self.last_error.clone().filter(|_| self.status != OutboxStatus::Sent)
    }
}

/// A new outbox row, written in the escalation's transaction.
pub struct NewOutbox<'a> {
    pub id: &'a str,
    pub conversation_id: &'a str,
    pub workspace_id: &'a str,
    pub chatbot_id: &'a str,
    pub desk: Desk,
    pub now: i64,
}

fn desk_of(row: &AnyRow) -> Result<Desk, sqlx::Error> {
    let text: String = row.try_get("desk")?;
    Desk::parse(&text).ok_or_else(|| sqlx::Error::Decode(format!("unknown desk {text:?}").into()))
}

fn connection_from_row(row: &AnyRow) -> Result<ConnectionRecord, sqlx::Error> {
    Ok(ConnectionRecord {
        chatbot_id: row.try_get("chatbot_id")?,
        desk: desk_of(row)?,
        account: row.try_get("account")?,
        secret_hint: row.try_get("secret_hint")?,
        sealed: row.try_get("sealed")?,
        connected_by: row.try_get("connected_by")?,
        connected_at: row.try_get("connected_at")?,
    })
}

fn outbox_from_row(row: &AnyRow) -> Result<OutboxRecord, sqlx::Error> {
    Ok(OutboxRecord {
        id: row.try_get("id")?,
        conversation_id: row.try_get("conversation_id")?,
        workspace_id: row.try_get("workspace_id")?,
        chatbot_id: row.try_get("chatbot_id")?,
        desk: desk_of(row)?,
        status: OutboxStatus::parse(&row.try_get::<String, _>("status")?)?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        last_error: row.try_get("last_error")?,
        ticket_id: row.try_get("ticket_id")?,
        ticket_url: row.try_get("ticket_url")?,
        updated_at: row.try_get("updated_at")?,
    })
}

const CONNECTION_SELECT: &str =
    "SELECT chatbot_id, desk, account, secret_hint, sealed, connected_by, connected_at FROM helpdesk_connections";
const OUTBOX_SELECT: &str = "SELECT id, conversation_id, workspace_id, chatbot_id, desk, status, attempts, \
                             next_attempt_at, last_error, ticket_id, ticket_url, updated_at FROM helpdesk_outbox";

/// Writes the outbox row of an escalation, inside its transaction.
pub async fn insert_outbox(tx: &mut Tx, new: NewOutbox<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO helpdesk_outbox (id, conversation_id, workspace_id, chatbot_id, desk, status, attempts, \
         next_attempt_at, lease_until, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, 0, $6, $6)",
    )
    .bind(new.id)
    .bind(new.conversation_id)
    .bind(new.workspace_id)
    .bind(new.chatbot_id)
    .bind(new.desk.as_str())
    .bind(new.now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    pub async fn connections(&self, chatbot_id: &str) -> Result<Vec<ConnectionRecord>, sqlx::Error> {
        let sql = format!("{CONNECTION_SELECT} WHERE chatbot_id = $1");
        let rows = sqlx::query(&sql).bind(chatbot_id).fetch_all(self.pool()).await?;
        rows.iter().map(connection_from_row).collect()
    }

    /// Every connected desk of every chatbot (for resealing under a new key).
    pub async fn all_connections(&self) -> Result<Vec<ConnectionRecord>, sqlx::Error> {
        let rows = sqlx::query(CONNECTION_SELECT).fetch_all(self.pool()).await?;
        rows.iter().map(connection_from_row).collect()
    }

    /// Replaces a connection's sealed form, if it is still the one read (`old`).
    pub async fn reseal_connection(&self, record: &ConnectionRecord, sealed: &str) -> Result<bool, sqlx::Error> {
        let sql = "UPDATE helpdesk_connections SET sealed = $1 WHERE chatbot_id = $2 AND desk = $3 AND sealed = $4";
        let updated = self
            .write_one(sql, |q| q.bind(sealed).bind(&record.chatbot_id).bind(record.desk.as_str()).bind(&record.sealed))
            .await?;
        Ok(updated == 1)
    }

    pub async fn connection(&self, chatbot_id: &str, desk: Desk) -> Result<Option<ConnectionRecord>, sqlx::Error> {
        let sql = format!("{CONNECTION_SELECT} WHERE chatbot_id = $1 AND desk = $2");
        let row = sqlx::query(&sql).bind(chatbot_id).bind(desk.as_str()).fetch_optional(self.pool()).await?;
        row.as_ref().map(connection_from_row).transpose()
    }

    /// Connects a desk, or replaces what it was connected with.
    pub async fn save_connection<'q>(
        &self,
        record: &'q ConnectionRecord,
        activity: &NewActivity<'_>,
    ) -> Result<(), sqlx::Error> {
        let sql = "INSERT INTO helpdesk_connections (chatbot_id, desk, account, secret_hint, sealed, connected_by, \
                   connected_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (chatbot_id, desk) DO UPDATE SET \
                   account = excluded.account, secret_hint = excluded.secret_hint, sealed = excluded.sealed, \
                   connected_by = excluded.connected_by, connected_at = excluded.connected_at";
        let bind = |q: Query<'q>| {
            q.bind(&record.chatbot_id)
                .bind(record.desk.as_str())
                .bind(&record.account)
                .bind(&record.secret_hint)
                .bind(&record.sealed)
                .bind(&record.connected_by)
                .bind(record.connected_at)
        };
        self.write_logged(sql, bind, Some(activity)).await.map(drop)
    }

    /// Whether there was a connection to delete.
    pub async fn delete_connection(
        &self,
        chatbot_id: &str,
        desk: Desk,
        activity: &NewActivity<'_>,
    ) -> Result<bool, sqlx::Error> {
        let sql = "DELETE FROM helpdesk_connections WHERE chatbot_id = $1 AND desk = $2";
        Ok(self.write_logged(sql, |q| q.bind(chatbot_id).bind(desk.as_str()), Some(activity)).await? > 0)
    }

    /// Pending rows due by `now` that no live lease holds, oldest first.
    pub async fn due_outbox(&self, now: i64, limit: i64) -> Result<Vec<OutboxRecord>, sqlx::Error> {
        let sql = format!(
            "{OUTBOX_SELECT} WHERE status = 'pending' AND next_attempt_at <= $1 AND lease_until < $1 \
             ORDER BY next_attempt_at LIMIT $2"
        );
        let rows = sqlx::query(&sql).bind(now).bind(limit).fetch_all(self.pool()).await?;
        rows.iter().map(outbox_from_row).collect()
    }

    /// Takes a row until `until`, if no one else holds it: the one winner gets true.
    pub async fn lease_outbox(&self, id: &str, now: i64, until: i64) -> Result<bool, sqlx::Error> {
        let sql = "UPDATE helpdesk_outbox SET lease_until = $3, attempts = attempts + 1, updated_at = $2 \
                   WHERE id = $1 AND status = 'pending' AND lease_until < $2";
        Ok(self.write_one(sql, |q| q.bind(id).bind(now).bind(until)).await? == 1)
    }

    pub async fn outbox_sent(&self, id: &str, ticket_id: &str, url: Option<&str>, now: i64) -> Result<(), sqlx::Error> {
        let sql = "UPDATE helpdesk_outbox SET status = 'sent', ticket_id = $2, ticket_url = $3, last_error = NULL, \
                   lease_until = 0, updated_at = $4 WHERE id = $1";
        self.write_one(sql, |q| q.bind(id).bind(ticket_id).bind(url).bind(now)).await.map(drop)
    }

    /// Another attempt at `next_at`, keeping why this one failed.
    pub async fn outbox_retry_at(&self, id: &str, error: &str, next_at: i64, now: i64) -> Result<(), sqlx::Error> {
        let sql = "UPDATE helpdesk_outbox SET last_error = $2, next_attempt_at = $3, lease_until = 0, updated_at = $4 \
                   WHERE id = $1 AND status = 'pending'";
        self.write_one(sql, |q| q.bind(id).bind(error).bind(next_at).bind(now)).await.map(drop)
    }

    pub async fn outbox_failed(&self, id: &str, error: &str, now: i64) -> Result<(), sqlx::Error> {
        let sql = "UPDATE helpdesk_outbox SET status = 'failed', last_error = $2, lease_until = 0, updated_at = $3 \
                   WHERE id = $1";
        self.write_one(sql, |q| q.bind(id).bind(error).bind(now)).await.map(drop)
    }

    /// An admin's Retry: a failed row is due again now. Whether there was one.
    pub async fn outbox_requeue(&self, id: &str, now: i64, activity: &NewActivity<'_>) -> Result<bool, sqlx::Error> {
        let sql =
            "UPDATE helpdesk_outbox SET status = 'pending', attempts = 0, next_attempt_at = $2, lease_until = 0, \
                   updated_at = $2 WHERE id = $1 AND status = 'failed'";
        Ok(self.write_logged(sql, |q| q.bind(id).bind(now), Some(activity)).await? == 1)
    }

    /// One statement in its own write transaction; the number of rows it changed.
    async fn write_one<'q>(&self, sql: &'q str, bind: impl FnOnce(Query<'q>) -> Query<'q>) -> Result<u64, sqlx::Error> {
        self.write_logged(sql, bind, None).await
    }

    /// The newest dispatch of a conversation, if it went to a desk.
    pub async fn outbox_of_conversation(&self, conversation_id: &str) -> Result<Option<OutboxRecord>, sqlx::Error> {
        let sql = format!("{OUTBOX_SELECT} WHERE conversation_id = $1 ORDER BY created_at DESC LIMIT 1");
        let row = sqlx::query(&sql).bind(conversation_id).fetch_optional(self.pool()).await?;
        row.as_ref().map(outbox_from_row).transpose()
    }

    /// The newest dispatch of a chatbot to `desk`.
    pub async fn last_dispatch(&self, chatbot_id: &str, desk: Desk) -> Result<Option<OutboxRecord>, sqlx::Error> {
        let sql = format!("{OUTBOX_SELECT} WHERE chatbot_id = $1 AND desk = $2 ORDER BY updated_at DESC LIMIT 1");
        let row = sqlx::query(&sql).bind(chatbot_id).bind(desk.as_str()).fetch_optional(self.pool()).await?;
        row.as_ref().map(outbox_from_row).transpose()
    }

    /// The newest dispatch of each of `conversation_ids` that has one.
    pub async fn dispatches_of(&self, conversation_ids: &[&str]) -> Result<Vec<OutboxRecord>, sqlx::Error> {
        if conversation_ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (1..=conversation_ids.len()).map(|n| format!("${n}")).collect();
        let sql = format!("{OUTBOX_SELECT} WHERE conversation_id IN ({}) ORDER BY updated_at, id", marks.join(", "));
        let mut query = sqlx::query(&sql);
        for id in conversation_ids {
            query = query.bind(*id);
        }
        let rows = query.fetch_all(self.pool()).await?;
        let mut newest: Vec<OutboxRecord> = Vec::new();
        for row in rows.iter().map(outbox_from_row) {
            let row = row?;
            newest.retain(|seen| seen.conversation_id != row.conversation_id);
            newest.push(row);
        }
        Ok(newest)
    }

    /// Turns a chatbot's Live Agent Handoff on or off; false when the workspace has no
    /// chatbot `public_id`.
    pub async fn set_live_handoff(
        &self,
        chatbot_id: &str,
        on: bool,
        activity: &NewActivity<'_>,
    ) -> Result<bool, sqlx::Error> {
        let sql = "UPDATE chatbots SET live_handoff = $1 WHERE id = $2";
        Ok(self.write_logged(sql, |q| q.bind(i32::from(on)).bind(chatbot_id), Some(activity)).await? == 1)
    }

    /// On SQLite no other instance can be sending: leases left by a crash go at start.
    pub async fn release_outbox_leases(&self) -> Result<(), sqlx::Error> {
        self.write_one("UPDATE helpdesk_outbox SET lease_until = 0 WHERE status = 'pending'", |q| q).await.map(drop)
    }
}
