//! The team half of the public API (`/api/v1/inbox/*`).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    domain::{ConversationSummary, Message, Note, StateKind},
    error::AppError,
    wire::ApiJson,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InboxFilter {
    /// The queue, oldest escalation first.
    NeedsHuman,
    /// Claimed by the caller.
    Mine,
    /// Waiting for or held by a person.
    Open,
    Resolved,
    All,
}

impl InboxFilter {
    pub const ALL: [InboxFilter; 5] =
        [InboxFilter::NeedsHuman, InboxFilter::Mine, InboxFilter::Open, InboxFilter::Resolved, InboxFilter::All];

    pub fn as_str(self) -> &'static str {
        match self {
            InboxFilter::NeedsHuman => "needs_human",
            InboxFilter::Mine => "mine",
            InboxFilter::Open => "open",
            InboxFilter::Resolved => "resolved",
            InboxFilter::All => "all",
        }
    }

    pub fn parse(text: &str) -> Option<InboxFilter> {
        InboxFilter::ALL.into_iter().find(|filter| filter.as_str() == text)
    }

    /// The states a view's conversations are in: with `holds`, the one definition of
    /// what each view lists, used by the server's query, its counts and the
    /// browser's live lists alike.
    pub fn states(self) -> &'static [StateKind] {
        match self {
            InboxFilter::NeedsHuman => &[StateKind::NeedsHuman],
            InboxFilter::Mine => &[StateKind::Claimed],
            InboxFilter::Open => &[StateKind::NeedsHuman, StateKind::Claimed],
            InboxFilter::Resolved => &[StateKind::Resolved],
            InboxFilter::All => &StateKind::ALL,
        }
    }

    /// Only conversations the caller holds (`Mine`).
    pub fn mine_only(self) -> bool {
        self == InboxFilter::Mine
    }

    /// The queue lists the longest-waiting first; every other view the latest activity first.
    pub fn oldest_first(self) -> bool {
        self == InboxFilter::NeedsHuman
    }

    /// Does the view hold a conversation in `state`, which the caller holds or not?
    pub fn holds(self, state: StateKind, held_by_me: bool) -> bool {
        self.states().contains(&state) && (!self.mine_only() || held_by_me)
    }

    /// Does the view list `conversation` for the member `me`?
    pub fn lists(self, conversation: &ConversationSummary, me: &str) -> bool {
        self.holds(conversation.state, conversation.agent.as_ref().is_some_and(|agent| agent.id == me))
    }
}

/// How many conversations each view holds: `{"needs_human", "mine", "open", "resolved", "all"}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxCounts {
    pub needs_human: i64,
    pub mine: i64,
    pub open: i64,
    pub resolved: i64,
    pub all: i64,
}

impl InboxCounts {
    pub fn of(&self, filter: InboxFilter) -> i64 {
        match filter {
            InboxFilter::NeedsHuman => self.needs_human,
            InboxFilter::Mine => self.mine,
            InboxFilter::Open => self.open,
            InboxFilter::Resolved => self.resolved,
            InboxFilter::All => self.all,
        }
    }

    fn of_mut(&mut self, filter: InboxFilter) -> &mut i64 {
        match filter {
            InboxFilter::NeedsHuman => &mut self.needs_human,
            InboxFilter::Mine => &mut self.mine,
            InboxFilter::Open => &mut self.open,
            InboxFilter::Resolved => &mut self.resolved,
            InboxFilter::All => &mut self.all,
        }
    }

    /// Counts `n` conversations in `state` (held by the caller or not) in every view
    /// that holds them.
    pub fn add(&mut self, state: StateKind, held_by_me: bool, n: i64) {
        for filter in InboxFilter::ALL {
            if filter.holds(state, held_by_me) {
                *self.of_mut(filter) += n;
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationList {
    pub conversations: Vec<ConversationSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationDetail {
    pub conversation: ConversationSummary,
    pub messages: Vec<Message>,
    pub notes: Vec<Note>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationResponse {
    pub conversation: ConversationSummary,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageResponse {
    pub message: Message,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteResponse {
    pub note: Note,
}

#[server(prefix = "/api/v1", endpoint = "inbox/conversations", input = ApiJson)]
pub async fn list_conversations(filter: InboxFilter) -> Result<ConversationList, AppError> {
    let (backend, request) = crate::backend::backend()?;
    Ok(ConversationList { conversations: backend.conversations(&request, filter).await? })
}

/// `POST /api/v1/inbox/counts` `{}`: the number in each view, for the tabs' badges.
#[server(prefix = "/api/v1", endpoint = "inbox/counts", input = ApiJson)]
pub async fn count_conversations() -> Result<InboxCounts, AppError> {
    let (backend, request) = crate::backend::backend()?;
    backend.counts(&request).await
}

#[server(prefix = "/api/v1", endpoint = "inbox/conversation", input = ApiJson)]
pub async fn get_conversation(conversation_id: String) -> Result<ConversationDetail, AppError> {
    let (backend, request) = crate::backend::backend()?;
    backend.conversation(&request, conversation_id).await
}

/// Take over: exactly one of any number of concurrent claimers gets 200; the rest 409.
#[server(prefix = "/api/v1", endpoint = "inbox/claim", input = ApiJson)]
pub async fn claim_conversation(conversation_id: String) -> Result<ConversationResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    Ok(ConversationResponse { conversation: backend.claim(&request, conversation_id).await? })
}

#[server(prefix = "/api/v1", endpoint = "inbox/reply", input = ApiJson)]
pub async fn send_reply(conversation_id: String, client_id: String, text: String) -> Result<MessageResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    Ok(MessageResponse { message: backend.reply(&request, conversation_id, client_id, text).await? })
}

#[server(prefix = "/api/v1", endpoint = "inbox/note", input = ApiJson)]
pub async fn add_note(conversation_id: String, text: String) -> Result<NoteResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    Ok(NoteResponse { note: backend.note(&request, conversation_id, text).await? })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuggestionResponse {
    /// A drafted reply, to send as-is or edit first.
    pub text: String,
}

/// A reply drafted by the AI from the transcript and the chatbot's knowledge base.
#[server(prefix = "/api/v1", endpoint = "inbox/suggest", input = ApiJson)]
pub async fn suggest_reply(conversation_id: String) -> Result<SuggestionResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    Ok(SuggestionResponse { text: backend.suggest(&request, conversation_id).await? })
}

/// Hand the conversation back to the AI.
#[server(prefix = "/api/v1", endpoint = "inbox/resolve", input = ApiJson)]
pub async fn resolve_conversation(conversation_id: String) -> Result<ConversationResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    Ok(ConversationResponse { conversation: backend.resolve(&request, conversation_id).await? })
}
