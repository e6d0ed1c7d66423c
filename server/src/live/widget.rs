//! `/live/widget`: a visitor's live connection to their own conversation.
//!
//! The token arrives in the first frame (never in the URL, which ends up in logs).
//! Then: every visitor-visible message after `after_seq`, the current state, and live
//! frames. The socket tracks the last seq it sent: duplicates are dropped, and a gap
//! (or a lagging channel) is filled from the database, so nothing is lost or doubled.

use std::sync::Arc;

use app::{
    domain::{
        live::{VisitorEvent, WidgetClientFrame},
        Author, AuthorKind, StateKind,
    },
    error::ErrorBody,
    AppError,
};
use axum::{
    extract::{Query, State},
    response::{IntoResponse, Response},
};
use futures_util::{Sink, Stream, StreamExt};
use serde::Deserialize;
use tokio::{
    sync::broadcast::error::RecvError,
    time::{interval, timeout, Instant},
};
use tokio_tungstenite::tungstenite::{Error as WsError, Message as WsMessage};

use super::{
    classify, keep_alive, send_json,
    socket::{finish, Upgrade},
    Ending, Inbound, CLOSE_POLICY, PING_EVERY,
};
use crate::handoff::{Handoff, Typist};

const CATCH_UP_PAGE: i64 = 500;
const AUTH_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Debug, Deserialize)]
pub struct WidgetQuery {
    pub conversation_id: String,
    #[serde(default)]
    pub after_seq: i64,
}

pub async fn widget_socket(
    upgrade: Upgrade,
    query: Result<Query<WidgetQuery>, axum::extract::rejection::QueryRejection>,
    State(handoff): State<Handoff>,
) -> Response {
    let query = match query {
        Ok(Query(query)) if query.after_seq >= 0 => query,
        Ok(_) => return AppError::InvalidInput("after_seq must be 0 or more".into()).into_response(),
        Err(rejection) => return AppError::InvalidInput(rejection.body_text()).into_response(),
    };
    upgrade.on_upgrade(move |socket| async move {
        let (mut sink, mut stream) = socket.split();
        let ending = serve_widget(&mut sink, &mut stream, query, handoff).await;
        finish(sink, stream, ending).await;
    })
}

fn error_frame(err: AppError) -> VisitorEvent {
    VisitorEvent::Error { error: ErrorBody::from(err).error }
}

pub async fn serve_widget<S, R>(mut sink: S, mut stream: R, query: WidgetQuery, handoff: Handoff) -> Ending
where
    S: Sink<WsMessage> + Unpin,
    R: Stream<Item = Result<WsMessage, WsError>> + Unpin,
{
    // 1. Authenticate with the first frame. Boxed, like each catch-up below: their
    // futures (a database read, the sends) would otherwise sit inline in every idle
    // socket's task for its whole life.
    let conversation = match Box::pin(authenticate(&mut stream, query.conversation_id, &handoff)).await {
        Ok(conversation) => conversation,
        Err(ending) => return ending,
    };

    // 2. Subscribe before catching up, so nothing committed in between is missed.
    let mut events = handoff.hub().subscribe_conversation(&conversation.id);
    let mut last_seq = query.after_seq;
    if Box::pin(catch_up(&mut sink, &handoff, &conversation, &mut last_seq, true)).await.is_err() {
        return Ending::Gone;
    }

    // 3. Live.
    let mut ping = interval(PING_EVERY);
    ping.reset();
    let mut heard = Instant::now();
    loop {
        tokio::select! {
            item = stream.next() => {
                heard = Instant::now();
                let reply = match classify(item) {
                    Inbound::End(ending) => return ending,
                    Inbound::Alive => None,
                    Inbound::Frame(WidgetClientFrame::Ping {}) => Some(VisitorEvent::Pong),
                    Inbound::Frame(WidgetClientFrame::Typing {}) => {
                        let author = Author { kind: AuthorKind::Visitor, name: conversation.visitor_name.clone() };
                        handoff.typing(&conversation.workspace_id, &conversation.id, Typist::Visitor, author, false);
                        None
                    }
                    Inbound::Frame(WidgetClientFrame::Auth { .. }) => {
                        Some(error_frame(AppError::InvalidInput("already authenticated".into())))
                    }
                    Inbound::Invalid(why) => Some(error_frame(AppError::InvalidInput(why))),
                };
                if let Some(reply) = reply {
                    if send_json(&mut sink, &reply).await.is_err() {
                        return Ending::Gone;
                    }
                }
            }
            event = events.recv() => {
                let sent = match event.map(Arc::unwrap_or_clone) {
                    Ok(VisitorEvent::Message { message }) if message.seq <= last_seq => Ok(()),
                    Ok(VisitorEvent::Message { message }) if message.seq == last_seq + 1 => {
                        last_seq = message.seq;
                        send_json(&mut sink, &VisitorEvent::Message { message }).await
                    }
                    // A gap: something was published out of order or elsewhere. The database knows.
                    Ok(VisitorEvent::Message { .. }) => Box::pin(catch_up(&mut sink, &handoff, &conversation, &mut last_seq, false)).await,
                    Ok(other) => send_json(&mut sink, &other).await,
                    Err(RecvError::Lagged(_)) => Box::pin(catch_up(&mut sink, &handoff, &conversation, &mut last_seq, true)).await,
                    Err(RecvError::Closed) => Err(()),
                };
                if sent.is_err() {
                    return Ending::Gone;
                }
            }
            _ = ping.tick() => {
                if let Err(ending) = keep_alive(&mut sink, heard).await {
                    return ending;
                }
            }
        }
    }
}

/// What an open socket keeps of its conversation: only what it reads while live (the
/// whole record would sit in every idle visitor's socket for its whole life).
struct Opened {
    id: String,
    workspace_id: String,
    visitor_name: Option<String>,
    state: StateKind,
}

/// The conversation the first frame's token opens, or how the socket ends.
async fn authenticate<R>(stream: &mut R, conversation_id: String, handoff: &Handoff) -> Result<Opened, Ending>
where
    R: Stream<Item = Result<WsMessage, WsError>> + Unpin,
{
    let policy = |reason| Ending::Close(CLOSE_POLICY, reason);
    let token = match timeout(AUTH_WAIT, stream.next()).await.map(classify::<WidgetClientFrame>) {
        Ok(Inbound::Frame(WidgetClientFrame::Auth { token })) => token,
        Ok(Inbound::End(ending @ Ending::Close(..))) => return Err(ending),
        Ok(Inbound::End(Ending::Gone)) => return Err(Ending::Gone),
        _ => return Err(policy("the first frame must be {\"type\":\"auth\",\"token\":…}")),
    };
    match handoff.visitor_conversation(Some(&token), &conversation_id).await {
        Ok(conversation) => Ok(Opened {
            state: conversation.state.kind(),
            id: conversation.id,
            workspace_id: conversation.workspace_id,
            visitor_name: conversation.visitor.name,
        }),
        Err(_) => Err(policy("invalid visitor token")),
    }
}

/// Sends every message after `last_seq` from the database, then (if asked) the state.
async fn catch_up<S>(
    sink: &mut S,
    handoff: &Handoff,
    conversation: &Opened,
    last_seq: &mut i64,
    with_state: bool,
) -> Result<(), ()>
where
    S: Sink<WsMessage> + Unpin,
{
    loop {
        let page = handoff.store().messages_after(&conversation.id, *last_seq, CATCH_UP_PAGE).await.map_err(|err| {
            tracing::error!(error = %err, "catch-up failed");
        })?;
        let full = page.len() as i64 == CATCH_UP_PAGE;
        for message in page {
            *last_seq = message.seq;
            send_json(sink, &VisitorEvent::Message { message }).await?;
        }
        if !full {
            break;
        }
    }
    if with_state {
        let state = match handoff.store().conversation_by_id(&conversation.id).await {
            Ok(Some(current)) => current.state.kind(),
            _ => conversation.state,
        };
        send_json(sink, &VisitorEvent::State { state }).await?;
    }
    Ok(())
}
