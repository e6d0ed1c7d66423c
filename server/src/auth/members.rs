//! Team members in the database, and who is calling.

use app::{
    domain::{
        team::{Password, TeamMember, LAST_ADMIN},
        DisplayName, EmailAddress, MemberView, Role,
    },
    AppError,
};
use http::request::Parts;
use tower_sessions::Session;

use super::{password, session::MEMBER_KEY};
use crate::store::{
    activity::NewActivity,
    members::{MemberRow, StoredMember, TeamChange},
    new_id, Store,
};
pub use app::domain::team::MIN_PASSWORD_CHARS;

/// A signed-in member and their workspace: what every team call is scoped by.
#[derive(Debug, Clone)]
pub struct Caller {
    pub member: MemberView,
    pub workspace_id: String,
}

fn caller_of(stored: StoredMember) -> Caller {
    Caller { member: stored.member, workspace_id: stored.workspace_id }
}

/// A valid argon2id hash of a random password: checked when the email is unknown, so
/// a wrong email takes as long as a wrong password.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$8vX6Xb4b8q0Pp9OkiY0Wn7o2b0iN4Ua3j9o2Yk1QW9M";

/// The hashing thread is full: the attempt is refused before it costs anything.
fn busy() -> AppError {
    AppError::RateLimited { retry_after_secs: 1 }
}

fn hash_failed(err: password::HashError) -> AppError {
    match err {
        password::HashError::Busy => busy(),
        other => AppError::internal(other),
    }
}

pub async fn verify_login(store: &Store, email: &str, password_text: Password) -> Result<Caller, AppError> {
    let wrong = || AppError::Unauthenticated("wrong email or password".into());
    let email = email.trim().to_lowercase();
    let stored = store.member_by_email(&email).await.map_err(AppError::internal)?;
    let hash = stored.as_ref().map_or(DUMMY_HASH, |m| m.password_hash.as_str()).to_owned();
    let matches = password::verify_async(password_text, hash).await.map_err(|_| busy())?;
    match stored {
        Some(stored) if matches => Ok(caller_of(stored)),
        _ => Err(wrong()),
    }
}

pub async fn member_by_id(store: &Store, id: &str) -> Result<Option<Caller>, AppError> {
    Ok(store.member_by_id(id).await.map_err(AppError::internal)?.map(caller_of))
}

/// The member whose session cookie came with this request; 401 otherwise.
pub async fn caller(store: &Store, request: &Parts) -> Result<Caller, AppError> {
    let unauthenticated = || AppError::Unauthenticated("sign in first".into());
    let session = request.extensions.get::<Session>().ok_or_else(unauthenticated)?;
    let member_id: Option<String> = session.get(MEMBER_KEY).await.map_err(AppError::internal)?;
    let member_id = member_id.ok_or_else(unauthenticated)?;
    member_by_id(store, &member_id).await?.ok_or_else(unauthenticated)
}

pub struct NewMember {
    pub workspace_id: String,
    pub email: String,
    pub name: String,
    pub password: Password,
    pub role: Role,
}

fn check_new_password(password: &Password) -> Result<(), AppError> {
    let password = password.expose();
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > 1024 {
        return Err(AppError::InvalidInput(format!(
            "the password must be at least {MIN_PASSWORD_CHARS} characters (and under 1024 bytes)"
        )));
    }
    Ok(())
}

/// Replaces a member's password once the current one is confirmed. The caller ends
/// the member's other sessions.
pub async fn change_password(
    store: &Store,
    member_id: &str,
    current: Password,
    new: Password,
) -> Result<(), AppError> {
    check_new_password(&new)?;
    let stored = store.member_by_id(member_id).await.map_err(AppError::internal)?;
    let stored = stored.ok_or_else(|| AppError::Unauthenticated("sign in first".into()))?;
    if !password::verify_async(current, stored.password_hash).await.map_err(|_| busy())? {
        return Err(AppError::InvalidInput("the current password is not right".into()));
    }
    let hash = password::hash_async(new).await.map_err(hash_failed)?;
    store.set_password_hash(member_id, &hash).await.map_err(AppError::internal)
}

/// Adds a member. `by`: the admin adding them, for the activity log (`None` from the
/// command line).
pub async fn create_member(store: &Store, new: NewMember, by: Option<&MemberView>) -> Result<MemberView, AppError> {
    let email = EmailAddress::parse(&new.email)?;
    let name = DisplayName::parse(&new.name, 100, "the name")?.into_inner();
    check_new_password(&new.password)?;
    let hash = password::hash_async(new.password).await.map_err(hash_failed)?;
    let id = new_id("mem");
    let row = MemberRow {
        id: &id,
        workspace_id: &new.workspace_id,
        email: email.as_str(),
        name: &name,
        role: new.role,
        password_hash: &hash,
    };
    let activity = by.map(|by| {
        let detail = format!("Added {name} ({}) as {}", email.as_str(), new.role.as_str());
        NewActivity::by(&new.workspace_id, by, "member_added", detail)
    });
    let inserted = store.insert_member(row, activity).await.map_err(AppError::internal)?;
    if !inserted {
        return Err(AppError::Conflict("a member with this email already exists".into()));
    }
    Ok(MemberView { id, email: email.as_str().to_owned(), name, role: new.role })
}

/// The workspace's members, oldest first.
pub async fn team(store: &Store, workspace_id: &str) -> Result<Vec<TeamMember>, AppError> {
    store.team_of(workspace_id).await.map_err(AppError::internal)
}

/// Gives a member of `by`'s workspace another role (404 for anyone else's member;
/// 409 for the last admin). The change applies to their next request: every call
/// reads the caller's role afresh.
pub async fn set_role(
    store: &Store,
    by: &MemberView,
    workspace_id: &str,
    member_id: &str,
    role: Role,
) -> Result<MemberView, AppError> {
    let activity = |target: &MemberView| {
        let detail = format!("Made {} ({}) {}", target.name, target.email, role_phrase(role));
        NewActivity::by(workspace_id, by, "role_changed", detail)
    };
    match store.set_role(workspace_id, member_id, role, activity).await.map_err(AppError::internal)? {
        TeamChange::Done(member) => Ok(member),
        TeamChange::NotFound => Err(AppError::NotFound),
        TeamChange::LastAdmin => Err(AppError::Conflict(LAST_ADMIN.into())),
    }
}

fn role_phrase(role: Role) -> &'static str {
    match role {
        Role::Admin => "an admin",
        Role::Agent => "an agent",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_is_a_real_argon2_hash() {
        assert!(!password::verify("anything", DUMMY_HASH));
        assert!(argon2::PasswordHash::new(DUMMY_HASH).is_ok());
    }
}
