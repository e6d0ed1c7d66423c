//! Integration tests: the real server on a random port, on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod accounts;
mod activity;
mod brain;
mod chatbots;
mod contract;
mod durability;
mod embed;
mod escalation;
mod first_start;
mod freshdesk;
mod health;
mod helpdesk;
mod hubspot;
mod inbox;
mod intercom;
mod knowledge;
mod live;
mod openai;
mod pages;
mod playground;
mod process;
mod protocol;
mod security;
mod settings;
mod team;
mod widget;
mod zoho;
