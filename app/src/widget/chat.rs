//! The widget's conversation as the visitor's browser holds it: confirmed messages
//! in seq order (a message arriving twice, by HTTP and by socket, is kept once),
//! outgoing messages not yet confirmed, the state, the connection and who is typing.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::browser::Outbox;
use crate::domain::{merge_message as merge, Ask, Author, AuthorKind, Message, StateKind};

/// The conversation a browser resumes: kept in the widget's localStorage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub conversation_id: String,
    pub token: String,
}

/// A message the visitor sent that the server has not confirmed yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub client_id: String,
    pub text: String,
    /// The last attempt failed; it is retried when the connection is back.
    pub waiting: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    /// No conversation yet: nothing to connect to.
    Idle,
    Connecting,
    Live,
    /// Lost; reconnecting with backoff.
    Offline,
}

/// All of the widget's reactive state, cheap to copy into closures.
#[derive(Clone, Copy)]
pub struct Chat {
    pub bot_id: StoredValue<String>,
    pub session: RwSignal<Option<Session>>,
    pub messages: RwSignal<Vec<Message>>,
    pub outgoing: RwSignal<Vec<Outgoing>>,
    pub state: RwSignal<Option<StateKind>>,
    pub connection: RwSignal<Connection>,
    pub typing: RwSignal<Option<Author>>,
    /// Something the visitor should know (a refused message, a limit).
    pub notice: RwSignal<Option<String>>,
    /// Only one task sends the outgoing queue at a time.
    pub flushing: StoredValue<bool>,
    /// Inside a host page's frame (set in the browser), rather than opened on its own.
    pub embedded: RwSignal<bool>,
    /// Whether the visitor can see the widget (an embedded one can be closed).
    pub open: RwSignal<bool>,
    /// Messages from the bot or the team that arrived while the widget was closed.
    pub unread: RwSignal<u32>,
    /// Frames for the live socket while it is open.
    pub outbox: Outbox,
}

impl Chat {
    pub fn new(bot_id: String) -> Chat {
        Chat {
            bot_id: StoredValue::new(bot_id),
            session: RwSignal::new(None),
            messages: RwSignal::new(Vec::new()),
            outgoing: RwSignal::new(Vec::new()),
            state: RwSignal::new(None),
            connection: RwSignal::new(Connection::Idle),
            typing: RwSignal::new(None),
            notice: RwSignal::new(None),
            flushing: StoredValue::new(false),
            embedded: RwSignal::new(false),
            open: RwSignal::new(true),
            unread: RwSignal::new(0),
            outbox: Outbox::default(),
        }
    }

    /// Adds confirmed messages; a message already held (same seq) is not added twice,
    /// and a confirmed message replaces its outgoing copy. Returns how many of the
    /// new ones came from the bot or the team.
    pub fn receive(&self, incoming: Vec<Message>) -> u32 {
        if incoming.is_empty() {
            return 0;
        }
        let confirmed: Vec<String> = incoming.iter().filter_map(|m| m.client_id.clone()).collect();
        let mut from_others = 0;
        self.messages.update(|held| {
            for message in incoming {
                let visitor = message.author.kind == AuthorKind::Visitor;
                if merge(held, message) && !visitor {
                    from_others += 1;
                }
            }
        });
        if !confirmed.is_empty() {
            self.outgoing.update(|out| out.retain(|o| !confirmed.contains(&o.client_id)));
        }
        from_others
    }

    /// The seq of the bot's request for the visitor's email, while it is the latest
    /// word in a conversation the bot is handling and nothing is on its way.
    pub fn asking_email(&self) -> Option<i64> {
        if self.state.get() != Some(StateKind::Bot) || self.outgoing.with(|o| !o.is_empty()) {
            return None;
        }
        self.messages.with(|messages| {
            let last = messages.last()?;
            (last.author.kind == AuthorKind::Bot && last.asks == Some(Ask::Email)).then_some(last.seq)
        })
    }

    /// Counts `from_others` new messages as unread while the widget is closed.
    pub fn count_unread(&self, from_others: u32) {
        if from_others > 0 && !self.open.get_untracked() {
            self.unread.update(|n| *n += from_others);
        }
    }

    /// Whether `session` is still the conversation this widget shows (the visitor
    /// may have started over since a task began).
    pub fn shows(&self, session: &Session) -> bool {
        self.session.with_untracked(|s| s.as_ref() == Some(session))
    }

    pub fn last_seq(&self) -> i64 {
        self.messages.with_untracked(|m| m.last().map_or(0, |m| m.seq))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AuthorKind;

    fn message(seq: i64) -> Message {
        Message {
            seq,
            id: format!("m{seq}"),
            author: Author { kind: AuthorKind::Bot, name: None },
            text: format!("#{seq}"),
            at: "2026-11-24T14:05:09Z".into(),
            client_id: None,
            asks: None,
        }
    }

    #[test]
    fn messages_stay_in_seq_order_without_duplicates() {
        let mut held = Vec::new();
        for seq in [3, 1, 2, 3, 1, 5, 4] {
            merge(&mut held, message(seq));
        }
        let seqs: Vec<i64> = held.iter().map(|m| m.seq).collect();
        assert_eq!(seqs, [1, 2, 3, 4, 5]);
        assert!(!merge(&mut held, message(4)));
    }

    #[test]
    fn the_email_field_shows_only_while_the_bot_waits_for_it() {
        let owner = Owner::new();
        owner.set();
        let chat = Chat::new("demo".into());
        chat.state.set(Some(StateKind::Bot));
        let mut ask = message(1);
        ask.asks = Some(Ask::Email);
        chat.receive(vec![ask]);
        assert_eq!(chat.asking_email(), Some(1));
        chat.outgoing.set(vec![Outgoing { client_id: "c1".into(), text: "a@b.co".into(), waiting: false }]);
        assert_eq!(chat.asking_email(), None, "not while the answer is on its way");
        chat.outgoing.set(Vec::new());
        chat.receive(vec![message(2)]);
        assert_eq!(chat.asking_email(), None, "not once the bot has moved on");
    }
}
