//! The AI side of a conversation, behind one interface: given the conversation so
//! far, decide the bot's next turn, draft a reply for an agent, summarise.

pub mod builtin;
pub mod corpora;
#[cfg(test)]
mod decisions;
pub mod eval;
pub mod knowledge;
pub mod knowledge_files;
pub mod meaning;
pub mod openai;
pub mod per_chatbot;
pub mod policy;
pub mod signals;
pub mod summary;
pub mod validation;

use app::domain::{EscalationReason, Message, Visitor};
use async_trait::async_trait;

use crate::store::conversations::ChatbotRecord;
use knowledge::{Hit, KnowledgeBase};

/// What the brain sees of a conversation.
pub struct Turn<'a> {
    pub chatbot: &'a ChatbotRecord,
    pub knowledge: &'a KnowledgeBase,
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
    /// The handoff asks for the visitor's email first if it has none.
    Escalate { reason: EscalationReason, summary: String, reply: String, topic: Option<String> },
}

#[async_trait]
pub trait Brain: Send + Sync + 'static {
    /// The bot's next turn after a visitor message.
    async fn respond(&self, turn: &Turn<'_>) -> BotTurn;
    /// A reply an agent can send as-is or edit first.
    async fn suggest_reply(&self, turn: &Turn<'_>, agent_name: &str) -> String;
    /// One or two sentences on what the visitor needs, for an escalation for `reason`.
    async fn summarize(&self, turn: &Turn<'_>, reason: EscalationReason) -> String;
    /// The entry this brain would answer `question` from (it answers when
    /// `Hit::answers`), for Settings' "What would the bot answer?".
    fn lookup<'k>(&self, _chatbot: &ChatbotRecord, knowledge: &'k KnowledgeBase, question: &str) -> Option<Hit<'k>> {
        knowledge.best(question)
    }
}
