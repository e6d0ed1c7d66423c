//! The Inbox as an agent's browser holds it: the current view's conversations and
//! every view's count, the open conversation (transcript, notes, replies on their
//! way, who is typing, the AI's suggestion), and the connection. Components only
//! read these signals and call these methods, kept by what they do: `loading`
//! (views, counts, the open conversation), `events` (what `/live/inbox` reports),
//! `actions` (what the agent does), and `rules`, the pure parts.

mod actions;
mod events;
mod loading;
mod rules;

pub use rules::{place, timeline, visitor_label, Entry};

use std::{collections::HashMap, time::Duration};

use leptos::prelude::*;

use super::api::{InboxCounts, InboxFilter};
use crate::{
    browser,
    domain::{allowed, Allowed, ConversationSummary, MemberView, Message, Note, Role, StateKind},
    error::AppError,
};

/// How long a "typing" signal shows without a new one.
const TYPING_SHOWS_FOR: Duration = Duration::from_secs(4);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Load {
    Loading,
    Ready,
    Failed(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    Connecting,
    Live,
    /// Lost; reconnecting with backoff.
    Offline,
}

/// A reply the server has not confirmed yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingReply {
    pub client_id: String,
    pub text: String,
    /// Why the last attempt failed; `None` while it is on its way.
    pub failed: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Suggestion {
    None,
    Drafting,
    /// Offered when the conversation opened; the agent may use or dismiss it.
    Offered(String),
    Failed(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComposerMode {
    Reply,
    Note,
}

/// What just happened, shown above the conversation until the next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
    /// The conversation's state the notice speaks of ("Resolved…"), if any: it goes
    /// once the conversation has left that state.
    pub about: Option<StateKind>,
}

/// All of the Inbox's reactive state, cheap to copy into closures.
#[derive(Clone, Copy)]
pub struct Desk {
    pub me: StoredValue<MemberView>,
    pub view: RwSignal<InboxFilter>,
    pub list: RwSignal<Vec<ConversationSummary>>,
    pub list_load: RwSignal<Load>,
    pub counts: RwSignal<Option<InboxCounts>>,
    pub selected: RwSignal<Option<String>>,
    pub open: RwSignal<Option<ConversationSummary>>,
    pub open_load: RwSignal<Load>,
    pub messages: RwSignal<Vec<Message>>,
    pub notes: RwSignal<Vec<Note>>,
    pub outgoing: RwSignal<Vec<OutgoingReply>>,
    /// Who is typing in the open conversation (the visitor, or a teammate).
    pub typing: RwSignal<Option<String>>,
    pub suggestion: RwSignal<Suggestion>,
    pub draft: RwSignal<String>,
    pub mode: RwSignal<ComposerMode>,
    pub claiming: RwSignal<bool>,
    pub resolving: RwSignal<bool>,
    pub confirm_resolve: RwSignal<bool>,
    pub notice: RwSignal<Option<Notice>>,
    pub connection: RwSignal<Connection>,
    /// The browser's clock, ticking, for waiting times.
    pub now_ms: RwSignal<i64>,
    /// Bumped to ask the composer for focus.
    pub focus_composer: RwSignal<u32>,
    /// Whether the agent has allowed system notifications (`None`: not asked yet).
    pub notifications: RwSignal<Option<bool>>,
    /// Bumped when the session has ended: the page asks who is signed in again.
    session: RwSignal<u32>,
    /// Conversations known to be waiting in the queue: one that newly arrives there is
    /// announced (sound, notification).
    queued: StoredValue<HashMap<String, StateKind>>,
    /// The queue has been read once, so arrivals can be told from old entries.
    queue_known: StoredValue<bool>,
    counts_loading: StoredValue<bool>,
    counts_again: StoredValue<bool>,
    /// Frames for the live socket while it is open.
    pub outbox: browser::Outbox,
}

impl Desk {
    pub fn new(me: MemberView, view: InboxFilter, selected: Option<String>, session: RwSignal<u32>) -> Desk {
        Desk {
            me: StoredValue::new(me),
            view: RwSignal::new(view),
            list: RwSignal::new(Vec::new()),
            list_load: RwSignal::new(Load::Loading),
            counts: RwSignal::new(None),
            open_load: RwSignal::new(if selected.is_some() { Load::Loading } else { Load::Ready }),
            selected: RwSignal::new(selected),
            open: RwSignal::new(None),
            messages: RwSignal::new(Vec::new()),
            notes: RwSignal::new(Vec::new()),
            outgoing: RwSignal::new(Vec::new()),
            typing: RwSignal::new(None),
            suggestion: RwSignal::new(Suggestion::None),
            draft: RwSignal::new(String::new()),
            mode: RwSignal::new(ComposerMode::Reply),
            claiming: RwSignal::new(false),
            resolving: RwSignal::new(false),
            confirm_resolve: RwSignal::new(false),
            notice: RwSignal::new(None),
            connection: RwSignal::new(Connection::Connecting),
            now_ms: RwSignal::new(browser::now_ms()),
            focus_composer: RwSignal::new(0),
            notifications: RwSignal::new(None),
            session,
            queued: StoredValue::new(HashMap::new()),
            queue_known: StoredValue::new(false),
            counts_loading: StoredValue::new(false),
            counts_again: StoredValue::new(false),
            outbox: browser::Outbox::default(),
        }
    }

    /// False once the page that made this desk is gone (signed out, navigated away):
    /// a call answered after that must touch nothing, since reading a disposed
    /// signal panics.
    pub(super) fn alive(&self) -> bool {
        self.view.try_get_untracked().is_some()
    }

    pub fn my_id(&self) -> String {
        self.me.with_value(|me| me.id.clone())
    }

    /// What the signed-in member may do with the open conversation (nothing when none
    /// is open), as the state machine decides.
    pub fn allowed(&self) -> Allowed {
        let (me, admin) = self.me.with_value(|me| (me.agent_ref(), me.role == Role::Admin));
        self.open.with(|open| open.as_ref().map(|c| allowed(&c.full_state(), &me, admin)).unwrap_or_default())
    }

    /// Whether the signed-in member holds the open conversation.
    pub fn holding(&self) -> bool {
        let me = self.my_id();
        self.open.with(|open| open.as_ref().and_then(|c| c.agent.as_ref()).is_some_and(|agent| agent.id == me))
    }

    pub(super) fn is_open(&self, conversation_id: &str) -> bool {
        self.selected.with_untracked(|selected| selected.as_deref() == Some(conversation_id))
    }

    pub(super) fn say(&self, text: impl Into<String>, error: bool) {
        self.notice.set(Some(Notice { text: text.into(), error, about: None }));
    }

    /// A notice about the conversation being in `state` now.
    pub(super) fn say_about(&self, state: StateKind, text: impl Into<String>) {
        self.notice.set(Some(Notice { text: text.into(), error: false, about: Some(state) }));
    }

    /// A failed call: an ended session sends the agent back to sign-in; otherwise the
    /// error's own words, for the caller to show.
    pub(super) fn trouble(&self, err: &AppError) -> String {
        if matches!(err, AppError::Unauthenticated(_)) {
            self.session.update(|n| *n += 1);
        }
        err.to_string()
    }

    // ---- loading ------------------------------------------------------------------------------
}
