//! Shared domain facts used by the server and the WASM surfaces alike.

/// Longest message a visitor or an agent may send, in characters after trimming.
pub const MAX_MESSAGE_CHARS: usize = 4000;

/// Show the remaining-characters hint only once a draft gets this close to the limit.
pub const CHAR_HINT_FROM: usize = MAX_MESSAGE_CHARS - 500;
