//! Team members in the database, and who is calling.

use app::{
    domain::{team::Password, DisplayName, EmailAddress, MemberView, Role},
    AppError,
};
use http::request::Parts;
use sqlx::{any::AnyRow, Row};
use tower_sessions::Session;

use super::{password, session::MEMBER_KEY};
use crate::{
    handoff::internal,
    store::{new_id, now_ms, Store},
};
pub use app::domain::team::MIN_PASSWORD_CHARS;

/// A signed-in member and their workspace: what every team call is scoped by.
#[derive(Debug, Clone)]
pub struct Caller {
    pub member: MemberView,
    pub workspace_id: String,
}

struct MemberRecord {
    caller: Caller,
    password_hash: String,
}

fn member_from_row(row: &AnyRow) -> Result<MemberRecord, sqlx::Error> {
    let role: String = row.try_get("role")?;
    Ok(MemberRecord {
        caller: Caller {
            member: MemberView {
                id: row.try_get("id")?,
                email: row.try_get("email")?,
                name: row.try_get("name")?,
                role: Role::parse(&role).ok_or_else(|| sqlx::Error::Protocol("corrupt role".into()))?,
            },
            workspace_id: row.try_get("workspace_id")?,
        },
        password_hash: row.try_get("password_hash")?,
    })
}

const MEMBER_SELECT: &str = "SELECT id, workspace_id, email, name, role, password_hash FROM members";

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
        other => internal(other),
    }
}

pub async fn verify_login(store: &Store, email: &str, password_text: Password) -> Result<Caller, AppError> {
    let wrong = || AppError::Unauthenticated("wrong email or password".into());
    let email = email.trim().to_lowercase();
    let row = sqlx::query(&format!("{MEMBER_SELECT} WHERE email = $1"))
        .bind(&email)
        .fetch_optional(store.pool())
        .await
        .map_err(internal)?;
    let record = row.as_ref().map(member_from_row).transpose().map_err(internal)?;
    let hash = record.as_ref().map_or(DUMMY_HASH, |r| r.password_hash.as_str()).to_owned();
    let matches = password::verify_async(password_text, hash).await.map_err(|_| busy())?;
    match record {
        Some(record) if matches => Ok(record.caller),
        _ => Err(wrong()),
    }
}

pub async fn member_by_id(store: &Store, id: &str) -> Result<Option<Caller>, AppError> {
    let row = sqlx::query(&format!("{MEMBER_SELECT} WHERE id = $1"))
        .bind(id)
        .fetch_optional(store.pool())
        .await
        .map_err(internal)?;
    Ok(row.as_ref().map(member_from_row).transpose().map_err(internal)?.map(|r| r.caller))
}

/// The member whose session cookie came with this request; 401 otherwise.
pub async fn caller(store: &Store, request: &Parts) -> Result<Caller, AppError> {
    let unauthenticated = || AppError::Unauthenticated("sign in first".into());
    let session = request.extensions.get::<Session>().ok_or_else(unauthenticated)?;
    let member_id: Option<String> = session.get(MEMBER_KEY).await.map_err(internal)?;
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
    let row = sqlx::query(&format!("{MEMBER_SELECT} WHERE id = $1"))
        .bind(member_id)
        .fetch_optional(store.pool())
        .await
        .map_err(internal)?;
    let record = row.as_ref().map(member_from_row).transpose().map_err(internal)?;
    let record = record.ok_or_else(|| AppError::Unauthenticated("sign in first".into()))?;
    if !password::verify_async(current, record.password_hash).await.map_err(|_| busy())? {
        return Err(AppError::InvalidInput("the current password is not right".into()));
    }
    let hash = password::hash_async(new).await.map_err(hash_failed)?;
    let mut tx = store.begin_write().await.map_err(internal)?;
    sqlx::query("UPDATE members SET password_hash = $1 WHERE id = $2")
        .bind(&hash)
        .bind(member_id)
        .execute(&mut *tx)
        .await
        .map_err(internal)?;
    tx.commit().await.map_err(internal)
}

/// The workspaces of this deployment, oldest first: `(id, name)`.
pub async fn workspaces(store: &Store) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rows = sqlx::query("SELECT id, name FROM workspaces ORDER BY created_at, id").fetch_all(store.pool()).await?;
    rows.iter().map(|row| Ok((row.try_get("id")?, row.try_get("name")?))).collect()
}

pub async fn create_member(store: &Store, new: NewMember) -> Result<MemberView, AppError> {
    let email = EmailAddress::parse(&new.email)?;
    let name = DisplayName::parse(&new.name, 100, "the name")?.into_inner();
    check_new_password(&new.password)?;
    let hash = password::hash_async(new.password).await.map_err(hash_failed)?;
    let id = new_id("mem");
    let mut tx = store.begin_write().await.map_err(internal)?;
    let inserted = sqlx::query(
        "INSERT INTO members (id, workspace_id, email, name, role, password_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (email) DO NOTHING",
    )
    .bind(&id)
    .bind(&new.workspace_id)
    .bind(email.as_str())
    .bind(&name)
    .bind(new.role.as_str())
    .bind(&hash)
    .bind(now_ms())
    .execute(&mut *tx)
    .await
    .map_err(internal)?
    .rows_affected();
    tx.commit().await.map_err(internal)?;
    if inserted == 0 {
        return Err(AppError::Conflict("a member with this email already exists".into()));
    }
    Ok(MemberView { id, email: email.as_str().to_owned(), name, role: new.role })
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
