//! The in-process hub: one broadcast channel per conversation (what its visitor
//! sees) and one per workspace (what its team sees). Events are published only
//! after the change they describe has committed; sockets that fall behind reload
//! from the database by seq, so a slow socket never loses a message.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use app::domain::live::{TeamEvent, VisitorEvent};
use tokio::sync::broadcast;

/// Events kept for a slow subscriber before it lags and catches up from the database.
/// tokio preallocates the whole ring, so a conversation's (one per open widget) is
/// small; a workspace's carries every conversation's events to the team and is larger.
const CONVERSATION_CAPACITY: usize = 16;
const WORKSPACE_CAPACITY: usize = 1024;

/// A team event with the workspace it belongs to, checked again before it is sent.
#[derive(Debug, Clone)]
pub struct WorkspaceEvent {
    pub workspace_id: Arc<str>,
    pub event: TeamEvent,
}

#[derive(Clone)]
pub struct Hub {
    inner: Arc<Mutex<Channels>>,
    /// Fingerprints of sessions that just ended: their open Inbox sockets close.
    sign_outs: broadcast::Sender<Arc<str>>,
}

impl Default for Hub {
    fn default() -> Hub {
        Hub { inner: Arc::default(), sign_outs: broadcast::channel(64).0 }
    }
}

#[derive(Default)]
struct Channels {
    /// Events behind an `Arc`: a channel's slots stay pointer-sized, which every idle
    /// visitor's socket pays for (and a conversation's one receiver unwraps it for free).
    conversations: HashMap<String, broadcast::Sender<Arc<VisitorEvent>>>,
    workspaces: HashMap<String, broadcast::Sender<WorkspaceEvent>>,
}

impl Hub {
    fn channels(&self) -> std::sync::MutexGuard<'_, Channels> {
        // A panic while holding this lock cannot leave the maps half-updated.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn subscribe_conversation(&self, conversation_id: &str) -> broadcast::Receiver<Arc<VisitorEvent>> {
        self.channels()
            .conversations
            .entry(conversation_id.to_owned())
            .or_insert_with(|| broadcast::channel(CONVERSATION_CAPACITY).0)
            .subscribe()
    }

    pub fn subscribe_workspace(&self, workspace_id: &str) -> broadcast::Receiver<WorkspaceEvent> {
        self.channels()
            .workspaces
            .entry(workspace_id.to_owned())
            .or_insert_with(|| broadcast::channel(WORKSPACE_CAPACITY).0)
            .subscribe()
    }

    /// To the visitor's sockets of this conversation (if any are open).
    pub fn publish_visitor(&self, conversation_id: &str, event: VisitorEvent) {
        if let Some(sender) = self.channels().conversations.get(conversation_id) {
            let _ = sender.send(Arc::new(event));
        }
    }

    /// To the team sockets of this workspace (if any are open).
    pub fn publish_team(&self, workspace_id: &str, event: TeamEvent) {
        if let Some(sender) = self.channels().workspaces.get(workspace_id) {
            let _ = sender.send(WorkspaceEvent { workspace_id: workspace_id.into(), event });
        }
    }

    pub fn subscribe_sign_outs(&self) -> broadcast::Receiver<Arc<str>> {
        self.sign_outs.subscribe()
    }

    pub fn publish_sign_out(&self, session_fingerprint: &str) {
        let _ = self.sign_outs.send(session_fingerprint.into());
    }

    /// Forgets channels nobody listens to any more. Run periodically.
    pub fn sweep(&self) {
        let mut channels = self.channels();
        channels.conversations.retain(|_, sender| sender.receiver_count() > 0);
        channels.workspaces.retain(|_, sender| sender.receiver_count() > 0);
    }

    /// Open channels, for tests and metrics.
    pub fn channel_count(&self) -> usize {
        let channels = self.channels();
        channels.conversations.len() + channels.workspaces.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn visitor_events_reach_only_their_conversation() {
        let hub = Hub::default();
        let mut mine = hub.subscribe_conversation("c1");
        let mut other = hub.subscribe_conversation("c2");

        hub.publish_visitor("c1", VisitorEvent::Pong);

        assert_eq!(*mine.recv().await.unwrap(), VisitorEvent::Pong);
        assert!(other.try_recv().is_err());
    }

    #[tokio::test]
    async fn team_events_carry_their_workspace() {
        let hub = Hub::default();
        let mut team = hub.subscribe_workspace("ws_a");

        hub.publish_team("ws_a", TeamEvent::Pong);
        hub.publish_team("ws_b", TeamEvent::Pong);

        assert_eq!(&*team.recv().await.unwrap().workspace_id, "ws_a");
        assert!(team.try_recv().is_err());
    }

    #[test]
    fn sweep_drops_channels_without_listeners() {
        let hub = Hub::default();
        let kept = hub.subscribe_conversation("c1");
        drop(hub.subscribe_conversation("c2"));
        drop(hub.subscribe_workspace("ws"));

        hub.sweep();

        assert_eq!(hub.channel_count(), 1);
        drop(kept);
    }
}
