//! Live events across instances on PostgreSQL, through LISTEN/NOTIFY.
//!
//! A notification is only a wake-up ("conversation C changed, seqs a..=b"): the
//! receiving instance reads the rows themselves from the database, which stays the
//! source of truth, and publishes them on its own hub. NOTIFY takes a database-wide
//! lock at commit, so announcements are batched: one NOTIFY carries everything
//! queued since the last one, never more than one in flight per instance.
//! Sockets drop what they already sent (by seq), so an event seen twice is harmless;
//! one missed while the listener reconnects is filled in by the next gap check or the
//! client's own resume.

use app::domain::{
    live::{TeamEvent, VisitorEvent},
    Author,
};
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgListener;
use tokio::sync::mpsc;

use super::hub::Hub;
use crate::store::Store;

const CHANNEL: &str = "baton_live";
/// PostgreSQL refuses payloads from 8000 bytes on; stay well below.
const MAX_PAYLOAD: usize = 7000;

/// What changed, for other instances to reload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum Announcement {
    /// Messages `from..=to` were appended (none when `from > to`) and/or the conversation changed.
    Change { w: String, c: String, from: i64, to: i64, state_changed: bool },
    Note { w: String, c: String, id: String },
    Typing { w: String, c: String, author: Author, to_visitor: bool },
    /// A session ended (by its fingerprint, never its id).
    SignedOut { session: String },
}

#[derive(Debug, Serialize, Deserialize)]
struct Batch {
    origin: String,
    items: Vec<Announcement>,
}

/// The sending half: cheap to clone, a no-op without PostgreSQL.
#[derive(Clone, Default)]
pub struct Bus {
    sender: Option<mpsc::UnboundedSender<Announcement>>,
}

impl Bus {
    pub fn announce(&self, announcement: Announcement) {
        if let Some(sender) = &self.sender {
            let _ = sender.send(announcement);
        }
    }
}

/// Starts the bus on PostgreSQL: one task sends batched NOTIFYs, one listens.
/// Returns the sending half and both tasks (to abort on shutdown).
pub async fn start(database_url: &str, store: Store, hub: Hub) -> Result<(Bus, Vec<tokio::task::JoinHandle<()>>), sqlx::Error> {
    let origin = crate::store::new_id("inst");
    let mut listener = PgListener::connect(database_url).await?;
    listener.listen(CHANNEL).await?;
    let (sender, receiver) = mpsc::unbounded_channel();
    let notifier = tokio::spawn(send_batches(receiver, store.clone(), origin.clone()));
    let listening = tokio::spawn(listen(listener, store, hub, origin));
    Ok((Bus { sender: Some(sender) }, vec![notifier, listening]))
}

async fn send_batches(mut receiver: mpsc::UnboundedReceiver<Announcement>, store: Store, origin: String) {
    while let Some(first) = receiver.recv().await {
        let mut items = vec![first];
        let mut size = 0;
        // Everything that queued up while the previous NOTIFY was in flight goes in this one.
        while size < MAX_PAYLOAD / 2 {
            match receiver.try_recv() {
                Ok(item) => {
                    size += serde_json::to_string(&item).map(|s| s.len()).unwrap_or(0);
                    items.push(item);
                }
                Err(_) => break,
            }
        }
        for chunk in chunks(items) {
            let Ok(payload) = serde_json::to_string(&Batch { origin: origin.clone(), items: chunk }) else { continue };
            if let Err(err) = store.notify(CHANNEL, &payload).await {
                tracing::warn!(error = %err, "cross-instance notify failed; other instances catch up on the next change");
            }
        }
    }
}

/// Splits announcements into payloads PostgreSQL accepts.
fn chunks(items: Vec<Announcement>) -> Vec<Vec<Announcement>> {
    let mut out: Vec<Vec<Announcement>> = Vec::new();
    let mut size = 0;
    for item in items {
        let len = serde_json::to_string(&item).map(|s| s.len()).unwrap_or(MAX_PAYLOAD);
        if out.is_empty() || size + len > MAX_PAYLOAD - 100 {
            out.push(Vec::new());
            size = 0;
        }
        size += len + 1;
        if let Some(last) = out.last_mut() {
            last.push(item);
        }
    }
    out
}

async fn listen(mut listener: PgListener, store: Store, hub: Hub, origin: String) {
    loop {
        // `recv` reconnects by itself after a dropped connection.
        let notification = match listener.recv().await {
            Ok(notification) => notification,
            Err(err) => {
                tracing::warn!(error = %err, "cross-instance listener error; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            }
        };
        let Ok(batch) = serde_json::from_str::<Batch>(notification.payload()) else {
            tracing::warn!("ignoring a malformed cross-instance notification");
            continue;
        };
        if batch.origin == origin {
            continue;
        }
        for item in batch.items {
            if let Err(err) = replay(&item, &store, &hub).await {
                tracing::warn!(error = %err, "could not replay a cross-instance event");
            }
        }
    }
}

/// Turns another instance's announcement into local hub events, reading the rows.
async fn replay(item: &Announcement, store: &Store, hub: &Hub) -> Result<(), sqlx::Error> {
    match item {
        Announcement::Change { w, c, from, to, state_changed } => {
            if from <= to {
                for message in store.messages_after(c, from - 1, to - from + 1).await? {
                    hub.publish_visitor(c, VisitorEvent::Message { message: message.clone() });
                    hub.publish_team(w, TeamEvent::Message { conversation_id: c.clone(), message });
                }
            }
            if let Some(conversation) = store.conversation_by_id(c).await? {
                if *state_changed {
                    hub.publish_visitor(c, VisitorEvent::State { state: conversation.state.kind() });
                }
                hub.publish_team(w, TeamEvent::Conversation { conversation: conversation.to_summary() });
            }
        }
        Announcement::Note { w, c, id } => {
            if let Some(note) = store.notes_for(c).await?.into_iter().find(|n| &n.id == id) {
                hub.publish_team(w, TeamEvent::Note { conversation_id: c.clone(), note });
            }
        }
        Announcement::SignedOut { session } => hub.publish_sign_out(session),
        Announcement::Typing { w, c, author, to_visitor } => {
            if *to_visitor {
                hub.publish_visitor(c, VisitorEvent::Typing { author: author.clone() });
            }
            hub.publish_team(w, TeamEvent::Typing { conversation_id: c.clone(), author: author.clone() });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_batches_are_split_under_the_payload_limit() {
        let item = |i: usize| Announcement::Change { w: "ws".into(), c: format!("conv_{i:0>60}"), from: 1, to: 2, state_changed: false };
        let items: Vec<_> = (0..500).map(item).collect();

        let chunks = chunks(items);

        assert!(chunks.len() > 1);
        assert_eq!(chunks.iter().map(Vec::len).sum::<usize>(), 500);
        for chunk in chunks {
            let payload = serde_json::to_string(&Batch { origin: "inst_x".into(), items: chunk }).unwrap();
            assert!(payload.len() < 8000, "{}", payload.len());
        }
    }
}
