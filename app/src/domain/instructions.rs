//! A chatbot's instructions as admins write them in Settings: the free text for an
//! OpenAI-compatible model, "try a self-serve answer first", and the phrases that
//! always or never hand the chat to a person. Checked here, for the server's API and
//! the page alike.

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Most characters of the free text.
pub const MAX_INSTRUCTIONS_CHARS: usize = 4000;
/// Most phrases in each list.
pub const MAX_PHRASES: usize = 100;
/// Most characters of one phrase.
pub const MAX_PHRASE_CHARS: usize = 200;

/// `settings/instructions`: what a chatbot is told, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstructionSettings {
    pub bot_id: String,
    /// Free text, given to an OpenAI-compatible model as written (the built-in brain
    /// follows the switch and the phrases).
    pub text: String,
    /// Offer the best knowledge-base answer once before escalating an issue the bot
    /// cannot resolve.
    pub self_serve_first: bool,
    /// A visitor message holding one of these goes to a person at once.
    pub always_escalate: Vec<String>,
    /// A message holding one of these is never escalated by the bot (wins over
    /// `always_escalate` and over an explicit request).
    pub never_escalate: Vec<String>,
}

fn invalid(field: &str, problem: String) -> AppError {
    AppError::InvalidInput(format!("{field}: {problem}"))
}

/// Each phrase trimmed and lower-cased (matching ignores case), blank ones and repeats
/// dropped.
fn phrases(field: &str, raw: Vec<String>) -> Result<Vec<String>, AppError> {
    let mut kept: Vec<String> = Vec::new();
    for phrase in raw {
        let phrase = phrase.trim().to_lowercase();
        if phrase.is_empty() || kept.contains(&phrase) {
            continue;
        }
        if phrase.chars().any(char::is_control) {
            return Err(invalid(field, format!("{phrase:?} holds a control character or a line break")));
        }
        if phrase.chars().count() > MAX_PHRASE_CHARS {
            return Err(invalid(field, format!("a phrase is longer than {MAX_PHRASE_CHARS} characters")));
        }
        kept.push(phrase);
    }
    if kept.len() > MAX_PHRASES {
        return Err(invalid(field, format!("{} phrases; the limit is {MAX_PHRASES}", kept.len())));
    }
    Ok(kept)
}

impl InstructionSettings {
    /// The settings as they are stored, or a 400 naming the field that is wrong.
    pub fn checked(self) -> Result<InstructionSettings, AppError> {
        let text = self.text.trim().to_owned();
        if text.chars().count() > MAX_INSTRUCTIONS_CHARS {
            return Err(invalid("text", format!("is longer than {MAX_INSTRUCTIONS_CHARS} characters")));
        }
        if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err(invalid("text", "holds a control character".to_owned()));
        }
        Ok(InstructionSettings {
            bot_id: self.bot_id,
            text,
            self_serve_first: self.self_serve_first,
            always_escalate: phrases("always_escalate", self.always_escalate)?,
            never_escalate: phrases("never_escalate", self.never_escalate)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str, always: &[&str]) -> InstructionSettings {
        InstructionSettings {
            bot_id: "demo".into(),
            text: text.into(),
            self_serve_first: true,
            always_escalate: always.iter().map(|p| (*p).to_owned()).collect(),
            never_escalate: vec![],
        }
    }

    #[test]
    fn phrases_are_trimmed_lower_cased_and_kept_once() {
        let checked = settings("  Be brief.\n", &[" Refund ", "", "refund", "Lawyer"]).checked().unwrap();
        assert_eq!(checked.text, "Be brief.");
        assert_eq!(checked.always_escalate, ["refund", "lawyer"]);
    }

    #[test]
    fn overlong_and_control_characters_name_their_field() {
        let message = |result: Result<InstructionSettings, AppError>| match result {
            Err(AppError::InvalidInput(message)) => message,
            other => panic!("{other:?}"),
        };
        assert!(message(settings(&"x".repeat(MAX_INSTRUCTIONS_CHARS + 1), &[]).checked()).starts_with("text"));
        assert!(message(settings("a\u{0}b", &[]).checked()).starts_with("text"));
        assert!(message(settings("", &["a\u{7}b"]).checked()).starts_with("always_escalate"));
        let long = "y".repeat(MAX_PHRASE_CHARS + 1);
        assert!(message(settings("", &[long.as_str()]).checked()).starts_with("always_escalate"));
        let many: Vec<String> = (0..=MAX_PHRASES).map(|n| format!("phrase {n}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(message(settings("", &many).checked()).contains("limit"));
    }
}
