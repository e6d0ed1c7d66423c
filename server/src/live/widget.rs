//! `/live/widget`: a visitor's live connection to their own conversation.
//!
//! The token arrives in the first frame (never in the URL, which ends up in logs).
//! Then: every visitor-visible message after `after_seq`, the current state, and live
//! frames. The socket tracks the last seq it sent: duplicates are dropped, and a gap
//! (or a lagging channel) is filled from the database, so nothing is lost or doubled.

use app::{
    domain::{
        live::{VisitorEvent, WidgetClientFrame},
        Author, AuthorKind, MAX_CLIENT_FRAME_BYTES,
    },
    error::ErrorBody,
    AppError,
};
use axum::{
    extract::{
        ws::{Message as WsMessage, WebSocketUpgrade},
        Query, State,
    },
    response::{IntoResponse, Response},
};
use futures_util::{Sink, Stream, StreamExt};
use serde::Deserialize;
use tokio::{
    sync::broadcast::error::RecvError,
    time::{interval, timeout, Instant},
};

use super::{close, keep_alive, send_json, with_limits, CLOSE_POLICY, CLOSE_TOO_BIG, PING_EVERY};
use crate::{handoff::Handoff, store::conversations::ConversationRecord};

const CATCH_UP_PAGE: i64 = 500;
const AUTH_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Debug, Deserialize)]
pub struct WidgetQuery {
    pub conversation_id: String,
    #[serde(default)]
    pub after_seq: i64,
}

pub async fn widget_socket(
    ws: WebSocketUpgrade,
    query: Result<Query<WidgetQuery>, axum::extract::rejection::QueryRejection>,
    State(handoff): State<Handoff>,
) -> Response {
    let query = match query {
        Ok(Query(query)) if query.after_seq >= 0 => query,
        Ok(_) => return AppError::InvalidInput("after_seq must be 0 or more".into()).into_response(),
        Err(rejection) => return AppError::InvalidInput(rejection.body_text()).into_response(),
    };
    with_limits(ws).on_upgrade(move |socket| async move {
        let (sink, stream) = socket.split();
        serve_widget(sink, stream, query, handoff).await;
    })
}

/// What a client frame turned out to be.
enum Inbound {
    Frame(WidgetClientFrame),
    /// Malformed or unknown: answered with an error frame, never ignored silently.
    Invalid(String),
    TooBig,
    /// Control frames and pongs: proof of life, nothing to do.
    Alive,
    Closed,
}

fn classify(item: Option<Result<WsMessage, axum::Error>>) -> Inbound {
    match item {
        Some(Ok(WsMessage::Text(text))) if text.len() > MAX_CLIENT_FRAME_BYTES => Inbound::TooBig,
        Some(Ok(WsMessage::Text(text))) => match serde_json::from_str::<WidgetClientFrame>(&text) {
            Ok(frame) => Inbound::Frame(frame),
            Err(err) => Inbound::Invalid(format!("unknown or malformed frame: {err}")),
        },
        Some(Ok(WsMessage::Binary(_))) => Inbound::Invalid("binary frames are not supported; send JSON text".into()),
        Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => Inbound::Alive,
        Some(Ok(WsMessage::Close(_))) | Some(Err(_)) | None => Inbound::Closed,
    }
}

fn error_frame(err: AppError) -> VisitorEvent {
    VisitorEvent::Error { error: ErrorBody::from(err).error }
}

pub async fn serve_widget<S, R>(mut sink: S, mut stream: R, query: WidgetQuery, handoff: Handoff)
where
    S: Sink<WsMessage> + Unpin,
    R: Stream<Item = Result<WsMessage, axum::Error>> + Unpin,
{
    // 1. Authenticate with the first frame.
    let token = match timeout(AUTH_WAIT, stream.next()).await.map(classify) {
        Ok(Inbound::Frame(WidgetClientFrame::Auth { token })) => token,
        Ok(Inbound::TooBig) => return close(&mut sink, CLOSE_TOO_BIG, "frame too large").await,
        _ => return close(&mut sink, CLOSE_POLICY, "the first frame must be {\"type\":\"auth\",\"token\":…}").await,
    };
    let conversation = match handoff.visitor_conversation(Some(&token), &query.conversation_id).await {
        Ok(conversation) => conversation,
        Err(_) => return close(&mut sink, CLOSE_POLICY, "invalid visitor token").await,
    };

    // 2. Subscribe before catching up, so nothing committed in between is missed.
    let mut events = handoff.hub().subscribe_conversation(&conversation.id);
    let mut last_seq = query.after_seq;
    if catch_up(&mut sink, &handoff, &conversation, &mut last_seq, true).await.is_err() {
        return;
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
                    Inbound::Closed => return,
                    Inbound::TooBig => return close(&mut sink, CLOSE_TOO_BIG, "frame too large").await,
                    Inbound::Alive => None,
                    Inbound::Frame(WidgetClientFrame::Ping {}) => Some(VisitorEvent::Pong),
                    Inbound::Frame(WidgetClientFrame::Typing {}) => {
                        let author = Author { kind: AuthorKind::Visitor, name: conversation.visitor.name.clone() };
                        handoff.typing(&conversation.workspace_id, &conversation.id, author, false);
                        None
                    }
                    Inbound::Frame(WidgetClientFrame::Auth { .. }) => {
                        Some(error_frame(AppError::InvalidInput("already authenticated".into())))
                    }
                    Inbound::Invalid(why) => Some(error_frame(AppError::InvalidInput(why))),
                };
                if let Some(reply) = reply {
                    if send_json(&mut sink, &reply).await.is_err() {
                        return;
                    }
                }
            }
            event = events.recv() => {
                let sent = match event {
                    Ok(VisitorEvent::Message { message }) if message.seq <= last_seq => Ok(()),
                    Ok(VisitorEvent::Message { message }) if message.seq == last_seq + 1 => {
                        last_seq = message.seq;
                        send_json(&mut sink, &VisitorEvent::Message { message }).await
                    }
                    // A gap: something was published out of order or elsewhere. The database knows.
                    Ok(VisitorEvent::Message { .. }) => catch_up(&mut sink, &handoff, &conversation, &mut last_seq, false).await,
                    Ok(other) => send_json(&mut sink, &other).await,
                    Err(RecvError::Lagged(_)) => catch_up(&mut sink, &handoff, &conversation, &mut last_seq, true).await,
                    Err(RecvError::Closed) => Err(()),
                };
                if sent.is_err() {
                    return;
                }
            }
            _ = ping.tick() => {
                if keep_alive(&mut sink, heard).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Sends every message after `last_seq` from the database, then (if asked) the state.
async fn catch_up<S>(
    sink: &mut S,
    handoff: &Handoff,
    conversation: &ConversationRecord,
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
            _ => conversation.state.kind(),
        };
        send_json(sink, &VisitorEvent::State { state }).await?;
    }
    Ok(())
}
