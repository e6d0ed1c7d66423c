//! Typed WebSocket frames for `/live/widget` and `/live/inbox`.
//!
//! `VisitorEvent` is everything a visitor's socket can ever carry: it has no
//! variant for a note, so sending one to a visitor does not compile.

use serde::{Deserialize, Serialize};

use super::{
    conversation::StateKind,
    message::{Author, ConversationSummary, Message, Note},
};
use crate::error::ErrorDetail;

/// What a widget may send. Unknown types fail to parse and are answered with an error frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum WidgetClientFrame {
    /// Must be the first frame: the visitor token (never in the URL).
    Auth { token: String },
    // Empty braces, not unit variants: serde enforces `deny_unknown_fields` only on those.
    Ping {},
    /// The visitor is typing.
    Typing {},
}

/// What the server sends to a visitor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum VisitorEvent {
    Message { message: Message },
    State { state: StateKind },
    Typing { author: Author },
    Pong,
    Error { error: ErrorDetail },
}

/// What an Inbox may send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum InboxClientFrame {
    Ping {},
    /// The agent is typing in this conversation.
    Typing { conversation_id: String },
}

/// What the server sends to team members: their workspace's changes only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TeamEvent {
    Conversation { conversation: ConversationSummary },
    Message { conversation_id: String, message: Message },
    Note { conversation_id: String, note: Note },
    Typing { conversation_id: String, author: Author },
    /// Events were missed (the socket fell behind): reload lists and open conversations.
    Resync,
    Pong,
    Error { error: ErrorDetail },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_auth_frame_has_the_documented_shape() {
        let frame: WidgetClientFrame = serde_json::from_str(r#"{"type":"auth","token":"t0k"}"#).unwrap();
        assert_eq!(frame, WidgetClientFrame::Auth { token: "t0k".into() });
    }

    #[test]
    fn unknown_frame_types_and_fields_are_rejected() {
        assert!(serde_json::from_str::<WidgetClientFrame>(r#"{"type":"note","text":"x"}"#).is_err());
        assert!(serde_json::from_str::<WidgetClientFrame>(r#"{"type":"ping","extra":1}"#).is_err());
        assert!(serde_json::from_str::<InboxClientFrame>(r#"{"type":"auth","token":"x"}"#).is_err());
    }

    #[test]
    fn a_message_event_has_the_documented_shape() {
        let event = VisitorEvent::Message {
            message: Message {
                seq: 7,
                id: "msg_1".into(),
                author: Author { kind: crate::domain::AuthorKind::Agent, name: Some("Ana".into()) },
                text: "Hi".into(),
                at: "2026-11-24T10:00:00Z".into(),
                client_id: None,
                asks: None,
            },
        };
        let json = serde_json::to_value(event).unwrap();
        assert_eq!(json["type"], "message");
        assert_eq!(json["message"]["seq"], 7);
        assert_eq!(json["message"]["author"]["kind"], "agent");
        assert_eq!(json["message"]["author"]["name"], "Ana");
    }
}
