//! Shared domain types: the conversation, its messages and states, the one
//! `transition` function, and the typed live frames. Used by the server and both
//! WASM surfaces, so every rule has exactly one home.

pub mod activity;
pub mod clock;
pub mod conversation;
pub mod helpdesk;
pub mod instructions;
pub mod knowledge;
pub mod live;
pub mod message;
pub mod model;
pub mod playground;
pub mod redact;
pub mod team;
pub mod text;
pub mod widget;

pub use conversation::{
    allowed, transition, AgentRef, Allowed, Command, EscalationReason, Outcome, Rejected, State, StateKind, SystemNote,
};
pub use message::{merge_message, Ask, Author, AuthorKind, ConversationSummary, Message, Note, Visitor};
pub use team::{MemberView, Role};
pub use text::{ClientId, DisplayName, EmailAddress, MessageText};
pub use widget::{LauncherPosition, WidgetLook};

/// Longest message a visitor or an agent may send, in characters after trimming.
pub const MAX_MESSAGE_CHARS: usize = 4000;

/// Show the remaining-characters hint only once a draft gets this close to the limit.
pub const CHAR_HINT_FROM: usize = MAX_MESSAGE_CHARS - 500;

/// Largest WebSocket frame a client may send, in bytes.
pub const MAX_CLIENT_FRAME_BYTES: usize = 16 * 1024;
