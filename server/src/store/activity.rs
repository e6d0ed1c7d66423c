//! The workspace's activity log: every team and settings change, written in the
//! transaction of the change it records, so a change is never without its row.

use app::domain::MemberView;

use super::{conversations::Tx, new_id, now_ms};

/// A statement with its arguments still to bind.
pub type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// One change, as Settings → Activity lists it.
pub struct NewActivity<'a> {
    pub workspace_id: &'a str,
    /// The chatbot a setting belongs to (its internal id); `None` for team changes.
    pub chatbot_id: Option<&'a str>,
    pub actor_id: &'a str,
    pub actor_name: &'a str,
    /// A stable name for filtering: `member_added`, `role_changed`, `member_removed`, ...
    pub action: &'static str,
    /// One sentence for people: "Made Sam Lee an admin".
    pub detail: String,
}

impl<'a> NewActivity<'a> {
    /// A change made by `by`, of the workspace (its team) unless `of_chatbot` says whose.
    pub fn by(workspace_id: &'a str, by: &'a MemberView, action: &'static str, detail: String) -> Self {
        NewActivity { workspace_id, chatbot_id: None, actor_id: &by.id, actor_name: &by.name, action, detail }
    }

    /// The same change, to the settings of chatbot `chatbot_id` (its internal id).
    pub fn of_chatbot(self, chatbot_id: &'a str) -> Self {
        NewActivity { chatbot_id: Some(chatbot_id), ..self }
    }
}

impl super::Store {
    /// One statement and, if it changed a row, `activity`, in one write transaction: a
    /// change is never without its row. The number of rows it changed.
    pub async fn write_logged<'q>(
        &self,
        sql: &'q str,
        bind: impl FnOnce(Query<'q>) -> Query<'q>,
        activity: Option<&NewActivity<'_>>,
    ) -> Result<u64, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let changed = bind(sqlx::query(sql)).execute(&mut *tx).await?.rows_affected();
        if let Some(activity) = activity.filter(|_| changed > 0) {
            insert_activity(&mut tx, activity).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }
}

pub async fn insert_activity(tx: &mut Tx, new: &NewActivity<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO activity (id, workspace_id, chatbot_id, actor_id, actor_name, action, detail, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new_id("act"))
    .bind(new.workspace_id)
    .bind(new.chatbot_id)
    .bind(new.actor_id)
    .bind(new.actor_name)
    .bind(new.action)
    .bind(&new.detail)
    .bind(now_ms())
    .execute(&mut **tx)
    .await
    .map(|_| ())
}

/// One row of Activity as read: a settings change or a conversation's state change.
#[derive(Debug, Clone)]
pub struct ActivityRow {
    pub id: String,
    pub at: i64,
    /// A member's id, or `visitor` / `bot` for a conversation's change.
    pub actor_id: String,
    /// The name written with the change, or the member's current one; `None` for a
    /// conversation's change by someone no longer in the team.
    pub actor_name: Option<String>,
    pub bot_id: Option<String>,
    pub bot_name: Option<String>,
    /// `activity.action`, or `conversation_<to state>`.
    pub action: String,
    /// `activity.detail`, or the state a conversation left.
    pub detail: String,
    pub conversation_id: Option<String>,
}

/// Which rows to read: all of a workspace's, or of one chatbot (internal id), or by
/// one actor, older than a position.
pub struct ActivityQuery<'a> {
    pub workspace_id: &'a str,
    pub chatbot_id: Option<&'a str>,
    pub actor_id: Option<&'a str>,
    /// `(at, id)` of the last row already shown.
    pub before: Option<(i64, &'a str)>,
    pub limit: i64,
}

/// Both logs as one list. The conversations' branch names no member: a member's name
/// comes from `members` (a removed member's is gone, and reads as `NULL`).
const ACTIVITY_UNION: &str = "SELECT a.id AS id, a.created_at AS at, a.actor_id AS actor_id, \
        a.actor_name AS actor_name, a.chatbot_id AS chatbot_id, b.public_id AS bot_id, b.name AS bot_name, \
        a.action AS action, a.detail AS detail, NULL AS conversation_id \
     FROM activity a LEFT JOIN chatbots b ON b.id = a.chatbot_id WHERE a.workspace_id = $1 \
     UNION ALL \
     SELECT ca.id, ca.created_at, ca.actor, m.name, c.chatbot_id, b.public_id, b.name, \
        'conversation_' || ca.to_state, ca.from_state, ca.conversation_id \
     FROM conversation_audit ca JOIN conversations c ON c.id = ca.conversation_id \
        JOIN chatbots b ON b.id = c.chatbot_id LEFT JOIN members m ON m.id = ca.actor \
     WHERE c.workspace_id = $1";

impl super::Store {
    /// Newest first, at most `query.limit` rows.
    pub async fn activity(&self, query: &ActivityQuery<'_>) -> Result<Vec<ActivityRow>, sqlx::Error> {
        use sqlx::Row;
        let (before_at, before_id) = query.before.unwrap_or((i64::MAX, ""));
        let sql = format!(
            "SELECT id, at, actor_id, actor_name, bot_id, bot_name, action, detail, conversation_id \
             FROM ({ACTIVITY_UNION}) t \
             WHERE ($2 = '' OR t.chatbot_id = $2) AND ($3 = '' OR t.actor_id = $3) \
                AND (t.at < $4 OR (t.at = $4 AND t.id < $5)) \
             ORDER BY t.at DESC, t.id DESC LIMIT $6"
        );
        let rows = sqlx::query(&sql)
            .bind(query.workspace_id)
            .bind(query.chatbot_id.unwrap_or(""))
            .bind(query.actor_id.unwrap_or(""))
            .bind(before_at)
            .bind(before_id)
            .bind(query.limit)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                Ok(ActivityRow {
                    id: row.try_get("id")?,
                    at: row.try_get("at")?,
                    actor_id: row.try_get("actor_id")?,
                    actor_name: row.try_get("actor_name")?,
                    bot_id: row.try_get("bot_id")?,
                    bot_name: row.try_get("bot_name")?,
                    action: row.try_get("action")?,
                    detail: row.try_get("detail")?,
                    conversation_id: row.try_get("conversation_id")?,
                })
            })
            .collect()
    }
}
