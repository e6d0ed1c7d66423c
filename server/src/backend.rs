//! `server`'s implementation of `app`'s `Backend` port: authenticates each call from
//! the request head, then hands it to `handoff` (conversations) or `auth` (accounts).

use std::{collections::BTreeMap, sync::Arc};

use app::{
    auth::api::LoginResponse,
    backend::Backend,
    domain::{
        activity::{ActivityFilter, ActivityPage},
        helpdesk::{Integrations, Verified},
        instructions::InstructionSettings,
        knowledge::{Entry, EntryDraft, ImportFormat, Probe},
        model::{ModelCheck, ModelDraft, ModelSettings, ModelTested},
        playground::{PlaygroundRequest, PlaygroundTurn},
        team::{Password, TeamMember},
        ConversationSummary, MemberView, Message, Note, Role, WidgetLook,
    },
    inbox::api::{ConversationDetail, InboxCounts, InboxFilter},
    settings::api::{ChatbotDetail, ChatbotItem, WidgetSettings},
    widget::api::{HistoryResponse, StartResponse},
    AppError,
};
use async_trait::async_trait;
use http::{header::AUTHORIZATION, request::Parts};
use tower_sessions::Session;

use crate::{
    auth::{
        members::{self, caller, Caller, NewMember},
        session::{end_other_sessions, fingerprint, MEMBER_KEY},
        throttle::SignInThrottle,
        visitor_token,
    },
    brain::per_chatbot::ChatbotBrains,
    chatbot_model, chatbots,
    handoff::{knowledge::Editor, Handoff},
    helpdesk::{admin as desks, outbox::Outbox},
    security::{client::ClientAddress, origin::SiteOrigin},
    store::{activity::NewActivity, conversations::ChatbotRecord, knowledge::Instructions},
    widget,
};

pub struct BatonBackend {
    handoff: Handoff,
    /// The same brains the handoff runs, for Settings → AI model.
    brains: Arc<ChatbotBrains>,
    site: SiteOrigin,
    sign_in: Arc<SignInThrottle>,
}

impl BatonBackend {
    pub fn new(
        handoff: Handoff,
        brains: Arc<ChatbotBrains>,
        site: SiteOrigin,
        sign_in: Arc<SignInThrottle>,
    ) -> BatonBackend {
        BatonBackend { handoff, brains, site, sign_in }
    }

    /// The signed-in member, for a call that only reads. Reads need no origin check:
    /// the browser never lets another site see the answer, and pages rendered after a
    /// link from elsewhere make such reads.
    async fn team(&self, request: &Parts) -> Result<Caller, AppError> {
        caller(self.handoff.store(), request).await
    }

    /// The signed-in member, for a call that changes something: it must come from
    /// Baton's own pages (or from no browser at all).
    async fn team_write(&self, request: &Parts) -> Result<Caller, AppError> {
        self.site.check(&request.headers, false)?;
        self.team(request).await
    }

    /// The signed-in member if an admin (403 "only admins can {what}" for an agent).
    /// `write`: the call changes something.
    async fn admin(&self, request: &Parts, write: bool, what: &str) -> Result<Caller, AppError> {
        let caller = if write { self.team_write(request).await? } else { self.team(request).await? };
        if caller.member.role != Role::Admin {
            return Err(AppError::Forbidden(format!("only admins can {what}")));
        }
        Ok(caller)
    }

    /// An admin of the workspace that owns chatbot `bot_id` (403 for agents, 404 for
    /// another workspace's chatbot). `write`: the call changes something.
    async fn chatbot_admin(
        &self,
        request: &Parts,
        bot_id: &str,
        write: bool,
    ) -> Result<(Caller, ChatbotRecord), AppError> {
        let caller = self.admin(request, write, "change a chatbot's settings").await?;
        let chatbot = desks::chatbot(self.handoff.store(), &caller.workspace_id, bot_id).await?;
        Ok((caller, chatbot))
    }

    fn outbox(&self) -> Result<&Outbox, AppError> {
        self.handoff
            .outbox()
            .ok_or_else(|| AppError::Unavailable("help desks are not configured on this server".into()))
    }
}

fn instruction_settings(chatbot: &ChatbotRecord) -> InstructionSettings {
    let rules = &chatbot.instructions;
    InstructionSettings {
        bot_id: chatbot.public_id.clone(),
        text: rules.text.clone(),
        self_serve_first: rules.self_serve_first,
        always_escalate: rules.always_escalate.clone(),
        never_escalate: rules.never_escalate.clone(),
    }
}

fn editor<'a>(caller: &'a Caller, chatbot: &'a ChatbotRecord) -> Editor<'a> {
    Editor { by: &caller.member, workspace_id: &caller.workspace_id, chatbot }
}

fn bearer(request: &Parts) -> Option<&str> {
    request.headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(visitor_token::from_bearer)
}

fn session(request: &Parts) -> Result<&Session, AppError> {
    request.extensions.get::<Session>().ok_or_else(|| {
        tracing::error!("no session layer in front of the API");
        AppError::Internal
    })
}

#[async_trait]
impl Backend for BatonBackend {
    async fn widget_start(
        &self,
        request: &Parts,
        bot_id: String,
        name: Option<String>,
        email: Option<String>,
    ) -> Result<StartResponse, AppError> {
        self.handoff.start(ClientAddress::of(request).limit_key(), &bot_id, name, email).await
    }

    async fn widget_send(
        &self,
        request: &Parts,
        conversation_id: String,
        client_id: String,
        text: String,
    ) -> Result<Message, AppError> {
        self.handoff.visitor_send(bearer(request), &conversation_id, &client_id, &text).await
    }

    async fn widget_history(
        &self,
        request: &Parts,
        conversation_id: String,
        after_seq: i64,
    ) -> Result<HistoryResponse, AppError> {
        self.handoff.visitor_history(bearer(request), &conversation_id, after_seq).await
    }

    async fn widget_look(&self, bot_id: String) -> Result<WidgetLook, AppError> {
        widget::look_for(self.handoff.store(), &bot_id).await
    }

    async fn login(&self, request: &Parts, email: String, password: Password) -> Result<LoginResponse, AppError> {
        self.site.check(&request.headers, false)?;
        let address = ClientAddress::of(request).limit_key();
        self.sign_in.admit(address, &email)?;
        let caller = match members::verify_login(self.handoff.store(), &email, password).await {
            Err(err @ AppError::Unauthenticated(_)) => {
                self.sign_in.failed(address);
                return Err(err);
            }
            other => other?,
        };
        let session = session(request)?;
        // A fresh session id at sign-in: an id planted before login is worthless after it.
        session.cycle_id().await.map_err(AppError::internal)?;
        session.insert(MEMBER_KEY, &caller.member.id).await.map_err(AppError::internal)?;
        self.handoff.store().record_sign_in(&caller.member.id).await.map_err(AppError::internal)?;
        tracing::info!(member_id = %caller.member.id, "member signed in");
        Ok(LoginResponse { member: caller.member })
    }

    async fn logout(&self, request: &Parts) -> Result<(), AppError> {
        self.site.check(&request.headers, false)?;
        let session = session(request)?;
        let ended = session.id().map(|id| fingerprint(&id));
        session.flush().await.map_err(AppError::internal)?;
        if let Some(ended) = ended {
            self.handoff.signed_out(ended);
        }
        Ok(())
    }

    async fn current_member(&self, request: &Parts) -> Result<MemberView, AppError> {
        Ok(self.team(request).await?.member)
    }

    async fn change_password(&self, request: &Parts, current: Password, new: Password) -> Result<(), AppError> {
        let caller = self.team_write(request).await?;
        // Guessing the current password through this call is throttled like sign-in.
        self.sign_in.admit_member(&caller.member.email)?;
        members::change_password(self.handoff.store(), &caller.member.id, current, new).await?;
        let session = session(request)?;
        let this = session.id().ok_or_else(|| AppError::Unauthenticated("sign in first".into()))?;
        let ended =
            end_other_sessions(self.handoff.store(), &caller.member.id, &this).await.map_err(AppError::internal)?;
        tracing::info!(member_id = %caller.member.id, other_sessions_ended = ended.len(), "password changed");
        for fingerprint in ended {
            self.handoff.signed_out(fingerprint);
        }
        Ok(())
    }

    async fn counts(&self, request: &Parts) -> Result<InboxCounts, AppError> {
        let caller = self.team(request).await?;
        self.handoff
            .store()
            .count_conversations(&caller.workspace_id, &caller.member.id)
            .await
            .map_err(AppError::internal)
    }

    async fn conversations(&self, request: &Parts, filter: InboxFilter) -> Result<Vec<ConversationSummary>, AppError> {
        let caller = self.team(request).await?;
        let mut list = self.handoff.list(&caller.member, &caller.workspace_id, filter).await?;
        desks::with_dispatches(self.handoff.store(), &mut list).await?;
        Ok(list)
    }

    async fn conversation(&self, request: &Parts, conversation_id: String) -> Result<ConversationDetail, AppError> {
        let caller = self.team(request).await?;
        let mut detail = self.handoff.detail(&caller.workspace_id, &conversation_id).await?;
        desks::with_dispatches(self.handoff.store(), std::slice::from_mut(&mut detail.conversation)).await?;
        Ok(detail)
    }

    async fn claim(&self, request: &Parts, conversation_id: String) -> Result<ConversationSummary, AppError> {
        let caller = self.team_write(request).await?;
        self.handoff.claim(&caller.member, &caller.workspace_id, &conversation_id).await
    }

    async fn reply(
        &self,
        request: &Parts,
        conversation_id: String,
        client_id: String,
        text: String,
    ) -> Result<Message, AppError> {
        let caller = self.team_write(request).await?;
        self.handoff.reply(&caller.member, &caller.workspace_id, &conversation_id, &client_id, &text).await
    }

    async fn note(&self, request: &Parts, conversation_id: String, text: String) -> Result<Note, AppError> {
        let caller = self.team_write(request).await?;
        self.handoff.note(&caller.member, &caller.workspace_id, &conversation_id, &text).await
    }

    async fn resolve(&self, request: &Parts, conversation_id: String) -> Result<ConversationSummary, AppError> {
        let caller = self.team_write(request).await?;
        self.handoff.resolve(&caller.member, &caller.workspace_id, &conversation_id).await
    }

    async fn suggest(&self, request: &Parts, conversation_id: String) -> Result<String, AppError> {
        let caller = self.team(request).await?;
        self.handoff.suggest(&caller.member, &caller.workspace_id, &conversation_id).await
    }

    async fn create_member(
        &self,
        request: &Parts,
        email: String,
        name: String,
        password: Option<Password>,
        role: Role,
    ) -> Result<(MemberView, Option<Password>), AppError> {
        let caller = self.admin(request, true, "add team members").await?;
        let generated = password.is_none().then(|| Password::new(crate::auth::password::generate()));
        let chosen = password.or_else(|| generated.clone()).ok_or(AppError::Internal)?;
        let new = NewMember { workspace_id: caller.workspace_id, email, name, password: chosen, role };
        let member = members::create_member(self.handoff.store(), new, Some(&caller.member)).await?;
        tracing::info!(member_id = %member.id, by = %caller.member.id, "member added");
        Ok((member, generated))
    }

    async fn team(&self, request: &Parts) -> Result<Vec<TeamMember>, AppError> {
        let caller = self.admin(request, false, "manage the team").await?;
        members::team(self.handoff.store(), &caller.workspace_id).await
    }

    async fn set_role(&self, request: &Parts, member_id: String, role: Role) -> Result<Vec<TeamMember>, AppError> {
        let caller = self.admin(request, true, "manage the team").await?;
        let store = self.handoff.store();
        members::set_role(store, &caller.member, &caller.workspace_id, &member_id, role).await?;
        tracing::info!(member_id = %member_id, by = %caller.member.id, role = role.as_str(), "role changed");
        members::team(store, &caller.workspace_id).await
    }

    async fn remove_member(&self, request: &Parts, member_id: String) -> Result<Vec<TeamMember>, AppError> {
        let caller = self.admin(request, true, "manage the team").await?;
        self.handoff.remove_member(&caller.member, &caller.workspace_id, &member_id).await?;
        members::team(self.handoff.store(), &caller.workspace_id).await
    }

    async fn update_widget(&self, request: &Parts, update: WidgetSettings) -> Result<WidgetSettings, AppError> {
        let caller = self.admin(request, true, "change a chatbot's widget").await?;
        let update = widget::validate(update)?;
        let store = self.handoff.store();
        let chatbot = desks::chatbot(store, &caller.workspace_id, &update.bot_id).await?;
        let detail = format!("Changed the widget: title “{}”, colour {}", update.title, update.color);
        let activity =
            NewActivity::by(&caller.workspace_id, &caller.member, "widget_changed", detail).of_chatbot(&chatbot.id);
        if !store
            .update_widget(&caller.workspace_id, &update.bot_id, &update, &activity)
            .await
            .map_err(AppError::internal)?
        {
            return Err(AppError::NotFound);
        }
        let chatbot =
            store.chatbot_by_public_id(&update.bot_id).await.map_err(AppError::internal)?.ok_or(AppError::NotFound)?;
        tracing::info!(member_id = %caller.member.id, bot_id = %update.bot_id, "widget settings changed");
        Ok(widget::settings(&chatbot))
    }

    async fn chatbots(&self, request: &Parts) -> Result<Vec<ChatbotItem>, AppError> {
        let caller = self.admin(request, false, "manage chatbots").await?;
        let chatbots = self.handoff.store().chatbots_of(&caller.workspace_id).await.map_err(AppError::internal)?;
        Ok(chatbots
            .into_iter()
            .map(|c| ChatbotItem { archived: c.archived_at.is_some(), bot_id: c.public_id, name: c.name })
            .collect())
    }

    async fn chatbot(&self, request: &Parts, bot_id: String) -> Result<(ChatbotDetail, WidgetSettings), AppError> {
        let (_, chatbot) = self.chatbot_admin(request, &bot_id, false).await?;
        Ok((chatbots::detail(&chatbot, self.site.public_url()), widget::settings(&chatbot)))
    }

    async fn create_chatbot(&self, request: &Parts, name: String) -> Result<(ChatbotDetail, WidgetSettings), AppError> {
        let caller = self.admin(request, true, "create chatbots").await?;
        chatbots::create(self.handoff.store(), &caller, &name, self.site.public_url()).await
    }

    async fn archive_chatbot(
        &self,
        request: &Parts,
        bot_id: String,
        archived: bool,
    ) -> Result<(ChatbotDetail, WidgetSettings), AppError> {
        let (caller, chatbot) = self.chatbot_admin(request, &bot_id, true).await?;
        chatbots::archive(self.handoff.store(), &caller.member, &chatbot, archived, self.site.public_url()).await
    }

    async fn instructions(&self, request: &Parts, bot_id: String) -> Result<InstructionSettings, AppError> {
        let (_, chatbot) = self.chatbot_admin(request, &bot_id, false).await?;
        Ok(instruction_settings(&chatbot))
    }

    async fn save_instructions(
        &self,
        request: &Parts,
        instructions: InstructionSettings,
    ) -> Result<InstructionSettings, AppError> {
        let (caller, chatbot) = self.chatbot_admin(request, &instructions.bot_id, true).await?;
        let checked = instructions.checked()?;
        let rules = Instructions {
            self_serve_first: checked.self_serve_first,
            always_escalate: checked.always_escalate,
            never_escalate: checked.never_escalate,
            text: checked.text,
        };
        let store = self.handoff.store();
        let detail = format!(
            "Changed the instructions: self-serve first {}, {} always-escalate and {} never-escalate phrases",
            if rules.self_serve_first { "on" } else { "off" },
            rules.always_escalate.len(),
            rules.never_escalate.len(),
        );
        let activity = NewActivity::by(&caller.workspace_id, &caller.member, "instructions_changed", detail)
            .of_chatbot(&chatbot.id);
        store.set_instructions(&chatbot.id, &rules, Some(&activity)).await.map_err(AppError::internal)?;
        tracing::info!(member_id = %caller.member.id, bot_id = %chatbot.public_id, "instructions changed");
        let chatbot = store.chatbot_by_id(&chatbot.id).await.map_err(AppError::internal)?.ok_or(AppError::NotFound)?;
        Ok(instruction_settings(&chatbot))
    }

    async fn knowledge(&self, request: &Parts, bot_id: String) -> Result<Vec<Entry>, AppError> {
        let (_, chatbot) = self.chatbot_admin(request, &bot_id, false).await?;
        self.handoff.knowledge(&chatbot).await
    }

    async fn save_knowledge(&self, request: &Parts, bot_id: String, entry: EntryDraft) -> Result<Vec<Entry>, AppError> {
        let (caller, chatbot) = self.chatbot_admin(request, &bot_id, true).await?;
        self.handoff.save_knowledge(&editor(&caller, &chatbot), entry).await
    }

    async fn delete_knowledge(
        &self,
        request: &Parts,
        bot_id: String,
        entry_id: String,
    ) -> Result<Vec<Entry>, AppError> {
        let (caller, chatbot) = self.chatbot_admin(request, &bot_id, true).await?;
        self.handoff.delete_knowledge(&editor(&caller, &chatbot), &entry_id).await
    }

    async fn import_knowledge(
        &self,
        request: &Parts,
        bot_id: String,
        format: ImportFormat,
        text: String,
    ) -> Result<(usize, Vec<Entry>), AppError> {
        let (caller, chatbot) = self.chatbot_admin(request, &bot_id, true).await?;
        self.handoff.import_knowledge(&editor(&caller, &chatbot), format, &text).await
    }

    async fn probe_knowledge(&self, request: &Parts, bot_id: String, question: String) -> Result<Probe, AppError> {
        let (_, chatbot) = self.chatbot_admin(request, &bot_id, false).await?;
        self.handoff.probe(&chatbot, &question).await
    }

    async fn model(&self, request: &Parts, bot_id: String) -> Result<ModelSettings, AppError> {
        let (_, chatbot) = self.chatbot_admin(request, &bot_id, false).await?;
        Ok(chatbot_model::settings(&chatbot, &self.brains))
    }

    async fn save_model(&self, request: &Parts, draft: ModelDraft) -> Result<ModelSettings, AppError> {
        let (caller, chatbot) = self.chatbot_admin(request, &draft.bot_id, true).await?;
        chatbot_model::save(self.handoff.store(), &self.brains, &caller, &chatbot, draft).await
    }

    async fn test_model(&self, request: &Parts, check: ModelCheck) -> Result<ModelTested, AppError> {
        let (_, chatbot) = self.chatbot_admin(request, &check.bot_id, true).await?;
        chatbot_model::test(&self.brains, &chatbot, check).await
    }

    async fn playground(&self, request: &Parts, turn: PlaygroundRequest) -> Result<PlaygroundTurn, AppError> {
        let (_, chatbot) = self.chatbot_admin(request, &turn.bot_id, true).await?;
        self.handoff.playground(&self.brains, &chatbot, turn).await
    }

    async fn integrations(&self, request: &Parts, bot_id: String) -> Result<Integrations, AppError> {
        let (_, chatbot) = self.chatbot_admin(request, &bot_id, false).await?;
        desks::integrations(self.handoff.store(), &chatbot).await
    }

    async fn set_live_handoff(&self, request: &Parts, bot_id: String, on: bool) -> Result<Integrations, AppError> {
        let (caller, chatbot) = self.chatbot_admin(request, &bot_id, true).await?;
        desks::set_live_handoff(self.handoff.store(), &chatbot, &caller.member, on).await
    }

    async fn verify_helpdesk(
        &self,
        request: &Parts,
        bot_id: String,
        desk: String,
        credentials: BTreeMap<String, String>,
    ) -> Result<Verified, AppError> {
        self.chatbot_admin(request, &bot_id, true).await?;
        desks::verify(self.outbox()?, &desk, &credentials).await
    }

    async fn connect_helpdesk(
        &self,
        request: &Parts,
        bot_id: String,
        desk: String,
        credentials: BTreeMap<String, String>,
    ) -> Result<Integrations, AppError> {
        let (caller, chatbot) = self.chatbot_admin(request, &bot_id, true).await?;
        desks::connect(self.handoff.store(), self.outbox()?, &chatbot, &caller.member, &desk, &credentials).await
    }

    async fn disconnect_helpdesk(
        &self,
        request: &Parts,
        bot_id: String,
        desk: String,
    ) -> Result<Integrations, AppError> {
        let (caller, chatbot) = self.chatbot_admin(request, &bot_id, true).await?;
        desks::disconnect(self.handoff.store(), &chatbot, &caller.member, &desk).await
    }

    async fn retry_helpdesk(
        &self,
        request: &Parts,
        bot_id: String,
        conversation_id: String,
    ) -> Result<Integrations, AppError> {
        let (caller, chatbot) = self.chatbot_admin(request, &bot_id, true).await?;
        desks::retry(self.handoff.store(), self.outbox()?, &chatbot, &caller.member, &conversation_id).await
    }

    async fn activity(&self, request: &Parts, filter: ActivityFilter) -> Result<ActivityPage, AppError> {
        let caller = self.admin(request, false, "read the workspace's activity").await?;
        self.handoff.activity(&caller.workspace_id, filter).await
    }
}
