//! Settings → Playground: the admin chats with a chatbot as a visitor would (the real
//! brain, knowledge, instructions and email step) and sees, for every bot turn, what
//! it decided and why. Nothing is stored: the page holds the transcript and sends it
//! with each message, so nothing reaches the Inbox, a help desk or the counts.

use serde::{Deserialize, Serialize};

use super::{text::MessageText, EscalationReason};
use crate::error::AppError;

/// Most lines a Playground transcript may carry (older ones are the page's to drop).
pub const MAX_PLAYGROUND_LINES: usize = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    Visitor,
    Bot,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaygroundLine {
    pub from: Speaker,
    pub text: String,
}

/// A handover waiting for the visitor's email, as the last turn left it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingHandover {
    pub reason: EscalationReason,
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
}

/// `settings/playground`: the transcript so far (ending with the visitor's new
/// message) and the handover the previous turn left waiting, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaygroundRequest {
    pub bot_id: String,
    pub lines: Vec<PlaygroundLine>,
    #[serde(default)]
    pub pending: Option<PendingHandover>,
}

impl PlaygroundRequest {
    /// Every line a message a visitor could send, the last one the visitor's.
    pub fn checked(&self) -> Result<(), AppError> {
        if self.lines.len() > MAX_PLAYGROUND_LINES {
            return Err(AppError::TooLarge(format!(
                "lines: {} lines; the Playground keeps {MAX_PLAYGROUND_LINES} at most (Reset to start over)",
                self.lines.len()
            )));
        }
        match self.lines.last() {
            Some(line) if line.from == Speaker::Visitor => {}
            _ => return Err(AppError::InvalidInput("lines: must end with the visitor's message".into())),
        }
        for line in &self.lines {
            MessageText::parse(&line.text)?;
        }
        Ok(())
    }
}

/// What the bot did with the turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Answered (from the knowledge base, or small talk).
    Answer,
    /// Said it doesn't know, and offered the team.
    DontKnow,
    /// Would hand over, and asks for the email first.
    AskForEmail,
    /// The email given does not look right: asks again.
    AskAgain,
    /// Would hand the chat to a person now (the Playground stops there).
    Escalate,
    /// Would hand over, but nobody can take it (Live Agent Handoff off, no desk).
    NobodyToTakeIt,
}

impl Decision {
    pub fn label(self) -> &'static str {
        match self {
            Decision::Answer => "Answer",
            Decision::DontKnow => "Don't know",
            Decision::AskForEmail => "Ask for the email",
            Decision::AskAgain => "Ask for the email again",
            Decision::Escalate => "Hand over to a person",
            Decision::NobodyToTakeIt => "Hand over, but nobody can take it",
        }
    }
}

/// One reading of the visitor's message that fired, in words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    /// `explicit_request`, `frustration`, `cannot_resolve`, `always_phrase`,
    /// `never_phrase`, `classifier`.
    pub kind: String,
    pub detail: String,
}

/// The knowledge-base entry the turn used (or the nearest, too weak to answer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryUsed {
    pub entry_id: String,
    pub title: String,
    pub score: f32,
    /// Whether it was strong enough to answer from.
    pub answers: bool,
}

/// `settings/playground`'s answer: the bot's reply and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlaygroundTurn {
    pub reply: String,
    pub decision: Decision,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<EscalationReason>,
    pub signals: Vec<Signal>,
    /// How frustrated the message reads, 0 to 1 (the sentence model's reading, or
    /// the sentiment of the rules when it is not installed).
    pub frustration: f32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<EntryUsed>,
    /// What the team would be handed (with an escalation or a request for the email).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// For the next request: the handover waiting for the email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<PendingHandover>,
    /// Which AI took the turn ("the built-in AI", "gpt-4o-mini at …").
    pub brain: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(lines: Vec<(Speaker, &str)>) -> PlaygroundRequest {
        PlaygroundRequest {
            bot_id: "demo".into(),
            lines: lines.into_iter().map(|(from, text)| PlaygroundLine { from, text: text.into() }).collect(),
            pending: None,
        }
    }

    #[test]
    fn a_transcript_ends_with_a_visitor_message_a_visitor_could_send() {
        assert!(request(vec![(Speaker::Bot, "Hi!"), (Speaker::Visitor, "hello")]).checked().is_ok());
        assert!(matches!(request(vec![]).checked(), Err(AppError::InvalidInput(_))));
        assert!(matches!(
            request(vec![(Speaker::Visitor, "hi"), (Speaker::Bot, "Hi!")]).checked(),
            Err(AppError::InvalidInput(_))
        ));
        assert!(matches!(request(vec![(Speaker::Visitor, "  ")]).checked(), Err(AppError::InvalidInput(_))));
        let long = vec![(Speaker::Visitor, "hi"); MAX_PLAYGROUND_LINES + 1];
        assert!(matches!(request(long).checked(), Err(AppError::TooLarge(_))));
    }
}
