//! Team accounts, their sessions, and visitor tokens.

pub mod members;
pub mod password;
pub mod session;
pub mod visitor_token;
