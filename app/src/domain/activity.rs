//! Settings → Activity: what changed in the workspace, who changed it and when, from
//! the settings log and the conversations' state changes, newest first.

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// How many entries one page of Activity holds.
pub const ACTIVITY_PAGE: usize = 50;

/// Who made a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// A team member (`id` is theirs, and stays after they are removed).
    Member,
    Visitor,
    Bot,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub kind: ActorKind,
    pub id: Option<String>,
    pub name: String,
}

/// One change. `action` is stable, for filtering and tests: a settings change
/// (`member_added`, `instructions_changed`, `knowledge_imported`, ...) or
/// `conversation_<to state>` for a conversation moving state (`conversation_claimed`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityEntry {
    pub id: String,
    /// RFC 3339.
    pub at: String,
    pub actor: Actor,
    /// The chatbot the change belongs to (its public id); `None` for team changes.
    pub bot_id: Option<String>,
    pub bot_name: Option<String>,
    pub action: String,
    /// One sentence for people.
    pub detail: String,
    /// The conversation that moved, for a conversation's change.
    pub conversation_id: Option<String>,
}

/// `{"bot_id"?, "member_id"?, "before"?}`: which changes to list. `before` is the
/// `next_before` of the previous page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityFilter {
    #[serde(default)]
    pub bot_id: Option<String>,
    #[serde(default)]
    pub member_id: Option<String>,
    #[serde(default)]
    pub before: Option<String>,
}

/// A page of changes, newest first, and where the next (older) page starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityPage {
    pub entries: Vec<ActivityEntry>,
    pub next_before: Option<String>,
}

/// A position in the list: the time (ms) and id of the last entry of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub at_ms: i64,
    pub id: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("{}.{}", self.at_ms, self.id)
    }

    /// `before` as a page handed it out, or `InvalidInput`.
    pub fn parse(text: &str) -> Result<Cursor, AppError> {
        let refused = || AppError::InvalidInput("before: not a position from a previous page's next_before".into());
        let (at, id) = text.split_once('.').ok_or_else(refused)?;
        let at_ms = at.parse::<i64>().map_err(|_| refused())?;
        let valid_id = !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if at_ms < 0 || !valid_id {
            return Err(refused());
        }
        Ok(Cursor { at_ms, id: id.to_owned() })
    }
}

/// What a conversation's state name reads as in Activity.
pub fn state_label(state: &str) -> &str {
    match state {
        "bot" => "with the bot",
        "needs_human" => "waiting for a person",
        "claimed" => "claimed",
        "resolved" => "resolved",
        "handed_off" => "handed to the help desk",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_what_it_wrote_and_refuses_anything_else() {
        let cursor = Cursor { at_ms: 1_700_000_000_123, id: "act_01Hx9".into() };
        assert_eq!(Cursor::parse(&cursor.encode()).unwrap(), cursor);
        for bad in ["", "12", ".act_1", "x.act_1", "-5.act_1", "12.", "12.a b", "12.a;DROP"] {
            assert!(matches!(Cursor::parse(bad), Err(AppError::InvalidInput(_))), "{bad:?}");
        }
    }

    #[test]
    fn states_read_as_words() {
        assert_eq!(state_label("needs_human"), "waiting for a person");
        assert_eq!(state_label("handed_off"), "handed to the help desk");
    }
}
