//! The AI side of a conversation, behind one interface: given the conversation so
//! far, decide the bot's next turn.

pub mod rules;
pub mod signals;

use app::domain::{EscalationReason, Message, Visitor};
use async_trait::async_trait;

use crate::store::conversations::ChatbotRecord;

/// What the brain sees of a conversation.
pub struct Turn<'a> {
    pub chatbot: &'a ChatbotRecord,
    pub visitor: &'a Visitor,
    /// Visitor-visible messages, oldest first (at most the most recent few dozen).
    pub messages: &'a [Message],
}

/// The bot's decision for one visitor turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BotTurn {
    /// Answer the visitor.
    Reply(String),
    /// Hand the conversation to a person: acknowledge with `reply`, record why and
    /// what they need; `topic` names the issue in the confirmation ("the double charge").
    Escalate { reason: EscalationReason, summary: String, reply: String, topic: Option<String> },
}

#[async_trait]
pub trait Brain: Send + Sync + 'static {
    async fn respond(&self, turn: &Turn<'_>) -> BotTurn;
}
