//! The visitor half of the public API (`/api/v1/widget/*`).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    wire::ApiJson,
    domain::{Message, StateKind, WidgetLook},
    error::AppError,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartResponse {
    pub conversation_id: String,
    /// Send as `Authorization: Bearer <token>`; shown only here, stored only hashed.
    pub visitor_token: String,
    pub state: StateKind,
    pub messages: Vec<Message>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendResponse {
    pub message: Message,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryResponse {
    pub state: StateKind,
    pub messages: Vec<Message>,
}

/// `POST /api/v1/widget/start`: a new conversation with chatbot `bot_id`.
#[server(prefix = "/api/v1", endpoint = "widget/start", input = ApiJson)]
pub async fn start_conversation(
    bot_id: String,
    name: Option<String>,
    email: Option<String>,
) -> Result<StartResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    backend.widget_start(&request, bot_id, name, email).await
}

/// `POST /api/v1/widget/send`: the visitor's message; the same `client_id` twice stores it once.
#[server(prefix = "/api/v1", endpoint = "widget/send", input = ApiJson)]
pub async fn send_message(conversation_id: String, client_id: String, text: String) -> Result<SendResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    let message = backend.widget_send(&request, conversation_id, client_id, text).await?;
    Ok(SendResponse { message })
}

/// `POST /api/v1/widget/history`: everything the visitor may see after `after_seq`.
#[server(prefix = "/api/v1", endpoint = "widget/history", input = ApiJson)]
pub async fn fetch_history(conversation_id: String, after_seq: Option<i64>) -> Result<HistoryResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    backend.widget_history(&request, conversation_id, after_seq.unwrap_or(0)).await
}

/// `POST /api/v1/widget/config`: how chatbot `bot_id`'s widget looks (title, colour,
/// greeting, launcher corner). Public: it is what any visitor's page shows.
#[server(prefix = "/api/v1", endpoint = "widget/config", input = ApiJson)]
pub async fn widget_config(bot_id: String) -> Result<WidgetLook, AppError> {
    let (backend, _request) = crate::backend::backend()?;
    backend.widget_look(bot_id).await
}
