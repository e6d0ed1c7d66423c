//! Baton's back end: everything that only runs on the server. `main.rs` only wires
//! these together; tests start the same `Application` on port 0.

pub mod admin;
pub mod assets;
pub mod auth;
pub mod backend;
pub mod brain;
pub mod chatbot_model;
pub mod chatbots;
pub mod config;
pub mod demo;
pub mod handoff;
pub mod health;
pub mod helpdesk;
pub mod live;
pub mod security;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod widget;

pub use config::Settings;
pub use startup::Application;
