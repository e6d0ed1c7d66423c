//! `/api/v1/auth/*`: team members sign in and out; the session lives in an HttpOnly cookie.

use leptos::{prelude::*, server_fn::codec::Json};
use serde::{Deserialize, Serialize};

use crate::{domain::MemberView, error::AppError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    pub member: MemberView,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

#[server(prefix = "/api/v1", endpoint = "auth/login", input = Json)]
pub async fn login(email: String, password: String) -> Result<LoginResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    backend.login(&request, email, password).await
}

#[server(prefix = "/api/v1", endpoint = "auth/logout", input = Json)]
pub async fn logout() -> Result<Empty, AppError> {
    let (backend, request) = crate::backend::backend()?;
    backend.logout(&request).await?;
    Ok(Empty {})
}

/// `{"member": {...}}` when signed in, `{"member": null}` when not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionResponse {
    pub member: Option<MemberView>,
}

/// `POST /api/v1/auth/me`: who is signed in. Being signed out is an answer here, not
/// an error: pages ask this before they know.
#[server(prefix = "/api/v1", endpoint = "auth/me", input = Json)]
pub async fn current_member() -> Result<SessionResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    match backend.current_member(&request).await {
        Ok(member) => Ok(SessionResponse { member: Some(member) }),
        Err(AppError::Unauthenticated(_)) => Ok(SessionResponse { member: None }),
        Err(other) => Err(other),
    }
}

/// `POST /api/v1/auth/password`: a member changes their own password. Their other
/// sessions end (and those sessions' live Inbox sockets close); this one stays, under
/// a new session id.
#[server(prefix = "/api/v1", endpoint = "auth/password", input = Json)]
pub async fn change_password(current_password: String, new_password: String) -> Result<Empty, AppError> {
    let (backend, request) = crate::backend::backend()?;
    backend.change_password(&request, current_password, new_password).await?;
    Ok(Empty {})
}
