//! The conversation state machine applied to storage, one file per kind of work:
//! `engine` (the one write path every change takes), `visitor` (start, messages,
//! history), `bot` (the AI's turn and the email step, with `escalation`), `team`
//! (list, claim, reply, note, suggest, resolve), `roster` (a member leaving the team),
//! `playground` (Settings' bot turn that stores nothing).

mod activity;
mod bot;
mod engine;
pub mod escalation;
pub mod knowledge;
pub mod playground;
mod roster;
pub mod route;
mod team;
mod visitor;

use std::{collections::HashMap, net::IpAddr, sync::Arc, time::Duration};

use app::{
    domain::{
        live::{TeamEvent, VisitorEvent},
        Author, AuthorKind, Message,
    },
    AppError,
};

use crate::{
    brain::{knowledge::KnowledgeCache, Brain},
    helpdesk::outbox::Outbox,
    live::{
        bus::{Announcement, Bus},
        hub::Hub,
    },
    security::rate_limit::RateLimiter,
    store::{
        conversations::{ChatbotRecord, ConversationRecord},
        Store,
    },
};

/// How often one author's typing is passed on, at most: a client that sends a typing
/// frame per keystroke (or a thousand a second) reaches the others as one per period.
pub const TYPING_EVERY: Duration = Duration::from_secs(2);

/// How much of the conversation the brain reads.
const BRAIN_WINDOW: i64 = 50;

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

#[derive(Clone)]
pub struct Handoff {
    store: Store,
    hub: Hub,
    bus: Bus,
    brain: Arc<dyn Brain>,
    knowledge: Arc<KnowledgeCache>,
    limits: Arc<Limiters>,
    /// How long an instance may take over an AI turn before another may presume it gone.
    bot_lease: Duration,
    bot_turns: Arc<std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
    /// Where escalations to help desks go; without it, help-desk mode is off.
    outbox: Option<Outbox>,
}

impl Handoff {
    pub fn new(
        store: Store,
        hub: Hub,
        bus: Bus,
        brain: Arc<dyn Brain>,
        limits: VisitorLimits,
        bot_lease: Duration,
    ) -> Handoff {
        let limits = Arc::new(Limiters {
            messages: RateLimiter::per_minute(limits.messages_per_minute),
            starts_per_address: RateLimiter::per_minute(limits.starts_per_address_per_minute),
            starts_per_chatbot: RateLimiter::per_minute(limits.starts_per_chatbot_per_minute),
            typing: RateLimiter::one_per(TYPING_EVERY),
        });
        Handoff {
            store,
            hub,
            bus,
            brain,
            knowledge: Arc::default(),
            limits,
            bot_lease,
            bot_turns: Arc::default(),
            outbox: None,
        }
    }

    /// Escalations routed to a help desk are sent by `outbox`.
    pub fn with_outbox(mut self, outbox: Outbox) -> Handoff {
        self.outbox = Some(outbox);
        self
    }

    pub fn outbox(&self) -> Option<&Outbox> {
        self.outbox.as_ref()
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

    fn bot_lease_ms(&self) -> i64 {
        i64::try_from(self.bot_lease.as_millis()).unwrap_or(i64::MAX)
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn hub(&self) -> &Hub {
        &self.hub
    }
}

impl Handoff {
    /// The chatbot a conversation belongs to.
    async fn chatbot_of(&self, conversation: &ConversationRecord) -> Result<ChatbotRecord, AppError> {
        self.store.chatbot_by_id(&conversation.chatbot_id).await.map_err(AppError::internal)?.ok_or(AppError::NotFound)
    }

    /// What the brain reads of a conversation: its last `BRAIN_WINDOW` messages, none
    /// at or before `since_seq`.
    async fn brain_window(&self, conversation: &ConversationRecord, since_seq: i64) -> Result<Vec<Message>, AppError> {
        let from = (conversation.last_seq - BRAIN_WINDOW).max(since_seq);
        self.store.messages_after(&conversation.id, from, BRAIN_WINDOW).await.map_err(AppError::internal)
    }
}

fn bot_author(chatbot_name: &str) -> Author {
    Author { kind: AuthorKind::Bot, name: Some(chatbot_name.to_owned()) }
}
