//! The outbox dispatcher: every escalation routed to a help desk left a row in the
//! escalation's own transaction; this sends each one after commit, and on start
//! picks up whatever a crash left behind.
//!
//! A row is taken by moving its lease forward with a conditional update: of any
//! number of dispatchers (instances on one PostgreSQL), one wins it, and a
//! dispatcher that dies mid-send loses it when the lease runs out. A retry always
//! looks the ticket up by the escalation id first (the vendor may have created it
//! just before the crash), so there is exactly one ticket per escalation. Waits
//! grow exponentially with jitter (`backon`), or follow the vendor's `Retry-After`;
//! permanent refusals and exhausted attempts mark the row failed, with the vendor's
//! reason, for the Inbox and the desk's card in Settings.

use std::{sync::Arc, time::Duration};

use app::domain::{redact::without_card_numbers, Message};
use backon::{BackoffBuilder, ExponentialBuilder};
use secrecy::ExposeSecret;
use tokio::sync::Notify;

use super::{connector, DeskHttp, Form, HandoffPacket, SendError, Ticket};
use crate::{
    security::vault::Vault,
    store::{
        helpdesks::{connection_context, OutboxRecord},
        now_ms, Store,
    },
};

/// Attempts before a row that keeps failing with retryable errors is marked failed.
pub const MAX_ATTEMPTS: i64 = 12;
/// How often due rows are looked for without a wake-up (another instance's rows,
/// retries coming due).
const POLL: Duration = Duration::from_secs(2);
/// Most messages of a conversation put in a ticket.
const TRANSCRIPT_LIMIT: i64 = 500;

#[derive(Clone)]
pub struct Outbox {
    store: Store,
    vault: Arc<Vault>,
    http: DeskHttp,
    /// Where Inbox links in tickets point: `{public_url}/inbox?c=…`.
    public_url: Arc<str>,
    wake: Arc<Notify>,
    /// How long a dispatcher holds a row it is sending.
    lease: Duration,
}

/// How one attempt ended.
enum Attempt {
    Sent(Ticket),
    Retry { reason: String, at: i64 },
    Failed(String),
}

impl Outbox {
    pub fn new(store: Store, vault: Arc<Vault>, http: DeskHttp, public_url: &str, lease: Duration) -> Outbox {
        let public_url = Arc::from(public_url.trim_end_matches('/'));
        Outbox { store, vault, http, public_url, wake: Arc::default(), lease }
    }

    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    pub fn http(&self) -> &DeskHttp {
        &self.http
    }

    /// Seals again, under the current key, every connection sealed under a previous
    /// one (`BATON_PREVIOUS_SECRET_KEYS`), so the old key can then be dropped. One
    /// that opens under no key is left as it is and named in the log: it must be
    /// connected again.
    pub async fn reseal_stale(&self) -> Result<usize, sqlx::Error> {
        let mut resealed = 0;
        for record in self.store.all_connections().await? {
            if !self.vault.is_stale(&record.sealed) {
                continue;
            }
            let context = connection_context(&record.chatbot_id, record.desk);
            match self.vault.reseal(&record.sealed, &context) {
                Ok(sealed) => {
                    if self.store.reseal_connection(&record, &sealed).await? {
                        resealed += 1;
                    }
                }
                Err(err) => tracing::warn!(
                    chatbot_id = %record.chatbot_id,
                    desk = record.desk.as_str(),
                    error = %err,
                    "a help-desk connection opens under none of the keys: connect it again"
                ),
            }
        }
        if resealed > 0 {
            tracing::info!(resealed, "help-desk connections sealed again under the current key");
        }
        Ok(resealed)
    }

    /// A row was committed: send it now rather than at the next poll.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Sends due rows until the task is dropped. The first round is at once.
    pub async fn run(self) {
        loop {
            match self.store.due_outbox(now_ms(), 20).await {
                Ok(rows) => {
                    for row in rows {
                        self.dispatch(row).await;
                    }
                }
                Err(err) => tracing::warn!(error = %err, "help-desk outbox: cannot read due rows"),
            }
            let _ = tokio::time::timeout(POLL, self.wake.notified()).await;
        }
    }

    /// Sends one row if this dispatcher wins its lease.
    pub async fn dispatch(&self, row: OutboxRecord) {
        let now = now_ms();
        let until = now.saturating_add(i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX));
        match self.store.lease_outbox(&row.id, now, until).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(err) => {
                tracing::warn!(error = %err, escalation = %row.id, "help-desk outbox: cannot take a row");
                return;
            }
        }
        let attempt = row.attempts + 1;
        let outcome = self.attempt(&row, attempt).await;
        let now = now_ms();
        let desk = row.desk.label();
        let saved = match &outcome {
            Attempt::Sent(ticket) => {
                tracing::info!(desk, escalation = %row.id, conversation = %row.conversation_id, ticket = %ticket.id, "ticket created");
                self.store.outbox_sent(&row.id, &ticket.id, ticket.url.as_deref(), now).await
            }
            Attempt::Retry { reason, at } => {
                tracing::warn!(desk, escalation = %row.id, conversation = %row.conversation_id, attempt, reason = %reason, "ticket not created yet: will retry");
                self.store.outbox_retry_at(&row.id, reason, *at, now).await
            }
            Attempt::Failed(reason) => {
                tracing::error!(desk, escalation = %row.id, conversation = %row.conversation_id, attempt, reason = %reason, "ticket not created: gave up");
                self.store.outbox_failed(&row.id, reason, now).await
            }
        };
        if let Err(err) = saved {
            // The lease runs out and the row is tried again: the lookup finds the ticket.
            tracing::warn!(error = %err, escalation = %row.id, "help-desk outbox: cannot record the outcome");
        }
    }

    async fn attempt(&self, row: &OutboxRecord, attempt: i64) -> Attempt {
        let connector = connector(row.desk);
        let (form, packet) = match self.prepare(row).await {
            Ok(ready) => ready,
            Err(outcome) => return outcome,
        };
        // A retry looks first: the desk may have the ticket from an attempt that died.
        if attempt > 1 {
            match connector.find(&self.http, &form, &packet).await {
                Ok(Some(ticket)) => return Attempt::Sent(ticket),
                Ok(None) => {}
                Err(err) => return self.after(err, attempt),
            }
        }
        match connector.create(&self.http, &form, &packet).await {
            Ok(ticket) => Attempt::Sent(ticket),
            Err(err) => self.after(err, attempt),
        }
    }

    fn after(&self, err: SendError, attempt: i64) -> Attempt {
        match err {
            SendError::Permanent { reason } => Attempt::Failed(reason),
            SendError::Retry { reason, .. } if attempt >= MAX_ATTEMPTS => {
                Attempt::Failed(format!("{reason} (gave up after {attempt} attempts)"))
            }
            SendError::Retry { reason, after } => {
                let wait = after.unwrap_or_default().max(backoff(attempt));
                let wait = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
                Attempt::Retry { reason, at: now_ms().saturating_add(wait) }
            }
        }
    }

    /// The desk's credentials and the packet, or why there can be none.
    async fn prepare(&self, row: &OutboxRecord) -> Result<(Form, HandoffPacket), Attempt> {
        let retry = |err: sqlx::Error| Attempt::Retry { reason: format!("database: {err}"), at: now_ms() + 5_000 };
        let connection = self.store.connection(&row.chatbot_id, row.desk).await.map_err(retry)?;
        let Some(connection) = connection else {
            return Err(Attempt::Failed(format!("{} was disconnected before the ticket was sent", row.desk.label())));
        };
        let context = connection_context(&row.chatbot_id, row.desk);
        let opened = self.vault.open_sealed(&connection.sealed, &context).map_err(|err| {
            Attempt::Failed(format!("the stored {} credentials cannot be read: {err}", row.desk.label()))
        })?;
        let form = Form::from_json(row.desk, opened.expose_secret()).map_err(|err| {
            Attempt::Failed(format!("the stored {} connection is incomplete: {err}", row.desk.label()))
        })?;
        let conversation = self.store.conversation_by_id(&row.conversation_id).await.map_err(retry)?;
        let Some(conversation) = conversation else {
            return Err(Attempt::Failed("the conversation was deleted".to_owned()));
        };
        let transcript = self.store.messages_after(&row.conversation_id, 0, TRANSCRIPT_LIMIT).await.map_err(retry)?;
        let Some(email) = conversation.visitor.email.clone() else {
            return Err(Attempt::Failed("the conversation has no visitor email".to_owned()));
        };
        // Card numbers never reach a desk; the stored transcript keeps what was typed.
        let clean = |text: &str| without_card_numbers(text).into_owned();
        let transcript = transcript.into_iter().map(|m| Message { text: clean(&m.text), ..m }).collect();
        let packet = HandoffPacket {
            escalation_id: row.id.clone(),
            conversation_id: row.conversation_id.clone(),
            reason: conversation.reason.unwrap_or(app::domain::EscalationReason::ExplicitRequest),
            summary: clean(conversation.summary.as_deref().unwrap_or_default()),
            visitor_name: conversation.visitor.name.as_deref().map(clean),
            visitor_email: email,
            transcript,
            link: format!("{}/inbox?view=all&c={}", self.public_url, row.conversation_id),
        };
        Ok((form, packet))
    }
}

/// The wait before attempt `attempt + 1`: 2 s, 4 s, 8 s … up to 10 minutes, with jitter.
pub fn backoff(attempt: i64) -> Duration {
    let nth = usize::try_from(attempt.max(1) - 1).unwrap_or(0);
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_secs(2))
        .with_max_delay(Duration::from_secs(600))
        .with_jitter()
        .without_max_times()
        .build()
        .nth(nth)
        .unwrap_or(Duration::from_secs(600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_and_are_capped() {
        let first = backoff(1);
        assert!(first >= Duration::from_secs(2) && first <= Duration::from_secs(4), "{first:?}");
        let fifth = backoff(5);
        assert!(fifth >= Duration::from_secs(32), "{fifth:?}");
        assert!(backoff(40) <= Duration::from_secs(1200));
    }
}
