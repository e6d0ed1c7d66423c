//! Conversations, messages and notes in the database. Every write here runs inside
//! a transaction the caller (`handoff`) owns, so a message, its seq, the state change
//! and the audit row commit together or not at all.

use app::domain::{
    model::ModelKind, AgentRef, Ask, Author, AuthorKind, ConversationSummary, EscalationReason, LauncherPosition,
    Message, Note, State, StateKind, Visitor,
};
use app::inbox::api::{InboxCounts, InboxFilter};
use sqlx::{any::AnyRow, Any, Row, Transaction};

use super::{activity::NewActivity, knowledge::Instructions, new_id, now_ms, rfc3339, Store};

pub type Tx = Transaction<'static, Any>;

#[derive(Debug, Clone)]
pub struct ChatbotRecord {
    pub id: String,
    pub workspace_id: String,
    pub public_id: String,
    pub name: String,
    pub greeting: String,
    pub live_handoff: bool,
    /// Moves whenever the knowledge base changes: brains re-index on a new revision.
    pub knowledge_revision: i64,
    pub instructions: Instructions,
    pub color: String,
    pub launcher_position: LauncherPosition,
    /// Space-separated origins that may frame the widget; `*` for any; empty for Baton's own.
    pub allowed_origins: String,
    /// When an admin archived it: its widget then says the chat is closed.
    pub archived_at: Option<i64>,
    pub created_at: i64,
    pub model: ModelChoice,
}

/// Which AI answers a chatbot (Settings → AI model).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelChoice {
    pub kind: ModelKind,
    pub base_url: String,
    pub name: String,
    /// The API key, sealed by the vault for this chatbot; `None`: no key.
    pub key_sealed: Option<String>,
    pub key_hint: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ConversationRecord {
    pub id: String,
    pub workspace_id: String,
    pub chatbot_id: String,
    pub bot_public_id: String,
    pub state: State,
    pub visitor: Visitor,
    pub reason: Option<EscalationReason>,
    pub summary: Option<String>,
    pub last_seq: i64,
    pub unread: i64,
    pub escalated_at: Option<i64>,
    pub last_message_at: i64,
    /// JSON of an escalation waiting for the visitor's email (see `handoff::escalation`).
    pub pending_escalation: Option<String>,
    /// The newest seq when a person last handed the chat back to the AI: the AI reads
    /// only what came after it.
    pub handed_back_seq: i64,
    /// Its chatbot is archived: visitors can no longer write here.
    pub chatbot_archived: bool,
}

impl ConversationRecord {
    pub fn to_summary(&self) -> ConversationSummary {
        ConversationSummary {
            id: self.id.clone(),
            bot_id: self.bot_public_id.clone(),
            state: self.state.kind(),
            summary: self.summary.clone(),
            reason: self.reason,
            visitor: self.visitor.clone(),
            agent: self.state.agent().cloned(),
            last_message_at: rfc3339(self.last_message_at),
            escalated_at: self.escalated_at.map(rfc3339),
            unread: self.unread,
            dispatch: None,
        }
    }
}

const CONVERSATION_SELECT: &str = "SELECT c.id, c.workspace_id, c.chatbot_id, b.public_id, c.state, c.agent_id, \
     m.name AS agent_name, c.visitor_name, c.visitor_email, c.reason, c.summary, c.last_seq, c.unread, \
     c.escalated_at, c.last_message_at, c.pending_escalation, c.handed_back_seq, b.archived_at AS chatbot_archived_at \
     FROM conversations c JOIN chatbots b ON b.id = c.chatbot_id LEFT JOIN members m ON m.id = c.agent_id";

fn corrupt(what: &str) -> sqlx::Error {
    sqlx::Error::Protocol(format!("corrupt row: {what}"))
}

fn conversation_from_row(row: &AnyRow) -> Result<ConversationRecord, sqlx::Error> {
    let state_name: String = row.try_get("state")?;
    let agent_id: Option<String> = row.try_get("agent_id")?;
    let agent_name: Option<String> = row.try_get("agent_name")?;
    let state = match StateKind::parse(&state_name).ok_or_else(|| corrupt("state"))? {
        StateKind::Bot => State::Bot,
        StateKind::NeedsHuman => State::NeedsHuman,
        StateKind::Claimed => State::Claimed {
            agent: AgentRef {
                id: agent_id.ok_or_else(|| corrupt("claimed without agent"))?,
                name: agent_name.unwrap_or_else(|| "A team member".to_owned()),
            },
        },
        StateKind::Resolved => State::Resolved,
        StateKind::HandedOff => State::HandedOff,
    };
    let reason: Option<String> = row.try_get("reason")?;
    Ok(ConversationRecord {
        id: row.try_get("id")?,
        workspace_id: row.try_get("workspace_id")?,
        chatbot_id: row.try_get("chatbot_id")?,
        bot_public_id: row.try_get("public_id")?,
        state,
        visitor: Visitor { name: row.try_get("visitor_name")?, email: row.try_get("visitor_email")? },
        reason: reason.as_deref().and_then(EscalationReason::parse),
        summary: row.try_get("summary")?,
        last_seq: row.try_get("last_seq")?,
        unread: row.try_get("unread")?,
        escalated_at: row.try_get("escalated_at")?,
        last_message_at: row.try_get("last_message_at")?,
        pending_escalation: row.try_get("pending_escalation")?,
        handed_back_seq: row.try_get("handed_back_seq")?,
        chatbot_archived: row.try_get::<Option<i64>, _>("chatbot_archived_at")?.is_some(),
    })
}

fn message_from_row(row: &AnyRow) -> Result<Message, sqlx::Error> {
    let kind: String = row.try_get("author_kind")?;
    Ok(Message {
        seq: row.try_get("seq")?,
        id: row.try_get("id")?,
        author: Author {
            kind: AuthorKind::parse(&kind).ok_or_else(|| corrupt("author_kind"))?,
            name: row.try_get("author_name")?,
        },
        text: row.try_get("text")?,
        at: rfc3339(row.try_get("created_at")?),
        client_id: row.try_get("client_id")?,
        asks: row.try_get::<Option<String>, _>("asks")?.as_deref().and_then(Ask::parse),
    })
}

fn note_from_row(row: &AnyRow) -> Result<Note, sqlx::Error> {
    Ok(Note {
        id: row.try_get("id")?,
        author: AgentRef { id: row.try_get("author_id")?, name: row.try_get("author_name")? },
        text: row.try_get("text")?,
        at: rfc3339(row.try_get("created_at")?),
    })
}

const MESSAGE_COLUMNS: &str = "seq, id, author_kind, author_name, text, client_id, asks, created_at";

fn chatbot_from_row(row: &AnyRow) -> Result<ChatbotRecord, sqlx::Error> {
    Ok(ChatbotRecord {
        id: row.try_get("id")?,
        workspace_id: row.try_get("workspace_id")?,
        public_id: row.try_get("public_id")?,
        name: row.try_get("name")?,
        greeting: row.try_get("greeting")?,
        live_handoff: row.try_get::<i32, _>("live_handoff")? != 0,
        knowledge_revision: row.try_get("knowledge_revision")?,
        instructions: Instructions::from_row(row)?,
        color: row.try_get("color")?,
        launcher_position: LauncherPosition::parse(&row.try_get::<String, _>("launcher_position")?)
            .ok_or_else(|| corrupt("launcher_position"))?,
        allowed_origins: row.try_get("allowed_origins")?,
        archived_at: row.try_get("archived_at")?,
        created_at: row.try_get("created_at")?,
        model: ModelChoice {
            kind: ModelKind::parse(&row.try_get::<String, _>("model_kind")?).ok_or_else(|| corrupt("model_kind"))?,
            base_url: row.try_get("model_base_url")?,
            name: row.try_get("model_name")?,
            key_sealed: row.try_get("model_key_sealed")?,
            key_hint: row.try_get("model_key_hint")?,
        },
    })
}

const CHATBOT_SELECT: &str = "SELECT id, workspace_id, public_id, name, greeting, live_handoff, knowledge_revision, \
     self_serve_first, always_escalate, never_escalate, instructions, color, launcher_position, allowed_origins, \
     archived_at, created_at, model_kind, model_base_url, model_name, model_key_sealed, model_key_hint FROM chatbots";

impl Store {
    /// The chatbot a website's embed tag names (`bot_id`).
    pub async fn chatbot_by_public_id(&self, public_id: &str) -> Result<Option<ChatbotRecord>, sqlx::Error> {
        let sql = format!("{CHATBOT_SELECT} WHERE public_id = $1");
        let row = sqlx::query(&sql).bind(public_id).fetch_optional(self.pool()).await?;
        row.as_ref().map(chatbot_from_row).transpose()
    }

    /// Stores a chatbot's widget settings (already validated) with the activity row
    /// that records it; false when the workspace has no chatbot `public_id`.
    pub async fn update_widget(
        &self,
        workspace_id: &str,
        public_id: &str,
        widget: &app::settings::api::WidgetSettings,
        activity: &NewActivity<'_>,
    ) -> Result<bool, sqlx::Error> {
        let sql = "UPDATE chatbots SET name = $1, greeting = $2, color = $3, launcher_position = $4, \
                   allowed_origins = $5 WHERE workspace_id = $6 AND public_id = $7";
        let origins = widget.allowed_origins.join(" ");
        Ok(self
            .write_logged(
                sql,
                |q| {
                    q.bind(&widget.title)
                        .bind(&widget.greeting)
                        .bind(&widget.color)
                        .bind(widget.launcher_position.as_str())
                        .bind(origins)
                        .bind(workspace_id)
                        .bind(public_id)
                },
                Some(activity),
            )
            .await?
            == 1)
    }

    /// Adds a chatbot with the activity row that records it, unless the workspace
    /// already has `max` (then false, and nothing is written).
    pub async fn create_chatbot(
        &self,
        new: NewChatbot<'_>,
        max: i64,
        activity: &NewActivity<'_>,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let (held,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM chatbots WHERE workspace_id = $1")
            .bind(new.workspace_id)
            .fetch_one(&mut *tx)
            .await?;
        if held >= max {
            return Ok(false);
        }
        insert_chatbot(&mut tx, new).await?;
        super::activity::insert_activity(&mut tx, activity).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Archives a chatbot (`Some(when)`) or puts it back in service (`None`), with the
    /// activity row that records it; false when nothing changed.
    pub async fn set_archived(
        &self,
        chatbot_id: &str,
        archived_at: Option<i64>,
        activity: &NewActivity<'_>,
    ) -> Result<bool, sqlx::Error> {
        let sql = "UPDATE chatbots SET archived_at = $2 WHERE id = $1 AND (archived_at IS NULL) <> ($2 IS NULL)";
        Ok(self.write_logged(sql, |q| q.bind(chatbot_id).bind(archived_at), Some(activity)).await? == 1)
    }

    /// Stores a chatbot's AI model with the activity row that records it.
    pub async fn set_model(
        &self,
        chatbot_id: &str,
        model: &ModelChoice,
        activity: &NewActivity<'_>,
    ) -> Result<bool, sqlx::Error> {
        let sql = "UPDATE chatbots SET model_kind = $1, model_base_url = $2, model_name = $3, model_key_sealed = $4, \
                   model_key_hint = $5 WHERE id = $6";
        Ok(self
            .write_logged(
                sql,
                |q| {
                    q.bind(model.kind.as_str())
                        .bind(&model.base_url)
                        .bind(&model.name)
                        .bind(&model.key_sealed)
                        .bind(&model.key_hint)
                        .bind(chatbot_id)
                },
                Some(activity),
            )
            .await?
            == 1)
    }

    /// A workspace's chatbots, oldest first.
    pub async fn chatbots_of(&self, workspace_id: &str) -> Result<Vec<ChatbotRecord>, sqlx::Error> {
        let sql = format!("{CHATBOT_SELECT} WHERE workspace_id = $1 ORDER BY created_at, id");
        let rows = sqlx::query(&sql).bind(workspace_id).fetch_all(self.pool()).await?;
        rows.iter().map(chatbot_from_row).collect()
    }

    pub async fn chatbot_by_id(&self, id: &str) -> Result<Option<ChatbotRecord>, sqlx::Error> {
        let sql = format!("{CHATBOT_SELECT} WHERE id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(self.pool()).await?;
        row.as_ref().map(chatbot_from_row).transpose()
    }

    /// By id alone: for Baton's own workers, never for a caller's request.
    pub async fn conversation_by_id(&self, conversation_id: &str) -> Result<Option<ConversationRecord>, sqlx::Error> {
        let sql = format!("{CONVERSATION_SELECT} WHERE c.id = $1");
        let row = sqlx::query(&sql).bind(conversation_id).fetch_optional(self.pool()).await?;
        row.as_ref().map(conversation_from_row).transpose()
    }

    /// The conversation this visitor token opens, if the token belongs to it.
    pub async fn conversation_for_visitor(
        &self,
        conversation_id: &str,
        token_hash: &str,
    ) -> Result<Option<ConversationRecord>, sqlx::Error> {
        let sql = format!("{CONVERSATION_SELECT} WHERE c.id = $1 AND c.visitor_token_hash = $2");
        let row = sqlx::query(&sql).bind(conversation_id).bind(token_hash).fetch_optional(self.pool()).await?;
        row.as_ref().map(conversation_from_row).transpose()
    }

    /// The conversation, if it belongs to this workspace.
    pub async fn conversation_in_workspace(
        &self,
        conversation_id: &str,
        workspace_id: &str,
    ) -> Result<Option<ConversationRecord>, sqlx::Error> {
        let sql = format!("{CONVERSATION_SELECT} WHERE c.id = $1 AND c.workspace_id = $2");
        let row = sqlx::query(&sql).bind(conversation_id).bind(workspace_id).fetch_optional(self.pool()).await?;
        row.as_ref().map(conversation_from_row).transpose()
    }

    /// The conversations Inbox view `filter` lists for `member_id` (200 at most), by
    /// the view's own definition (`InboxFilter::states` and `mine_only`).
    pub async fn list_conversations(
        &self,
        workspace_id: &str,
        filter: InboxFilter,
        member_id: &str,
    ) -> Result<Vec<ConversationRecord>, sqlx::Error> {
        // The state names are Baton's own constants, never input.
        let states: Vec<String> = filter.states().iter().map(|s| format!("'{}'", s.as_str())).collect();
        let mine = if filter.mine_only() { " AND c.agent_id = $2" } else { "" };
        let order = if filter.oldest_first() { "c.escalated_at ASC" } else { "c.last_message_at DESC" };
        let sql = format!(
            "{CONVERSATION_SELECT} WHERE c.workspace_id = $1 AND c.state IN ({}){mine} ORDER BY {order} LIMIT 200",
            states.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(workspace_id);
        if filter.mine_only() {
            query = query.bind(member_id);
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter().map(conversation_from_row).collect()
    }

    /// How many conversations each Inbox view holds: one grouped pass over the
    /// workspace's rows, each group counted in the views that hold it.
    pub async fn count_conversations(&self, workspace_id: &str, member_id: &str) -> Result<InboxCounts, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT state, CAST(CASE WHEN agent_id = $2 THEN 1 ELSE 0 END AS BIGINT) AS mine, \
             CAST(COUNT(*) AS BIGINT) AS n \
             FROM conversations WHERE workspace_id = $1 GROUP BY 1, 2",
        )
        .bind(workspace_id)
        .bind(member_id)
        .fetch_all(self.pool())
        .await?;
        let mut counts = InboxCounts::default();
        for row in &rows {
            let state: String = row.try_get("state")?;
            let state = StateKind::parse(&state).ok_or_else(|| corrupt("state"))?;
            counts.add(state, row.try_get::<i64, _>("mine")? == 1, row.try_get("n")?);
        }
        Ok(counts)
    }

    /// Takes the AI's owed turn of a conversation for `lease_ms`: true when this caller
    /// may run it (a turn is owed, and nobody else holds it or their lease ran out).
    pub async fn take_bot_turn(&self, conversation_id: &str, lease_ms: i64) -> Result<bool, sqlx::Error> {
        let id = conversation_id.to_owned();
        self.write(conversation_id, move |tx| {
            let id = id.clone();
            Box::pin(async move {
                let now = now_ms();
                let taken = sqlx::query(
                    "UPDATE conversations SET bot_lease_until = $2 \
                     WHERE id = $1 AND bot_due > 0 AND (bot_lease_until IS NULL OR bot_lease_until < $3)",
                )
                .bind(&id)
                .bind(now + lease_ms)
                .bind(now)
                .execute(&mut **tx)
                .await?
                .rows_affected();
                Ok(taken == 1)
            })
        })
        .await
    }

    /// The AI's turn found nothing to do (a person holds the chat now): one fewer owed.
    pub async fn skip_bot_turn(&self, conversation_id: &str) -> Result<(), sqlx::Error> {
        let id = conversation_id.to_owned();
        self.write(conversation_id, move |tx| {
            let id = id.clone();
            Box::pin(async move {
                sqlx::query(
                    "UPDATE conversations SET bot_due = CASE WHEN bot_due > 0 THEN bot_due - 1 ELSE 0 END, \
                     bot_lease_until = NULL WHERE id = $1",
                )
                .bind(&id)
                .execute(&mut **tx)
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// Conversations owed an AI turn that nobody runs (no lease, or an expired one).
    pub async fn due_bot_turns(&self, limit: i64) -> Result<Vec<String>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id FROM conversations WHERE bot_due > 0 AND (bot_lease_until IS NULL OR bot_lease_until < $1) \
             ORDER BY last_message_at LIMIT $2",
        )
        .bind(now_ms())
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|row| row.try_get("id")).collect()
    }

    /// Drops every lease on owed turns: on SQLite, at start, when no other instance
    /// can be running one.
    pub async fn release_bot_leases(&self) -> Result<(), sqlx::Error> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE conversations SET bot_lease_until = NULL WHERE bot_due > 0").execute(&mut *tx).await?;
        tx.commit().await
    }

    /// Visitor-visible messages after `after_seq`, oldest first.
    pub async fn messages_after(
        &self,
        conversation_id: &str,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<Message>, sqlx::Error> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        );
        let rows = sqlx::query(&sql).bind(conversation_id).bind(after_seq).bind(limit).fetch_all(self.pool()).await?;
        rows.iter().map(message_from_row).collect()
    }

    pub async fn message_by_client_id(
        &self,
        conversation_id: &str,
        client_id: &str,
    ) -> Result<Option<Message>, sqlx::Error> {
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND client_id = $2");
        let row = sqlx::query(&sql).bind(conversation_id).bind(client_id).fetch_optional(self.pool()).await?;
        row.as_ref().map(message_from_row).transpose()
    }

    pub async fn notes_for(&self, conversation_id: &str) -> Result<Vec<Note>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, author_id, author_name, text, created_at FROM notes \
             WHERE conversation_id = $1 ORDER BY created_at, id",
        )
        .bind(conversation_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(note_from_row).collect()
    }
}

pub struct NewConversation<'a> {
    pub id: &'a str,
    pub chatbot: &'a ChatbotRecord,
    pub token_hash: &'a str,
    pub visitor: &'a Visitor,
    pub now: i64,
}

pub async fn insert_conversation(tx: &mut Tx, new: NewConversation<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO conversations (id, workspace_id, chatbot_id, visitor_token_hash, visitor_name, visitor_email, \
         state, last_seq, unread, last_message_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'bot', 0, 0, $7, $7)",
    )
    .bind(new.id)
    .bind(&new.chatbot.workspace_id)
    .bind(&new.chatbot.id)
    .bind(new.token_hash)
    .bind(new.visitor.name.as_deref())
    .bind(new.visitor.email.as_deref())
    .bind(new.now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub struct NewMessage<'a> {
    pub conversation_id: &'a str,
    pub author: &'a Author,
    /// The member who wrote it, for agent messages.
    pub author_id: Option<&'a str>,
    pub text: &'a str,
    pub client_id: Option<&'a str>,
    pub asks: Option<Ask>,
    pub now: i64,
}

/// Takes the conversation's next seq and stores the message under it. The first
/// statement is the UPDATE, so the row lock (PostgreSQL) or write lock (SQLite) is
/// taken before anything is read.
pub async fn append_message(tx: &mut Tx, new: NewMessage<'_>) -> Result<Message, sqlx::Error> {
    let seq: i64 = sqlx::query(
        "UPDATE conversations SET last_seq = last_seq + 1, last_message_at = $2, \
         unread = CASE WHEN $3 = 'visitor' THEN unread + 1 WHEN $3 = 'agent' THEN 0 ELSE unread END \
         WHERE id = $1 RETURNING last_seq",
    )
    .bind(new.conversation_id)
    .bind(new.now)
    .bind(new.author.kind.as_str())
    .fetch_one(&mut **tx)
    .await?
    .try_get(0)?;
    insert_message_at(tx, new, seq).await
}

/// Stores a message under `seq`, which the caller has taken (`append_message`, or
/// `change_state` for the messages of its change).
pub async fn insert_message_at(tx: &mut Tx, new: NewMessage<'_>, seq: i64) -> Result<Message, sqlx::Error> {
    let id = new_id("msg");
    sqlx::query(
        "INSERT INTO messages (conversation_id, seq, id, author_kind, author_id, author_name, text, client_id, asks, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(new.conversation_id)
    .bind(seq)
    .bind(&id)
    .bind(new.author.kind.as_str())
    .bind(new.author_id)
    .bind(new.author.name.as_deref())
    .bind(new.text)
    .bind(new.client_id)
    .bind(new.asks.map(Ask::as_str))
    .bind(new.now)
    .execute(&mut **tx)
    .await?;
    Ok(Message {
        seq,
        id,
        author: new.author.clone(),
        text: new.text.to_owned(),
        at: rfc3339(new.now),
        client_id: new.client_id.map(str::to_owned),
        asks: new.asks,
    })
}

pub struct StateChange<'a> {
    pub conversation_id: &'a str,
    pub from: &'a State,
    pub to: &'a State,
    /// Escalation details, written when entering `needs_human`.
    pub escalation: Option<(EscalationReason, &'a str)>,
    /// `Some(Some(json))` sets the escalation waiting for an email, `Some(None)` clears it.
    pub pending_escalation: Option<Option<&'a str>>,
    /// The visitor's email, once known.
    pub visitor_email: Option<&'a str>,
    /// What the change does to the AI turns owed.
    pub bot_turn: BotTurnDue,
    /// Who wrote the messages the change appends, in order: the same statement takes
    /// their seqs and counts them into `unread` (a visitor's adds one, an agent's
    /// clears it).
    pub appends: &'a [AuthorKind],
    pub actor: &'a str,
    pub now: i64,
}

/// What a change does to the AI turns a conversation is owed (`bot_due`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BotTurnDue {
    Unchanged,
    /// A visitor message the AI must answer: one more turn owed.
    Owed,
    /// The AI's turn is done (answered, or nothing to say): one fewer, lease released.
    Done,
}

/// What a state change wrote, read back by its own statement (`RETURNING`): with the
/// state it set, the conversation as the change left it, without reading it again.
pub struct Changed {
    /// The seq of the first message the change appends (the next seq when none).
    pub first_seq: i64,
    reason: Option<String>,
    summary: Option<String>,
    escalated_at: Option<i64>,
    pending_escalation: Option<String>,
    visitor_email: Option<String>,
    handed_back_seq: i64,
    last_seq: i64,
    last_message_at: i64,
    unread: i64,
}

impl Changed {
    /// `before` (as the change read it) with what the change wrote: `state` is the one it set.
    pub fn conversation(self, before: &ConversationRecord, state: State) -> ConversationRecord {
        ConversationRecord {
            state,
            visitor: Visitor { name: before.visitor.name.clone(), email: self.visitor_email },
            reason: self.reason.as_deref().and_then(EscalationReason::parse),
            summary: self.summary,
            last_seq: self.last_seq,
            unread: self.unread,
            escalated_at: self.escalated_at,
            last_message_at: self.last_message_at,
            pending_escalation: self.pending_escalation,
            handed_back_seq: self.handed_back_seq,
            ..before.clone()
        }
    }
}

/// The conditional write that makes every change atomic: it applies only if the
/// conversation is still exactly in `from` (same state, same holder), and takes the
/// seqs of the change's `appends`. Returns what it wrote, with the first of those seqs
/// (the next seq when there are none), or `None` when someone else changed the
/// conversation first; the caller re-reads and decides again.
pub async fn change_state(tx: &mut Tx, change: StateChange<'_>) -> Result<Option<Changed>, sqlx::Error> {
    let (reason, summary) = match change.escalation {
        Some((reason, summary)) => (Some(reason.as_str()), Some(summary)),
        None => (None, None),
    };
    let entering_queue = change.to.kind() == StateKind::NeedsHuman;
    let handing_back = change.to.kind() == StateKind::Resolved && change.from.kind() != StateKind::Resolved;
    let bot_turn: i32 = match change.bot_turn {
        BotTurnDue::Unchanged => 0,
        BotTurnDue::Owed => 1,
        BotTurnDue::Done => -1,
    };
    let appended = i64::try_from(change.appends.len()).unwrap_or(i64::MAX);
    // `unread` after the appends: an agent's message clears it, a visitor's adds one.
    let (clears, visitors_after) = change.appends.iter().fold((false, 0i64), |(clears, n), kind| match kind {
        AuthorKind::Agent => (true, 0),
        AuthorKind::Visitor => (clears, n + 1),
        _ => (clears, n),
    });
    let updated = sqlx::query(
        "UPDATE conversations SET state = $1, agent_id = $2, \
         reason = COALESCE($3, reason), summary = COALESCE($4, summary), \
         escalated_at = CASE WHEN $5 = 1 THEN $6 ELSE escalated_at END, \
         pending_escalation = CASE WHEN $10 = 1 THEN $11 ELSE pending_escalation END, \
         visitor_email = COALESCE($12, visitor_email), \
         handed_back_seq = CASE WHEN $13 = 1 THEN last_seq ELSE handed_back_seq END, \
         bot_due = CASE WHEN $14 = 1 THEN bot_due + 1 WHEN $14 = -1 AND bot_due > 0 THEN bot_due - 1 ELSE bot_due END, \
         bot_lease_until = CASE WHEN $14 = -1 THEN NULL ELSE bot_lease_until END, \
         last_seq = last_seq + $15, \
         last_message_at = CASE WHEN $15 > 0 THEN $6 ELSE last_message_at END, \
         unread = CASE WHEN $16 = 1 THEN $17 ELSE unread + $17 END \
         WHERE id = $7 AND state = $8 AND agent_id IS NOT DISTINCT FROM $9 \
         RETURNING reason, summary, escalated_at, pending_escalation, visitor_email, handed_back_seq, \
         last_seq, last_message_at, unread",
    )
    .bind(change.to.kind().as_str())
    .bind(change.to.agent().map(|a| a.id.as_str()))
    .bind(reason)
    .bind(summary)
    .bind(i32::from(entering_queue))
    .bind(change.now)
    .bind(change.conversation_id)
    .bind(change.from.kind().as_str())
    .bind(change.from.agent().map(|a| a.id.as_str()))
    .bind(i32::from(change.pending_escalation.is_some()))
    .bind(change.pending_escalation.flatten())
    .bind(change.visitor_email)
    .bind(i32::from(handing_back))
    .bind(bot_turn)
    .bind(appended)
    .bind(i32::from(clears))
    .bind(visitors_after)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = updated else { return Ok(None) };
    let last_seq: i64 = row.try_get("last_seq")?;
    let changed = Changed {
        first_seq: last_seq - appended + 1,
        reason: row.try_get("reason")?,
        summary: row.try_get("summary")?,
        escalated_at: row.try_get("escalated_at")?,
        pending_escalation: row.try_get("pending_escalation")?,
        visitor_email: row.try_get("visitor_email")?,
        handed_back_seq: row.try_get("handed_back_seq")?,
        last_seq,
        last_message_at: row.try_get("last_message_at")?,
        unread: row.try_get("unread")?,
    };
    if change.from.kind() != change.to.kind() {
        sqlx::query(
            "INSERT INTO conversation_audit (id, conversation_id, from_state, to_state, actor, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new_id("aud"))
        .bind(change.conversation_id)
        .bind(change.from.kind().as_str())
        .bind(change.to.kind().as_str())
        .bind(change.actor)
        .bind(change.now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(Some(changed))
}

/// The conversations `member_id` holds, read inside `tx` (after the member's row is
/// locked, so none can be claimed by them meanwhile).
pub async fn claimed_by(tx: &mut Tx, member_id: &str) -> Result<Vec<ConversationRecord>, sqlx::Error> {
    let sql = format!("{CONVERSATION_SELECT} WHERE c.agent_id = $1 AND c.state = 'claimed' ORDER BY c.id");
    let rows = sqlx::query(&sql).bind(member_id).fetch_all(&mut **tx).await?;
    rows.iter().map(conversation_from_row).collect()
}

pub async fn insert_note(
    tx: &mut Tx,
    conversation_id: &str,
    author: &AgentRef,
    text: &str,
    now: i64,
) -> Result<Note, sqlx::Error> {
    let id = new_id("note");
    sqlx::query(
        "INSERT INTO notes (id, conversation_id, author_id, author_name, text, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(conversation_id)
    .bind(&author.id)
    .bind(&author.name)
    .bind(text)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(Note { id, author: author.clone(), text: text.to_owned(), at: rfc3339(now) })
}

/// A new chatbot's row.
pub struct NewChatbot<'a> {
    pub id: &'a str,
    pub workspace_id: &'a str,
    pub public_id: &'a str,
    pub name: &'a str,
    pub greeting: &'a str,
    pub live_handoff: bool,
    /// Space-separated origins that may frame the widget, or `*`.
    pub allowed_origins: &'a str,
}

pub async fn insert_chatbot(tx: &mut Tx, new: NewChatbot<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO chatbots (id, workspace_id, public_id, name, greeting, live_handoff, allowed_origins, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new.id)
    .bind(new.workspace_id)
    .bind(new.public_id)
    .bind(new.name)
    .bind(new.greeting)
    .bind(i32::from(new.live_handoff))
    .bind(new.allowed_origins)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
