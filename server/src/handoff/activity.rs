//! Settings → Activity: the workspace's settings log and its conversations' state
//! changes, as one list for people, a page at a time.

use app::{
    domain::activity::{
        state_label, ActivityEntry, ActivityFilter, ActivityPage, Actor, ActorKind, Cursor, ACTIVITY_PAGE,
    },
    AppError,
};

use super::Handoff;
use crate::store::{
    activity::{ActivityQuery, ActivityRow},
    rfc3339,
};

impl Handoff {
    /// The changes `filter` asks for, in `workspace_id` only: a chatbot or a member of
    /// another workspace is `NotFound`.
    pub async fn activity(&self, workspace_id: &str, filter: ActivityFilter) -> Result<ActivityPage, AppError> {
        let before = filter.before.as_deref().filter(|b| !b.is_empty()).map(Cursor::parse).transpose()?;
        let chatbot = match filter.bot_id.as_deref().filter(|b| !b.is_empty()) {
            Some(bot_id) => Some(crate::helpdesk::admin::chatbot(&self.store, workspace_id, bot_id).await?),
            None => None,
        };
        let member_id = filter.member_id.as_deref().filter(|m| !m.is_empty());
        if let Some(member_id) = member_id {
            let member = self.store.member_by_id(member_id).await.map_err(AppError::internal)?;
            if member.is_none_or(|m| m.workspace_id != workspace_id) {
                return Err(AppError::NotFound);
            }
        }
        let query = ActivityQuery {
            workspace_id,
            chatbot_id: chatbot.as_ref().map(|c| c.id.as_str()),
            actor_id: member_id,
            before: before.as_ref().map(|c| (c.at_ms, c.id.as_str())),
            limit: ACTIVITY_PAGE as i64 + 1,
        };
        let mut rows = self.store.activity(&query).await.map_err(AppError::internal)?;
        let more = rows.len() > ACTIVITY_PAGE;
        rows.truncate(ACTIVITY_PAGE);
        let next_before =
            more.then(|| rows.last().map(|r| Cursor { at_ms: r.at, id: r.id.clone() }.encode())).flatten();
        Ok(ActivityPage { entries: rows.into_iter().map(entry).collect(), next_before })
    }
}

fn entry(row: ActivityRow) -> ActivityEntry {
    let actor = match row.actor_id.as_str() {
        "visitor" => Actor { kind: ActorKind::Visitor, id: None, name: "The visitor".into() },
        "bot" => Actor { kind: ActorKind::Bot, id: None, name: "The bot".into() },
        _ => Actor {
            kind: ActorKind::Member,
            name: row.actor_name.clone().unwrap_or_else(|| "A former member".into()),
            id: Some(row.actor_id),
        },
    };
    let detail = match (&row.conversation_id, row.action.strip_prefix("conversation_")) {
        (Some(_), Some(to)) => {
            format!("Conversation went from {} to {}", state_label(&row.detail), state_label(to))
        }
        _ => row.detail,
    };
    ActivityEntry {
        id: row.id,
        at: rfc3339(row.at),
        actor,
        bot_id: row.bot_id,
        bot_name: row.bot_name,
        action: row.action,
        detail,
        conversation_id: row.conversation_id,
    }
}
