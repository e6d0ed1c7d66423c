//! Team members and workspaces in storage.

use app::domain::{team::TeamMember, MemberView, Role};
use sqlx::{any::AnyRow, Row};

use super::{
    activity::{insert_activity, NewActivity},
    conversations::Tx,
    now_ms, rfc3339, Backend, Store,
};

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

fn view_from_row(row: &AnyRow) -> Result<MemberView, sqlx::Error> {
    let role: String = row.try_get("role")?;
    Ok(MemberView {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role: Role::parse(&role).ok_or_else(|| sqlx::Error::Protocol("corrupt role".into()))?,
    })
}

fn member_from_row(row: &AnyRow) -> Result<StoredMember, sqlx::Error> {
    Ok(StoredMember {
        member: view_from_row(row)?,
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

    /// Adds a member, with its activity row when an admin added them; false when the
    /// email is taken (nothing is written then).
    pub async fn insert_member(&self, new: MemberRow<'_>, activity: Option<NewActivity<'_>>) -> Result<bool, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let inserted = insert_member(&mut tx, &new).await?;
        if inserted {
            if let Some(activity) = activity {
                insert_activity(&mut tx, &activity).await?;
            }
        }
        tx.commit().await?;
        Ok(inserted)
    }

    /// The workspace's members, oldest first, with when they last signed in.
    pub async fn team_of(&self, workspace_id: &str) -> Result<Vec<TeamMember>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, email, name, role, created_at, last_sign_in_at FROM members \
             WHERE workspace_id = $1 ORDER BY created_at, id",
        )
        .bind(workspace_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let last: Option<i64> = row.try_get("last_sign_in_at")?;
                Ok(TeamMember {
                    member: view_from_row(row)?,
                    added_at: rfc3339(row.try_get("created_at")?),
                    last_sign_in_at: last.map(rfc3339),
                })
            })
            .collect()
    }

    pub async fn record_sign_in(&self, member_id: &str) -> Result<(), sqlx::Error> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE members SET last_sign_in_at = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(member_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// Gives a member of `workspace_id` another role, with its activity row
    /// (`activity` writes it, given the member as they were); the last admin stays one.
    pub async fn set_role<'a>(
        &self,
        workspace_id: &str,
        member_id: &str,
        role: Role,
        activity: impl FnOnce(&MemberView) -> NewActivity<'a>,
    ) -> Result<TeamChange<MemberView>, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let admins = lock_admins(&mut tx, self.backend(), workspace_id).await?;
        let Some(target) = lock_member(&mut tx, self.backend(), workspace_id, member_id).await? else {
            return Ok(TeamChange::NotFound);
        };
        if target.role == role {
            return Ok(TeamChange::Done(target));
        }
        if target.role == Role::Admin && admins <= 1 {
            return Ok(TeamChange::LastAdmin);
        }
        sqlx::query("UPDATE members SET role = $1 WHERE id = $2").bind(role.as_str()).bind(member_id).execute(&mut *tx).await?;
        insert_activity(&mut tx, &activity(&target)).await?;
        tx.commit().await?;
        Ok(TeamChange::Done(MemberView { role, ..target }))
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

/// What a change to the team found.
#[derive(Debug)]
pub enum TeamChange<T> {
    Done(T),
    /// No such member in this workspace.
    NotFound,
    /// The change would leave the workspace without an admin.
    LastAdmin,
}

/// How many admins the workspace has. On PostgreSQL their rows stay locked until the
/// transaction ends, so two admins demoting each other at once cannot both succeed
/// (SQLite's writer is one transaction at a time anyway). Taken before any other
/// member's row, always in id order, so two team changes never deadlock.
pub async fn lock_admins(tx: &mut Tx, backend: Backend, workspace_id: &str) -> Result<i64, sqlx::Error> {
    let lock = if backend == Backend::Postgres { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT id FROM members WHERE workspace_id = $1 AND role = 'admin' ORDER BY id{lock}");
    let rows = sqlx::query(&sql).bind(workspace_id).fetch_all(&mut **tx).await?;
    Ok(i64::try_from(rows.len()).unwrap_or(i64::MAX))
}

/// A member of `workspace_id`, locked on PostgreSQL until the transaction ends: a
/// request of theirs that would reference them (a claim) waits for it.
pub async fn lock_member(
    tx: &mut Tx,
    backend: Backend,
    workspace_id: &str,
    member_id: &str,
) -> Result<Option<MemberView>, sqlx::Error> {
    let lock = if backend == Backend::Postgres { " FOR UPDATE" } else { "" };
    let sql = format!("{MEMBER_SELECT} WHERE id = $1 AND workspace_id = $2{lock}");
    let row = sqlx::query(&sql).bind(member_id).bind(workspace_id).fetch_optional(&mut **tx).await?;
    Ok(row.as_ref().map(member_from_row).transpose()?.map(|stored| stored.member))
}

/// Deletes a member and their sessions; returns the ended sessions' ids.
pub async fn delete_member(tx: &mut Tx, member_id: &str) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query("DELETE FROM sessions WHERE member_id = $1 RETURNING id").bind(member_id).fetch_all(&mut **tx).await?;
    sqlx::query("DELETE FROM members WHERE id = $1").bind(member_id).execute(&mut **tx).await?;
    rows.iter().map(|row| row.try_get::<String, _>("id")).collect()
}
