//! A chatbot's knowledge base as admins edit it in Settings: question/answer pairs and
//! articles, their limits, and what "What would the bot answer?" answers. Checked
//! here, for the server's API and the page alike.

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Most characters of a question or an article's title.
pub const MAX_TITLE_CHARS: usize = 300;
/// Most characters of an answer or an article's text.
pub const MAX_BODY_CHARS: usize = 8000;
/// Most entries one chatbot may hold.
pub const MAX_ENTRIES: usize = 2000;
/// Most characters of a question put to "What would the bot answer?".
pub const MAX_QUESTION_CHARS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A question and its answer.
    Qa,
    /// An article: a title and its text.
    Article,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Qa => "qa",
            EntryKind::Article => "article",
        }
    }

    pub fn parse(text: &str) -> Option<EntryKind> {
        [EntryKind::Qa, EntryKind::Article].into_iter().find(|kind| kind.as_str() == text)
    }

    /// What the title is called in forms: "Question" or "Title".
    pub fn title_label(self) -> &'static str {
        match self {
            EntryKind::Qa => "Question",
            EntryKind::Article => "Title",
        }
    }

    /// What the body is called in forms: "Answer" or "Text".
    pub fn body_label(self) -> &'static str {
        match self {
            EntryKind::Qa => "Answer",
            EntryKind::Article => "Text",
        }
    }
}

/// `{"id", "kind", "title", "body", "updated_at"}`: one entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    pub kind: EntryKind,
    /// The question, or the article's title.
    pub title: String,
    /// The answer, or the article's text.
    pub body: String,
    /// RFC 3339, UTC.
    pub updated_at: String,
}

/// An entry to add (`id` absent) or to change (`id` of an existing entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryDraft {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub kind: EntryKind,
    pub title: String,
    pub body: String,
}

fn invalid(field: &str, problem: &str) -> AppError {
    AppError::InvalidInput(format!("{field}: {problem}"))
}

impl EntryDraft {
    /// The draft trimmed, or a 400 naming the field that is wrong (`title`, `body`).
    pub fn checked(self) -> Result<EntryDraft, AppError> {
        let title = self.title.trim().to_owned();
        let body = self.body.trim().to_owned();
        let title_name = self.kind.title_label().to_lowercase();
        let body_name = self.kind.body_label().to_lowercase();
        if title.is_empty() {
            return Err(invalid("title", &format!("the {title_name} is empty")));
        }
        if title.chars().count() > MAX_TITLE_CHARS {
            return Err(invalid("title", &format!("the {title_name} is longer than {MAX_TITLE_CHARS} characters")));
        }
        if title.chars().any(char::is_control) {
            return Err(invalid("title", &format!("the {title_name} holds a control character or a line break")));
        }
        if body.is_empty() {
            return Err(invalid("body", &format!("the {body_name} is empty")));
        }
        if body.chars().count() > MAX_BODY_CHARS {
            return Err(invalid("body", &format!("the {body_name} is longer than {MAX_BODY_CHARS} characters")));
        }
        if body.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err(invalid("body", &format!("the {body_name} holds a control character")));
        }
        Ok(EntryDraft { id: self.id, kind: self.kind, title, body })
    }
}

/// The file formats `settings/knowledge/import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportFormat {
    /// One `## ` heading per entry; the text under it is the entry's. A heading that
    /// ends in `?` makes a question/answer pair, any other an article.
    Markdown,
    /// `question,answer` rows (a first row of exactly those words is a header).
    Csv,
}

impl ImportFormat {
    /// The format a file's name says it is in (`.md`, `.markdown`, `.csv`).
    pub fn of_file(name: &str) -> Option<ImportFormat> {
        let lower = name.to_lowercase();
        if lower.ends_with(".md") || lower.ends_with(".markdown") {
            Some(ImportFormat::Markdown)
        } else if lower.ends_with(".csv") {
            Some(ImportFormat::Csv)
        } else {
            None
        }
    }
}

/// An entry "What would the bot answer?" weighed: `score` is the share of the
/// question's meaningful words it covers (0 to 1), or `ANSWER_SCORE` for one found by
/// meaning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Match {
    pub entry_id: String,
    pub title: String,
    pub score: f32,
    pub by_meaning: bool,
}

/// What the bot would do with a question, from its knowledge alone: `answer` the
/// entry it would answer with, else `nearest` (the best it found, too weak to answer
/// with) and the bot says it does not know. `reply` is what the visitor would read;
/// `needs` the score an entry needs to answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Probe {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<Match>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nearest: Option<Match>,
    pub reply: String,
    pub needs: f32,
}

/// A question for the probe, trimmed, or a 400.
pub fn checked_question(question: &str) -> Result<String, AppError> {
    let question = question.trim();
    if question.is_empty() {
        return Err(invalid("question", "is empty"));
    }
    if question.chars().count() > MAX_QUESTION_CHARS {
        return Err(invalid("question", &format!("is longer than {MAX_QUESTION_CHARS} characters")));
    }
    Ok(question.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(title: &str, body: &str) -> EntryDraft {
        EntryDraft { id: None, kind: EntryKind::Qa, title: title.into(), body: body.into() }
    }

    #[test]
    fn drafts_are_trimmed_and_checked_field_by_field() {
        let ok = draft("  How do refunds work? ", " Within 30 days.\n").checked().unwrap();
        assert_eq!((ok.title.as_str(), ok.body.as_str()), ("How do refunds work?", "Within 30 days."));
        let message = |d: EntryDraft| d.checked().unwrap_err().to_string();
        assert_eq!(message(draft(" ", "x")), "title: the question is empty");
        assert_eq!(message(draft("q", "")), "body: the answer is empty");
        assert!(message(draft("a\nb", "x")).starts_with("title: "));
        assert!(message(draft(&"q".repeat(MAX_TITLE_CHARS + 1), "x")).contains("longer than"));
        assert!(message(draft("q", &"b".repeat(MAX_BODY_CHARS + 1))).starts_with("body: "));
        assert!(message(draft("q", "bell\u{7}")).contains("control character"));
        let article = EntryDraft { kind: EntryKind::Article, ..draft("", "x") };
        assert_eq!(message(article), "title: the title is empty");
    }

    #[test]
    fn file_names_choose_the_format() {
        assert_eq!(ImportFormat::of_file("FAQ.MD"), Some(ImportFormat::Markdown));
        assert_eq!(ImportFormat::of_file("help.markdown"), Some(ImportFormat::Markdown));
        assert_eq!(ImportFormat::of_file("faq.csv"), Some(ImportFormat::Csv));
        assert_eq!(ImportFormat::of_file("faq.txt"), None);
    }

    #[test]
    fn questions_are_trimmed_and_bounded() {
        assert_eq!(checked_question(" refunds? ").unwrap(), "refunds?");
        assert!(checked_question("  ").is_err());
        assert!(checked_question(&"w".repeat(MAX_QUESTION_CHARS + 1)).is_err());
    }
}
