//! Messages (what both sides see) and notes (what only the team sees). They are
//! separate types stored in separate tables: a note can never pass for a message.

use serde::{Deserialize, Serialize};

use super::conversation::{AgentRef, EscalationReason, State, StateKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthorKind {
    Visitor,
    Bot,
    Agent,
    System,
}

impl AuthorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthorKind::Visitor => "visitor",
            AuthorKind::Bot => "bot",
            AuthorKind::Agent => "agent",
            AuthorKind::System => "system",
        }
    }

    pub fn parse(text: &str) -> Option<AuthorKind> {
        [AuthorKind::Visitor, AuthorKind::Bot, AuthorKind::Agent, AuthorKind::System]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    pub kind: AuthorKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// One visitor-visible message. `seq` grows by one per message of its conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub seq: i64,
    pub id: String,
    pub author: Author,
    pub text: String,
    /// RFC 3339, UTC.
    pub at: String,
    /// The sender's idempotency key, so a client can match its pending sends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// What a bot message asks the visitor for: the widget offers a matching input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asks: Option<Ask>,
}

/// Inserts `message` in seq order unless a message with its seq is already there
/// (one message can arrive twice: as a call's answer and over the socket).
/// Returns whether it was new.
pub fn merge_message(messages: &mut Vec<Message>, message: Message) -> bool {
    match messages.binary_search_by_key(&message.seq, |m| m.seq) {
        Ok(_) => false,
        Err(at) => {
            messages.insert(at, message);
            true
        }
    }
}

/// Something a bot message asks the visitor to give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ask {
    Email,
}

impl Ask {
    pub fn as_str(self) -> &'static str {
        match self {
            Ask::Email => "email",
        }
    }

    pub fn parse(text: &str) -> Option<Ask> {
        (text == "email").then_some(Ask::Email)
    }
}

/// An internal note: private to the team, never part of any visitor-facing payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub id: String,
    pub author: AgentRef,
    pub text: String,
    pub at: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visitor {
    pub name: Option<String>,
    pub email: Option<String>,
}

impl Visitor {
    /// What to call the visitor: the name they gave, else the first name the bot read
    /// off their email (it greeted them by it), else nothing.
    pub fn known_name(&self) -> Option<String> {
        self.name.clone().or_else(|| self.email.as_deref().and_then(super::text::name_from_email))
    }
}

/// A conversation as the Inbox lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub id: String,
    pub bot_id: String,
    pub state: StateKind,
    pub summary: Option<String>,
    pub reason: Option<EscalationReason>,
    pub visitor: Visitor,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentRef>,
    pub last_message_at: String,
    /// When it entered the queue (RFC 3339), for the waiting time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalated_at: Option<String>,
    /// Visitor messages since the team last replied.
    pub unread: i64,
    /// Where a conversation handed to a help desk went, and how it went.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispatch: Option<crate::domain::helpdesk::Dispatch>,
}

impl ConversationSummary {
    /// The full state, for `transition`: a claimed conversation with its agent.
    pub fn full_state(&self) -> State {
        match (self.state, &self.agent) {
            (StateKind::Bot, _) => State::Bot,
            (StateKind::NeedsHuman, _) => State::NeedsHuman,
            (StateKind::Claimed, Some(agent)) => State::Claimed { agent: agent.clone() },
            // Never sent by the server; read as held by nobody anyone can act for.
            (StateKind::Claimed, None) => State::Claimed { agent: AgentRef { id: String::new(), name: String::new() } },
            (StateKind::Resolved, _) => State::Resolved,
            (StateKind::HandedOff, _) => State::HandedOff,
        }
    }
}
