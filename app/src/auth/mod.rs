//! Team sign-in.

pub mod api;
