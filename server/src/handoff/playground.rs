//! Settings → Playground: one bot turn over a transcript the page holds, with the
//! chatbot's real brain, knowledge (as it is now), instructions and email step, and
//! why it decided what it did. Nothing is written: no conversation, message, count
//! or handoff exists for it, so nothing reaches the Inbox, a help desk or a report.

use app::{
    domain::{
        playground::{Decision, EntryUsed, PendingHandover, PlaygroundRequest, PlaygroundTurn, Speaker},
        text::{email_in, EmailAnswer},
        Author, AuthorKind, Message, Visitor,
    },
    AppError,
};

use super::{bot::NOBODY_CAN_JOIN, escalation, route::Route, Handoff};
use crate::{
    brain::{builtin::DONT_KNOW, per_chatbot::ChatbotBrains, BotTurn, Brain, Turn},
    store::{conversations::ChatbotRecord, rfc3339},
};

/// The transcript as the brain reads it (the same shape as a stored conversation's).
fn messages(request: &PlaygroundRequest, bot_name: &str) -> Vec<Message> {
    request
        .lines
        .iter()
        .enumerate()
        .map(|(at, line)| {
            let author = match line.from {
                Speaker::Visitor => Author { kind: AuthorKind::Visitor, name: None },
                Speaker::Bot => Author { kind: AuthorKind::Bot, name: Some(bot_name.to_owned()) },
            };
            Message {
                seq: at as i64 + 1,
                id: format!("playground-{at}"),
                author,
                text: line.text.trim().to_owned(),
                at: rfc3339(0),
                client_id: None,
                asks: None,
            }
        })
        .collect()
}

/// An email the visitor already gave in the chat.
fn known_email(messages: &[Message]) -> Option<String> {
    messages.iter().filter(|m| m.author.kind == AuthorKind::Visitor).find_map(|m| match email_in(&m.text) {
        EmailAnswer::Found(email) | EmailAnswer::Several(email) => Some(email.as_str().to_owned()),
        _ => None,
    })
}

impl Handoff {
    pub async fn playground(
        &self,
        brains: &ChatbotBrains,
        chatbot: &ChatbotRecord,
        request: PlaygroundRequest,
    ) -> Result<PlaygroundTurn, AppError> {
        request.checked()?;
        let messages = messages(&request, &chatbot.name);
        let last = messages.last().map(|m| m.text.clone()).unwrap_or_default();
        let brain = brains.label_for(chatbot);
        let visitor = Visitor { name: None, email: None };

        // A handover waiting for the email: this message should carry it.
        if let Some(pending) = request.pending {
            let (decision, reply, pending) = match email_in(&last) {
                EmailAnswer::Found(email) | EmailAnswer::Several(email) => {
                    let (decision, reply) = self.handed_over(chatbot, &pending, email.as_str(), None).await?;
                    (decision, reply, None)
                }
                EmailAnswer::Invalid(why) => (Decision::AskAgain, escalation::ask_again(&why), Some(pending)),
                EmailAnswer::Missing => (Decision::AskAgain, escalation::ask_for_missing_email(), Some(pending)),
            };
            let summary = pending.as_ref().map(|p| p.summary.clone());
            return Ok(PlaygroundTurn {
                reply,
                decision,
                reason: None,
                signals: Vec::new(),
                frustration: 0.0,
                entry: None,
                summary,
                pending,
                brain,
            });
        }

        let knowledge = self.knowledge_base(chatbot).await?;
        let turn = Turn { chatbot, knowledge: &knowledge, visitor: &visitor, messages: &messages };
        let (signals, frustration) = brains.builtin().signals(&turn);
        let entry = brains.lookup(chatbot, &knowledge, &last).map(|hit| EntryUsed {
            entry_id: hit.entry.id.clone(),
            title: hit.entry.title.clone(),
            score: hit.coverage,
            answers: hit.answers(),
        });
        let decided = match brains.respond(&turn).await {
            BotTurn::Escalate { reason, summary, reply, topic } if summary.trim().is_empty() => {
                BotTurn::Escalate { reason, summary: brains.summarize(&turn, reason).await, reply, topic }
            }
            decided => decided,
        };
        let (reply, decision, reason, summary, pending) = match decided {
            BotTurn::Reply(text) => {
                let decision = if text.starts_with(DONT_KNOW) { Decision::DontKnow } else { Decision::Answer };
                (text, decision, None, None, None)
            }
            BotTurn::Escalate { reason, summary, reply, topic } => {
                let pending = PendingHandover { reason, summary: summary.clone(), topic };
                match known_email(&messages) {
                    Some(email) => {
                        let (decision, said) = self.handed_over(chatbot, &pending, &email, Some(reply)).await?;
                        (said, decision, Some(reason), Some(summary), None)
                    }
                    None => {
                        let ask = escalation::ask_for_email(&reply);
                        (ask, Decision::AskForEmail, Some(reason), Some(summary), Some(pending))
                    }
                }
            }
        };
        Ok(PlaygroundTurn { reply, decision, reason, signals, frustration, entry, summary, pending, brain })
    }

    /// What the bot would say on handing over now, by where the handover would go
    /// (as settings are now: Live Agent Handoff, the connected desks).
    async fn handed_over(
        &self,
        chatbot: &ChatbotRecord,
        pending: &PendingHandover,
        email: &str,
        acknowledgement: Option<String>,
    ) -> Result<(Decision, String), AppError> {
        let name = escalation::first_name(None, email);
        let confirmation = match self.route_of(chatbot).await? {
            Route::Inbox => escalation::passed_along(name.as_deref(), email, pending.topic.as_deref()),
            Route::HelpDesk(_) => escalation::shared_with_desk(name.as_deref(), email),
            Route::Nobody => return Ok((Decision::NobodyToTakeIt, NOBODY_CAN_JOIN.to_owned())),
        };
        let said = match acknowledgement {
            Some(ack) => format!("{ack} {confirmation}"),
            None => confirmation,
        };
        Ok((Decision::Escalate, said))
    }
}
