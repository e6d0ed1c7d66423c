//! `/api/v1/team/*` and `/api/v1/settings/*`: admins manage their workspace's members
//! and chatbots.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    wire::ApiJson,
    domain::{team::Password, LauncherPosition, MemberView, Role},
    error::AppError,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberResponse {
    pub member: MemberView,
}

/// Admins only (403 otherwise). The new member joins the admin's workspace.
#[server(prefix = "/api/v1", endpoint = "team/members", input = ApiJson)]
pub async fn create_member(
    email: String,
    name: String,
    password: Password,
    role: Role,
) -> Result<MemberResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    Ok(MemberResponse { member: backend.create_member(&request, email, name, password, role).await? })
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
