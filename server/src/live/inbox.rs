//! `/live/inbox`: a team member's live feed of their workspace.
//!
//! The upgrade is refused (403) unless `Origin` is Baton's own: a session cookie
//! rides along with any cross-site WebSocket, so without this check another site
//! could read the Inbox (cross-site WebSocket hijacking). Every event is checked
//! against the member's workspace again right before it is sent.

use app::{
    domain::{
        live::{InboxClientFrame, TeamEvent},
        Author, AuthorKind,
    },
    error::ErrorBody,
    AppError,
};
use axum::{
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Response},
};
use futures_util::{Sink, Stream, StreamExt};
use tokio::{
    sync::broadcast::error::RecvError,
    time::{interval, Instant},
};
use tokio_tungstenite::tungstenite::{Error as WsError, Message as WsMessage};
use tower_sessions::{session::Id, Session};

use super::{
    classify, keep_alive, send_json,
    socket::{finish, Upgrade},
    Ending, Inbound, CLOSE_POLICY, PING_EVERY,
};
use crate::{
    auth::{
        members::{member_by_id, Caller},
        session::{fingerprint, session_alive, MEMBER_KEY},
    },
    handoff::{Handoff, Typist},
    security::origin::SiteOrigin,
};

pub async fn inbox_socket(
    upgrade: Upgrade,
    headers: HeaderMap,
    session: Session,
    State(handoff): State<Handoff>,
    State(site): State<SiteOrigin>,
) -> Response {
    if let Err(err) = site.check(&headers, true) {
        return err.into_response();
    }
    let member_id: Option<String> = session.get(MEMBER_KEY).await.ok().flatten();
    let caller = match member_id {
        Some(id) => member_by_id(handoff.store(), &id).await.ok().flatten(),
        None => None,
    };
    let (Some(caller), Some(session_id)) = (caller, session.id()) else {
        return AppError::Unauthenticated("sign in first".into()).into_response();
    };
    upgrade.on_upgrade(move |socket| async move {
        let (mut sink, mut stream) = socket.split();
        let ending = serve_inbox(&mut sink, &mut stream, caller, session_id, handoff).await;
        finish(sink, stream, ending).await;
    })
}

fn error_frame(err: AppError) -> TeamEvent {
    TeamEvent::Error { error: ErrorBody::from(err).error }
}

/// The socket lives as long as the member's session `session_id`.
pub async fn serve_inbox<S, R>(mut sink: S, mut stream: R, caller: Caller, session_id: Id, handoff: Handoff) -> Ending
where
    S: Sink<WsMessage> + Unpin,
    R: Stream<Item = Result<WsMessage, WsError>> + Unpin,
{
    let signed_out = Ending::Close(CLOSE_POLICY, "signed out");
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
                let reply = match classify(item) {
                    Inbound::End(ending) => return ending,
                    Inbound::Alive => None,
                    Inbound::Frame(InboxClientFrame::Ping {}) => Some(TeamEvent::Pong),
                    Inbound::Frame(InboxClientFrame::Typing { conversation_id }) => {
                        match handoff.store().conversation_in_workspace(&conversation_id, &caller.workspace_id).await {
                            Ok(Some(conversation)) => {
                                // Only the agent who holds the chat is shown typing to its visitor.
                                let holds = conversation.state.agent().is_some_and(|a| a.id == caller.member.id);
                                let typist = Typist::Member(caller.member.id.clone());
                                handoff.typing(&caller.workspace_id, &conversation.id, typist, me.clone(), holds);
                                None
                            }
                            _ => Some(error_frame(AppError::NotFound)),
                        }
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
                    return Ending::Gone;
                }
            }
            ended = sign_outs.recv() => {
                match ended {
                    Ok(ended) if *ended == *session => return signed_out,
                    Ok(_) => {}
                    // Missed some: make sure ours is still alive.
                    Err(RecvError::Lagged(_)) => {
                        if !session_alive(handoff.store(), &session_id).await {
                            return signed_out;
                        }
                    }
                    Err(RecvError::Closed) => return Ending::Gone,
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
