//! A chatbot's knowledge base as admins manage it in Settings: list, add or change an
//! entry, delete one, import a file, and ask what the bot would answer. Every change
//! moves the chatbot's knowledge revision (the next bot turn re-indexes) and writes
//! the activity log in the same transaction.

use app::{
    domain::{
        knowledge::{checked_question, Entry, EntryDraft, ImportFormat, Match, Probe, MAX_ENTRIES},
        MemberView,
    },
    AppError,
};

use super::Handoff;
use crate::{
    brain::{
        builtin::DONT_KNOW,
        knowledge::{Hit, ANSWER_COVERAGE},
        knowledge_files,
    },
    store::{activity::NewActivity, conversations::ChatbotRecord, knowledge::KnowledgeChange},
};

/// Who changes which chatbot's knowledge.
pub struct Editor<'a> {
    pub by: &'a MemberView,
    pub workspace_id: &'a str,
    pub chatbot: &'a ChatbotRecord,
}

impl<'a> Editor<'a> {
    fn activity(&self, action: &'static str, detail: String) -> NewActivity<'a> {
        NewActivity::by(self.workspace_id, self.by, action, detail).of_chatbot(&self.chatbot.id)
    }
}

fn outcome(change: Result<KnowledgeChange, sqlx::Error>) -> Result<(), AppError> {
    match change.map_err(AppError::internal)? {
        KnowledgeChange::Done => Ok(()),
        KnowledgeChange::NotFound => Err(AppError::NotFound),
        KnowledgeChange::Full => {
            Err(AppError::Conflict(format!("a chatbot holds at most {MAX_ENTRIES} entries: delete some first")))
        }
    }
}

fn quoted(title: &str) -> String {
    let short: String = title.chars().take(80).collect();
    if short.len() < title.len() {
        format!("“{short}…”")
    } else {
        format!("“{short}”")
    }
}

fn matched(hit: &Hit<'_>) -> Match {
    Match {
        entry_id: hit.entry.id.clone(),
        title: hit.entry.title.clone(),
        score: (hit.coverage * 100.0).round() / 100.0,
        by_meaning: hit.by_meaning,
    }
}

impl Handoff {
    /// The chatbot's entries, the latest change first.
    pub async fn knowledge(&self, chatbot: &ChatbotRecord) -> Result<Vec<Entry>, AppError> {
        self.store.knowledge_list(&chatbot.id).await.map_err(AppError::internal)
    }

    /// Adds the entry (`draft.id` absent) or changes it (404 for an id this chatbot
    /// does not have); 409 when the chatbot is full.
    pub async fn save_knowledge(&self, editor: &Editor<'_>, draft: EntryDraft) -> Result<Vec<Entry>, AppError> {
        let draft = draft.checked()?;
        let store = &self.store;
        let change = match draft.id.as_deref() {
            None => {
                let activity = editor.activity("knowledge_added", format!("Added {}", quoted(&draft.title)));
                store.import_knowledge(&editor.chatbot.id, std::slice::from_ref(&draft), activity).await
            }
            Some(id) => {
                let activity = editor.activity("knowledge_edited", format!("Edited {}", quoted(&draft.title)));
                store.edit_knowledge(&editor.chatbot.id, id, &draft, activity).await
            }
        };
        outcome(change)?;
        self.knowledge(editor.chatbot).await
    }

    pub async fn delete_knowledge(&self, editor: &Editor<'_>, entry_id: &str) -> Result<Vec<Entry>, AppError> {
        let activity = |title: &str| editor.activity("knowledge_deleted", format!("Deleted {}", quoted(title)));
        outcome(self.store.delete_knowledge(&editor.chatbot.id, entry_id, activity).await)?;
        self.knowledge(editor.chatbot).await
    }

    /// Adds every entry of the file, or none (400 naming the first bad one); answers
    /// how many it added and the entries after.
    pub async fn import_knowledge(
        &self,
        editor: &Editor<'_>,
        format: ImportFormat,
        text: &str,
    ) -> Result<(usize, Vec<Entry>), AppError> {
        let drafts = knowledge_files::read(format, text)?;
        let detail = match drafts.len() {
            1 => "Imported 1 entry".to_owned(),
            n => format!("Imported {n} entries"),
        };
        let activity = editor.activity("knowledge_imported", detail);
        outcome(self.store.import_knowledge(&editor.chatbot.id, &drafts, activity).await)?;
        Ok((drafts.len(), self.knowledge(editor.chatbot).await?))
    }

    /// The chatbot's knowledge base as it is now (indexed again after any change).
    pub async fn knowledge_base(
        &self,
        chatbot: &ChatbotRecord,
    ) -> Result<std::sync::Arc<crate::brain::knowledge::KnowledgeBase>, AppError> {
        self.knowledge.for_chatbot(&self.store, chatbot).await.map_err(AppError::internal)
    }

    /// What the bot would answer `question` from its knowledge as it is now: the
    /// entry and its score, or that it does not know (with the nearest entry).
    pub async fn probe(&self, chatbot: &ChatbotRecord, question: &str) -> Result<Probe, AppError> {
        let question = checked_question(question)?;
        let knowledge = self.knowledge.for_chatbot(&self.store, chatbot).await.map_err(AppError::internal)?;
        let hit = self.brain.lookup(chatbot, &knowledge, &question);
        let (answer, nearest) = match hit {
            Some(hit) if hit.answers() => (Some(hit), None),
            other => (None, other),
        };
        Ok(Probe {
            reply: answer.map_or_else(|| DONT_KNOW.to_owned(), |hit| hit.text().to_owned()),
            answer: answer.as_ref().map(matched),
            nearest: nearest.as_ref().map(matched),
            needs: ANSWER_COVERAGE,
        })
    }
}
