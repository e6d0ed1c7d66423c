//! The widget's connection to Baton, in the browser: the visitor calls of the
//! public API over HTTP (with the visitor token as a Bearer token), and the live
//! `/live/widget` socket, reconnected with backoff and resumed from the last seq,
//! with gaps filled from `widget/history`. Messages typed while offline wait in
//! the outgoing queue and go out with their `client_id` once the connection is
//! back; the server stores each client id once, so a retry never duplicates.

use futures_util::{SinkExt, StreamExt};
use gloo_net::{
    http::Request,
    websocket::{futures::WebSocket, Message as Frame},
};
use gloo_timers::future::sleep;
use leptos::{prelude::*, server_fn::ServerFn, task::spawn_local};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;
use std::time::Duration;

use super::{
    api::{FetchHistory, SendMessage, StartConversation},
    chat::{Chat, Connection, Outgoing, Session},
};
use crate::{
    domain::live::{VisitorEvent, WidgetClientFrame},
    error::ErrorDetail,
};

/// How soon a message that could not be sent is tried again.
const RESEND_AFTER: Duration = Duration::from_secs(2);

enum CallError {
    /// No answer: offline, or the server is down.
    Unreachable,
    Refused {
        status: u16,
        error: Option<ErrorDetail>,
    },
}

impl CallError {
    /// The conversation is gone for this browser (ended, or the token is unknown).
    fn lost_conversation(&self) -> bool {
        matches!(self, CallError::Refused { status: 401 | 404, .. })
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn storage_key(bot_id: &str) -> String {
    format!("baton.chat.{bot_id}")
}

fn load(bot_id: &str) -> Option<Session> {
    let raw = storage()?.get_item(&storage_key(bot_id)).ok().flatten()?;
    serde_json::from_str(&raw).ok()
}

fn save(bot_id: &str, session: &Session) {
    if let (Some(storage), Ok(raw)) = (storage(), serde_json::to_string(session)) {
        let _ = storage.set_item(&storage_key(bot_id), &raw);
    }
}

fn forget(chat: Chat) {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(&storage_key(&chat.bot_id.get_value()));
    }
    chat.session.set(None);
    chat.state.set(None);
    chat.connection.set(Connection::Idle);
    chat.outbox.close();
}

/// After a help-desk handoff: a clean slate; the next message starts a new conversation.
pub fn start_over(chat: Chat) {
    forget(chat);
    chat.messages.set(Vec::new());
    chat.outgoing.set(Vec::new());
    chat.notice.set(None);
    chat.typing.set(None);
}

/// The visitor is typing: the team sees it (sent at most every few seconds).
pub fn typing(chat: Chat) {
    chat.outbox.typing(|| WidgetClientFrame::Typing {});
}

/// Calls the server function `F` with `args` as its body, with the visitor token as a
/// Bearer token. Its arguments, path and answer are the server function's own types,
/// so a renamed field or endpoint does not compile rather than fail at run time.
async fn call<F>(args: F, token: Option<&str>) -> Result<F::Output, CallError>
where
    F: ServerFn + Serialize,
    F::Output: DeserializeOwned,
{
    let mut request = Request::post(F::PATH);
    if let Some(token) = token {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    let response =
        request.json(&args).map_err(|_| CallError::Unreachable)?.send().await.map_err(|_| CallError::Unreachable)?;
    if response.ok() {
        return response.json::<F::Output>().await.map_err(|_| CallError::Unreachable);
    }
    let status = response.status();
    let error = response.json::<Value>().await.ok().and_then(|v| serde_json::from_value(v["error"].clone()).ok());
    Err(CallError::Refused { status, error })
}

/// On load: the conversation this browser already has, if it is still there.
pub fn resume(chat: Chat) {
    let Some(session) = load(&chat.bot_id.get_value()) else { return };
    chat.session.set(Some(session.clone()));
    spawn_local(async move {
        if catch_up(chat, &session).await {
            connect(chat, session);
        }
    });
}

/// Fetches what the visitor missed; false when the conversation is gone.
async fn catch_up(chat: Chat, session: &Session) -> bool {
    let args = FetchHistory { conversation_id: session.conversation_id.clone(), after_seq: Some(chat.last_seq()) };
    match call(args, Some(&session.token)).await {
        Ok(history) => {
            // Missed while the socket was down (not the history a fresh page loads).
            let resumed = chat.last_seq() > 0;
            let from_others = chat.receive(history.messages);
            if resumed {
                chat.count_unread(from_others);
            }
            chat.state.set(Some(history.state));
            true
        }
        Err(err) if err.lost_conversation() => {
            forget(chat);
            false
        }
        Err(_) => true,
    }
}

/// The visitor sends `text`: it shows at once and goes out as soon as it can.
pub fn submit(chat: Chat, text: String) {
    chat.notice.set(None);
    chat.outgoing.update(|out| out.push(Outgoing { client_id: crate::browser::client_id(), text, waiting: false }));
    spawn_local(flush(chat));
}

async fn session(chat: Chat) -> Result<Session, CallError> {
    if let Some(session) = chat.session.get_untracked() {
        return Ok(session);
    }
    let bot_id = chat.bot_id.get_value();
    let started = call(StartConversation { bot_id: bot_id.clone(), name: None, email: None }, None).await?;
    let session = Session { conversation_id: started.conversation_id, token: started.visitor_token };
    save(&bot_id, &session);
    chat.session.set(Some(session.clone()));
    chat.receive(started.messages);
    chat.state.set(Some(started.state));
    connect(chat, session.clone());
    Ok(session)
}

/// Sends the outgoing queue after `wait` (a plain function, so `flush` may call it).
fn flush_after(chat: Chat, wait: Duration) {
    spawn_local(async move {
        sleep(wait).await;
        flush(chat).await;
    });
}

/// Sends the outgoing queue in order, one task at a time.
async fn flush(chat: Chat) {
    if chat.flushing.get_value() {
        return;
    }
    chat.flushing.set_value(true);
    while let Some(next) = chat.outgoing.with_untracked(|out| out.first().cloned()) {
        let sent = match session(chat).await {
            Ok(session) => {
                let args = SendMessage {
                    conversation_id: session.conversation_id.clone(),
                    client_id: next.client_id.clone(),
                    text: next.text.clone(),
                };
                call(args, Some(&session.token)).await
            }
            Err(err) => Err(err),
        };
        match sent {
            Ok(sent) => {
                chat.receive(vec![sent.message]);
            }
            Err(CallError::Unreachable) => {
                // Offline: keep it and try again shortly (a reconnected socket also
                // sends the queue at once).
                chat.outgoing.update(|out| out.iter_mut().for_each(|o| o.waiting = true));
                if chat.session.get_untracked().is_some() {
                    chat.connection.set(Connection::Offline);
                }
                flush_after(chat, RESEND_AFTER);
                break;
            }
            Err(err) if err.lost_conversation() => {
                // The conversation ended: the message starts a new one.
                forget(chat);
            }
            Err(CallError::Refused { status: 429, error }) => {
                let wait = error.as_ref().and_then(|e| e.retry_after).unwrap_or(5);
                chat.notice.set(Some(format!("You're sending messages quickly; sending again in {wait} s.")));
                sleep(Duration::from_secs(wait)).await;
            }
            Err(CallError::Refused { error, .. }) => {
                // Refused for good (too long, empty): say why and drop it.
                let why = error.map_or_else(|| "That message could not be sent.".to_owned(), |e| e.message);
                chat.notice.set(Some(why));
                chat.outgoing.update(|out| out.retain(|o| o.client_id != next.client_id));
            }
        }
    }
    chat.flushing.set_value(false);
}

fn socket_url(session: &Session, after_seq: i64) -> Option<String> {
    crate::browser::socket_url(&format!(
        "/live/widget?conversation_id={}&after_seq={after_seq}",
        session.conversation_id
    ))
}

/// Keeps the live socket of `session` open until the conversation is gone.
fn connect(chat: Chat, session: Session) {
    spawn_local(async move {
        let mut backoff = Duration::from_millis(500);
        loop {
            if !chat.shows(&session) {
                return;
            }
            chat.connection.set(Connection::Connecting);
            if let Some(url) = socket_url(&session, chat.last_seq()) {
                if let Ok(socket) = WebSocket::open(&url) {
                    let (mut send, mut frames) = socket.split();
                    let auth = WidgetClientFrame::Auth { token: session.token.clone() };
                    let auth = serde_json::to_string(&auth).unwrap_or_default();
                    if send.send(Frame::Text(auth)).await.is_ok() {
                        // Frames the widget sends later (typing) go through the outbox.
                        chat.outbox.open(send);
                        let mut live = false;
                        while let Some(Ok(frame)) = frames.next().await {
                            if !chat.shows(&session) {
                                break;
                            }
                            if !live {
                                live = true;
                                backoff = Duration::from_millis(500);
                                chat.connection.set(Connection::Live);
                                spawn_local(flush(chat));
                            }
                            if let Frame::Text(text) = frame {
                                handle(chat, &text);
                            }
                        }
                    }
                }
            }
            if !chat.shows(&session) {
                // The visitor started over: this conversation is no longer shown.
                return;
            }
            chat.outbox.close();
            chat.connection.set(Connection::Offline);
            // Closed: is the conversation still there? (A refused token closes with 1008.)
            if !catch_up(chat, &session).await {
                return;
            }
            sleep(backoff).await;
            backoff = (backoff * 2).min(crate::browser::LONGEST_BACKOFF);
        }
    });
}

fn handle(chat: Chat, text: &str) {
    let Ok(event) = serde_json::from_str::<VisitorEvent>(text) else { return };
    match event {
        VisitorEvent::Message { message } => {
            if chat.typing.with_untracked(|t| t.as_ref() == Some(&message.author)) {
                chat.typing.set(None);
            }
            let from_others = chat.receive(vec![message]);
            chat.count_unread(from_others);
        }
        VisitorEvent::State { state } => chat.state.set(Some(state)),
        VisitorEvent::Typing { author } => {
            chat.typing.set(Some(author.clone()));
            spawn_local(async move {
                sleep(Duration::from_secs(4)).await;
                if chat.typing.with_untracked(|t| t.as_ref() == Some(&author)) {
                    chat.typing.set(None);
                }
            });
        }
        VisitorEvent::Pong | VisitorEvent::Error { .. } => {}
    }
}
