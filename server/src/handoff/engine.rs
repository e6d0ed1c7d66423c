//! The one path of every change to a conversation: decide with `transition`, then, as
//! one change of the store's group commit, make the conditional state write (it
//! succeeds only if nobody changed the conversation since it was read) and append the
//! messages under their seqs; once the batch is committed, publish. A lost race
//! re-reads and decides again, so exactly one of any number of concurrent claimers wins.

use std::{sync::Arc, time::Duration};

use app::{
    domain::{
        helpdesk::Desk,
        live::{TeamEvent, VisitorEvent},
        Ask, Author, AuthorKind, Command, EscalationReason, Message, Outcome, State,
    },
    AppError,
};

use super::Handoff;
use crate::{
    live::bus::Announcement,
    store::{
        conversations::{change_state, insert_message_at, BotTurnDue, ConversationRecord, NewMessage, StateChange, Tx},
        helpdesks::{insert_outbox, NewOutbox},
        new_id, now_ms,
    },
};

/// Attempts at a conditional write before giving up on a hot conversation.
const MAX_ATTEMPTS: usize = 8;

/// A message to append as part of a change.
#[derive(Clone)]
pub(super) struct Pending {
    pub author: Author,
    pub author_id: Option<String>,
    pub text: String,
    pub client_id: Option<String>,
    pub asks: Option<Ask>,
}

impl Pending {
    pub fn system(text: String) -> Pending {
        Pending::from(Author { kind: AuthorKind::System, name: None }, text)
    }

    pub fn from(author: Author, text: String) -> Pending {
        Pending { author, author_id: None, text, client_id: None, asks: None }
    }

    /// The message asks the visitor for their email: the widget shows an email input.
    pub fn asking_for_email(mut self) -> Pending {
        self.asks = Some(Ask::Email);
        self
    }
}

/// One change to a conversation: the command, who makes it, and what it writes
/// besides the state, all in the same transaction.
pub(super) struct Change<'a> {
    pub command: Command,
    pub actor: &'a str,
    pub messages: Vec<Pending>,
    pub escalation: Option<(EscalationReason, String)>,
    /// `Some(Some(json))` sets the escalation waiting for an email, `Some(None)` clears it.
    pub pending_escalation: Option<Option<String>>,
    pub visitor_email: Option<String>,
    /// The AI turn this change ends (set by the bot's own changes). A visitor message
    /// the AI must answer records its owed turn by itself, in the same transaction.
    pub ends_bot_turn: bool,
    /// The help desk this escalation goes to: its outbox row is written in the same
    /// transaction, and the dispatcher woken after commit.
    pub to_desk: Option<Desk>,
}

impl<'a> Change<'a> {
    pub fn new(command: Command, actor: &'a str) -> Change<'a> {
        Change {
            command,
            actor,
            messages: Vec::new(),
            escalation: None,
            pending_escalation: None,
            visitor_email: None,
            ends_bot_turn: false,
            to_desk: None,
        }
    }

    /// A change the AI makes in its turn: storing it also settles the turn.
    pub fn by_the_bot(command: Command) -> Change<'a> {
        Change { ends_bot_turn: true, ..Change::new(command, "bot") }
    }

    pub fn say(mut self, message: Pending) -> Change<'a> {
        self.messages.push(message);
        self
    }
}

pub(super) enum Sent {
    /// Already stored under this client id.
    Stored(Message),
    New(Box<Applied>),
}

pub(super) struct Applied {
    pub conversation: ConversationRecord,
    pub messages: Vec<Message>,
    pub outcome: Outcome,
}

/// `transition`, with its refusal turned into the API's 409.
fn decide(state: &State, command: &Command) -> Result<Outcome, AppError> {
    app::domain::transition(state, command).map_err(AppError::from)
}

impl Handoff {
    /// Appends a message that carries a client id exactly once. A resend, or a
    /// concurrent send of the same id that lost the unique-index race, gets the stored
    /// message back. The unique index decides (the change that hits it is rolled back
    /// alone, inside its batch), so a new message costs no read to look for itself.
    /// `admit` (a rate limit) never refuses a resend: a refused send gets the stored
    /// message when there is one.
    pub(super) async fn send_once(
        &self,
        conversation: ConversationRecord,
        command: Command,
        actor: &str,
        pending: Pending,
        admit: impl FnOnce() -> Result<(), AppError>,
    ) -> Result<Sent, AppError> {
        let id = conversation.id.clone();
        let client_id = pending.client_id.clone().unwrap_or_default();
        let stored = || async { self.store.message_by_client_id(&id, &client_id).await.map_err(AppError::internal) };
        if let Err(limited) = admit() {
            return stored().await?.map(Sent::Stored).ok_or(limited);
        }
        match self.apply(conversation, Change::new(command, actor).say(pending)).await {
            Ok(applied) => Ok(Sent::New(Box::new(applied))),
            // Lost the race to a concurrent send of this client id (or failed after it
            // was stored): what is stored is the answer; otherwise the error is.
            Err(err) => stored().await?.map(Sent::Stored).ok_or(err),
        }
    }

    pub(super) async fn reload(&self, id: &str) -> Result<Option<ConversationRecord>, AppError> {
        self.store.conversation_by_id(id).await.map_err(AppError::internal)
    }

    pub(super) async fn apply(&self, mut current: ConversationRecord, change: Change<'_>) -> Result<Applied, AppError> {
        let Change {
            command,
            actor,
            messages: pending,
            escalation,
            pending_escalation,
            visitor_email,
            ends_bot_turn,
            to_desk,
        } = change;
        for attempt in 0..MAX_ATTEMPTS {
            let outcome = decide(&current.state, &command)?;
            let write = Write {
                current: current.clone(),
                outcome: outcome.clone(),
                actor: actor.to_owned(),
                pending: pending.clone(),
                escalation: escalation.clone(),
                pending_escalation: pending_escalation.clone(),
                visitor_email: visitor_email.clone(),
                ends_bot_turn,
                to_desk,
            };
            // Shared, not copied, by each run of the change (a batch may run it twice).
            let write = Arc::new(write);
            let written = self
                .store
                .write(&current.id, move |tx| {
                    let write = Arc::clone(&write);
                    Box::pin(async move { write.run(tx).await })
                })
                .await;
            let (conversation, messages) = match written {
                Ok(Some(written)) => written,
                Ok(None) => {
                    // Someone changed the conversation since we read it: read again and re-decide.
                    current = self.reload(&current.id).await?.ok_or(AppError::NotFound)?;
                    if attempt > 2 {
                        tokio::time::sleep(Duration::from_millis(2 << attempt)).await;
                    }
                    continue;
                }
                // Expected under concurrent resends; `send_once` answers it. Not an error to log.
                Err(WriteError::DuplicateClientId) => {
                    return Err(AppError::Conflict("a message with this client_id was just stored".into()));
                }
                Err(WriteError::Store(err)) => return Err(AppError::internal(err)),
            };
            if to_desk.is_some() {
                if let Some(outbox) = &self.outbox {
                    outbox.wake();
                }
            }
            self.publish(&current, &conversation, &messages);
            return Ok(Applied { conversation, messages, outcome });
        }
        Err(AppError::Conflict("this conversation is changing too fast; try again".into()))
    }

    /// After commit: the visitor's channel gets messages and state; the team's gets
    /// messages and the updated conversation.
    pub(super) fn publish(&self, before: &ConversationRecord, after: &ConversationRecord, messages: &[Message]) {
        for message in messages {
            self.hub.publish_visitor(&after.id, VisitorEvent::Message { message: message.clone() });
            self.hub.publish_team(
                &after.workspace_id,
                TeamEvent::Message { conversation_id: after.id.clone(), message: message.clone() },
            );
        }
        let state_changed = before.state.kind() != after.state.kind();
        if state_changed {
            self.hub.publish_visitor(&after.id, VisitorEvent::State { state: after.state.kind() });
        }
        self.hub.publish_team(&after.workspace_id, TeamEvent::Conversation { conversation: after.to_summary() });
        let (from, to) = match (messages.first(), messages.last()) {
            (Some(first), Some(last)) => (first.seq, last.seq),
            _ => (1, 0),
        };
        self.bus.announce(Announcement::Change {
            w: after.workspace_id.clone(),
            c: after.id.clone(),
            from,
            to,
            state_changed,
        });
    }
}

/// One attempt at a change, as the group commit runs it: the conditional state write
/// (which also takes the messages' seqs), then the messages, then the help desk's
/// outbox row.
struct Write {
    current: ConversationRecord,
    outcome: Outcome,
    actor: String,
    pending: Vec<Pending>,
    escalation: Option<(EscalationReason, String)>,
    pending_escalation: Option<Option<String>>,
    visitor_email: Option<String>,
    ends_bot_turn: bool,
    to_desk: Option<Desk>,
}

enum WriteError {
    /// Another message already holds this client id (its unique index).
    DuplicateClientId,
    Store(sqlx::Error),
}

impl From<sqlx::Error> for WriteError {
    fn from(err: sqlx::Error) -> WriteError {
        WriteError::Store(err)
    }
}

impl Write {
    /// The conversation as the change left it and the stored messages; `None` when the
    /// conversation changed since it was read (nothing is written then).
    async fn run(&self, tx: &mut Tx) -> Result<Option<(ConversationRecord, Vec<Message>)>, WriteError> {
        let Write {
            current,
            outcome,
            actor,
            pending,
            escalation,
            pending_escalation,
            visitor_email,
            ends_bot_turn,
            to_desk,
        } = self;
        let now = now_ms();
        let system = outcome.note.as_ref().map(|note| Pending::system(note.text()));
        let appending: Vec<&Pending> = pending.iter().chain(system.as_ref()).collect();
        let appends: Vec<AuthorKind> = appending.iter().map(|message| message.author.kind).collect();
        let change = StateChange {
            conversation_id: &current.id,
            from: &current.state,
            to: &outcome.state,
            escalation: escalation.as_ref().map(|(reason, summary)| (*reason, summary.as_str())),
            pending_escalation: pending_escalation.as_ref().map(|p| p.as_deref()),
            visitor_email: visitor_email.as_deref(),
            bot_turn: match (outcome.bot_answers, *ends_bot_turn) {
                (true, _) => BotTurnDue::Owed,
                (false, true) => BotTurnDue::Done,
                (false, false) => BotTurnDue::Unchanged,
            },
            appends: &appends,
            actor,
            now,
        };
        // One statement takes the state and the messages' seqs.
        let Some(changed) = change_state(tx, change).await? else { return Ok(None) };
        let first_seq = changed.first_seq;
        let mut messages = Vec::new();
        for (seq, message) in (first_seq..).zip(appending) {
            let new = NewMessage {
                conversation_id: &current.id,
                author: &message.author,
                author_id: message.author_id.as_deref(),
                text: &message.text,
                client_id: message.client_id.as_deref(),
                asks: message.asks,
                now,
            };
            match insert_message_at(tx, new, seq).await {
                Ok(message) => messages.push(message),
                Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                    return Err(WriteError::DuplicateClientId)
                }
                Err(err) => return Err(err.into()),
            }
        }
        if let Some(desk) = to_desk {
            let id = new_id("esc");
            let row = NewOutbox {
                id: &id,
                conversation_id: &current.id,
                workspace_id: &current.workspace_id,
                chatbot_id: &current.chatbot_id,
                desk: *desk,
                now,
            };
            insert_outbox(tx, row).await?;
        }
        Ok(Some((changed.conversation(current, outcome.state.clone()), messages)))
    }
}
