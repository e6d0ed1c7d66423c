//! `/api/v1/team/*`: admins manage their workspace's members.

use leptos::{prelude::*, server_fn::codec::Json};
use serde::{Deserialize, Serialize};

use crate::{
    domain::{MemberView, Role},
    error::AppError,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberResponse {
    pub member: MemberView,
}

/// Admins only (403 otherwise). The new member joins the admin's workspace.
#[server(prefix = "/api/v1", endpoint = "team/members", input = Json)]
pub async fn create_member(
    email: String,
    name: String,
    password: String,
    role: Role,
) -> Result<MemberResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    Ok(MemberResponse { member: backend.create_member(&request, email, name, password, role).await? })
}
