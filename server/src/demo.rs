//! First start: on an empty database, create the demo workspace, its chatbot `demo`
//! (Live Agent Handoff on) and an admin account, so Baton is usable at once.

use app::domain::{team::Password, EmailAddress, Role};

use crate::{
    auth::password,
    store::{
        conversations::{insert_chatbot, NewChatbot},
        knowledge::{insert_knowledge, EntryKind, KnowledgeEntry},
        members::{insert_first_workspace, insert_member, MemberRow},
        new_id, Store, StoreError,
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
    let admin_email = EmailAddress::parse(admin_email)
        .map_err(|_| SeedError::BadAdminEmail(admin_email.trim().to_owned()))?
        .as_str()
        .to_owned();
    let generated = admin_password.is_none().then(|| Password::new(password::generate()));
    let chosen = admin_password.or(generated.as_ref()).map(Password::expose).unwrap_or_default();
    let hash = password::hash(chosen)?;

    let mut tx = store.begin_write().await?;
    if !insert_first_workspace(&mut tx, DEMO_WORKSPACE_ID, "Demo workspace").await? {
        tx.rollback().await?;
        return Ok(Seeded::AlreadyThere { admin_email: store.first_admin_email().await? });
    }
    let chatbot_id = new_id("bot");
    let chatbot = NewChatbot {
        id: &chatbot_id,
        workspace_id: DEMO_WORKSPACE_ID,
        public_id: DEMO_BOT_ID,
        name: "Acme support",
        greeting: "Hi! I'm Acme's assistant. Ask me anything, or ask for a person at any time.",
        live_handoff: true,
        allowed_origins: "*",
    };
    insert_chatbot(&mut tx, chatbot).await?;
    let entries = knowledge_entries();
    let rows: Vec<_> = entries.iter().map(|e| (e.kind, e.title.as_str(), e.body.as_str())).collect();
    insert_knowledge(&mut tx, &chatbot_id, &rows).await?;
    let admin = MemberRow {
        id: &new_id("mem"),
        workspace_id: DEMO_WORKSPACE_ID,
        email: &admin_email,
        name: "Admin",
        role: Role::Admin,
        password_hash: &hash,
    };
    insert_member(&mut tx, &admin).await?;
    tx.commit().await?;

    Ok(Seeded::Created { admin_email, generated_password: generated })
}
