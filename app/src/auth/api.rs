//! `/api/v1/auth/*`: team members sign in and out; the session lives in an HttpOnly cookie.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    domain::{team::Password, MemberView},
    error::AppError,
    wire::ApiJson,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    pub member: MemberView,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

#[server(prefix = "/api/v1", endpoint = "auth/login", input = ApiJson)]
pub async fn login(email: String, password: Password) -> Result<LoginResponse, AppError> {
    let (backend, request) = crate::backend::backend()?;
    backend.login(&request, email, password).await
}

#[server(prefix = "/api/v1", endpoint = "auth/logout", input = ApiJson)]
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
#[server(prefix = "/api/v1", endpoint = "auth/me", input = ApiJson)]
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
#[server(prefix = "/api/v1", endpoint = "auth/password", input = ApiJson)]
pub async fn change_password(current_password: Password, new_password: Password) -> Result<Empty, AppError> {
    let (backend, request) = crate::backend::backend()?;
    backend.change_password(&request, current_password, new_password).await?;
    Ok(Empty {})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_arguments_of_password_calls_never_print_a_password() {
        let login = Login { email: "ana@acme.test".into(), password: Password::new("hunter2-hunter2") };
        let change =
            ChangePassword { current_password: Password::new("old-secret-1"), new_password: Password::new("new-secret-2") };
        for printed in [format!("{login:?}"), format!("{change:?}")] {
            assert!(!printed.contains("hunter2") && !printed.contains("secret"), "{printed}");
        }
    }
}
