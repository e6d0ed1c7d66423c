//! Team members and workspaces in storage.

use app::domain::{MemberView, Role};
use sqlx::{any::AnyRow, Row};

use super::{conversations::Tx, now_ms, Store};

/// A member as stored: what they are, where they belong, and their password hash.
pub struct StoredMember {
    pub member: MemberView,
    pub workspace_id: String,
    pub password_hash: String,
}

/// A new member's row.
pub struct MemberRow<'a> {
    pub id: &'a str,
    pub workspace_id: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub password_hash: &'a str,
}

const MEMBER_SELECT: &str = "SELECT id, workspace_id, email, name, role, password_hash FROM members";

fn member_from_row(row: &AnyRow) -> Result<StoredMember, sqlx::Error> {
    let role: String = row.try_get("role")?;
    Ok(StoredMember {
        member: MemberView {
            id: row.try_get("id")?,
            email: row.try_get("email")?,
            name: row.try_get("name")?,
            role: Role::parse(&role).ok_or_else(|| sqlx::Error::Protocol("corrupt role".into()))?,
        },
        workspace_id: row.try_get("workspace_id")?,
        password_hash: row.try_get("password_hash")?,
    })
}

impl Store {
    /// The member with this (lower-cased) email.
    pub async fn member_by_email(&self, email: &str) -> Result<Option<StoredMember>, sqlx::Error> {
        let row = sqlx::query(&format!("{MEMBER_SELECT} WHERE email = $1")).bind(email).fetch_optional(self.pool()).await?;
        row.as_ref().map(member_from_row).transpose()
    }

    pub async fn member_by_id(&self, id: &str) -> Result<Option<StoredMember>, sqlx::Error> {
        let row = sqlx::query(&format!("{MEMBER_SELECT} WHERE id = $1")).bind(id).fetch_optional(self.pool()).await?;
        row.as_ref().map(member_from_row).transpose()
    }

    pub async fn set_password_hash(&self, member_id: &str, hash: &str) -> Result<(), sqlx::Error> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE members SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(member_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// Adds a member; false when the email is taken (nothing is written then).
    pub async fn insert_member(&self, new: MemberRow<'_>) -> Result<bool, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let inserted = insert_member(&mut tx, &new).await?;
        tx.commit().await?;
        Ok(inserted)
    }

    /// The workspaces of this deployment, oldest first: `(id, name)`.
    pub async fn workspaces(&self) -> Result<Vec<(String, String)>, sqlx::Error> {
        let rows = sqlx::query("SELECT id, name FROM workspaces ORDER BY created_at, id").fetch_all(self.pool()).await?;
        rows.iter().map(|row| Ok((row.try_get("id")?, row.try_get("name")?))).collect()
    }

    /// The email of the first admin there is, for the start-up banner.
    pub async fn first_admin_email(&self) -> Result<Option<String>, sqlx::Error> {
        sqlx::query("SELECT email FROM members WHERE role = 'admin' ORDER BY created_at LIMIT 1")
            .fetch_optional(self.pool())
            .await?
            .map(|row| row.try_get::<String, _>("email"))
            .transpose()
    }
}

/// Inserts a member inside `tx`; false when the email is taken.
pub async fn insert_member(tx: &mut Tx, new: &MemberRow<'_>) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO members (id, workspace_id, email, name, role, password_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (email) DO NOTHING",
    )
    .bind(new.id)
    .bind(new.workspace_id)
    .bind(new.email)
    .bind(new.name)
    .bind(new.role.as_str())
    .bind(new.password_hash)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Creates the deployment's first workspace inside `tx`, unless there is one already:
/// several instances starting together on one empty database create it once (the
/// fixed id makes the losers' inserts do nothing). True if this call created it.
pub async fn insert_first_workspace(tx: &mut Tx, id: &str, name: &str) -> Result<bool, sqlx::Error> {
    let created = sqlx::query(
        "INSERT INTO workspaces (id, name, created_at) \
         SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM workspaces) \
         ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(name)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(created == 1)
}
