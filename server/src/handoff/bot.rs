//! The AI's turn after a visitor message: answer, ask for the email, or hand over.

use std::sync::Arc;

use app::{
    domain::{
        helpdesk::Desk,
        text::{email_in, EmailAnswer},
        AuthorKind, Command, EscalationReason, State,
    },
    AppError,
};

use super::{
    bot_author,
    engine::{Change, Pending},
    escalation::{self, PendingEscalation},
    route::{route, Route},
    Handoff, Typist,
};
use crate::{
    brain::{BotTurn, Turn},
    store::conversations::{ChatbotRecord, ConversationRecord},
};

impl Handoff {
    /// The AI's turns owed to a conversation: answer, or hand over to a person.
    ///
    /// A turn is owed from the moment the visitor's message is stored (`bot_due`, in
    /// the same transaction), so none is lost to a crash: whoever runs it takes a
    /// lease first, so exactly one instance does, and storing the reply settles it.
    /// Turns of one conversation run one at a time, so a visitor who sends twice in
    /// quick succession gets answers in order, each seeing the one before.
    pub async fn bot_turn(&self, conversation_id: &str) {
        let turn = {
            let mut turns = self.bot_turns.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            turns.entry(conversation_id.to_owned()).or_default().clone()
        };
        let running = turn.lock().await;
        loop {
            match self.store.take_bot_turn(conversation_id, self.bot_lease_ms()).await {
                Ok(true) => {}
                // Nothing owed, or another instance is running it.
                Ok(false) => break,
                Err(err) => {
                    tracing::warn!(conversation_id, error = %err, "cannot take the bot's turn; it is retried");
                    break;
                }
            }
            match self.try_bot_turn(conversation_id).await {
                Ok(()) => {}
                // A person took the chat (or it ended) while the AI was thinking: nothing to say.
                Err(AppError::Conflict(_)) => {
                    if let Err(err) = self.store.skip_bot_turn(conversation_id).await {
                        tracing::warn!(conversation_id, error = %err, "cannot settle a moot bot turn");
                        break;
                    }
                }
                Err(err) => {
                    // Still owed: once the lease runs out the sweep runs it again.
                    tracing::warn!(conversation_id, error = %err, "bot turn did not complete; it is retried");
                    break;
                }
            }
        }
        drop(running);
        let mut turns = self.bot_turns.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Ours and the map's: nobody else waits, so the entry can go.
        if Arc::strong_count(&turn) == 2 {
            turns.remove(conversation_id);
        }
    }

    /// Runs the turns owed that nobody is running: those of a crashed instance, or of
    /// this one before it restarted. Called on start and then periodically.
    pub async fn run_due_bot_turns(&self) {
        let due = match self.store.due_bot_turns(100).await {
            Ok(due) => due,
            Err(err) => {
                tracing::warn!(error = %err, "cannot read the bot turns owed");
                return;
            }
        };
        for conversation_id in due {
            let handoff = self.clone();
            tokio::spawn(async move { handoff.bot_turn(&conversation_id).await });
        }
    }

    async fn try_bot_turn(&self, conversation_id: &str) -> Result<(), AppError> {
        let Some(conversation) = self.reload(conversation_id).await? else {
            return Ok(());
        };
        if conversation.state != State::Bot {
            return self.store.skip_bot_turn(conversation_id).await.map_err(AppError::internal);
        }
        let chatbot = self.chatbot_of(&conversation).await?;
        let bot = bot_author(&chatbot.name);
        self.typing(&conversation.workspace_id, &conversation.id, Typist::Bot, bot.clone(), true);
        // What was said before a person last handed the chat back is not read again:
        // the frustration they resolved must not send the visitor straight back.
        let messages = self.brain_window(&conversation, conversation.handed_back_seq).await?;
        let say = |text: String| Pending::from(bot.clone(), text);

        // An escalation waiting for the email: this message should carry it.
        if let Some(pending) =
            conversation.pending_escalation.as_deref().and_then(|json| serde_json::from_str(json).ok())
        {
            let last = messages.iter().rev().find(|m| m.author.kind == AuthorKind::Visitor).map(|m| m.text.as_str());
            let reply = match email_in(last.unwrap_or_default()) {
                // Of several addresses, the first is taken: the visitor may correct it with the team.
                EmailAnswer::Found(email) | EmailAnswer::Several(email) => {
                    return self.escalate(conversation, &chatbot, pending, email.as_str(), None).await
                }
                EmailAnswer::Invalid(why) => escalation::ask_again(&why),
                EmailAnswer::Missing => escalation::ask_for_missing_email(),
            };
            let ask = say(reply).asking_for_email();
            self.apply(conversation, Change::by_the_bot(Command::BotReply).say(ask)).await?;
            return Ok(());
        }

        let knowledge = self.knowledge.for_chatbot(&self.store, &chatbot).await.map_err(AppError::internal)?;
        let turn =
            Turn { chatbot: &chatbot, knowledge: &knowledge, visitor: &conversation.visitor, messages: &messages };
        let decision = match self.brain.respond(&turn).await {
            BotTurn::Escalate { reason, summary, reply, topic } if summary.trim().is_empty() => {
                BotTurn::Escalate { reason, summary: self.brain.summarize(&turn, reason).await, reply, topic }
            }
            decision => decision,
        };
        match decision {
            BotTurn::Reply(text) => {
                self.apply(conversation, Change::by_the_bot(Command::BotReply).say(say(text))).await?;
            }
            BotTurn::Escalate { reason, summary, .. } if self.route_of(&chatbot).await? == Route::Nobody => {
                self.apply(conversation, nobody_can_take_it(say, reason, summary)).await?;
            }
            BotTurn::Escalate { reason, summary, reply, topic } => {
                let pending = PendingEscalation { reason, summary, topic };
                // An email given at start, or earlier in the chat, is reused: never asked twice.
                let known = conversation.visitor.email.clone().or_else(|| {
                    messages.iter().filter(|m| m.author.kind == AuthorKind::Visitor).find_map(|m| {
                        match email_in(&m.text) {
                            EmailAnswer::Found(email) | EmailAnswer::Several(email) => Some(email.as_str().to_owned()),
                            _ => None,
                        }
                    })
                });
                match known {
                    Some(email) => self.escalate(conversation, &chatbot, pending, &email, Some(reply)).await?,
                    None => {
                        let json = serde_json::to_string(&pending).map_err(AppError::internal)?;
                        let mut change = Change::by_the_bot(Command::BotReply)
                            .say(say(escalation::ask_for_email(&reply)).asking_for_email());
                        change.pending_escalation = Some(Some(json));
                        self.apply(conversation, change).await?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Where an escalation of `chatbot` goes now (settings may change between asking
    /// for the email and getting it, so this is asked again at the handoff).
    pub(super) async fn route_of(&self, chatbot: &ChatbotRecord) -> Result<Route, AppError> {
        if chatbot.live_handoff {
            return Ok(Route::Inbox);
        }
        let connected: Vec<Desk> = match self.outbox {
            Some(_) => self.store.connections(&chatbot.id).await.map_err(AppError::internal)?.iter().map(|c| c.desk).collect(),
            None => Vec::new(),
        };
        Ok(route(chatbot.live_handoff, &connected))
    }

    /// Hands the conversation to the team: the bot confirms (after `acknowledgement`,
    /// if any) with the email it will be followed up at, and the system note follows.
    async fn escalate(
        &self,
        conversation: ConversationRecord,
        chatbot: &ChatbotRecord,
        pending: PendingEscalation,
        email: &str,
        acknowledgement: Option<String>,
    ) -> Result<(), AppError> {
        let name = escalation::first_name(conversation.visitor.name.as_deref(), email);
        let route = self.route_of(chatbot).await?;
        let (command, confirmation) = match route {
            Route::Inbox => {
                (Command::Escalate, escalation::passed_along(name.as_deref(), email, pending.topic.as_deref()))
            }
            Route::HelpDesk(_) => (Command::HandOff, escalation::shared_with_desk(name.as_deref(), email)),
            Route::Nobody => {
                let say = |text: String| Pending::from(bot_author(&chatbot.name), text);
                let mut change = nobody_can_take_it(say, pending.reason, pending.summary);
                change.pending_escalation = Some(None);
                change.visitor_email = Some(email.to_owned());
                self.apply(conversation, change).await?;
                return Ok(());
            }
        };
        let text = match acknowledgement {
            Some(ack) => format!("{ack} {confirmation}"),
            None => confirmation,
        };
        let bot = Pending::from(bot_author(&chatbot.name), text);
        let mut change = Change::by_the_bot(command).say(bot);
        if let Route::HelpDesk(desk) = route {
            change.to_desk = Some(desk);
        }
        change.escalation = Some((pending.reason, pending.summary));
        change.pending_escalation = Some(None);
        change.visitor_email = Some(email.to_owned());
        self.apply(conversation, change).await?;
        Ok(())
    }
}

/// What the bot says when nobody can take over.
pub(super) const NOBODY_CAN_JOIN: &str = "I'm sorry: nobody from our team can join this chat right now. I've noted \
                                          your request, and I'm happy to keep helping in the meantime.";

/// No one can take over (live handoff off, no desk connected): the bot says so
/// honestly, and the request stays on record.
fn nobody_can_take_it(
    say: impl Fn(String) -> Pending,
    reason: EscalationReason,
    summary: String,
) -> Change<'static> {
    let honest = NOBODY_CAN_JOIN.to_owned();
    let mut change = Change::by_the_bot(Command::BotReply).say(say(honest));
    change.escalation = Some((reason, summary));
    change
}
