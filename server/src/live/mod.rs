//! Realtime: the in-process hub and the two WebSockets, `/live/widget` for visitors
//! and `/live/inbox` for the team.

pub mod bus;
pub mod hub;
pub mod inbox;
pub mod widget;

use std::time::Duration;

use app::domain::MAX_CLIENT_FRAME_BYTES;
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocketUpgrade};
use futures_util::{Sink, SinkExt};
use serde::Serialize;

/// How often the server pings an idle socket, and how long a silent client may stay.
pub const PING_EVERY: Duration = Duration::from_secs(25);
pub const SILENCE_LIMIT: Duration = Duration::from_secs(70);

/// Close codes (RFC 6455 §7.4.1).
pub const CLOSE_POLICY: u16 = 1008;
pub const CLOSE_TOO_BIG: u16 = 1009;
pub const CLOSE_GOING_AWAY: u16 = 1001;

/// Small buffers: tungstenite's defaults reserve 128 KiB per socket, which 100k idle
/// visitors cannot afford. Frames over `MAX_CLIENT_FRAME_BYTES` are refused by Baton
/// with 1009; the transport cap above it only stops abuse early.
pub fn with_limits(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    ws.read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_write_buffer_size(256 * 1024)
        .max_frame_size(4 * MAX_CLIENT_FRAME_BYTES)
        .max_message_size(4 * MAX_CLIENT_FRAME_BYTES)
}

/// Sends one JSON frame. `Err` means the socket is gone.
pub async fn send_json<S, T>(sink: &mut S, frame: &T) -> Result<(), ()>
where
    S: Sink<WsMessage> + Unpin,
    T: Serialize,
{
    let text = serde_json::to_string(frame).map_err(|err| tracing::error!(error = %err, "unserialisable frame"))?;
    sink.send(WsMessage::Text(text.into())).await.map_err(|_| ())
}

/// The keep-alive tick: closes a socket whose client has been silent too long,
/// otherwise pings it. `Err` means the socket is done.
pub async fn keep_alive<S>(sink: &mut S, heard: tokio::time::Instant) -> Result<(), ()>
where
    S: Sink<WsMessage> + Unpin,
{
    if heard.elapsed() > SILENCE_LIMIT {
        close(sink, CLOSE_GOING_AWAY, "no answer to pings").await;
        return Err(());
    }
    sink.send(WsMessage::Ping(Vec::new().into())).await.map_err(|_| ())
}

pub async fn close<S>(sink: &mut S, code: u16, reason: &'static str)
where
    S: Sink<WsMessage> + Unpin,
{
    let _ = sink.send(WsMessage::Close(Some(CloseFrame { code, reason: reason.into() }))).await;
    let _ = sink.close().await;
}
