//! Reading what the Inbox shows: the views, the counts, the open conversation.

use leptos::{prelude::*, task::spawn_local};

use super::{rules::wants_suggestion, ComposerMode, Desk, Load, Suggestion};
use crate::{
    browser,
    domain::{merge_message, ConversationSummary},
    error::AppError,
    inbox::api::{count_conversations, get_conversation, list_conversations, InboxFilter},
};

impl Desk {
    /// Reads everything again: at start, after a reconnect, after missed events.
    pub fn refresh(self) {
        self.load_view();
        self.load_counts();
        if self.view.get_untracked() != InboxFilter::NeedsHuman {
            self.load_queue();
        }
        if let Some(id) = self.selected.get_untracked() {
            self.load_conversation(id);
        }
    }

    pub fn show_view(self, view: InboxFilter) {
        if self.view.get_untracked() == view {
            return;
        }
        self.view.set(view);
        self.list.set(Vec::new());
        self.load_view();
        self.sync_address();
    }

    pub(super) fn load_view(self) {
        let view = self.view.get_untracked();
        self.list_load.set(Load::Loading);
        spawn_local(async move {
            let result = list_conversations(view).await;
            if !self.alive() || self.view.get_untracked() != view {
                return;
            }
            match result {
                Ok(list) => {
                    if view == InboxFilter::NeedsHuman {
                        self.know_queue(&list.conversations);
                    }
                    self.list.set(list.conversations);
                    self.list_load.set(Load::Ready);
                }
                Err(err) => self.list_load.set(Load::Failed(self.trouble(&err))),
            }
        });
    }

    /// Reads the queue only to know what is already waiting (the view shows another list).
    pub(super) fn load_queue(self) {
        spawn_local(async move {
            if let Ok(list) = list_conversations(InboxFilter::NeedsHuman).await {
                if self.alive() {
                    self.know_queue(&list.conversations);
                }
            }
        });
    }

    pub(super) fn know_queue(&self, waiting: &[ConversationSummary]) {
        self.queued.update_value(|queued| {
            for conversation in waiting {
                queued.insert(conversation.id.clone(), conversation.state);
            }
        });
        self.queue_known.set_value(true);
    }

    /// Reads the counts; calls that arrive while one is running coalesce into one more.
    pub fn load_counts(self) {
        if self.counts_loading.get_value() {
            self.counts_again.set_value(true);
            return;
        }
        self.counts_loading.set_value(true);
        spawn_local(async move {
            let result = count_conversations().await;
            if !self.alive() {
                return;
            }
            if let Ok(counts) = result {
                self.counts.set(Some(counts));
            }
            self.counts_loading.set_value(false);
            if self.counts_again.get_value() {
                self.counts_again.set_value(false);
                self.load_counts();
            }
        });
    }

    /// Opens a conversation (or, with `None`, goes back to the list).
    pub fn select(self, id: Option<String>) {
        if self.selected.get_untracked() == id {
            return;
        }
        self.selected.set(id.clone());
        self.open.set(None);
        self.messages.set(Vec::new());
        self.notes.set(Vec::new());
        self.outgoing.set(Vec::new());
        self.typing.set(None);
        self.suggestion.set(Suggestion::None);
        self.draft.set(String::new());
        self.mode.set(ComposerMode::Reply);
        self.confirm_resolve.set(false);
        self.notice.set(None);
        match id {
            Some(id) => self.load_conversation(id),
            None => self.open_load.set(Load::Ready),
        }
        self.sync_address();
    }

    /// Opens the conversation `step` places down (or up) the list from the open one.
    pub fn step(self, step: isize) {
        let next = self.list.with_untracked(|list| {
            let current = self.selected.with_untracked(|s| s.clone());
            let at = current.and_then(|id| list.iter().position(|c| c.id == id));
            let index = match at {
                Some(at) => at.checked_add_signed(step).filter(|i| *i < list.len()),
                None if !list.is_empty() => Some(0),
                None => None,
            };
            index.map(|i| list[i].id.clone())
        });
        if next.is_some() {
            self.select(next);
        }
    }

    pub(super) fn load_conversation(self, id: String) {
        if self.open.with_untracked(Option::is_none) {
            self.open_load.set(Load::Loading);
        }
        spawn_local(async move {
            let result = get_conversation(id.clone()).await;
            if !self.alive() || !self.is_open(&id) {
                return;
            }
            match result {
                Ok(detail) => {
                    let offer = wants_suggestion(&detail.conversation, &detail.messages, &self.my_id());
                    self.open.set(Some(detail.conversation));
                    self.messages.update(|held| {
                        for message in detail.messages {
                            merge_message(held, message);
                        }
                    });
                    self.notes.set(detail.notes);
                    self.open_load.set(Load::Ready);
                    if offer && self.suggestion.get_untracked() == Suggestion::None {
                        self.draft_suggestion(false);
                    }
                }
                Err(AppError::NotFound) => self
                    .open_load
                    .set(Load::Failed("This conversation does not exist, or it belongs to another workspace.".into())),
                Err(err) => self.open_load.set(Load::Failed(self.trouble(&err))),
            }
        });
    }

    /// Puts the view and the open conversation in the address bar.
    pub(super) fn sync_address(&self) {
        let mut query = format!("view={}", self.view.get_untracked().as_str());
        if let Some(id) = self.selected.get_untracked() {
            query.push_str("&c=");
            query.push_str(&id);
        }
        browser::replace_query(&query);
    }

    // ---- live events --------------------------------------------------------------------------
}
