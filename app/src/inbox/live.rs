//! The Inbox's live connection, in the browser: the `/live/inbox` socket (the session
//! cookie authenticates it), reconnected with backoff. Every time it comes up, the
//! lists, counts and the open conversation are read again, so nothing that happened
//! while it was down is missing. A socket the server closed because the session
//! ended sends the agent back to sign-in.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use gloo_net::websocket::{futures::WebSocket, Message as Frame};
use gloo_timers::future::sleep;
use leptos::{prelude::*, task::spawn_local};

use super::desk::{Connection, Desk};
use crate::{
    auth::api::{current_member, SessionResponse},
    browser,
    domain::live::TeamEvent,
};

/// How often waiting times move on.
const CLOCK_EVERY: Duration = Duration::from_secs(15);

/// Starts the Inbox's live side: the socket, the clock, the first load.
pub fn start(desk: Desk, session: RwSignal<u32>) {
    desk.notifications.set(browser::notifications_allowed());
    let started_in = session.get_untracked();
    let signed_in = move || session.try_get_untracked() == Some(started_in);
    spawn_local(async move {
        while signed_in() {
            sleep(CLOCK_EVERY).await;
            desk.now_ms.set(browser::now_ms());
        }
    });
    spawn_local(async move {
        let mut backoff = Duration::from_millis(500);
        let mut was_live = false;
        let mut loaded = false;
        while signed_in() {
            desk.connection.set(if was_live { Connection::Offline } else { Connection::Connecting });
            if let Some(socket) = browser::socket_url("/live/inbox").and_then(|url| WebSocket::open(&url).ok()) {
                let (mut send, mut frames) = socket.split();
                // The first frame goes out once the socket is open; its pong says it is live.
                if send.send(Frame::Text(r#"{"type":"ping"}"#.to_owned())).await.is_ok() {
                    desk.outbox.open(send);
                    let mut live = false;
                    while let Some(Ok(frame)) = frames.next().await {
                        if !signed_in() {
                            return;
                        }
                        if !live {
                            live = true;
                            backoff = Duration::from_millis(500);
                            desk.connection.set(Connection::Live);
                            // Read only now that events flow, so nothing falls between
                            // the read and the feed; after a drop, this catches up.
                            desk.refresh();
                            was_live = true;
                            loaded = true;
                        }
                        if let Frame::Text(text) = frame {
                            if let Ok(event) = serde_json::from_str::<TeamEvent>(&text) {
                                desk.apply(event);
                            }
                        }
                    }
                }
            }
            if !signed_in() {
                return;
            }
            desk.outbox.close();
            desk.connection.set(Connection::Offline);
            if !loaded {
                // No live feed yet: show what there is meanwhile.
                desk.refresh();
                loaded = true;
            }
            // Closed: is the session still there? (An ended one closes the socket with 1008.)
            if let Ok(SessionResponse { member: None }) = current_member().await {
                if signed_in() {
                    session.update(|n| *n += 1);
                }
                return;
            }
            sleep(backoff).await;
            backoff = (backoff * 2).min(browser::LONGEST_BACKOFF);
        }
    });
}
