//! The interim rule brain: escalates when the visitor's latest message asks for a
//! person (`signals::explicit_request`) or raises what the AI must not try to
//! resolve (double charges, refunds, billing disputes, account-specific requests),
//! or is clearly frustrated (`signals::frustrated`, over the whole conversation),
//! and otherwise says honestly what it can do. The built-in brain with
//! knowledge-base retrieval replaces it behind `Brain`.

use app::domain::{AuthorKind, EscalationReason};
use async_trait::async_trait;

use super::{signals, Brain, BotTurn, Turn};

pub struct RuleBrain;

#[async_trait]
impl Brain for RuleBrain {
    async fn respond(&self, turn: &Turn<'_>) -> BotTurn {
        let last = turn.messages.iter().rev().find(|m| m.author.kind == AuthorKind::Visitor);
        let Some(last) = last else {
            return BotTurn::Reply(turn.chatbot.greeting.clone());
        };
        if let Some(issue) = team_only_issue(&last.text) {
            return BotTurn::Escalate {
                reason: EscalationReason::CannotResolve,
                summary: summarize(&last.text),
                reply: issue.acknowledgement.to_owned(),
                topic: Some(issue.topic.to_owned()),
            };
        }
        if signals::explicit_request(&last.text) {
            return BotTurn::Escalate {
                reason: EscalationReason::ExplicitRequest,
                summary: format!("Visitor asked to talk to a person: \"{}\"", clip(&last.text, 200)),
                reply: "Of course, I'll bring in a member of our team.".to_owned(),
                topic: None,
            };
        }
        let said: Vec<&str> = turn
            .messages
            .iter()
            .filter(|m| m.author.kind == AuthorKind::Visitor)
            .map(|m| m.text.as_str())
            .collect();
        if signals::frustrated(&said) {
            let issue = said.first().copied().unwrap_or_default();
            return BotTurn::Escalate {
                reason: EscalationReason::Frustration,
                summary: format!("Visitor is frustrated; their issue: \"{}\"", clip(issue, 200)),
                reply: "I'm sorry this has been frustrating. Let me bring in a member of our team who can help."
                    .to_owned(),
                topic: None,
            };
        }
        BotTurn::Reply(
            "Thanks for your message. I can't answer that on my own yet; if you'd like, ask for a person \
             and a member of our team will join this chat."
                .to_owned(),
        )
    }
}

/// An issue only the team can resolve, and how the bot speaks of it.
struct TeamOnlyIssue {
    acknowledgement: &'static str,
    topic: &'static str,
}

const TEAM_ONLY: [(&[&str], TeamOnlyIssue); 4] = [
    (
        &["charged twice", "charged me twice", "double charge", "double-charged", "double charged", "charged two times"],
        TeamOnlyIssue {
            acknowledgement: "I'm sorry about the double charge — that's something our team will want to sort out for you directly.",
            topic: "the double charge",
        },
    ),
    (
        &["refund", "money back"],
        TeamOnlyIssue {
            acknowledgement: "I'm sorry to hear that. Refunds are handled by our team directly.",
            topic: "your refund request",
        },
    ),
    (
        &["overcharged", "wrong amount", "billing error", "invoice is wrong", "dispute", "chargeback"],
        TeamOnlyIssue {
            acknowledgement: "I'm sorry about the billing trouble — our team will want to look at that with you directly.",
            topic: "the billing issue",
        },
    ),
    (
        &["delete my account", "close my account", "my account is locked", "locked out of my account", "change my account email"],
        TeamOnlyIssue {
            acknowledgement: "That needs someone who can look at your account directly.",
            topic: "your account request",
        },
    ),
];

fn team_only_issue(text: &str) -> Option<&'static TeamOnlyIssue> {
    let text = text.to_lowercase();
    TEAM_ONLY.iter().find(|(phrases, _)| phrases.iter().any(|p| text.contains(p))).map(|(_, issue)| issue)
}

/// The visitor's own sentence, turned into a note about them: "I was charged twice
/// for my subscription and I need this fixed." → "Customer charged twice for their
/// subscription and is requesting a fix".
pub fn summarize(text: &str) -> String {
    let sentence = text.trim().trim_end_matches(['.', '!', '?', ' ']);
    let mut out = format!(" {sentence} ");
    for (from, to) in [
        (" and I need this fixed ", " and is requesting a fix "),
        (" and I need ", " and needs "),
        (" and I want ", " and wants "),
        (" and I'd like ", " and would like "),
        (" I was ", " Customer "),
        (" I've been ", " Customer has been "),
        (" I have ", " Customer has "),
        (" I'm ", " Customer is "),
        (" I am ", " Customer is "),
        (" I need ", " Customer needs "),
        (" I want ", " Customer wants "),
        (" I ", " Customer "),
        (" my ", " their "),
        (" me ", " them "),
        (" myself ", " themselves "),
    ] {
        out = out.replace(from, to);
    }
    let out = clip(out.trim(), 300);
    let mut chars = out.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
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
    fn the_seed_request_becomes_the_seed_summary() {
        assert_eq!(
            summarize("I was charged twice for my subscription this month and I need this fixed."),
            "Customer charged twice for their subscription this month and is requesting a fix"
        );
        assert_eq!(summarize("I am locked out of my account"), "Customer is locked out of their account");
    }

    #[test]
    fn billing_refund_and_account_issues_go_to_the_team() {
        for text in [
            "I was charged twice for my subscription",
            "Can I get a refund?",
            "I think I was overcharged",
            "please delete my account",
        ] {
            assert!(team_only_issue(text).is_some(), "{text}");
        }
        for text in ["How do I change my password?", "What does the Team plan cost?"] {
            assert!(team_only_issue(text).is_none(), "{text}");
        }
    }

    #[test]
    fn clipping_respects_character_boundaries() {
        assert_eq!(clip("héllo", 2), "hé…");
        assert_eq!(clip("hi", 5), "hi");
    }
}
