//! The port through which server functions reach the back end: `app` declares it,
//! `server` implements it and provides it as Leptos context. Server functions stay
//! thin: they unpack JSON, hand the request head to the back end, and return.

use std::{collections::BTreeMap, sync::Arc};

use async_trait::async_trait;
use http::request::Parts;
use leptos::prelude::use_context;

use crate::{
    auth::api::LoginResponse,
    domain::activity::{ActivityFilter, ActivityPage},
    domain::helpdesk::{Integrations, Verified},
    domain::instructions::InstructionSettings,
    domain::knowledge::{Entry, EntryDraft, ImportFormat, Probe},
    domain::model::{ModelCheck, ModelDraft, ModelSettings, ModelTested},
    domain::playground::{PlaygroundRequest, PlaygroundTurn},
    domain::{
        team::{Password, TeamMember},
        ConversationSummary, MemberView, Message, Note, Role, WidgetLook,
    },
    error::AppError,
    inbox::api::{ConversationDetail, InboxCounts, InboxFilter},
    settings::api::{ChatbotDetail, ChatbotItem, WidgetSettings},
    widget::api::{HistoryResponse, StartResponse},
};

/// Every call gets the request head (`Parts`): the visitor's bearer token, the
/// session cookie, `Origin` are read from it by the back end, never trusted here.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    async fn widget_start(
        &self,
        request: &Parts,
        bot_id: String,
        name: Option<String>,
        email: Option<String>,
    ) -> Result<StartResponse, AppError>;
    async fn widget_send(
        &self,
        request: &Parts,
        conversation_id: String,
        client_id: String,
        text: String,
    ) -> Result<Message, AppError>;
    async fn widget_history(
        &self,
        request: &Parts,
        conversation_id: String,
        after_seq: i64,
    ) -> Result<HistoryResponse, AppError>;

    async fn widget_look(&self, bot_id: String) -> Result<WidgetLook, AppError>;

    async fn login(&self, request: &Parts, email: String, password: Password) -> Result<LoginResponse, AppError>;
    async fn logout(&self, request: &Parts) -> Result<(), AppError>;
    async fn current_member(&self, request: &Parts) -> Result<MemberView, AppError>;
    async fn change_password(&self, request: &Parts, current: Password, new: Password) -> Result<(), AppError>;

    async fn conversations(&self, request: &Parts, filter: InboxFilter) -> Result<Vec<ConversationSummary>, AppError>;
    async fn counts(&self, request: &Parts) -> Result<InboxCounts, AppError>;
    async fn conversation(&self, request: &Parts, conversation_id: String) -> Result<ConversationDetail, AppError>;
    async fn claim(&self, request: &Parts, conversation_id: String) -> Result<ConversationSummary, AppError>;
    async fn reply(
        &self,
        request: &Parts,
        conversation_id: String,
        client_id: String,
        text: String,
    ) -> Result<Message, AppError>;
    async fn note(&self, request: &Parts, conversation_id: String, text: String) -> Result<Note, AppError>;
    async fn resolve(&self, request: &Parts, conversation_id: String) -> Result<ConversationSummary, AppError>;
    async fn suggest(&self, request: &Parts, conversation_id: String) -> Result<String, AppError>;

    /// The new member, and the one-time password Baton made when none was given.
    async fn create_member(
        &self,
        request: &Parts,
        email: String,
        name: String,
        password: Option<Password>,
        role: Role,
    ) -> Result<(MemberView, Option<Password>), AppError>;
    async fn team(&self, request: &Parts) -> Result<Vec<TeamMember>, AppError>;
    /// The team after the change.
    async fn set_role(&self, request: &Parts, member_id: String, role: Role) -> Result<Vec<TeamMember>, AppError>;
    /// The team after the change.
    async fn remove_member(&self, request: &Parts, member_id: String) -> Result<Vec<TeamMember>, AppError>;
    async fn update_widget(&self, request: &Parts, widget: WidgetSettings) -> Result<WidgetSettings, AppError>;
    async fn chatbots(&self, request: &Parts) -> Result<Vec<ChatbotItem>, AppError>;
    async fn chatbot(&self, request: &Parts, bot_id: String) -> Result<(ChatbotDetail, WidgetSettings), AppError>;
    async fn create_chatbot(&self, request: &Parts, name: String) -> Result<(ChatbotDetail, WidgetSettings), AppError>;
    async fn archive_chatbot(
        &self,
        request: &Parts,
        bot_id: String,
        archived: bool,
    ) -> Result<(ChatbotDetail, WidgetSettings), AppError>;

    async fn instructions(&self, request: &Parts, bot_id: String) -> Result<InstructionSettings, AppError>;
    async fn save_instructions(
        &self,
        request: &Parts,
        instructions: InstructionSettings,
    ) -> Result<InstructionSettings, AppError>;
    async fn knowledge(&self, request: &Parts, bot_id: String) -> Result<Vec<Entry>, AppError>;
    async fn save_knowledge(&self, request: &Parts, bot_id: String, entry: EntryDraft) -> Result<Vec<Entry>, AppError>;
    async fn delete_knowledge(&self, request: &Parts, bot_id: String, entry_id: String)
        -> Result<Vec<Entry>, AppError>;
    /// How many entries the file added, and the entries after.
    async fn import_knowledge(
        &self,
        request: &Parts,
        bot_id: String,
        format: ImportFormat,
        text: String,
    ) -> Result<(usize, Vec<Entry>), AppError>;
    async fn probe_knowledge(&self, request: &Parts, bot_id: String, question: String) -> Result<Probe, AppError>;
    async fn model(&self, request: &Parts, bot_id: String) -> Result<ModelSettings, AppError>;
    async fn save_model(&self, request: &Parts, draft: ModelDraft) -> Result<ModelSettings, AppError>;
    async fn test_model(&self, request: &Parts, check: ModelCheck) -> Result<ModelTested, AppError>;
    async fn playground(&self, request: &Parts, turn: PlaygroundRequest) -> Result<PlaygroundTurn, AppError>;
    async fn integrations(&self, request: &Parts, bot_id: String) -> Result<Integrations, AppError>;
    async fn set_live_handoff(&self, request: &Parts, bot_id: String, on: bool) -> Result<Integrations, AppError>;
    async fn verify_helpdesk(
        &self,
        request: &Parts,
        bot_id: String,
        desk: String,
        credentials: BTreeMap<String, String>,
    ) -> Result<Verified, AppError>;
    async fn connect_helpdesk(
        &self,
        request: &Parts,
        bot_id: String,
        desk: String,
        credentials: BTreeMap<String, String>,
    ) -> Result<Integrations, AppError>;
    async fn disconnect_helpdesk(
        &self,
        request: &Parts,
        bot_id: String,
        desk: String,
    ) -> Result<Integrations, AppError>;
    async fn retry_helpdesk(
        &self,
        request: &Parts,
        bot_id: String,
        conversation_id: String,
    ) -> Result<Integrations, AppError>;
    async fn activity(&self, request: &Parts, filter: ActivityFilter) -> Result<ActivityPage, AppError>;
}

/// How the server puts the back end into context.
#[derive(Clone)]
pub struct BackendHandle(pub Arc<dyn Backend>);

/// The back end and the current request's head, from inside a server function.
pub fn backend() -> Result<(Arc<dyn Backend>, Parts), AppError> {
    let Some(BackendHandle(backend)) = use_context::<BackendHandle>() else {
        tracing::error!("server function called without a back end in context");
        return Err(AppError::Internal);
    };
    let Some(parts) = use_context::<Parts>() else {
        tracing::error!("server function called without the request in context");
        return Err(AppError::Internal);
    };
    Ok((backend, parts))
}
