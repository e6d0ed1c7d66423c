//! What `/live/inbox` reports, applied to what the Inbox shows.

use leptos::prelude::*;

use super::{
    rules::{add_note_once, notice_outlived, place, visitor_label},
    Desk, TYPING_SHOWS_FOR,
};
use crate::{
    browser,
    domain::{live::TeamEvent, merge_message, AuthorKind, ConversationSummary, StateKind},
};

impl Desk {
    pub fn apply(self, event: TeamEvent) {
        match event {
            TeamEvent::Conversation { conversation } => self.conversation_changed(conversation),
            TeamEvent::Message { conversation_id, message } => {
                if !self.is_open(&conversation_id) {
                    return;
                }
                if message.author.kind == AuthorKind::Visitor {
                    self.typing.set(None);
                }
                if let Some(client_id) = message.client_id.clone() {
                    self.outgoing.update(|out| out.retain(|o| o.client_id != client_id));
                }
                self.messages.update(|held| {
                    merge_message(held, message);
                });
            }
            TeamEvent::Note { conversation_id, note } => {
                if self.is_open(&conversation_id) {
                    self.notes.update(|notes| add_note_once(notes, note));
                }
            }
            TeamEvent::Typing { conversation_id, author } => {
                let mine = author.kind == AuthorKind::Agent
                    && author.name.as_deref() == Some(self.me.with_value(|me| me.name.clone()).as_str());
                if !self.is_open(&conversation_id) || mine || author.kind == AuthorKind::System {
                    return;
                }
                let who = match author.kind {
                    AuthorKind::Visitor => "The visitor".to_owned(),
                    AuthorKind::Bot => "The AI assistant".to_owned(),
                    _ => author.name.unwrap_or_else(|| "A teammate".to_owned()),
                };
                self.typing.set(Some(who.clone()));
                browser::after(TYPING_SHOWS_FOR, move || {
                    if self.typing.try_get_untracked().flatten().as_ref() == Some(&who) {
                        self.typing.set(None);
                    }
                });
            }
            TeamEvent::Resync => self.refresh(),
            TeamEvent::Pong | TeamEvent::Error { .. } => {}
        }
    }

    pub(super) fn conversation_changed(self, conversation: ConversationSummary) {
        let arrived = self.queued.try_update_value(|queued| {
            let before = if conversation.state == StateKind::NeedsHuman {
                queued.insert(conversation.id.clone(), conversation.state)
            } else {
                queued.remove(&conversation.id)
            };
            conversation.state == StateKind::NeedsHuman && before.is_none()
        });
        if arrived == Some(true) && self.queue_known.get_value() {
            announce(&conversation);
        }
        let (view, me) = (self.view.get_untracked(), self.my_id());
        self.list.update(|list| place(list, conversation.clone(), view, &me));
        if self.is_open(&conversation.id) {
            // A notice about a state ("Resolved…") would contradict the badge once the
            // conversation has left it (escalated again): it goes.
            let about = self.notice.with_untracked(|notice| notice.as_ref().and_then(|n| n.about));
            if notice_outlived(about, conversation.state) {
                self.notice.set(None);
            }
            self.open.set(Some(conversation));
        }
        self.load_counts();
    }

    // ---- the agent's actions ------------------------------------------------------------------
}

/// A new conversation in the queue: a sound, and a system notification when allowed.
fn announce(conversation: &ConversationSummary) {
    browser::chime();
    let who = visitor_label(conversation);
    let body = conversation.summary.clone().unwrap_or_else(|| "Waiting for a person.".to_owned());
    browser::notify(&format!("Needs human: {who}"), &body);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        domain::MemberView,
        inbox::{
            api::InboxFilter,
            desk::rules::tests::{message, note},
        },
    };

    #[test]
    fn live_events_update_the_open_conversation_and_never_duplicate() {
        let owner = Owner::new();
        owner.set();
        let me = MemberView {
            id: "me".into(),
            email: "me@x.co".into(),
            name: "Me".into(),
            role: crate::domain::Role::Agent,
        };
        let desk = Desk::new(me, InboxFilter::NeedsHuman, Some("c1".into()), RwSignal::new(0));
        let first = message(1, AuthorKind::Visitor, "2026-11-24T10:00:00Z");
        desk.apply(TeamEvent::Message { conversation_id: "c1".into(), message: first.clone() });
        desk.apply(TeamEvent::Message { conversation_id: "c1".into(), message: first });
        desk.apply(TeamEvent::Message {
            conversation_id: "other".into(),
            message: message(9, AuthorKind::Visitor, "2026-11-24T10:00:00Z"),
        });
        assert_eq!(desk.messages.get_untracked().len(), 1);

        desk.apply(TeamEvent::Note { conversation_id: "c1".into(), note: note("n1", "2026-11-24T10:01:00Z") });
        desk.apply(TeamEvent::Note { conversation_id: "c1".into(), note: note("n1", "2026-11-24T10:01:00Z") });
        assert_eq!(desk.notes.get_untracked().len(), 1);
    }
}
