//! The Inbox's pure rules, unit-tested without a browser: where a changed
//! conversation goes in a list, how a transcript weaves notes in, how a visitor is
//! named, and when a suggested reply is worth offering.

use crate::{
    domain::{clock::epoch_ms, AuthorKind, ConversationSummary, Message, Note, StateKind},
    inbox::api::InboxFilter,
};

/// Whether the open conversation deserves a suggested reply right away: someone must
/// answer it now (it waits, or the caller holds it) and the visitor spoke last.
pub fn wants_suggestion(conversation: &ConversationSummary, messages: &[Message], me: &str) -> bool {
    let ours = match conversation.state {
        StateKind::NeedsHuman => true,
        StateKind::Claimed => conversation.agent.as_ref().is_some_and(|agent| agent.id == me),
        _ => false,
    };
    let visitor_last = messages
        .iter()
        .rev()
        .find(|m| m.author.kind != AuthorKind::System)
        .is_some_and(|m| m.author.kind == AuthorKind::Visitor);
    ours && visitor_last
}

pub fn add_note_once(notes: &mut Vec<Note>, note: Note) {
    if !notes.iter().any(|n| n.id == note.id) {
        notes.push(note);
    }
}

/// How the Inbox names a visitor: the name Baton knows (given, or the one the bot read
/// off their email and greeted them by), else their email, else anonymously.
pub fn visitor_label(conversation: &ConversationSummary) -> String {
    let visitor = &conversation.visitor;
    visitor.known_name().or_else(|| visitor.email.clone()).unwrap_or_else(|| "Anonymous visitor".to_owned())
}

/// Whether a notice about the open conversation being in state `about` ("Resolved…")
/// no longer holds: the conversation is in another state `now` (escalated again).
pub fn notice_outlived(about: Option<StateKind>, now: StateKind) -> bool {
    about.is_some_and(|about| about != now)
}

/// Puts a changed conversation where `view` wants it: out if it no longer belongs,
/// else in order (the queue oldest escalation first, other views latest activity first).
pub fn place(list: &mut Vec<ConversationSummary>, conversation: ConversationSummary, view: InboxFilter, me: &str) {
    list.retain(|c| c.id != conversation.id);
    if !view.lists(&conversation, me) {
        return;
    }
    let key = |c: &ConversationSummary| match view.oldest_first() {
        true => c.escalated_at.as_deref().and_then(epoch_ms).unwrap_or(i64::MAX),
        false => -epoch_ms(&c.last_message_at).unwrap_or(0),
    };
    let new_key = key(&conversation);
    let at = list.iter().position(|c| key(c) > new_key).unwrap_or(list.len());
    list.insert(at, conversation);
}

/// One line of the transcript: a message both sides saw, or a note only the team sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Message(Message),
    Note(Note),
}

/// Messages in seq order with the notes woven in by time: a note follows the last
/// message written before it.
pub fn timeline(messages: &[Message], notes: &[Note]) -> Vec<Entry> {
    let mut notes: Vec<&Note> = notes.iter().collect();
    notes.sort_by_key(|n| epoch_ms(&n.at).unwrap_or(i64::MAX));
    let mut notes = notes.into_iter().peekable();
    let mut entries = Vec::with_capacity(messages.len() + notes.len());
    for message in messages {
        let at = epoch_ms(&message.at).unwrap_or(i64::MAX);
        while let Some(note) = notes.next_if(|n| epoch_ms(&n.at).unwrap_or(i64::MAX) < at) {
            entries.push(Entry::Note(note.clone()));
        }
        entries.push(Entry::Message(message.clone()));
    }
    entries.extend(notes.map(|n| Entry::Note(n.clone())));
    entries
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::domain::{AgentRef, Author, Visitor};

    fn conversation(id: &str, state: StateKind, agent: Option<&str>, at: &str) -> ConversationSummary {
        ConversationSummary {
            id: id.into(),
            bot_id: "demo".into(),
            state,
            summary: None,
            reason: None,
            visitor: Visitor::default(),
            agent: agent.map(|id| AgentRef { id: id.into(), name: id.to_uppercase() }),
            last_message_at: at.into(),
            escalated_at: (state != StateKind::Bot).then(|| at.to_owned()),
            unread: 0,
            dispatch: None,
        }
    }

    pub(crate) fn message(seq: i64, kind: AuthorKind, at: &str) -> Message {
        Message {
            seq,
            id: format!("m{seq}"),
            author: Author { kind, name: None },
            text: format!("#{seq}"),
            at: at.into(),
            client_id: None,
            asks: None,
        }
    }

    pub(crate) fn note(id: &str, at: &str) -> Note {
        Note {
            id: id.into(),
            author: AgentRef { id: "mem_a".into(), name: "Ana".into() },
            text: "private".into(),
            at: at.into(),
        }
    }

    #[test]
    fn a_notice_goes_once_the_conversation_has_moved_on() {
        assert!(notice_outlived(Some(StateKind::Resolved), StateKind::NeedsHuman), "resolved, then escalated again");
        assert!(!notice_outlived(Some(StateKind::Resolved), StateKind::Resolved), "the same change, heard twice");
        assert!(!notice_outlived(None, StateKind::NeedsHuman), "a notice about no state stays (a lost claim)");
    }

    #[test]
    fn a_visitor_is_named_by_what_baton_knows_the_email_beside_it() {
        let mut waiting = conversation("c1", StateKind::NeedsHuman, None, "2026-11-24T10:00:00Z");
        waiting.visitor.email = Some("riley.desk42@example.com".into());
        assert_eq!(visitor_label(&waiting), "Riley", "the name the bot greeted them by");
        waiting.visitor.name = Some("Riley Desk".into());
        assert_eq!(visitor_label(&waiting), "Riley Desk");
        waiting.visitor = Visitor { name: None, email: Some("support@acme.com".into()) };
        assert_eq!(visitor_label(&waiting), "support@acme.com", "a role address names nobody");
        waiting.visitor = Visitor::default();
        assert_eq!(visitor_label(&waiting), "Anonymous visitor");
    }

    #[test]
    fn the_queue_lists_the_longest_waiting_first_and_drops_what_was_claimed() {
        let mut queue = Vec::new();
        place(
            &mut queue,
            conversation("b", StateKind::NeedsHuman, None, "2026-11-24T10:05:00Z"),
            InboxFilter::NeedsHuman,
            "me",
        );
        place(
            &mut queue,
            conversation("a", StateKind::NeedsHuman, None, "2026-11-24T10:00:00.5Z"),
            InboxFilter::NeedsHuman,
            "me",
        );
        place(
            &mut queue,
            conversation("c", StateKind::NeedsHuman, None, "2026-11-24T10:09:00Z"),
            InboxFilter::NeedsHuman,
            "me",
        );
        let ids: Vec<&str> = queue.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);

        place(
            &mut queue,
            conversation("b", StateKind::Claimed, Some("ben"), "2026-11-24T10:10:00Z"),
            InboxFilter::NeedsHuman,
            "me",
        );
        let ids: Vec<&str> = queue.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["a", "c"]);
    }

    #[test]
    fn mine_holds_only_what_the_member_claimed_newest_activity_first() {
        let mut mine = Vec::new();
        place(
            &mut mine,
            conversation("x", StateKind::Claimed, Some("me"), "2026-11-24T10:00:00Z"),
            InboxFilter::Mine,
            "me",
        );
        place(
            &mut mine,
            conversation("y", StateKind::Claimed, Some("ben"), "2026-11-24T10:01:00Z"),
            InboxFilter::Mine,
            "me",
        );
        place(
            &mut mine,
            conversation("z", StateKind::Claimed, Some("me"), "2026-11-24T10:02:00Z"),
            InboxFilter::Mine,
            "me",
        );
        let ids: Vec<&str> = mine.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["z", "x"]);

        place(&mut mine, conversation("x", StateKind::Resolved, None, "2026-11-24T10:03:00Z"), InboxFilter::Mine, "me");
        assert_eq!(mine.len(), 1);
    }

    #[test]
    fn every_view_agrees_with_its_definition() {
        let waiting = conversation("w", StateKind::NeedsHuman, None, "2026-11-24T10:00:00Z");
        let bot = conversation("b", StateKind::Bot, None, "2026-11-24T10:00:00Z");
        assert!(InboxFilter::Open.lists(&waiting, "me"));
        assert!(!InboxFilter::Open.lists(&bot, "me"));
        assert!(InboxFilter::All.lists(&bot, "me"));
        assert!(!InboxFilter::Resolved.lists(&waiting, "me"));
    }

    #[test]
    fn notes_sit_between_the_messages_around_their_time() {
        let messages = [
            message(1, AuthorKind::Visitor, "2026-11-24T10:00:00Z"),
            message(2, AuthorKind::Agent, "2026-11-24T10:02:00Z"),
        ];
        let notes = [note("n2", "2026-11-24T10:05:00Z"), note("n1", "2026-11-24T10:01:00Z")];
        let order: Vec<String> = timeline(&messages, &notes)
            .into_iter()
            .map(|e| match e {
                Entry::Message(m) => format!("m{}", m.seq),
                Entry::Note(n) => n.id,
            })
            .collect();
        assert_eq!(order, ["m1", "n1", "m2", "n2"]);
    }

    #[test]
    fn a_suggestion_is_offered_only_when_the_visitor_waits_for_this_agent() {
        let visitor_last = [
            message(1, AuthorKind::Visitor, "2026-11-24T10:00:00Z"),
            message(2, AuthorKind::System, "2026-11-24T10:00:01Z"),
        ];
        let agent_last = [
            message(1, AuthorKind::Visitor, "2026-11-24T10:00:00Z"),
            message(2, AuthorKind::Agent, "2026-11-24T10:01:00Z"),
        ];
        let waiting = conversation("w", StateKind::NeedsHuman, None, "2026-11-24T10:00:00Z");
        let mine = conversation("m", StateKind::Claimed, Some("me"), "2026-11-24T10:00:00Z");
        let bens = conversation("b", StateKind::Claimed, Some("ben"), "2026-11-24T10:00:00Z");
        assert!(wants_suggestion(&waiting, &visitor_last, "me"));
        assert!(wants_suggestion(&mine, &visitor_last, "me"));
        assert!(!wants_suggestion(&mine, &agent_last, "me"));
        assert!(!wants_suggestion(&bens, &visitor_last, "me"));
    }
}
