//! What the team does: list and read conversations, take one over, reply, write
//! notes, ask for a suggested reply, resolve.

use app::{
    domain::{
        live::TeamEvent, Author, AuthorKind, ClientId, Command, ConversationSummary, MemberView, Message, MessageText,
        Note, Role,
    },
    inbox::api::{ConversationDetail, InboxFilter},
    AppError,
};

use super::{
    engine::{Change, Pending, Sent},
    Handoff,
};
use crate::{
    brain::Turn,
    live::bus::Announcement,
    store::{
        conversations::{insert_note, ConversationRecord},
        now_ms,
    },
};

impl Handoff {
    /// The conversation, if it is in the caller's workspace; 404 for any other.
    async fn team_conversation(&self, workspace_id: &str, id: &str) -> Result<ConversationRecord, AppError> {
        self.store
            .conversation_in_workspace(id, workspace_id)
            .await
            .map_err(AppError::internal)?
            .ok_or(AppError::NotFound)
    }

    pub async fn list(
        &self,
        member: &MemberView,
        workspace_id: &str,
        filter: InboxFilter,
    ) -> Result<Vec<ConversationSummary>, AppError> {
        let rows = self.store.list_conversations(workspace_id, filter, &member.id).await.map_err(AppError::internal)?;
        Ok(rows.iter().map(ConversationRecord::to_summary).collect())
    }

    pub async fn detail(&self, workspace_id: &str, id: &str) -> Result<ConversationDetail, AppError> {
        let conversation = self.team_conversation(workspace_id, id).await?;
        let messages = self.store.messages_after(&conversation.id, 0, i64::MAX).await.map_err(AppError::internal)?;
        let notes = self.store.notes_for(&conversation.id).await.map_err(AppError::internal)?;
        Ok(ConversationDetail { conversation: conversation.to_summary(), messages, notes })
    }

    /// A reply drafted by the brain for `member`, grounded in the transcript and the
    /// chatbot's knowledge base.
    pub async fn suggest(&self, member: &MemberView, workspace_id: &str, id: &str) -> Result<String, AppError> {
        let conversation = self.team_conversation(workspace_id, id).await?;
        let chatbot = self.chatbot_of(&conversation).await?;
        // The agent's draft reads the whole recent transcript, before a hand-back too.
        let messages = self.brain_window(&conversation, 0).await?;
        let knowledge = self.knowledge.for_chatbot(&self.store, &chatbot).await.map_err(AppError::internal)?;
        let turn =
            Turn { chatbot: &chatbot, knowledge: &knowledge, visitor: &conversation.visitor, messages: &messages };
        Ok(self.brain.suggest_reply(&turn, &member.name).await)
    }

    pub async fn claim(
        &self,
        member: &MemberView,
        workspace_id: &str,
        id: &str,
    ) -> Result<ConversationSummary, AppError> {
        let conversation = self.team_conversation(workspace_id, id).await?;
        let change = Change::new(Command::Claim { agent: member.agent_ref() }, &member.id);
        Ok(self.apply(conversation, change).await?.conversation.to_summary())
    }

    pub async fn reply(
        &self,
        member: &MemberView,
        workspace_id: &str,
        id: &str,
        client_id: &str,
        text: &str,
    ) -> Result<Message, AppError> {
        let conversation = self.team_conversation(workspace_id, id).await?;
        let client_id = ClientId::parse(client_id)?;
        let text = MessageText::parse(text)?;
        let pending = Pending {
            author: Author { kind: AuthorKind::Agent, name: Some(member.name.clone()) },
            author_id: Some(member.id.clone()),
            text: text.into_inner(),
            client_id: Some(client_id.as_str().to_owned()),
            asks: None,
        };
        let command = Command::AgentReply { agent_id: member.id.clone() };
        match self.send_once(conversation, command, &member.id, pending, || Ok(())).await? {
            Sent::Stored(message) => Ok(message),
            Sent::New(applied) => applied.messages.into_iter().next().ok_or(AppError::Internal),
        }
    }

    pub async fn note(&self, member: &MemberView, workspace_id: &str, id: &str, text: &str) -> Result<Note, AppError> {
        let conversation = self.team_conversation(workspace_id, id).await?;
        let text = MessageText::parse(text)?;
        let mut tx = self.store.begin_write().await.map_err(AppError::internal)?;
        let note = insert_note(&mut tx, &conversation.id, &member.agent_ref(), text.as_str(), now_ms())
            .await
            .map_err(AppError::internal)?;
        tx.commit().await.map_err(AppError::internal)?;
        // Notes go to the team's channel only: `VisitorEvent` cannot even hold one.
        self.hub.publish_team(
            &conversation.workspace_id,
            TeamEvent::Note { conversation_id: conversation.id.clone(), note: note.clone() },
        );
        self.bus.announce(Announcement::Note {
            w: conversation.workspace_id.clone(),
            c: conversation.id.clone(),
            id: note.id.clone(),
        });
        Ok(note)
    }

    pub async fn resolve(
        &self,
        member: &MemberView,
        workspace_id: &str,
        id: &str,
    ) -> Result<ConversationSummary, AppError> {
        let conversation = self.team_conversation(workspace_id, id).await?;
        let command = Command::Resolve { by: member.agent_ref(), may_override: member.role == Role::Admin };
        Ok(self.apply(conversation, Change::new(command, &member.id)).await?.conversation.to_summary())
    }
}
