//! `/api/v1/team/*` and `/api/v1/settings/*`: admins manage their workspace's members
//! and chatbots.

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    domain::{
        activity::ActivityPage,
        helpdesk::{Integrations, Verified},
        instructions::InstructionSettings,
        knowledge::{Entry, EntryDraft, ImportFormat, Probe},
        model::{ModelDraft, ModelSettings, ModelTested},
        playground::{PendingHandover, PlaygroundLine, PlaygroundTurn},
        team::{Password, TeamMember},
        LauncherPosition, MemberView, Role,
    },
    error::AppError,
    wire::ApiJson,
};

/// `password` is there only when Baton made it: shown once, never stored in the clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberResponse {
    pub member: MemberView,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Password>,
}

/// `POST /api/v1/team/members`: admins only (403 otherwise). The new member joins the
/// admin's workspace. Without a `password`, Baton makes a one-time one and answers it
/// (once: only its hash is kept).
#[server(prefix = "/api/v1", endpoint = "team/members", input = ApiJson)]
pub async fn create_member(
    email: String,
    name: String,
    password: Option<Password>,
    role: Role,
) -> Result<MemberResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    let (member, password) = backend.create_member(&request, email, name, password, role).await?;
    Ok(MemberResponse { member, password })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamResponse {
    pub members: Vec<TeamMember>,
}

/// `POST /api/v1/team/list`: the workspace's members, oldest first, with role and last
/// sign-in. Admins only (403 otherwise).
#[server(prefix = "/api/v1", endpoint = "team/list", input = ApiJson)]
pub async fn list_team() -> Result<TeamResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    Ok(TeamResponse { members: backend.team(&request).await? })
}

/// `POST /api/v1/team/role`: gives a member another role; 409 for the last admin,
/// 404 for another workspace's member.
#[server(prefix = "/api/v1", endpoint = "team/role", input = ApiJson)]
pub async fn set_role(member_id: String, role: Role) -> Result<TeamResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    Ok(TeamResponse { members: backend.set_role(&request, member_id, role).await? })
}

/// `POST /api/v1/team/remove`: removes a member. The conversations they hold go back
/// to the queue with a note to the team; their sessions and live sockets end. 409
/// for oneself and for the last admin.
#[server(prefix = "/api/v1", endpoint = "team/remove", input = ApiJson)]
pub async fn remove_member(member_id: String) -> Result<TeamResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    Ok(TeamResponse { members: backend.remove_member(&request, member_id).await? })
}

/// A chatbot's widget as its admins set it. `allowed_origins` are the websites that
/// may embed it (`https://www.acme.com`); `["*"]` allows any; empty allows none but Baton.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetSettings {
    pub bot_id: String,
    pub title: String,
    pub greeting: String,
    pub color: String,
    pub launcher_position: LauncherPosition,
    pub allowed_origins: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetSettingsResponse {
    pub widget: WidgetSettings,
}

/// `POST /api/v1/settings/widget`: admins only (403 otherwise); a chatbot of another
/// workspace is 404. Answers with the settings as stored (colour and origins normalised).
#[server(prefix = "/api/v1", endpoint = "settings/widget", input = ApiJson)]
pub async fn update_widget(widget: WidgetSettings) -> Result<WidgetSettingsResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    Ok(WidgetSettingsResponse { widget: backend.update_widget(&request, widget).await? })
}

/// One of the workspace's chatbots, for Settings' picker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatbotItem {
    pub bot_id: String,
    pub name: String,
    /// Archived: its widget says the chat is closed.
    #[serde(default)]
    pub archived: bool,
}

/// A chatbot as Settings → General shows it: `embed` is the tag a website adds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatbotDetail {
    pub bot_id: String,
    pub name: String,
    pub greeting: String,
    pub archived: bool,
    /// RFC 3339.
    pub created_at: String,
    pub embed: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatbotResponse {
    pub chatbot: ChatbotDetail,
    pub widget: WidgetSettings,
}

/// Longest chatbot name (it is the widget's title), in characters.
pub const MAX_CHATBOT_NAME_CHARS: usize = 60;

/// `POST /api/v1/settings/chatbot`: one chatbot's General and Widget settings and its
/// embed tag. Admins only (403 otherwise); another workspace's chatbot is 404.
#[server(prefix = "/api/v1", endpoint = "settings/chatbot", input = ApiJson)]
pub async fn get_chatbot(bot_id: String) -> Result<ChatbotResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    let (chatbot, widget) = backend.chatbot(&request, bot_id).await?;
    Ok(ChatbotResponse { chatbot, widget })
}

/// `POST /api/v1/settings/chatbots/create`: a new chatbot named `name`, with a public
/// id made from it, the default look and no knowledge yet.
#[server(prefix = "/api/v1", endpoint = "settings/chatbots/create", input = ApiJson)]
pub async fn create_chatbot(name: String) -> Result<ChatbotResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    let (chatbot, widget) = backend.create_chatbot(&request, name).await?;
    Ok(ChatbotResponse { chatbot, widget })
}

/// `POST /api/v1/settings/chatbots/archive`: archives a chatbot (`archived: true`: its
/// widget says the chat is closed; its conversations stay in the Inbox) or puts it
/// back in service. 409 when it already is as asked.
#[server(prefix = "/api/v1", endpoint = "settings/chatbots/archive", input = ApiJson)]
pub async fn archive_chatbot(bot_id: String, archived: bool) -> Result<ChatbotResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    let (chatbot, widget) = backend.archive_chatbot(&request, bot_id, archived).await?;
    Ok(ChatbotResponse { chatbot, widget })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatbotsResponse {
    pub chatbots: Vec<ChatbotItem>,
}

/// `POST /api/v1/settings/chatbots`: the workspace's chatbots, oldest first. Admins
/// only (403 otherwise).
#[server(prefix = "/api/v1", endpoint = "settings/chatbots", input = ApiJson)]
pub async fn list_chatbots() -> Result<ChatbotsResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    Ok(ChatbotsResponse { chatbots: backend.chatbots(&request).await? })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationsResponse {
    pub integrations: Integrations,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyResponse {
    pub verified: Verified,
}

/// `POST /api/v1/settings/integrations`: Live Agent Handoff and each help desk's card.
/// Admins only (403 otherwise); another workspace's chatbot is 404.
#[server(prefix = "/api/v1", endpoint = "settings/integrations", input = ApiJson)]
pub async fn get_integrations(bot_id: String) -> Result<IntegrationsResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    Ok(IntegrationsResponse { integrations: backend.integrations(&request, bot_id).await? })
}

/// `POST /api/v1/settings/live-handoff`: escalations go to the Inbox (on) or to the
/// first connected help desk (off).
#[server(prefix = "/api/v1", endpoint = "settings/live-handoff", input = ApiJson)]
pub async fn set_live_handoff(bot_id: String, on: bool) -> Result<IntegrationsResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    Ok(IntegrationsResponse { integrations: backend.set_live_handoff(&request, bot_id, on).await? })
}

/// `POST /api/v1/settings/helpdesk/verify`: checks a desk's Connect form with the
/// vendor and answers what it read (the account, the choices), storing nothing. A
/// refusal is 422 `verification_failed` with the reason.
#[server(prefix = "/api/v1", endpoint = "settings/helpdesk/verify", input = ApiJson)]
pub async fn verify_helpdesk(
    bot_id: String,
    desk: String,
    credentials: BTreeMap<String, String>,
) -> Result<VerifyResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    Ok(VerifyResponse { verified: backend.verify_helpdesk(&request, bot_id, desk, credentials).await? })
}

/// `POST /api/v1/settings/helpdesk/connect`: verifies again, then stores the
/// credentials sealed (they are never answered back).
#[server(prefix = "/api/v1", endpoint = "settings/helpdesk/connect", input = ApiJson)]
pub async fn connect_helpdesk(
    bot_id: String,
    desk: String,
    credentials: BTreeMap<String, String>,
) -> Result<IntegrationsResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    Ok(IntegrationsResponse { integrations: backend.connect_helpdesk(&request, bot_id, desk, credentials).await? })
}

/// `POST /api/v1/settings/helpdesk/disconnect`: deletes the desk's credentials.
#[server(prefix = "/api/v1", endpoint = "settings/helpdesk/disconnect", input = ApiJson)]
pub async fn disconnect_helpdesk(bot_id: String, desk: String) -> Result<IntegrationsResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    Ok(IntegrationsResponse { integrations: backend.disconnect_helpdesk(&request, bot_id, desk).await? })
}

/// `POST /api/v1/settings/helpdesk/retry`: sends a conversation's failed handoff again.
#[server(prefix = "/api/v1", endpoint = "settings/helpdesk/retry", input = ApiJson)]
pub async fn retry_helpdesk(bot_id: String, conversation_id: String) -> Result<IntegrationsResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    Ok(IntegrationsResponse { integrations: backend.retry_helpdesk(&request, bot_id, conversation_id).await? })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstructionsResponse {
    pub instructions: InstructionSettings,
}

/// `POST /api/v1/settings/instructions`: a chatbot's instructions. Admins only (403
/// otherwise); another workspace's chatbot is 404.
#[server(prefix = "/api/v1", endpoint = "settings/instructions", input = ApiJson)]
pub async fn get_instructions(bot_id: String) -> Result<InstructionsResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    Ok(InstructionsResponse { instructions: backend.instructions(&request, bot_id).await? })
}

/// `POST /api/v1/settings/instructions/save`: stores them (trimmed, phrases
/// lower-cased, repeats dropped); the next bot turn follows them.
#[server(prefix = "/api/v1", endpoint = "settings/instructions/save", input = ApiJson)]
pub async fn save_instructions(instructions: InstructionSettings) -> Result<InstructionsResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    Ok(InstructionsResponse { instructions: backend.save_instructions(&request, instructions).await? })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelResponse {
    pub model: ModelSettings,
}

/// `POST /api/v1/settings/model`: which AI answers a chatbot (the key is never sent
/// back, only whether one is stored and its last four characters).
#[server(prefix = "/api/v1", endpoint = "settings/model", input = ApiJson)]
pub async fn get_model(bot_id: String) -> Result<ModelResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    Ok(ModelResponse { model: backend.model(&request, bot_id).await? })
}

/// `POST /api/v1/settings/model/save`: stores the choice; the key sealed like help-desk
/// credentials. The next bot turn uses it.
#[server(prefix = "/api/v1", endpoint = "settings/model/save", input = ApiJson)]
pub async fn save_model(model: ModelDraft) -> Result<ModelResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    Ok(ModelResponse { model: backend.save_model(&request, model).await? })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelTestResponse {
    pub tested: ModelTested,
}

/// `POST /api/v1/settings/model/test`: one real request to the endpoint; 422 with the
/// reason in plain words when it fails. Stores nothing.
#[server(prefix = "/api/v1", endpoint = "settings/model/test", input = ApiJson)]
pub async fn test_model(
    bot_id: String,
    base_url: String,
    model: String,
    api_key: Option<String>,
) -> Result<ModelTestResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    let check = crate::domain::model::ModelCheck { bot_id, base_url, model, api_key };
    Ok(ModelTestResponse { tested: backend.test_model(&request, check).await? })
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlaygroundResponse {
    pub turn: PlaygroundTurn,
}

/// `POST /api/v1/settings/playground`: one bot turn over the transcript the page
/// holds (ending with the visitor's new message), and why. Stores nothing.
#[server(prefix = "/api/v1", endpoint = "settings/playground", input = ApiJson)]
pub async fn run_playground(
    bot_id: String,
    lines: Vec<PlaygroundLine>,
    pending: Option<PendingHandover>,
) -> Result<PlaygroundResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    let turn = crate::domain::playground::PlaygroundRequest { bot_id, lines, pending };
    Ok(PlaygroundResponse { turn: backend.playground(&request, turn).await? })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnowledgeResponse {
    pub entries: Vec<Entry>,
}

/// `POST /api/v1/settings/knowledge`: a chatbot's entries, the latest change first.
/// Admins only (403 otherwise); another workspace's chatbot is 404.
#[server(prefix = "/api/v1", endpoint = "settings/knowledge", input = ApiJson)]
pub async fn list_knowledge(bot_id: String) -> Result<KnowledgeResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    Ok(KnowledgeResponse { entries: backend.knowledge(&request, bot_id).await? })
}

/// `POST /api/v1/settings/knowledge/save`: adds the entry (no `id`) or changes it
/// (404 for an id the chatbot does not have). The next bot turn uses it.
#[server(prefix = "/api/v1", endpoint = "settings/knowledge/save", input = ApiJson)]
pub async fn save_knowledge(bot_id: String, entry: EntryDraft) -> Result<KnowledgeResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    Ok(KnowledgeResponse { entries: backend.save_knowledge(&request, bot_id, entry).await? })
}

/// `POST /api/v1/settings/knowledge/delete`: deletes an entry.
#[server(prefix = "/api/v1", endpoint = "settings/knowledge/delete", input = ApiJson)]
pub async fn delete_knowledge(bot_id: String, entry_id: String) -> Result<KnowledgeResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    Ok(KnowledgeResponse { entries: backend.delete_knowledge(&request, bot_id, entry_id).await? })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportResponse {
    pub imported: usize,
    pub entries: Vec<Entry>,
}

/// `POST /api/v1/settings/knowledge/import`: adds every entry of a Markdown or CSV
/// file's `text`, or none (400 naming the line of the first bad one).
#[server(prefix = "/api/v1", endpoint = "settings/knowledge/import", input = ApiJson)]
pub async fn import_knowledge(bot_id: String, format: ImportFormat, text: String) -> Result<ImportResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    let (imported, entries) = backend.import_knowledge(&request, bot_id, format, text).await?;
    Ok(ImportResponse { imported, entries })
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeResponse {
    pub probe: Probe,
}

/// `POST /api/v1/settings/knowledge/ask`: what the bot would answer `question` from
/// its knowledge now: the entry and its score, or that it does not know.
#[server(prefix = "/api/v1", endpoint = "settings/knowledge/ask", input = ApiJson)]
pub async fn ask_knowledge(bot_id: String, question: String) -> Result<ProbeResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    Ok(ProbeResponse { probe: backend.probe_knowledge(&request, bot_id, question).await? })
}

/// `POST /api/v1/settings/activity`: the workspace's changes, newest first, a page at a
/// time (`before`: the previous page's `next_before`), of one chatbot (`bot_id`) or by
/// one member (`member_id`) if given. Admins only; another workspace's ids are 404.
#[server(prefix = "/api/v1", endpoint = "settings/activity", input = ApiJson)]
pub async fn list_activity(
    bot_id: Option<String>,
    member_id: Option<String>,
    before: Option<String>,
) -> Result<ActivityPage, AppError> {
    let (backend, request) = crate::backend::backend()?;
    backend.activity(&request, crate::domain::activity::ActivityFilter { bot_id, member_id, before }).await
}
