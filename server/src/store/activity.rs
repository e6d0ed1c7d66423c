//! The workspace's activity log: every team and settings change, written in the
//! transaction of the change it records, so a change is never without its row.

use app::domain::MemberView;

use super::{conversations::Tx, new_id, now_ms};

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
