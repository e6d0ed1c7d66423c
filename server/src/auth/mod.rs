//! Team accounts, their sessions and sign-in throttle, and visitor tokens.

pub mod members;
pub mod password;
pub mod session;
pub mod throttle;
pub mod visitor_token;
