//! Realtime: the in-process hub and the two WebSockets, `/live/widget` for visitors
//! and `/live/inbox` for the team.

pub mod bus;
pub mod hub;
pub mod inbox;
pub mod socket;
pub mod widget;

use std::time::Duration;

use app::{domain::MAX_CLIENT_FRAME_BYTES, wire};
use futures_util::{Sink, SinkExt};
use serde::{de::DeserializeOwned, Serialize};
use tokio_tungstenite::tungstenite::{error::ProtocolError, Error as WsError, Message as WsMessage};

/// How often the server pings an idle socket, and how long a silent client may stay.
pub const PING_EVERY: Duration = Duration::from_secs(25);
pub const SILENCE_LIMIT: Duration = Duration::from_secs(70);

/// Close codes (RFC 6455 §7.4.1).
pub const CLOSE_GOING_AWAY: u16 = 1001;
pub const CLOSE_PROTOCOL: u16 = 1002;
pub const CLOSE_INVALID_DATA: u16 = 1007;
pub const CLOSE_POLICY: u16 = 1008;
pub const CLOSE_TOO_BIG: u16 = 1009;

/// How a socket's exchange with its client ended, and what Baton still owes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The client closed (its close frame is echoed) or the connection is gone.
    Gone,
    /// Baton closes with this code and reason.
    Close(u16, &'static str),
}

/// What one read from the client turned out to be.
pub enum Inbound<F> {
    Frame(F),
    /// Malformed or unknown: answered with an error frame, never ignored silently.
    Invalid(String),
    /// Proof of life (pings, pongs): nothing to do.
    Alive,
    /// The socket is over.
    End(Ending),
}

/// Reads one item of a socket's stream as a client frame of type `F`. Oversized
/// frames end the socket with 1009, text that is not UTF-8 with 1007, any other
/// breach of RFC 6455 (reserved opcodes or bits, oversized or fragmented control
/// frames, unmasked frames) with 1002.
pub fn classify<F: DeserializeOwned>(item: Option<Result<WsMessage, WsError>>) -> Inbound<F> {
    match item {
        Some(Ok(WsMessage::Text(text))) if text.len() > MAX_CLIENT_FRAME_BYTES => {
            Inbound::End(Ending::Close(CLOSE_TOO_BIG, "frame too large"))
        }
        Some(Ok(WsMessage::Text(text))) => match wire::read::<F>(text.as_bytes(), "the frame") {
            Ok(frame) => Inbound::Frame(frame),
            Err(why) => Inbound::Invalid(why.0),
        },
        Some(Ok(WsMessage::Binary(_))) => Inbound::Invalid("binary frames are not supported; send JSON text".into()),
        Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_))) => Inbound::Alive,
        Some(Ok(WsMessage::Close(_))) | None => Inbound::End(Ending::Gone),
        Some(Err(err)) => Inbound::End(ending_for(&err)),
    }
}

/// The close a read error calls for.
fn ending_for(err: &WsError) -> Ending {
    match err {
        WsError::Capacity(_) => Ending::Close(CLOSE_TOO_BIG, "frame too large"),
        WsError::Utf8(_) => Ending::Close(CLOSE_INVALID_DATA, "text frames must be UTF-8"),
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => Ending::Gone,
        WsError::Protocol(_) => Ending::Close(CLOSE_PROTOCOL, "protocol error"),
        _ => Ending::Gone,
    }
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

/// The keep-alive tick: ends a socket whose client has been silent too long,
/// otherwise pings it. `Err` carries how the socket ends.
pub async fn keep_alive<S>(sink: &mut S, heard: tokio::time::Instant) -> Result<(), Ending>
where
    S: Sink<WsMessage> + Unpin,
{
    if heard.elapsed() > SILENCE_LIMIT {
        return Err(Ending::Close(CLOSE_GOING_AWAY, "no answer to pings"));
    }
    sink.send(WsMessage::Ping(Vec::new().into())).await.map_err(|_| Ending::Gone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use tokio_tungstenite::tungstenite::error::CapacityError;

    #[derive(Debug, Deserialize)]
    #[serde(tag = "type", rename_all = "snake_case")]
    enum Frame {
        Ping {},
    }

    fn ending(item: Option<Result<WsMessage, WsError>>) -> Option<Ending> {
        match classify::<Frame>(item) {
            Inbound::End(ending) => Some(ending),
            _ => None,
        }
    }

    #[test]
    fn each_breach_of_the_protocol_has_its_close_code() {
        let big = WsError::Capacity(CapacityError::MessageTooLong { size: 70_000, max_size: 16_384 });
        assert_eq!(ending(Some(Err(big))), Some(Ending::Close(CLOSE_TOO_BIG, "frame too large")));
        let reserved = WsError::Protocol(ProtocolError::UnknownDataFrameType(3));
        assert_eq!(ending(Some(Err(reserved))), Some(Ending::Close(CLOSE_PROTOCOL, "protocol error")));
        let text = WsMessage::Text("x".repeat(MAX_CLIENT_FRAME_BYTES + 1).into());
        assert_eq!(ending(Some(Ok(text))), Some(Ending::Close(CLOSE_TOO_BIG, "frame too large")));
        assert_eq!(ending(Some(Ok(WsMessage::Close(None)))), Some(Ending::Gone));
        assert_eq!(ending(None), Some(Ending::Gone));
    }

    #[test]
    fn frames_are_read_or_refused_in_plain_words() {
        assert!(matches!(classify::<Frame>(Some(Ok(WsMessage::Text(r#"{"type":"ping"}"#.into())))), Inbound::Frame(_)));
        let Inbound::Invalid(why) = classify::<Frame>(Some(Ok(WsMessage::Text(r#"{"type":"note"}"#.into())))) else {
            panic!("invalid")
        };
        assert_eq!(why, "`type` must be `ping`, not `note`");
    }
}

/// Whatever a client sends, a frame is read, refused in words, or the socket is
/// closed for its size: never a panic. A frame Baton's own clients write reads back
/// as written.
#[cfg(test)]
mod properties {
    use app::domain::live::{InboxClientFrame, WidgetClientFrame};
    use proptest::prelude::*;

    use super::*;

    /// JSON-shaped text near the real frames, and any text at all.
    fn frame_text() -> impl Strategy<Value = String> {
        let kinds = prop::sample::select(vec!["auth", "ping", "typing", "Ping", "", "message"]);
        let keys = prop::sample::select(vec!["token", "conversation_id", "type", "extra"]);
        prop_oneof![
            any::<String>(),
            "[{}\\[\\]\":,a-z_0-9 .\\\\-]{0,80}",
            (kinds, keys, any::<String>()).prop_map(|(kind, key, value)| {
                let mut frame = serde_json::Map::new();
                frame.insert("type".into(), kind.into());
                frame.insert(key.into(), value.into());
                serde_json::Value::Object(frame).to_string()
            }),
            (1..4usize).prop_map(|n| format!("{{\"type\":\"auth\",\"token\":\"{}\"}}", "x".repeat(n * MAX_CLIENT_FRAME_BYTES))),
        ]
    }

    fn read<F: DeserializeOwned>(text: &str) -> Inbound<F> {
        classify::<F>(Some(Ok(WsMessage::Text(text.to_owned().into()))))
    }

    fn sound<F>(text: &str, inbound: Inbound<F>) -> Result<(), TestCaseError> {
        match inbound {
            Inbound::Frame(_) => prop_assert!(text.len() <= MAX_CLIENT_FRAME_BYTES),
            Inbound::Invalid(why) => prop_assert!(!why.trim().is_empty(), "a refusal says why"),
            Inbound::End(Ending::Close(code, _)) => prop_assert!(code == CLOSE_TOO_BIG && text.len() > MAX_CLIENT_FRAME_BYTES),
            Inbound::End(Ending::Gone) | Inbound::Alive => prop_assert!(false, "a text frame neither ends nor only proves life"),
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn any_text_is_a_frame_or_a_refusal_in_words(text in frame_text()) {
            sound(&text, read::<WidgetClientFrame>(&text))?;
            sound(&text, read::<InboxClientFrame>(&text))?;
        }

        #[test]
        fn frames_read_back_as_written(token in any::<String>(), id in any::<String>()) {
            for frame in [WidgetClientFrame::Auth { token }, WidgetClientFrame::Ping {}, WidgetClientFrame::Typing {}] {
                let text = serde_json::to_string(&frame).map_err(|e| TestCaseError::fail(e.to_string()))?;
                match read::<WidgetClientFrame>(&text) {
                    Inbound::Frame(back) => prop_assert_eq!(back, frame),
                    _ => prop_assert!(text.len() > MAX_CLIENT_FRAME_BYTES, "{} was not read back", text),
                }
            }
            for frame in [InboxClientFrame::Ping {}, InboxClientFrame::Typing { conversation_id: id }] {
                let text = serde_json::to_string(&frame).map_err(|e| TestCaseError::fail(e.to_string()))?;
                match read::<InboxClientFrame>(&text) {
                    Inbound::Frame(back) => prop_assert_eq!(back, frame),
                    _ => prop_assert!(text.len() > MAX_CLIENT_FRAME_BYTES, "{} was not read back", text),
                }
            }
        }
    }
}
