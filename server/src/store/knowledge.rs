//! A chatbot's knowledge base and the admin's instructions to its AI.

pub use app::domain::knowledge::EntryKind;
use app::domain::knowledge::{Entry, EntryDraft, MAX_ENTRIES};
use sqlx::{any::AnyRow, Row};

use super::{
    activity::{insert_activity, NewActivity},
    conversations::Tx,
    new_id, now_ms, rfc3339, Store,
};

/// How the admin tells the AI to behave (see migration 0004).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Instructions {
    /// Offer the best knowledge-base answer once before escalating an issue the bot
    /// cannot resolve.
    pub self_serve_first: bool,
    /// Phrases that always hand the chat to a person.
    pub always_escalate: Vec<String>,
    /// Phrases that never do (they win over `always_escalate`).
    pub never_escalate: Vec<String>,
    /// Free text, given to an OpenAI-compatible model as written.
    pub text: String,
}

impl Instructions {
    pub(super) fn from_row(row: &AnyRow) -> Result<Instructions, sqlx::Error> {
        Ok(Instructions {
            self_serve_first: row.try_get::<i32, _>("self_serve_first")? != 0,
            always_escalate: phrases(&row.try_get::<String, _>("always_escalate")?),
            never_escalate: phrases(&row.try_get::<String, _>("never_escalate")?),
            text: row.try_get("instructions")?,
        })
    }
}

/// One phrase per line, trimmed and lower-cased; blank lines dropped.
fn phrases(lines: &str) -> Vec<String> {
    lines.lines().map(|line| line.trim().to_lowercase()).filter(|line| !line.is_empty()).collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnowledgeEntry {
    pub id: String,
    pub kind: EntryKind,
    /// The question, or the article's title.
    pub title: String,
    /// The answer, or the article's text.
    pub body: String,
}

impl Store {
    /// The chatbot's entries, in a stable order.
    pub async fn knowledge_entries(&self, chatbot_id: &str) -> Result<Vec<KnowledgeEntry>, sqlx::Error> {
        let rows = sqlx::query("SELECT id, kind, title, body FROM knowledge_entries WHERE chatbot_id = $1 ORDER BY id")
            .bind(chatbot_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                Ok(KnowledgeEntry {
                    id: row.try_get("id")?,
                    kind: kind_of(row)?,
                    title: row.try_get("title")?,
                    body: row.try_get("body")?,
                })
            })
            .collect()
    }

    /// The chatbot's entries as Settings lists them: the latest change first.
    pub async fn knowledge_list(&self, chatbot_id: &str) -> Result<Vec<Entry>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, kind, title, body, updated_at FROM knowledge_entries WHERE chatbot_id = $1 \
             ORDER BY updated_at DESC, id",
        )
        .bind(chatbot_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Entry {
                    id: row.try_get("id")?,
                    kind: kind_of(row)?,
                    title: row.try_get("title")?,
                    body: row.try_get("body")?,
                    updated_at: rfc3339(row.try_get("updated_at")?),
                })
            })
            .collect()
    }

    /// Adds `drafts` (checked; `id`s ignored) in one transaction with their activity
    /// row, unless the chatbot would then hold more than `MAX_ENTRIES`.
    pub async fn import_knowledge(
        &self,
        chatbot_id: &str,
        drafts: &[EntryDraft],
        activity: NewActivity<'_>,
    ) -> Result<KnowledgeChange, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        if count_after_revision(&mut tx, chatbot_id).await? + drafts.len() > MAX_ENTRIES {
            return Ok(KnowledgeChange::Full);
        }
        let now = now_ms();
        for draft in drafts {
            insert_entry(&mut tx, chatbot_id, draft.kind, &draft.title, &draft.body, now).await?;
        }
        insert_activity(&mut tx, &activity).await?;
        tx.commit().await?;
        Ok(KnowledgeChange::Done)
    }

    /// Changes the entry `draft.id` of this chatbot (NotFound when it has none such).
    pub async fn edit_knowledge(
        &self,
        chatbot_id: &str,
        id: &str,
        draft: &EntryDraft,
        activity: NewActivity<'_>,
    ) -> Result<KnowledgeChange, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        count_after_revision(&mut tx, chatbot_id).await?;
        let changed = sqlx::query(
            "UPDATE knowledge_entries SET kind = $1, title = $2, body = $3, updated_at = $4 \
             WHERE id = $5 AND chatbot_id = $6",
        )
        .bind(draft.kind.as_str())
        .bind(&draft.title)
        .bind(&draft.body)
        .bind(now_ms())
        .bind(id)
        .bind(chatbot_id)
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() == 0 {
            return Ok(KnowledgeChange::NotFound);
        }
        insert_activity(&mut tx, &activity).await?;
        tx.commit().await?;
        Ok(KnowledgeChange::Done)
    }

    /// Deletes this chatbot's entry `id`; `activity` is told its title.
    pub async fn delete_knowledge<'a>(
        &self,
        chatbot_id: &str,
        id: &str,
        activity: impl FnOnce(&str) -> NewActivity<'a>,
    ) -> Result<KnowledgeChange, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        count_after_revision(&mut tx, chatbot_id).await?;
        let title: Option<String> =
            sqlx::query_scalar("DELETE FROM knowledge_entries WHERE id = $1 AND chatbot_id = $2 RETURNING title")
                .bind(id)
                .bind(chatbot_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(title) = title else { return Ok(KnowledgeChange::NotFound) };
        insert_activity(&mut tx, &activity(&title)).await?;
        tx.commit().await?;
        Ok(KnowledgeChange::Done)
    }

    /// Adds entries to a chatbot's knowledge base.
    pub async fn add_knowledge(
        &self,
        chatbot_id: &str,
        entries: &[(EntryKind, &str, &str)],
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.begin_write().await?;
        insert_knowledge(&mut tx, chatbot_id, entries).await?;
        tx.commit().await
    }

    /// Stores a chatbot's instructions, with the activity row that records the change
    /// when there is one.
    pub async fn set_instructions(
        &self,
        chatbot_id: &str,
        instructions: &Instructions,
        activity: Option<&NewActivity<'_>>,
    ) -> Result<(), sqlx::Error> {
        let sql = "UPDATE chatbots SET self_serve_first = $2, always_escalate = $3, never_escalate = $4, \
                   instructions = $5 WHERE id = $1";
        self.write_logged(
            sql,
            |q| {
                q.bind(chatbot_id)
                    .bind(i32::from(instructions.self_serve_first))
                    .bind(instructions.always_escalate.join("\n"))
                    .bind(instructions.never_escalate.join("\n"))
                    .bind(&instructions.text)
            },
            activity,
        )
        .await
        .map(drop)
    }
}

/// What an edit of the knowledge base came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KnowledgeChange {
    Done,
    /// No such entry in this chatbot.
    NotFound,
    /// The chatbot would hold more than `MAX_ENTRIES`.
    Full,
}

fn kind_of(row: &AnyRow) -> Result<EntryKind, sqlx::Error> {
    EntryKind::parse(&row.try_get::<String, _>("kind")?)
        .ok_or_else(|| sqlx::Error::Protocol("corrupt entry kind".into()))
}

/// Moves the chatbot's knowledge revision, so brains re-index it (on PostgreSQL this
/// also locks the chatbot's row, so concurrent edits of one chatbot take turns), then
/// counts its entries.
async fn count_after_revision(tx: &mut Tx, chatbot_id: &str) -> Result<usize, sqlx::Error> {
    sqlx::query("UPDATE chatbots SET knowledge_revision = knowledge_revision + 1 WHERE id = $1")
        .bind(chatbot_id)
        .execute(&mut **tx)
        .await?;
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM knowledge_entries WHERE chatbot_id = $1")
        .bind(chatbot_id)
        .fetch_one(&mut **tx)
        .await?;
    Ok(usize::try_from(count).unwrap_or(usize::MAX))
}

async fn insert_entry(
    tx: &mut Tx,
    chatbot_id: &str,
    kind: EntryKind,
    title: &str,
    body: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO knowledge_entries (id, chatbot_id, kind, title, body, updated_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_id("kb"))
    .bind(chatbot_id)
    .bind(kind.as_str())
    .bind(title)
    .bind(body)
    .bind(now)
    .execute(&mut **tx)
    .await
    .map(|_| ())
}

/// Adds entries and moves the chatbot's knowledge revision, so brains re-index it.
pub async fn insert_knowledge(
    tx: &mut Tx,
    chatbot_id: &str,
    entries: &[(EntryKind, &str, &str)],
) -> Result<(), sqlx::Error> {
    count_after_revision(tx, chatbot_id).await?;
    let now = now_ms();
    for (kind, title, body) in entries {
        insert_entry(tx, chatbot_id, *kind, title, body, now).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::phrases;

    #[test]
    fn phrases_are_one_per_line() {
        assert_eq!(phrases(" Cancel my plan \n\n\tLAWYER\n"), vec!["cancel my plan", "lawyer"]);
        assert!(phrases("").is_empty());
    }
}
