//! What visitors do: start a conversation, send messages, read their history.

use std::net::IpAddr;

use app::{
    domain::{
        live::TeamEvent, Author, AuthorKind, ClientId, Command, DisplayName, EmailAddress, Message, MessageText, State,
        Visitor,
    },
    widget::api::{HistoryResponse, StartResponse},
    AppError,
};

use super::{
    bot_author,
    engine::{Pending, Sent},
    Handoff,
};
use crate::{
    auth::visitor_token,
    live::bus::Announcement,
    store::{
        conversations::{append_message, insert_conversation, ConversationRecord, NewConversation, NewMessage},
        new_id, now_ms,
    },
};

/// How many messages a conversation's history call returns at most.
const HISTORY_PAGE: i64 = 1000;
/// What a visitor of an archived chatbot is told (409).
fn closed() -> AppError {
    AppError::Conflict("this chat is closed: the team no longer takes conversations here".into())
}

/// Longest visitor name, in characters.
const MAX_NAME_CHARS: usize = 100;

impl Handoff {
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
        let chatbot = self
            .store
            .chatbot_by_public_id(bot_id.trim())
            .await
            .map_err(AppError::internal)?
            .ok_or(AppError::NotFound)?;
        if chatbot.archived_at.is_some() {
            return Err(closed());
        }
        self.limits.starts_per_chatbot.check(&chatbot.id)?;
        let name = DisplayName::parse_optional(name.as_deref(), MAX_NAME_CHARS, "the name")?;
        let visitor = Visitor { name: name.map(DisplayName::into_inner), email: clean_email(email)? };
        let token = visitor_token::generate();
        let id = new_id("conv");
        let now = now_ms();
        let token_hash = visitor_token::hash(&token);
        let conversation_id = id.clone();
        let written = self
            .store
            .write(&id, move |tx| {
                let (conversation_id, chatbot, token_hash, visitor) =
                    (conversation_id.clone(), chatbot.clone(), token_hash.clone(), visitor.clone());
                Box::pin(async move {
                    let new = NewConversation {
                        id: &conversation_id,
                        chatbot: &chatbot,
                        token_hash: &token_hash,
                        visitor: &visitor,
                        now,
                    };
                    insert_conversation(tx, new).await?;
                    let mut messages = Vec::new();
                    if !chatbot.greeting.trim().is_empty() {
                        let author = bot_author(&chatbot.name);
                        let greeting = NewMessage {
                            conversation_id: &conversation_id,
                            author: &author,
                            author_id: None,
                            text: &chatbot.greeting,
                            client_id: None,
                            asks: None,
                            now,
                        };
                        messages.push(append_message(tx, greeting).await?);
                    }
                    Ok::<_, sqlx::Error>(messages)
                })
            })
            .await;
        let messages = written.map_err(AppError::internal)?;
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
            .map_err(AppError::internal)?
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
        if conversation.chatbot_archived {
            return Err(closed());
        }
        let client_id = ClientId::parse(client_id)?;
        let text = MessageText::parse(text)?;
        let pending = Pending {
            author: Author { kind: AuthorKind::Visitor, name: conversation.visitor.name.clone() },
            author_id: None,
            text: text.into_inner(),
            client_id: Some(client_id.as_str().to_owned()),
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
        let messages =
            self.store.messages_after(&conversation.id, after_seq, HISTORY_PAGE).await.map_err(AppError::internal)?;
        Ok(HistoryResponse { state: conversation.state.kind(), messages })
    }
}

fn clean_email(email: Option<String>) -> Result<Option<String>, AppError> {
    match email.filter(|e| !e.trim().is_empty()) {
        Some(email) => Ok(Some(EmailAddress::parse(&email)?.as_str().to_owned())),
        None => Ok(None),
    }
}
