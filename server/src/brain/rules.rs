//! The interim rule brain: escalates when the visitor's latest message names a
//! person ("human", "person", "agent", …) and otherwise says honestly what it can do.
//! The built-in brain with knowledge-base retrieval replaces it behind `Brain`.

use app::domain::{AuthorKind, EscalationReason};
use async_trait::async_trait;

use super::{Brain, BotTurn, Turn};

const PERSON_WORDS: [&str; 7] = ["human", "person", "agent", "someone", "somebody", "representative", "operator"];

pub struct RuleBrain;

#[async_trait]
impl Brain for RuleBrain {
    async fn respond(&self, turn: &Turn<'_>) -> BotTurn {
        let last = turn.messages.iter().rev().find(|m| m.author.kind == AuthorKind::Visitor);
        let Some(last) = last else {
            return BotTurn::Reply(turn.chatbot.greeting.clone());
        };
        if asks_for_person(&last.text) {
            return BotTurn::Escalate {
                reason: EscalationReason::ExplicitRequest,
                summary: format!("Visitor asked to talk to a person: \"{}\"", clip(&last.text, 200)),
                reply: "Of course. I'm bringing in a member of our team.".to_owned(),
            };
        }
        BotTurn::Reply(
            "Thanks for your message. I can't answer that on my own yet; if you'd like, ask for a person \
             and a member of our team will join this chat."
                .to_owned(),
        )
    }
}

fn asks_for_person(text: &str) -> bool {
    text.split(|c: char| !c.is_alphanumeric())
        .any(|word| PERSON_WORDS.iter().any(|w| word.eq_ignore_ascii_case(w)))
}

fn clip(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_for_a_person_are_recognised_as_whole_words() {
        assert!(asks_for_person("Can I talk to a human?"));
        assert!(asks_for_person("AGENT please"));
        assert!(asks_for_person("is there a person I can speak to"));
        assert!(!asks_for_person("what is your humane policy"));
        assert!(!asks_for_person("how do I reset my password"));
    }

    #[test]
    fn clipping_respects_character_boundaries() {
        assert_eq!(clip("héllo", 2), "hé…");
        assert_eq!(clip("hi", 5), "hi");
    }
}
