//! A chatbot's knowledge base and the admin's instructions to its AI.

use sqlx::{any::AnyRow, Row};

use super::{conversations::Tx, new_id, now_ms, Store};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A question and its answer.
    Qa,
    /// An article: a title and its text.
    Article,
}

impl EntryKind {
    fn as_str(self) -> &'static str {
        match self {
            EntryKind::Qa => "qa",
            EntryKind::Article => "article",
        }
    }
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
                let kind = if row.try_get::<String, _>("kind")? == "qa" { EntryKind::Qa } else { EntryKind::Article };
                Ok(KnowledgeEntry {
                    id: row.try_get("id")?,
                    kind,
                    title: row.try_get("title")?,
                    body: row.try_get("body")?,
                })
            })
            .collect()
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

    pub async fn set_instructions(&self, chatbot_id: &str, instructions: &Instructions) -> Result<(), sqlx::Error> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE chatbots SET self_serve_first = $2, always_escalate = $3, never_escalate = $4, instructions = $5 \
             WHERE id = $1",
        )
        .bind(chatbot_id)
        .bind(i32::from(instructions.self_serve_first))
        .bind(instructions.always_escalate.join("\n"))
        .bind(instructions.never_escalate.join("\n"))
        .bind(&instructions.text)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }
}

/// Adds entries and moves the chatbot's knowledge revision, so brains re-index it.
pub async fn insert_knowledge(
    tx: &mut Tx,
    chatbot_id: &str,
    entries: &[(EntryKind, &str, &str)],
) -> Result<(), sqlx::Error> {
    let now = now_ms();
    for (kind, title, body) in entries {
        sqlx::query(
            "INSERT INTO knowledge_entries (id, chatbot_id, kind, title, body, updated_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new_id("kb"))
        .bind(chatbot_id)
        .bind(kind.as_str())
        .bind(*title)
        .bind(*body)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    sqlx::query("UPDATE chatbots SET knowledge_revision = knowledge_revision + 1 WHERE id = $1")
        .bind(chatbot_id)
        .execute(&mut **tx)
        .await?;
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
