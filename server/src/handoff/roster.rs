//! A member leaving the team: the one team change that reaches into conversations
//! and live sockets.

use app::{
    domain::{live::TeamEvent, team::LAST_ADMIN, transition, Command, MemberView, Role},
    AppError,
};

use super::Handoff;
use crate::{
    auth::session::fingerprint_of,
    live::bus::Announcement,
    store::{
        activity::{insert_activity, NewActivity},
        conversations::{change_state, claimed_by, insert_note, BotTurnDue, StateChange},
        members::{delete_member, lock_admins, lock_member},
        now_ms,
    },
};

impl Handoff {
    /// Removes `member_id` from `by`'s workspace, all in one transaction: the
    /// conversations they hold go back to the queue, each with a note to the team;
    /// their sessions end; the activity log records it. After commit, the Inbox hears
    /// of each released conversation and their open sockets close. 404 for a member
    /// of another workspace; 409 for oneself and for the last admin.
    pub async fn remove_member(&self, by: &MemberView, workspace_id: &str, member_id: &str) -> Result<MemberView, AppError> {
        if member_id == by.id {
            return Err(AppError::Conflict("you cannot remove yourself: another admin can".into()));
        }
        let internal = AppError::internal;
        let backend = self.store.backend();
        let mut tx = self.store.begin_write().await.map_err(internal)?;
        let admins = lock_admins(&mut tx, backend, workspace_id).await.map_err(internal)?;
        let target = lock_member(&mut tx, backend, workspace_id, member_id).await.map_err(internal)?;
        let target = target.ok_or(AppError::NotFound)?;
        if target.role == Role::Admin && admins <= 1 {
            return Err(AppError::Conflict(LAST_ADMIN.into()));
        }
        let now = now_ms();
        let text = format!("{} was removed from the team, so this conversation is back in the queue.", target.name);
        let mut released = Vec::new();
        for conversation in claimed_by(&mut tx, member_id).await.map_err(internal)? {
            let release = Command::Release { agent_id: target.id.clone() };
            let outcome = transition(&conversation.state, &release).map_err(AppError::from)?;
            let change = StateChange {
                conversation_id: &conversation.id,
                from: &conversation.state,
                to: &outcome.state,
                escalation: None,
                pending_escalation: None,
                visitor_email: None,
                bot_turn: BotTurnDue::Unchanged,
                appends: &[],
                actor: &by.id,
                now,
            };
            // The member's row is locked and every claim references it: nothing else
            // can have changed these conversations since they were read.
            if change_state(&mut tx, change).await.map_err(internal)?.is_some() {
                let note = insert_note(&mut tx, &conversation.id, &by.agent_ref(), &text, now).await.map_err(internal)?;
                released.push((conversation, note));
            }
        }
        let sessions = delete_member(&mut tx, member_id).await.map_err(internal)?;
        let detail = match released.len() {
            0 => format!("Removed {} ({})", target.name, target.email),
            n => format!("Removed {} ({}); {n} of their conversations went back to the queue", target.name, target.email),
        };
        let activity = NewActivity::by(workspace_id, by, "member_removed", detail);
        insert_activity(&mut tx, &activity).await.map_err(internal)?;
        tx.commit().await.map_err(internal)?;

        tracing::info!(member_id = %target.id, by = %by.id, released = released.len(), "member removed");
        for (before, note) in released {
            if let Some(after) = self.reload(&before.id).await? {
                self.publish(&before, &after, &[]);
            }
            let (w, c, id) = (before.workspace_id.clone(), before.id.clone(), note.id.clone());
            self.hub.publish_team(&w, TeamEvent::Note { conversation_id: c.clone(), note });
            self.bus.announce(Announcement::Note { w, c, id });
        }
        for session in sessions {
            self.signed_out(fingerprint_of(&session));
        }
        Ok(target)
    }
}
