//! What the agent does: take over, reply, write notes, ask for a suggestion, resolve.

use leptos::{prelude::*, task::spawn_local};

use super::{rules::add_note_once, ComposerMode, Desk, OutgoingReply, Suggestion};
use crate::{
    browser,
    domain::{live::InboxClientFrame, merge_message, StateKind},
    error::AppError,
    inbox::api::{add_note, claim_conversation, resolve_conversation, send_reply, suggest_reply},
};

impl Desk {
    /// Take over: exactly one agent wins; the others are told who did.
    pub fn claim(self) {
        let Some(id) = self.selected.get_untracked() else { return };
        if self.claiming.get_untracked() {
            return;
        }
        self.claiming.set(true);
        spawn_local(async move {
            let result = claim_conversation(id.clone()).await;
            if !self.alive() {
                return;
            }
            match result {
                Ok(answer) => {
                    self.conversation_changed(answer.conversation);
                    self.say_about(StateKind::Claimed, "You have taken over. The visitor sees that you joined.");
                    self.mode.set(ComposerMode::Reply);
                    self.focus_composer.update(|n| *n += 1);
                }
                Err(AppError::Conflict(why)) => {
                    self.say(format!("You could not take over: {why}."), true);
                    self.load_conversation(id);
                }
                Err(err) => {
                    let why = self.trouble(&err);
                    self.say(format!("You could not take over: {why}"), true);
                }
            }
            self.claiming.set(false);
        });
    }

    /// Sends what is in the composer, as a reply or as a note.
    pub fn send_draft(self) {
        let text = self.draft.get_untracked().trim().to_owned();
        if text.is_empty() {
            return;
        }
        match self.mode.get_untracked() {
            ComposerMode::Reply if self.holding() => {
                self.draft.set(String::new());
                let reply = OutgoingReply { client_id: browser::client_id(), text, failed: None };
                self.outgoing.update(|out| out.push(reply.clone()));
                self.deliver(reply);
            }
            ComposerMode::Reply => self.say("Take over the conversation before you reply.", true),
            ComposerMode::Note => {
                self.draft.set(String::new());
                self.write_note(text);
            }
        }
    }

    /// Tries a failed reply again under its own client id, so it is never stored twice.
    pub fn retry(self, client_id: String) {
        let Some(reply) = self.outgoing.with_untracked(|out| out.iter().find(|o| o.client_id == client_id).cloned())
        else {
            return;
        };
        self.outgoing.update(|out| {
            if let Some(o) = out.iter_mut().find(|o| o.client_id == client_id) {
                o.failed = None;
            }
        });
        self.deliver(reply);
    }

    /// Gives up on a failed reply; its text goes back into the composer.
    pub fn discard(self, client_id: String) {
        let text =
            self.outgoing.with_untracked(|out| out.iter().find(|o| o.client_id == client_id).map(|o| o.text.clone()));
        self.outgoing.update(|out| out.retain(|o| o.client_id != client_id));
        if let Some(text) = text {
            if self.draft.with_untracked(String::is_empty) {
                self.draft.set(text);
            }
        }
    }

    pub(super) fn deliver(self, reply: OutgoingReply) {
        let Some(id) = self.selected.get_untracked() else { return };
        spawn_local(async move {
            let result = send_reply(id.clone(), reply.client_id.clone(), reply.text.clone()).await;
            if !self.alive() || !self.is_open(&id) {
                return;
            }
            match result {
                Ok(answer) => {
                    self.outgoing.update(|out| out.retain(|o| o.client_id != reply.client_id));
                    self.messages.update(|held| {
                        merge_message(held, answer.message);
                    });
                }
                Err(err) => {
                    let why = self.trouble(&err);
                    self.outgoing.update(|out| {
                        if let Some(o) = out.iter_mut().find(|o| o.client_id == reply.client_id) {
                            o.failed = Some(why.clone());
                        }
                    });
                }
            }
        });
    }

    pub(super) fn write_note(self, text: String) {
        let Some(id) = self.selected.get_untracked() else { return };
        spawn_local(async move {
            let result = add_note(id.clone(), text.clone()).await;
            if !self.alive() {
                return;
            }
            match result {
                Ok(answer) if self.is_open(&id) => self.notes.update(|notes| add_note_once(notes, answer.note)),
                Ok(_) => {}
                Err(err) => {
                    let why = self.trouble(&err);
                    if self.is_open(&id) {
                        self.say(format!("The note was not saved: {why}"), true);
                        if self.draft.with_untracked(String::is_empty) {
                            self.draft.set(text);
                        }
                    }
                }
            }
        });
    }

    /// Asks the AI for a reply. `into_composer`: the agent pressed the button, so the
    /// draft goes straight into the composer; otherwise it is offered above it.
    pub fn draft_suggestion(self, into_composer: bool) {
        let Some(id) = self.selected.get_untracked() else { return };
        self.suggestion.set(Suggestion::Drafting);
        spawn_local(async move {
            let result = suggest_reply(id.clone()).await;
            if !self.alive() || !self.is_open(&id) {
                return;
            }
            match result {
                Ok(answer) if into_composer => {
                    self.suggestion.set(Suggestion::None);
                    self.use_text(answer.text);
                }
                Ok(answer) => self.suggestion.set(Suggestion::Offered(answer.text)),
                Err(err) => self.suggestion.set(Suggestion::Failed(self.trouble(&err))),
            }
        });
    }

    /// Takes the offered suggestion into the composer, to send as-is or edit first.
    pub fn use_suggestion(self) {
        if let Suggestion::Offered(text) = self.suggestion.get_untracked() {
            self.suggestion.set(Suggestion::None);
            self.use_text(text);
        }
    }

    pub(super) fn use_text(&self, text: String) {
        self.mode.set(ComposerMode::Reply);
        self.draft.set(text);
        self.focus_composer.update(|n| *n += 1);
    }

    /// Hands the conversation back to the AI (after the agent confirmed).
    pub fn resolve(self) {
        let Some(id) = self.selected.get_untracked() else { return };
        self.resolving.set(true);
        spawn_local(async move {
            let result = resolve_conversation(id).await;
            if !self.alive() {
                return;
            }
            match result {
                Ok(answer) => {
                    self.conversation_changed(answer.conversation);
                    self.say_about(
                        StateKind::Resolved,
                        "Resolved. The AI assistant answers this visitor again from their next message.",
                    );
                }
                Err(err) => {
                    let why = self.trouble(&err);
                    self.say(format!("Not resolved: {why}"), true);
                }
            }
            self.resolving.set(false);
            self.confirm_resolve.set(false);
        });
    }

    /// The agent typed in the reply box: the visitor sees "typing" (at most every few seconds).
    pub fn typed(self) {
        if self.mode.get_untracked() != ComposerMode::Reply || !self.holding() {
            return;
        }
        let Some(id) = self.selected.get_untracked() else { return };
        self.outbox.typing(|| InboxClientFrame::Typing { conversation_id: id });
    }

    pub fn ask_for_notifications(self) {
        browser::ask_for_notifications(move |allowed| {
            if self.alive() {
                self.notifications.set(allowed);
            }
        });
    }
}
