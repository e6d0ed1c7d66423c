//! First start: on an empty database, create the demo workspace, its chatbot `demo`
//! (Live Agent Handoff on) and an admin account, so Baton is usable at once.

use app::domain::team::Password;
use sqlx::Row;

use crate::{
    auth::password,
    store::{
        knowledge::{insert_knowledge, EntryKind, KnowledgeEntry},
        new_id, now_ms, Store, StoreError,
    },
};

/// The demo chatbot's knowledge base (Acme Cloud), as shipped in `demo/knowledge.md`.
const DEMO_KNOWLEDGE: &str = include_str!("../demo/knowledge.md");

/// The demo knowledge base's entries: "## qa: question" or "## article: title", then
/// the answer or text up to the next entry.
pub fn knowledge_entries() -> Vec<KnowledgeEntry> {
    let mut entries: Vec<KnowledgeEntry> = Vec::new();
    for line in DEMO_KNOWLEDGE.lines() {
        let heading = line.strip_prefix("## ").and_then(|h| {
            h.strip_prefix("qa: ")
                .map(|t| (EntryKind::Qa, t))
                .or_else(|| h.strip_prefix("article: ").map(|t| (EntryKind::Article, t)))
        });
        if let Some((kind, title)) = heading {
            let id = format!("demo-{:02}", entries.len() + 1);
            entries.push(KnowledgeEntry { id, kind, title: title.trim().to_owned(), body: String::new() });
        } else if let Some(entry) = entries.last_mut().filter(|_| !line.starts_with("# ") && !line.trim().is_empty()) {
            if !entry.body.is_empty() {
                entry.body.push(' ');
            }
            entry.body.push_str(line.trim());
        }
    }
    entries
}

pub const DEMO_BOT_ID: &str = "demo";
const DEMO_WORKSPACE_ID: &str = "ws_demo";

/// What first start did, for the start-up banner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seeded {
    /// The database was empty: the demo workspace and this admin were created.
    Created { admin_email: String, generated_password: Option<Password> },
    /// The database already held a workspace: nothing was touched.
    AlreadyThere { admin_email: Option<String> },
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Hash(#[from] password::HashError),
    #[error("BATON_ADMIN_EMAIL is not an email address: {0:?}")]
    BadAdminEmail(String),
}

pub async fn seed_if_empty(
    store: &Store,
    admin_email: &str,
    admin_password: Option<&Password>,
) -> Result<Seeded, SeedError> {
    let admin_email = admin_email.trim().to_lowercase();
    if !admin_email.contains('@') || admin_email.starts_with('@') || admin_email.ends_with('@') {
        return Err(SeedError::BadAdminEmail(admin_email));
    }
    let generated = admin_password.is_none().then(|| Password::new(password::generate()));
    let chosen = admin_password.or(generated.as_ref()).map(Password::expose).unwrap_or_default();
    let hash = password::hash(chosen)?;
    let now = now_ms();

    let mut tx = store.begin_write().await?;
    // The fixed id makes concurrent first starts of several instances safe: one insert
    // wins, the others see zero rows affected and leave the database alone.
    let created = sqlx::query(
        "INSERT INTO workspaces (id, name, created_at) \
         SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM workspaces) \
         ON CONFLICT DO NOTHING",
    )
    .bind(DEMO_WORKSPACE_ID)
    .bind("Demo workspace")
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !created {
        tx.rollback().await?;
        let admin_email = sqlx::query("SELECT email FROM members WHERE role = 'admin' ORDER BY created_at LIMIT 1")
            .fetch_optional(store.pool())
            .await?
            .map(|row| row.try_get::<String, _>("email"))
            .transpose()?;
        return Ok(Seeded::AlreadyThere { admin_email });
    }

    let chatbot_id = new_id("bot");
    sqlx::query(
        "INSERT INTO chatbots (id, workspace_id, public_id, name, greeting, live_handoff, allowed_origins, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, '*', $7)",
    )
    .bind(&chatbot_id)
    .bind(DEMO_WORKSPACE_ID)
    .bind(DEMO_BOT_ID)
    .bind("Acme support")
    .bind("Hi! I'm Acme's assistant. Ask me anything, or ask for a person at any time.")
    .bind(1_i32)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let entries = knowledge_entries();
    let rows: Vec<_> = entries.iter().map(|e| (e.kind, e.title.as_str(), e.body.as_str())).collect();
    insert_knowledge(&mut tx, &chatbot_id, &rows).await?;

    sqlx::query(
        "INSERT INTO members (id, workspace_id, email, name, role, password_hash, created_at) \
         VALUES ($1, $2, $3, $4, 'admin', $5, $6)",
    )
    .bind(new_id("mem"))
    .bind(DEMO_WORKSPACE_ID)
    .bind(&admin_email)
    .bind("Admin")
    .bind(&hash)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;

    Ok(Seeded::Created { admin_email, generated_password: generated })
}
