//! The conversation state machine applied to storage: start, visitor messages, bot
//! turns, escalate, claim, reply, note, resolve.
//!
//! Every change follows one path (`apply`): decide with `transition`, then in one
//! write transaction make the conditional state write (it succeeds only if nobody
//! changed the conversation since it was read), append the messages under their seqs,
//! commit, and only then publish. A lost race re-reads and decides again, so exactly
//! one of any number of concurrent claimers wins.

pub mod escalation;

use std::{collections::HashMap, net::IpAddr, sync::Arc, time::Duration};

use app::{
    domain::{
        live::{TeamEvent, VisitorEvent},
        Ask, Author, AuthorKind, Command, ConversationSummary, DisplayName, EmailAddress, EscalationReason,
        MemberView, Message, MessageText, Note, Outcome, Role, State, Visitor,
    },
    inbox::api::{ConversationDetail, InboxFilter},
    widget::api::{HistoryResponse, StartResponse},
    AppError,
};

use crate::{
    auth::visitor_token,
    brain::{knowledge::KnowledgeCache, BotTurn, Brain, Turn},
    live::{
        bus::{Announcement, Bus},
        hub::Hub,
    },
    security::rate_limit::RateLimiter,
    store::{
        conversations::{
            append_message, change_state, insert_conversation, insert_note, ChatbotRecord, ConversationRecord,
            ListFilter, NewConversation, NewMessage, StateChange,
        },
        new_id, now_ms, Store,
    },
};

use escalation::{EmailAnswer, PendingEscalation};

/// How often one author's typing is passed on, at most: a client that sends a typing
/// frame per keystroke (or a thousand a second) reaches the others as one per period.
pub const TYPING_EVERY: Duration = Duration::from_secs(2);

/// How much visitors may do: messages per conversation, and new conversations per
/// client address and per chatbot (each a minute; 0 means no limit).
#[derive(Debug, Clone, Copy)]
pub struct VisitorLimits {
    pub messages_per_minute: u32,
    pub starts_per_address_per_minute: u32,
    pub starts_per_chatbot_per_minute: u32,
}

/// Who is typing, for collapsing their frames: the visitor of a conversation, a member.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Typist {
    Visitor,
    Member(String),
    /// The bot's own "typing" before a turn is Baton's, never throttled.
    Bot,
}

struct Limiters {
    messages: RateLimiter,
    starts_per_address: RateLimiter<IpAddr>,
    starts_per_chatbot: RateLimiter,
    typing: RateLimiter<(String, Typist)>,
}

/// How many messages a conversation's history call returns at most.
const HISTORY_PAGE: i64 = 1000;
/// How much of the conversation the brain reads.
const BRAIN_WINDOW: i64 = 50;
/// Attempts at a conditional write before giving up on a hot conversation.
const MAX_ATTEMPTS: usize = 8;

/// Logs a storage failure and hides it from the caller.
pub fn internal(err: impl std::fmt::Display) -> AppError {
    tracing::error!(error = %err, "storage error");
    AppError::Internal
}

/// A message to append as part of a change.
struct Pending {
    author: Author,
    author_id: Option<String>,
    text: String,
    client_id: Option<String>,
    asks: Option<Ask>,
}

impl Pending {
    fn system(text: String) -> Pending {
        Pending::from(Author { kind: AuthorKind::System, name: None }, text)
    }

    fn from(author: Author, text: String) -> Pending {
        Pending { author, author_id: None, text, client_id: None, asks: None }
    }

    /// The message asks the visitor for their email: the widget shows an email input.
    fn asking_for_email(mut self) -> Pending {
        self.asks = Some(Ask::Email);
        self
    }
}

/// One change to a conversation: the command, who makes it, and what it writes
/// besides the state, all in the same transaction.
struct Change<'a> {
    command: Command,
    actor: &'a str,
    messages: Vec<Pending>,
    escalation: Option<(EscalationReason, String)>,
    /// `Some(Some(json))` sets the escalation waiting for an email, `Some(None)` clears it.
    pending_escalation: Option<Option<String>>,
    visitor_email: Option<String>,
}

impl<'a> Change<'a> {
    fn new(command: Command, actor: &'a str) -> Change<'a> {
        Change { command, actor, messages: Vec::new(), escalation: None, pending_escalation: None, visitor_email: None }
    }

    fn say(mut self, message: Pending) -> Change<'a> {
        self.messages.push(message);
        self
    }
}

enum Sent {
    /// Already stored under this client id.
    Stored(Message),
    New(Box<Applied>),
}

struct Applied {
    conversation: ConversationRecord,
    messages: Vec<Message>,
    outcome: Outcome,
}

#[derive(Clone)]
pub struct Handoff {
    store: Store,
    hub: Hub,
    bus: Bus,
    brain: Arc<dyn Brain>,
    knowledge: Arc<KnowledgeCache>,
    limits: Arc<Limiters>,
    bot_turns: Arc<std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

impl Handoff {
    pub fn new(store: Store, hub: Hub, bus: Bus, brain: Arc<dyn Brain>, limits: VisitorLimits) -> Handoff {
        let limits = Arc::new(Limiters {
            messages: RateLimiter::per_minute(limits.messages_per_minute),
            starts_per_address: RateLimiter::per_minute(limits.starts_per_address_per_minute),
            starts_per_chatbot: RateLimiter::per_minute(limits.starts_per_chatbot_per_minute),
            typing: RateLimiter::one_per(TYPING_EVERY),
        });
        Handoff { store, hub, bus, brain, knowledge: Arc::default(), limits, bot_turns: Arc::default() }
    }

    /// Someone is typing: always to the team; to the visitor too when `to_visitor`
    /// (the bot, or the agent who holds the conversation; never the visitor's own).
    /// Each person's frames are collapsed here, before they reach the hub or the other
    /// instances: at most one per `TYPING_EVERY` goes on, the others are dropped.
    pub fn typing(&self, workspace_id: &str, conversation_id: &str, typist: Typist, author: Author, to_visitor: bool) {
        if typist != Typist::Bot && self.limits.typing.check(&(conversation_id.to_owned(), typist)).is_err() {
            return;
        }
        let to_visitor = to_visitor && author.kind != AuthorKind::Visitor;
        if to_visitor {
            self.hub.publish_visitor(conversation_id, VisitorEvent::Typing { author: author.clone() });
        }
        self.hub.publish_team(
            workspace_id,
            TeamEvent::Typing { conversation_id: conversation_id.to_owned(), author: author.clone() },
        );
        self.bus.announce(Announcement::Typing {
            w: workspace_id.to_owned(),
            c: conversation_id.to_owned(),
            author,
            to_visitor,
        });
    }

    /// A session ended: its open Inbox sockets, here and on other instances, close.
    pub fn signed_out(&self, session_fingerprint: String) {
        self.hub.publish_sign_out(&session_fingerprint);
        self.bus.announce(Announcement::SignedOut { session: session_fingerprint });
    }

    pub fn forget_idle_limits(&self) {
        self.limits.messages.forget_idle();
        self.limits.starts_per_address.forget_idle();
        self.limits.starts_per_chatbot.forget_idle();
        self.limits.typing.forget_idle();
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    // ---- visitors -------------------------------------------------------------------------

    /// A new conversation with chatbot `bot_id`, for a visitor calling from `client`
    /// (a rate-limit key: an address, or an IPv6 /64). Starts are limited per client
    /// and per chatbot: each stores a conversation, and a fresh conversation would
    /// otherwise be a way around the per-conversation message limit.
    pub async fn start(
        &self,
        client: IpAddr,
        bot_id: &str,
        name: Option<String>,
        email: Option<String>,
    ) -> Result<StartResponse, AppError> {
        self.limits.starts_per_address.check(&client)?;
        let chatbot =
            self.store.chatbot_by_public_id(bot_id.trim()).await.map_err(internal)?.ok_or(AppError::NotFound)?;
        self.limits.starts_per_chatbot.check(&chatbot.id)?;
        let visitor = Visitor { name: clean_name(name)?, email: clean_email(email)? };
        let token = visitor_token::generate();
        let id = new_id("conv");
        let now = now_ms();
        let mut tx = self.store.begin_write().await.map_err(internal)?;
        insert_conversation(
            &mut tx,
            NewConversation {
                id: &id,
                chatbot: &chatbot,
                token_hash: &visitor_token::hash(&token),
                visitor: &visitor,
                now,
            },
        )
        .await
        .map_err(internal)?;
        let mut messages = Vec::new();
        if !chatbot.greeting.trim().is_empty() {
            let author = bot_author(&chatbot.name);
            let greeting = NewMessage {
                conversation_id: &id,
                author: &author,
                author_id: None,
                text: &chatbot.greeting,
                client_id: None,
                asks: None,
                now,
            };
            messages.push(append_message(&mut tx, greeting).await.map_err(internal)?);
        }
        tx.commit().await.map_err(internal)?;
        if let Some(conversation) = self.reload(&id).await? {
            self.hub.publish_team(
                &conversation.workspace_id,
                TeamEvent::Conversation { conversation: conversation.to_summary() },
            );
            self.bus.announce(Announcement::Change {
                w: conversation.workspace_id.clone(),
                c: id.clone(),
                from: 1,
                to: conversation.last_seq,
                state_changed: false,
            });
        }
        Ok(StartResponse { conversation_id: id, visitor_token: token, state: State::Bot.kind(), messages })
    }

    /// The conversation `token` opens. A missing token is 401; a token of another
    /// conversation (or none at all) is 404, so ids are never confirmed to exist.
    pub async fn visitor_conversation(
        &self,
        token: Option<&str>,
        conversation_id: &str,
    ) -> Result<ConversationRecord, AppError> {
        let token =
            token.ok_or_else(|| AppError::Unauthenticated("send the visitor token as a Bearer token".into()))?;
        self.store
            .conversation_for_visitor(conversation_id, &visitor_token::hash(token))
            .await
            .map_err(internal)?
            .ok_or(AppError::NotFound)
    }

    pub async fn visitor_send(
        &self,
        token: Option<&str>,
        conversation_id: &str,
        client_id: &str,
        text: &str,
    ) -> Result<Message, AppError> {
        let conversation = self.visitor_conversation(token, conversation_id).await?;
        let client_id = parse_client_id(client_id)?;
        let text = MessageText::parse(text)?;
        let pending = Pending {
            author: Author { kind: AuthorKind::Visitor, name: conversation.visitor.name.clone() },
            author_id: None,
            text: text.into_inner(),
            client_id: Some(client_id.to_owned()),
            asks: None,
        };
        let limits = self.limits.clone();
        let id = conversation.id.clone();
        match self
            .send_once(conversation, Command::VisitorMessage, "visitor", pending, move || limits.messages.check(&id))
            .await?
        {
            Sent::Stored(message) => Ok(message),
            Sent::New(applied) => {
                if applied.outcome.bot_answers {
                    let handoff = self.clone();
                    let id = applied.conversation.id.clone();
                    tokio::spawn(async move { handoff.bot_turn(&id).await });
                }
                applied.messages.into_iter().next().ok_or(AppError::Internal)
            }
        }
    }

    pub async fn visitor_history(
        &self,
        token: Option<&str>,
        conversation_id: &str,
        after_seq: i64,
    ) -> Result<HistoryResponse, AppError> {
        if after_seq < 0 {
            return Err(AppError::InvalidInput("after_seq must be 0 or more".into()));
        }
        let conversation = self.visitor_conversation(token, conversation_id).await?;
        let messages = self.store.messages_after(&conversation.id, after_seq, HISTORY_PAGE).await.map_err(internal)?;
        Ok(HistoryResponse { state: conversation.state.kind(), messages })
    }

    // ---- the bot --------------------------------------------------------------------------

    /// The AI's turn after a visitor message: answer, or hand over to a person.
    /// Turns of one conversation run one at a time, so a visitor who sends twice in
    /// quick succession gets answers in order, each seeing the one before.
    pub async fn bot_turn(&self, conversation_id: &str) {
        let turn = {
            let mut turns = self.bot_turns.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            turns.entry(conversation_id.to_owned()).or_default().clone()
        };
        let running = turn.lock().await;
        if let Err(err) = self.try_bot_turn(conversation_id).await {
            tracing::warn!(conversation_id, error = %err, "bot turn did not complete");
        }
        drop(running);
        let mut turns = self.bot_turns.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Ours and the map's: nobody else waits, so the entry can go.
        if Arc::strong_count(&turn) == 2 {
            turns.remove(conversation_id);
        }
    }

    async fn try_bot_turn(&self, conversation_id: &str) -> Result<(), AppError> {
        let Some(conversation) = self.reload(conversation_id).await? else {
            return Ok(());
        };
        if conversation.state != State::Bot {
            return Ok(());
        }
        let chatbot =
            self.store.chatbot_by_id(&conversation.chatbot_id).await.map_err(internal)?.ok_or(AppError::NotFound)?;
        let bot = bot_author(&chatbot.name);
        self.typing(&conversation.workspace_id, &conversation.id, Typist::Bot, bot.clone(), true);
        let from = (conversation.last_seq - BRAIN_WINDOW).max(0);
        let messages = self.store.messages_after(&conversation.id, from, BRAIN_WINDOW).await.map_err(internal)?;
        let say = |text: String| Pending::from(bot.clone(), text);

        // An escalation waiting for the email: this message should carry it.
        if let Some(pending) =
            conversation.pending_escalation.as_deref().and_then(|json| serde_json::from_str(json).ok())
        {
            let last = messages.iter().rev().find(|m| m.author.kind == AuthorKind::Visitor).map(|m| m.text.as_str());
            let reply = match escalation::find_email(last.unwrap_or_default()) {
                EmailAnswer::Found(email) => {
                    return self.escalate(conversation, &chatbot, pending, email.as_str(), None).await
                }
                EmailAnswer::Invalid(why) => escalation::ask_again(&why),
                EmailAnswer::Missing => escalation::ask_for_missing_email(),
            };
            let ask = say(reply).asking_for_email();
            self.apply(conversation, Change::new(Command::BotReply, "bot").say(ask)).await?;
            return Ok(());
        }

        let knowledge = self.knowledge.for_chatbot(&self.store, &chatbot).await.map_err(internal)?;
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
                self.apply(conversation, Change::new(Command::BotReply, "bot").say(say(text))).await?;
            }
            BotTurn::Escalate { reason, summary, reply, topic } if chatbot.live_handoff => {
                let pending = PendingEscalation { reason, summary, topic };
                // An email given at start, or earlier in the chat, is reused: never asked twice.
                let known = conversation.visitor.email.clone().or_else(|| {
                    messages.iter().filter(|m| m.author.kind == AuthorKind::Visitor).find_map(|m| {
                        match escalation::find_email(&m.text) {
                            EmailAnswer::Found(email) => Some(email.as_str().to_owned()),
                            _ => None,
                        }
                    })
                });
                match known {
                    Some(email) => self.escalate(conversation, &chatbot, pending, &email, Some(reply)).await?,
                    None => {
                        let json = serde_json::to_string(&pending).map_err(internal)?;
                        let mut change = Change::new(Command::BotReply, "bot")
                            .say(say(escalation::ask_for_email(&reply)).asking_for_email());
                        change.pending_escalation = Some(Some(json));
                        self.apply(conversation, change).await?;
                    }
                }
            }
            BotTurn::Escalate { reason, summary, .. } => {
                // No one can take over: say so honestly, and keep the request on record.
                let honest = "I'm sorry: nobody from our team can join this chat right now. I've noted your \
                              request, and I'm happy to keep helping in the meantime."
                    .to_owned();
                let mut change = Change::new(Command::BotReply, "bot").say(say(honest));
                change.escalation = Some((reason, summary));
                self.apply(conversation, change).await?;
            }
        }
        Ok(())
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
        let confirmation = escalation::passed_along(name.as_deref(), email, pending.topic.as_deref());
        let text = match acknowledgement {
            Some(ack) => format!("{ack} {confirmation}"),
            None => confirmation,
        };
        let bot = Pending::from(bot_author(&chatbot.name), text);
        let mut change = Change::new(Command::Escalate, "bot").say(bot);
        change.escalation = Some((pending.reason, pending.summary));
        change.pending_escalation = Some(None);
        change.visitor_email = Some(email.to_owned());
        self.apply(conversation, change).await?;
        Ok(())
    }

    // ---- the team -------------------------------------------------------------------------

    /// The conversation, if it is in the caller's workspace; 404 for any other.
    async fn team_conversation(&self, workspace_id: &str, id: &str) -> Result<ConversationRecord, AppError> {
        self.store.conversation_in_workspace(id, workspace_id).await.map_err(internal)?.ok_or(AppError::NotFound)
    }

    pub async fn list(
        &self,
        member: &MemberView,
        workspace_id: &str,
        filter: InboxFilter,
    ) -> Result<Vec<ConversationSummary>, AppError> {
        let filter = match filter {
            InboxFilter::NeedsHuman => ListFilter::NeedsHuman,
            InboxFilter::Mine => ListFilter::Mine,
            InboxFilter::Open => ListFilter::Open,
            InboxFilter::Resolved => ListFilter::Resolved,
            InboxFilter::All => ListFilter::All,
        };
        let rows = self.store.list_conversations(workspace_id, filter, &member.id).await.map_err(internal)?;
        Ok(rows.iter().map(ConversationRecord::to_summary).collect())
    }

    pub async fn detail(&self, workspace_id: &str, id: &str) -> Result<ConversationDetail, AppError> {
        let conversation = self.team_conversation(workspace_id, id).await?;
        let messages = self.store.messages_after(&conversation.id, 0, i64::MAX).await.map_err(internal)?;
        let notes = self.store.notes_for(&conversation.id).await.map_err(internal)?;
        Ok(ConversationDetail { conversation: conversation.to_summary(), messages, notes })
    }

    /// A reply drafted by the brain for `member`, grounded in the transcript and the
    /// chatbot's knowledge base.
    pub async fn suggest(&self, member: &MemberView, workspace_id: &str, id: &str) -> Result<String, AppError> {
        let conversation = self.team_conversation(workspace_id, id).await?;
        let chatbot =
            self.store.chatbot_by_id(&conversation.chatbot_id).await.map_err(internal)?.ok_or(AppError::NotFound)?;
        let from = (conversation.last_seq - BRAIN_WINDOW).max(0);
        let messages = self.store.messages_after(&conversation.id, from, BRAIN_WINDOW).await.map_err(internal)?;
        let knowledge = self.knowledge.for_chatbot(&self.store, &chatbot).await.map_err(internal)?;
        let turn =
            Turn { chatbot: &chatbot, knowledge: &knowledge, visitor: &conversation.visitor, messages: &messages };
        Ok(self.brain.suggest_reply(&turn, &member.name).await)
    }

    pub async fn claim(
        &self,
        member: &MemberView,
        workspace_id: &str,
        id: &str,
    ) -> Result<ConversationSummary, AppError> {
        let conversation = self.team_conversation(workspace_id, id).await?;
        let change = Change::new(Command::Claim { agent: member.agent_ref() }, &member.id);
        Ok(self.apply(conversation, change).await?.conversation.to_summary())
    }

    pub async fn reply(
        &self,
        member: &MemberView,
        workspace_id: &str,
        id: &str,
        client_id: &str,
        text: &str,
    ) -> Result<Message, AppError> {
        let conversation = self.team_conversation(workspace_id, id).await?;
        let client_id = parse_client_id(client_id)?;
        let text = MessageText::parse(text)?;
        let pending = Pending {
            author: Author { kind: AuthorKind::Agent, name: Some(member.name.clone()) },
            author_id: Some(member.id.clone()),
            text: text.into_inner(),
            client_id: Some(client_id.to_owned()),
            asks: None,
        };
        let command = Command::AgentReply { agent_id: member.id.clone() };
        match self.send_once(conversation, command, &member.id, pending, || Ok(())).await? {
            Sent::Stored(message) => Ok(message),
            Sent::New(applied) => applied.messages.into_iter().next().ok_or(AppError::Internal),
        }
    }

    pub async fn note(&self, member: &MemberView, workspace_id: &str, id: &str, text: &str) -> Result<Note, AppError> {
        let conversation = self.team_conversation(workspace_id, id).await?;
        let text = MessageText::parse(text)?;
        let mut tx = self.store.begin_write().await.map_err(internal)?;
        let note = insert_note(&mut tx, &conversation.id, &member.agent_ref(), text.as_str(), now_ms())
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        // Notes go to the team's channel only: `VisitorEvent` cannot even hold one.
        self.hub.publish_team(
            &conversation.workspace_id,
            TeamEvent::Note { conversation_id: conversation.id.clone(), note: note.clone() },
        );
        self.bus.announce(Announcement::Note {
            w: conversation.workspace_id.clone(),
            c: conversation.id.clone(),
            id: note.id.clone(),
        });
        Ok(note)
    }

    pub async fn resolve(
        &self,
        member: &MemberView,
        workspace_id: &str,
        id: &str,
    ) -> Result<ConversationSummary, AppError> {
        let conversation = self.team_conversation(workspace_id, id).await?;
        let command = Command::Resolve { by: member.agent_ref(), may_override: member.role == Role::Admin };
        Ok(self.apply(conversation, Change::new(command, &member.id)).await?.conversation.to_summary())
    }

    // ---- the one path of every change ---------------------------------------------------------

    /// Appends a message that carries a client id exactly once. A resend, or a
    /// concurrent send of the same id that lost the unique-index race, gets the stored
    /// message back. `admit` (a rate limit) is asked only about new messages.
    async fn send_once(
        &self,
        conversation: ConversationRecord,
        command: Command,
        actor: &str,
        pending: Pending,
        admit: impl FnOnce() -> Result<(), AppError>,
    ) -> Result<Sent, AppError> {
        let id = conversation.id.clone();
        let client_id = pending.client_id.clone().unwrap_or_default();
        let stored = || async { self.store.message_by_client_id(&id, &client_id).await.map_err(internal) };
        if let Some(existing) = stored().await? {
            return Ok(Sent::Stored(existing));
        }
        admit()?;
        match self.apply(conversation, Change::new(command, actor).say(pending)).await {
            Ok(applied) => Ok(Sent::New(Box::new(applied))),
            // Lost the race to a concurrent send of this client id (or failed after it
            // was stored): what is stored is the answer; otherwise the error is.
            Err(err) => stored().await?.map(Sent::Stored).ok_or(err),
        }
    }

    async fn reload(&self, id: &str) -> Result<Option<ConversationRecord>, AppError> {
        self.store.conversation_by_id(id).await.map_err(internal)
    }

    async fn apply(&self, mut current: ConversationRecord, change: Change<'_>) -> Result<Applied, AppError> {
        let Change { command, actor, messages: pending, escalation, pending_escalation, visitor_email } = change;
        for attempt in 0..MAX_ATTEMPTS {
            let outcome = crate::handoff::decide(&current.state, &command)?;
            let now = now_ms();
            let mut tx = self.store.begin_write().await.map_err(internal)?;
            let change = StateChange {
                conversation_id: &current.id,
                from: &current.state,
                to: &outcome.state,
                escalation: escalation.as_ref().map(|(reason, summary)| (*reason, summary.as_str())),
                pending_escalation: pending_escalation.as_ref().map(|p| p.as_deref()),
                visitor_email: visitor_email.as_deref(),
                actor,
                now,
            };
            if !change_state(&mut tx, change).await.map_err(internal)? {
                // Someone changed the conversation since we read it: read again and re-decide.
                drop(tx);
                current = self.reload(&current.id).await?.ok_or(AppError::NotFound)?;
                if attempt > 2 {
                    tokio::time::sleep(Duration::from_millis(2 << attempt)).await;
                }
                continue;
            }
            let mut messages = Vec::new();
            let system = outcome.note.as_ref().map(|note| Pending::system(note.text()));
            for message in pending.iter().chain(system.as_ref()) {
                let new = NewMessage {
                    conversation_id: &current.id,
                    author: &message.author,
                    author_id: message.author_id.as_deref(),
                    text: &message.text,
                    client_id: message.client_id.as_deref(),
                    asks: message.asks,
                    now,
                };
                match append_message(&mut tx, new).await {
                    Ok(message) => messages.push(message),
                    // Expected under concurrent resends; `send_once` answers it. Not an error to log.
                    Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                        return Err(AppError::Conflict("a message with this client_id was just stored".into()));
                    }
                    Err(err) => return Err(internal(err)),
                }
            }
            tx.commit().await.map_err(internal)?;
            let conversation = self.reload(&current.id).await?.ok_or(AppError::NotFound)?;
            self.publish(&current, &conversation, &messages);
            return Ok(Applied { conversation, messages, outcome });
        }
        Err(AppError::Conflict("this conversation is changing too fast; try again".into()))
    }

    /// After commit: the visitor's channel gets messages and state; the team's gets
    /// messages and the updated conversation.
    fn publish(&self, before: &ConversationRecord, after: &ConversationRecord, messages: &[Message]) {
        for message in messages {
            self.hub.publish_visitor(&after.id, VisitorEvent::Message { message: message.clone() });
            self.hub.publish_team(
                &after.workspace_id,
                TeamEvent::Message { conversation_id: after.id.clone(), message: message.clone() },
            );
        }
        let state_changed = before.state.kind() != after.state.kind();
        if state_changed {
            self.hub.publish_visitor(&after.id, VisitorEvent::State { state: after.state.kind() });
        }
        self.hub.publish_team(&after.workspace_id, TeamEvent::Conversation { conversation: after.to_summary() });
        let (from, to) = match (messages.first(), messages.last()) {
            (Some(first), Some(last)) => (first.seq, last.seq),
            _ => (1, 0),
        };
        self.bus.announce(Announcement::Change {
            w: after.workspace_id.clone(),
            c: after.id.clone(),
            from,
            to,
            state_changed,
        });
    }
}

/// `transition`, with its refusal turned into the API's 409.
fn decide(state: &State, command: &Command) -> Result<Outcome, AppError> {
    app::domain::transition(state, command).map_err(AppError::from)
}

fn bot_author(chatbot_name: &str) -> Author {
    Author { kind: AuthorKind::Bot, name: Some(chatbot_name.to_owned()) }
}

/// Client ids: 1 to 64 letters, digits, `-` or `_` (UUIDs fit).
fn parse_client_id(raw: &str) -> Result<&str, AppError> {
    let ok =
        !raw.is_empty() && raw.len() <= 64 && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(raw)
    } else {
        Err(AppError::InvalidInput("client_id must be 1 to 64 letters, digits, '-' or '_'".into()))
    }
}

fn clean_name(name: Option<String>) -> Result<Option<String>, AppError> {
    Ok(DisplayName::parse_optional(name.as_deref(), 100, "the name")?.map(DisplayName::into_inner))
}

fn clean_email(email: Option<String>) -> Result<Option<String>, AppError> {
    match email.filter(|e| !e.trim().is_empty()) {
        Some(email) => Ok(Some(EmailAddress::parse(&email)?.as_str().to_owned())),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_short_and_plain() {
        assert!(parse_client_id("0b6f0c1e-3c52-4bd3-9d4b-6a3a0e0b2f11").is_ok());
        for bad in ["", "has space", "ü", &"x".repeat(65), "a\"b"] {
            assert!(parse_client_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(clean_name(Some("  Jordan ".into())).unwrap(), Some("Jordan".into()));
        assert_eq!(clean_name(Some("   ".into())).unwrap(), None);
        assert!(clean_name(Some("x".repeat(101))).is_err());
    }
}
