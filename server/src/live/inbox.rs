//! `/live/inbox`: a team member's live feed of their workspace.
//!
//! The upgrade is refused (403) unless `Origin` is Baton's own: a session cookie
//! rides along with any cross-site WebSocket, so without this check another site
//! could read the Inbox (cross-site WebSocket hijacking). Every event is checked
//! against the member's workspace again right before it is sent.

use app::{
    domain::{
        live::{InboxClientFrame, TeamEvent},
        Author, AuthorKind, MAX_CLIENT_FRAME_BYTES,
    },
    error::ErrorBody,
    AppError,
};
use axum::{
    extract::{
        ws::{Message as WsMessage, WebSocketUpgrade},
        State,
    },
    http::{header, HeaderMap},
    response::{IntoResponse, Response},
};
use futures_util::{Sink, Stream, StreamExt};
use tokio::{
    sync::broadcast::error::RecvError,
    time::{interval, Instant},
};
use tower_sessions::{session::Id, Session};

use super::{close, keep_alive, send_json, with_limits, CLOSE_POLICY, CLOSE_TOO_BIG, PING_EVERY};
use crate::{
    auth::{
        members::{member_by_id, Caller},
        session::{fingerprint, session_alive, MEMBER_KEY},
    },
    handoff::Handoff,
};

/// Same origin means the `Origin` header names exactly the host the request came to.
fn origin_is_ours(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return false };
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else { return false };
    origin
        .split_once("://")
        .is_some_and(|(scheme, rest)| matches!(scheme, "http" | "https") && rest.eq_ignore_ascii_case(host))
}

pub async fn inbox_socket(
    ws: WebSocketUpgrade,
    headers: HeaderMap,
    session: Session,
    State(handoff): State<Handoff>,
) -> Response {
    if !origin_is_ours(&headers) {
        return AppError::Forbidden("the Inbox socket only accepts Baton's own pages".into()).into_response();
    }
    let member_id: Option<String> = session.get(MEMBER_KEY).await.ok().flatten();
    let caller = match member_id {
        Some(id) => member_by_id(handoff.store(), &id).await.ok().flatten(),
        None => None,
    };
    let (Some(caller), Some(session_id)) = (caller, session.id()) else {
        return AppError::Unauthenticated("sign in first".into()).into_response();
    };
    with_limits(ws).on_upgrade(move |socket| async move {
        let (sink, stream) = socket.split();
        serve_inbox(sink, stream, caller, session_id, handoff).await;
    })
}

fn error_frame(err: AppError) -> TeamEvent {
    TeamEvent::Error { error: ErrorBody::from(err).error }
}

/// The socket lives as long as the member's session `session_id`.
pub async fn serve_inbox<S, R>(mut sink: S, mut stream: R, caller: Caller, session_id: Id, handoff: Handoff)
where
    S: Sink<WsMessage> + Unpin,
    R: Stream<Item = Result<WsMessage, axum::Error>> + Unpin,
{
    let session = fingerprint(&session_id);
    let mut events = handoff.hub().subscribe_workspace(&caller.workspace_id);
    let mut sign_outs = handoff.hub().subscribe_sign_outs();
    let me = Author { kind: AuthorKind::Agent, name: Some(caller.member.name.clone()) };
    let mut ping = interval(PING_EVERY);
    ping.reset();
    let mut heard = Instant::now();
    loop {
        tokio::select! {
            item = stream.next() => {
                heard = Instant::now();
                let reply = match item {
                    Some(Ok(WsMessage::Text(text))) if text.len() > MAX_CLIENT_FRAME_BYTES => {
                        return close(&mut sink, CLOSE_TOO_BIG, "frame too large").await;
                    }
                    Some(Ok(WsMessage::Text(text))) => match serde_json::from_str::<InboxClientFrame>(&text) {
                        Ok(InboxClientFrame::Ping {}) => Some(TeamEvent::Pong),
                        Ok(InboxClientFrame::Typing { conversation_id }) => {
                            match handoff.store().conversation_in_workspace(&conversation_id, &caller.workspace_id).await {
                                Ok(Some(conversation)) => {
                                    // Only the agent who holds the chat is shown typing to its visitor.
                                    let holds = conversation.state.agent().is_some_and(|a| a.id == caller.member.id);
                                    handoff.typing(&caller.workspace_id, &conversation.id, me.clone(), holds);
                                    None
                                }
                                _ => Some(error_frame(AppError::NotFound)),
                            }
                        }
                        Err(err) => Some(error_frame(AppError::InvalidInput(format!("unknown or malformed frame: {err}")))),
                    },
                    Some(Ok(WsMessage::Binary(_))) => {
                        Some(error_frame(AppError::InvalidInput("binary frames are not supported; send JSON text".into())))
                    }
                    Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => None,
                    Some(Ok(WsMessage::Close(_)) | Err(_)) | None => return,
                };
                if let Some(reply) = reply {
                    if send_json(&mut sink, &reply).await.is_err() {
                        return;
                    }
                }
            }
            event = events.recv() => {
                let sent = match event {
                    Ok(event) if *event.workspace_id == *caller.workspace_id => send_json(&mut sink, &event.event).await,
                    Ok(event) => {
                        tracing::error!(expected = %caller.workspace_id, got = %event.workspace_id, "cross-workspace event refused");
                        Ok(())
                    }
                    Err(RecvError::Lagged(_)) => send_json(&mut sink, &TeamEvent::Resync).await,
                    Err(RecvError::Closed) => Err(()),
                };
                if sent.is_err() {
                    return;
                }
            }
            ended = sign_outs.recv() => {
                match ended {
                    Ok(ended) if *ended == *session => return close(&mut sink, CLOSE_POLICY, "signed out").await,
                    Ok(_) => {}
                    // Missed some: make sure ours is still alive.
                    Err(RecvError::Lagged(_)) => {
                        if !session_alive(handoff.store(), &session_id).await {
                            return close(&mut sink, CLOSE_POLICY, "signed out").await;
                        }
                    }
                    Err(RecvError::Closed) => return,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn only_baton_s_own_origin_may_open_the_inbox_socket() {
        assert!(origin_is_ours(&headers(&[("host", "127.0.0.1:3000"), ("origin", "http://127.0.0.1:3000")])));
        assert!(!origin_is_ours(&headers(&[("host", "127.0.0.1:3000"), ("origin", "http://evil.test")])));
        assert!(!origin_is_ours(&headers(&[("host", "127.0.0.1:3000")])), "a missing Origin is refused");
        assert!(!origin_is_ours(&headers(&[("host", "127.0.0.1:3000"), ("origin", "null")])));
    }
}
