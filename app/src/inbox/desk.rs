//! The Inbox as an agent's browser holds it: the current view's conversations and
//! every view's count, the open conversation (transcript, notes, replies on their
//! way, who is typing, the AI's suggestion), and the connection. Live events from
//! `/live/inbox` and the answers of the team calls are applied here; components
//! only read these signals and call these methods.

use std::{collections::HashMap, time::Duration};

use leptos::{prelude::*, task::spawn_local};

use super::api::{
    add_note, claim_conversation, count_conversations, get_conversation, list_conversations, resolve_conversation,
    send_reply, suggest_reply, InboxCounts, InboxFilter,
};
use crate::{
    browser,
    domain::{
        allowed,
        clock::epoch_ms,
        live::{InboxClientFrame, TeamEvent}, merge_message, Allowed, AuthorKind, ConversationSummary,
        MemberView, Message, Note, Role, StateKind,
    },
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
    fn alive(&self) -> bool {
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

    fn is_open(&self, conversation_id: &str) -> bool {
        self.selected.with_untracked(|selected| selected.as_deref() == Some(conversation_id))
    }

    fn say(&self, text: impl Into<String>, error: bool) {
        self.notice.set(Some(Notice { text: text.into(), error }));
    }

    /// A failed call: an ended session sends the agent back to sign-in; otherwise the
    /// error's own words, for the caller to show.
    fn trouble(&self, err: &AppError) -> String {
        if matches!(err, AppError::Unauthenticated(_)) {
            self.session.update(|n| *n += 1);
        }
        err.to_string()
    }

    // ---- loading ------------------------------------------------------------------------------

    /// Reads everything again: at start, after a reconnect, after missed events.
    pub fn refresh(self) {
        self.load_view();
        self.load_counts();
        if self.view.get_untracked() != InboxFilter::NeedsHuman {
            self.load_queue();
        }
        if let Some(id) = self.selected.get_untracked() {
            self.load_conversation(id);
        }
    }

    pub fn show_view(self, view: InboxFilter) {
        if self.view.get_untracked() == view {
            return;
        }
        self.view.set(view);
        self.list.set(Vec::new());
        self.load_view();
        self.sync_address();
    }

    fn load_view(self) {
        let view = self.view.get_untracked();
        self.list_load.set(Load::Loading);
        spawn_local(async move {
            let result = list_conversations(view).await;
            if !self.alive() || self.view.get_untracked() != view {
                return;
            }
            match result {
                Ok(list) => {
                    if view == InboxFilter::NeedsHuman {
                        self.know_queue(&list.conversations);
                    }
                    self.list.set(list.conversations);
                    self.list_load.set(Load::Ready);
                }
                Err(err) => self.list_load.set(Load::Failed(self.trouble(&err))),
            }
        });
    }

    /// Reads the queue only to know what is already waiting (the view shows another list).
    fn load_queue(self) {
        spawn_local(async move {
            if let Ok(list) = list_conversations(InboxFilter::NeedsHuman).await {
                if self.alive() {
                    self.know_queue(&list.conversations);
                }
            }
        });
    }

    fn know_queue(&self, waiting: &[ConversationSummary]) {
        self.queued.update_value(|queued| {
            for conversation in waiting {
                queued.insert(conversation.id.clone(), conversation.state);
            }
        });
        self.queue_known.set_value(true);
    }

    /// Reads the counts; calls that arrive while one is running coalesce into one more.
    pub fn load_counts(self) {
        if self.counts_loading.get_value() {
            self.counts_again.set_value(true);
            return;
        }
        self.counts_loading.set_value(true);
        spawn_local(async move {
            let result = count_conversations().await;
            if !self.alive() {
                return;
            }
            if let Ok(counts) = result {
                self.counts.set(Some(counts));
            }
            self.counts_loading.set_value(false);
            if self.counts_again.get_value() {
                self.counts_again.set_value(false);
                self.load_counts();
            }
        });
    }

    /// Opens a conversation (or, with `None`, goes back to the list).
    pub fn select(self, id: Option<String>) {
        if self.selected.get_untracked() == id {
            return;
        }
        self.selected.set(id.clone());
        self.open.set(None);
        self.messages.set(Vec::new());
        self.notes.set(Vec::new());
        self.outgoing.set(Vec::new());
        self.typing.set(None);
        self.suggestion.set(Suggestion::None);
        self.draft.set(String::new());
        self.mode.set(ComposerMode::Reply);
        self.confirm_resolve.set(false);
        self.notice.set(None);
        match id {
            Some(id) => self.load_conversation(id),
            None => self.open_load.set(Load::Ready),
        }
        self.sync_address();
    }

    /// Opens the conversation `step` places down (or up) the list from the open one.
    pub fn step(self, step: isize) {
        let next = self.list.with_untracked(|list| {
            let current = self.selected.with_untracked(|s| s.clone());
            let at = current.and_then(|id| list.iter().position(|c| c.id == id));
            let index = match at {
                Some(at) => at.checked_add_signed(step).filter(|i| *i < list.len()),
                None if !list.is_empty() => Some(0),
                None => None,
            };
            index.map(|i| list[i].id.clone())
        });
        if next.is_some() {
            self.select(next);
        }
    }

    fn load_conversation(self, id: String) {
        if self.open.with_untracked(Option::is_none) {
            self.open_load.set(Load::Loading);
        }
        spawn_local(async move {
            let result = get_conversation(id.clone()).await;
            if !self.alive() || !self.is_open(&id) {
                return;
            }
            match result {
                Ok(detail) => {
                    let offer = wants_suggestion(&detail.conversation, &detail.messages, &self.my_id());
                    self.open.set(Some(detail.conversation));
                    self.messages.update(|held| {
                        for message in detail.messages {
                            merge_message(held, message);
                        }
                    });
                    self.notes.set(detail.notes);
                    self.open_load.set(Load::Ready);
                    if offer && self.suggestion.get_untracked() == Suggestion::None {
                        self.draft_suggestion(false);
                    }
                }
                Err(AppError::NotFound) => self
                    .open_load
                    .set(Load::Failed("This conversation does not exist, or it belongs to another workspace.".into())),
                Err(err) => self.open_load.set(Load::Failed(self.trouble(&err))),
            }
        });
    }

    /// Puts the view and the open conversation in the address bar.
    fn sync_address(&self) {
        let mut query = format!("view={}", self.view.get_untracked().as_str());
        if let Some(id) = self.selected.get_untracked() {
            query.push_str("&c=");
            query.push_str(&id);
        }
        browser::replace_query(&query);
    }

    // ---- live events --------------------------------------------------------------------------

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

    fn conversation_changed(self, conversation: ConversationSummary) {
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
            self.open.set(Some(conversation));
        }
        self.load_counts();
    }

    // ---- the agent's actions ------------------------------------------------------------------

    /// Take over: exactly one agent wins; the others are told who did.
    pub fn claim(self) {
        let Some(id) = self.selected.get_untracked() else { return };
        if self.claiming.get_untracked() {
            return;
        }
        self.claiming.set(true);
        spawn_local(async move {
            let result = claim_conversation(id.clone()).await;
            if !self.alive() {
                return;
            }
            match result {
                Ok(answer) => {
                    self.conversation_changed(answer.conversation);
                    self.say("You have taken over. The visitor sees that you joined.", false);
                    self.mode.set(ComposerMode::Reply);
                    self.focus_composer.update(|n| *n += 1);
                }
                Err(AppError::Conflict(why)) => {
                    self.say(format!("You could not take over: {why}."), true);
                    self.load_conversation(id);
                }
                Err(err) => {
                    let why = self.trouble(&err);
                    self.say(format!("You could not take over: {why}"), true);
                }
            }
            self.claiming.set(false);
        });
    }

    /// Sends what is in the composer, as a reply or as a note.
    pub fn send_draft(self) {
        let text = self.draft.get_untracked().trim().to_owned();
        if text.is_empty() {
            return;
        }
        match self.mode.get_untracked() {
            ComposerMode::Reply if self.holding() => {
                self.draft.set(String::new());
                let reply = OutgoingReply { client_id: browser::client_id(), text, failed: None };
                self.outgoing.update(|out| out.push(reply.clone()));
                self.deliver(reply);
            }
            ComposerMode::Reply => self.say("Take over the conversation before you reply.", true),
            ComposerMode::Note => {
                self.draft.set(String::new());
                self.write_note(text);
            }
        }
    }

    /// Tries a failed reply again under its own client id, so it is never stored twice.
    pub fn retry(self, client_id: String) {
        let Some(reply) = self.outgoing.with_untracked(|out| out.iter().find(|o| o.client_id == client_id).cloned())
        else {
            return;
        };
        self.outgoing.update(|out| {
            if let Some(o) = out.iter_mut().find(|o| o.client_id == client_id) {
                o.failed = None;
            }
        });
        self.deliver(reply);
    }

    /// Gives up on a failed reply; its text goes back into the composer.
    pub fn discard(self, client_id: String) {
        let text =
            self.outgoing.with_untracked(|out| out.iter().find(|o| o.client_id == client_id).map(|o| o.text.clone()));
        self.outgoing.update(|out| out.retain(|o| o.client_id != client_id));
        if let Some(text) = text {
            if self.draft.with_untracked(String::is_empty) {
                self.draft.set(text);
            }
        }
    }

    fn deliver(self, reply: OutgoingReply) {
        let Some(id) = self.selected.get_untracked() else { return };
        spawn_local(async move {
            let result = send_reply(id.clone(), reply.client_id.clone(), reply.text.clone()).await;
            if !self.alive() || !self.is_open(&id) {
                return;
            }
            match result {
                Ok(answer) => {
                    self.outgoing.update(|out| out.retain(|o| o.client_id != reply.client_id));
                    self.messages.update(|held| {
                        merge_message(held, answer.message);
                    });
                }
                Err(err) => {
                    let why = self.trouble(&err);
                    self.outgoing.update(|out| {
                        if let Some(o) = out.iter_mut().find(|o| o.client_id == reply.client_id) {
                            o.failed = Some(why.clone());
                        }
                    });
                }
            }
        });
    }

    fn write_note(self, text: String) {
        let Some(id) = self.selected.get_untracked() else { return };
        spawn_local(async move {
            let result = add_note(id.clone(), text.clone()).await;
            if !self.alive() {
                return;
            }
            match result {
                Ok(answer) if self.is_open(&id) => self.notes.update(|notes| add_note_once(notes, answer.note)),
                Ok(_) => {}
                Err(err) => {
                    let why = self.trouble(&err);
                    if self.is_open(&id) {
                        self.say(format!("The note was not saved: {why}"), true);
                        if self.draft.with_untracked(String::is_empty) {
                            self.draft.set(text);
                        }
                    }
                }
            }
        });
    }

    /// Asks the AI for a reply. `into_composer`: the agent pressed the button, so the
    /// draft goes straight into the composer; otherwise it is offered above it.
    pub fn draft_suggestion(self, into_composer: bool) {
        let Some(id) = self.selected.get_untracked() else { return };
        self.suggestion.set(Suggestion::Drafting);
        spawn_local(async move {
            let result = suggest_reply(id.clone()).await;
            if !self.alive() || !self.is_open(&id) {
                return;
            }
            match result {
                Ok(answer) if into_composer => {
                    self.suggestion.set(Suggestion::None);
                    self.use_text(answer.text);
                }
                Ok(answer) => self.suggestion.set(Suggestion::Offered(answer.text)),
                Err(err) => self.suggestion.set(Suggestion::Failed(self.trouble(&err))),
            }
        });
    }

    /// Takes the offered suggestion into the composer, to send as-is or edit first.
    pub fn use_suggestion(self) {
        if let Suggestion::Offered(text) = self.suggestion.get_untracked() {
            self.suggestion.set(Suggestion::None);
            self.use_text(text);
        }
    }

    fn use_text(&self, text: String) {
        self.mode.set(ComposerMode::Reply);
        self.draft.set(text);
        self.focus_composer.update(|n| *n += 1);
    }

    /// Hands the conversation back to the AI (after the agent confirmed).
    pub fn resolve(self) {
        let Some(id) = self.selected.get_untracked() else { return };
        self.resolving.set(true);
        spawn_local(async move {
            let result = resolve_conversation(id).await;
            if !self.alive() {
                return;
            }
            match result {
                Ok(answer) => {
                    self.conversation_changed(answer.conversation);
                    self.say("Resolved. The AI assistant answers this visitor again from their next message.", false);
                }
                Err(err) => {
                    let why = self.trouble(&err);
                    self.say(format!("Not resolved: {why}"), true);
                }
            }
            self.resolving.set(false);
            self.confirm_resolve.set(false);
        });
    }

    /// The agent typed in the reply box: the visitor sees "typing" (at most every few seconds).
    pub fn typed(self) {
        if self.mode.get_untracked() != ComposerMode::Reply || !self.holding() {
            return;
        }
        let Some(id) = self.selected.get_untracked() else { return };
        self.outbox.typing(|| InboxClientFrame::Typing { conversation_id: id });
    }

    pub fn ask_for_notifications(self) {
        browser::ask_for_notifications(move |allowed| {
            if self.alive() {
                self.notifications.set(allowed);
            }
        });
    }
}

/// A new conversation in the queue: a sound, and a system notification when allowed.
fn announce(conversation: &ConversationSummary) {
    browser::chime();
    let who = visitor_label(conversation);
    let body = conversation.summary.clone().unwrap_or_else(|| "Waiting for a person.".to_owned());
    browser::notify(&format!("Needs human: {who}"), &body);
}

/// Whether the open conversation deserves a suggested reply right away: someone must
/// answer it now (it waits, or the caller holds it) and the visitor spoke last.
fn wants_suggestion(conversation: &ConversationSummary, messages: &[Message], me: &str) -> bool {
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

fn add_note_once(notes: &mut Vec<Note>, note: Note) {
    if !notes.iter().any(|n| n.id == note.id) {
        notes.push(note);
    }
}

/// How the Inbox names a visitor: their name, else their email, else anonymously.
pub fn visitor_label(conversation: &ConversationSummary) -> String {
    conversation
        .visitor
        .name
        .clone()
        .or_else(|| conversation.visitor.email.clone())
        .unwrap_or_else(|| "Anonymous visitor".to_owned())
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
mod tests {
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
        }
    }

    fn message(seq: i64, kind: AuthorKind, at: &str) -> Message {
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

    fn note(id: &str, at: &str) -> Note {
        Note {
            id: id.into(),
            author: AgentRef { id: "mem_a".into(), name: "Ana".into() },
            text: "private".into(),
            at: at.into(),
        }
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
