//! What admins do in Settings → Integrations: read the cards, turn Live Agent
//! Handoff on or off, verify a desk's form (storing nothing), connect (verify again,
//! then seal and store), disconnect, and retry a failed dispatch. Every call is
//! scoped to the caller's workspace: another workspace's chatbot is `NotFound`.

use std::collections::BTreeMap;

use app::{
    domain::{
        helpdesk::{Desk, DeskCard, Dispatch, Integrations, LastDispatch, Verified, PRIORITY},
        ConversationSummary, MemberView, StateKind,
    },
    AppError,
};

use super::{connector, outbox::Outbox, Form};
use crate::{
    handoff::route::{route, Route},
    store::{
        activity::NewActivity,
        conversations::ChatbotRecord,
        helpdesks::{connection_context, ConnectionRecord},
        now_ms, rfc3339, Store,
    },
};

/// The caller's chatbot `bot_id`, or `NotFound`.
pub async fn chatbot(store: &Store, workspace_id: &str, bot_id: &str) -> Result<ChatbotRecord, AppError> {
    let chatbot = store.chatbot_by_public_id(bot_id).await.map_err(AppError::internal)?;
    chatbot.filter(|c| c.workspace_id == workspace_id).ok_or(AppError::NotFound)
}

pub async fn integrations(store: &Store, chatbot: &ChatbotRecord) -> Result<Integrations, AppError> {
    let connections = store.connections(&chatbot.id).await.map_err(AppError::internal)?;
    let connected: Vec<Desk> = connections.iter().map(|c| c.desk).collect();
    let active = match route(chatbot.live_handoff, &connected) {
        Route::HelpDesk(desk) => Some(desk),
        Route::Inbox | Route::Nobody => None,
    };
    let mut desks = Vec::with_capacity(PRIORITY.len());
    for desk in PRIORITY {
        let connection = connections.iter().find(|c| c.desk == desk);
        let last = store.last_dispatch(&chatbot.id, desk).await.map_err(AppError::internal)?;
        desks.push(DeskCard {
            desk,
            connected: connection.is_some(),
            account: connection.map(|c| c.account.clone()),
            since: connection.map(|c| rfc3339(c.connected_at)),
            secret_hint: connection.and_then(|c| c.secret_hint.clone()),
            active: active == Some(desk),
            last_dispatch: last.map(|row| LastDispatch {
                error: row.shown_error(),
                conversation_id: row.conversation_id,
                status: row.status.as_str().to_owned(),
                ticket_url: row.ticket_url,
                at: rfc3339(row.updated_at),
            }),
        });
    }
    Ok(Integrations { bot_id: chatbot.public_id.clone(), live_handoff: chatbot.live_handoff, desks })
}

/// Tells each conversation handed to a help desk where it went and how it went (the
/// Inbox shows a failed handoff with the vendor's reason).
pub async fn with_dispatches(store: &Store, conversations: &mut [ConversationSummary]) -> Result<(), AppError> {
    let handed: Vec<&str> =
        conversations.iter().filter(|c| c.state == StateKind::HandedOff).map(|c| c.id.as_str()).collect();
    let rows = store.dispatches_of(&handed).await.map_err(AppError::internal)?;
    for conversation in conversations.iter_mut() {
        if let Some(row) = rows.iter().find(|r| r.conversation_id == conversation.id) {
            conversation.dispatch = Some(Dispatch {
                desk: row.desk,
                status: row.status.as_str().to_owned(),
                ticket_url: row.ticket_url.clone(),
                error: row.shown_error(),
            });
        }
    }
    Ok(())
}

fn desk_of(name: &str) -> Result<Desk, AppError> {
    Desk::parse(name).ok_or_else(|| {
        let known: Vec<&str> = PRIORITY.iter().map(|d| d.as_str()).collect();
        AppError::InvalidInput(format!("desk: {name:?} is not one of {}", known.join(", ")))
    })
}

/// Checks the form with the vendor. `partial`: the choices may still be open.
async fn checked(
    outbox: &Outbox,
    desk: &str,
    credentials: &BTreeMap<String, String>,
    partial: bool,
) -> Result<(Form, Verified), AppError> {
    let desk = desk_of(desk)?;
    let mut form = Form::parse(desk, credentials, partial)?;
    let verified =
        connector(desk).verify(outbox.http(), &mut form).await.map_err(|err| AppError::VerificationFailed(err.0))?;
    Ok((form, verified))
}

pub async fn verify(outbox: &Outbox, desk: &str, credentials: &BTreeMap<String, String>) -> Result<Verified, AppError> {
    checked(outbox, desk, credentials, true).await.map(|(_, verified)| verified)
}

pub async fn connect(
    store: &Store,
    outbox: &Outbox,
    chatbot: &ChatbotRecord,
    by: &MemberView,
    desk: &str,
    credentials: &BTreeMap<String, String>,
) -> Result<Integrations, AppError> {
    let (form, verified) = checked(outbox, desk, credentials, false).await?;
    let record = ConnectionRecord {
        chatbot_id: chatbot.id.clone(),
        desk: form.desk,
        account: verified.account,
        secret_hint: form.secret_hint(),
        sealed: outbox.vault().seal(&form.to_json(), &connection_context(&chatbot.id, form.desk)),
        connected_by: by.id.clone(),
        connected_at: now_ms(),
    };
    let detail = format!("Connected {} ({})", form.desk.label(), record.account);
    let activity = NewActivity::by(&chatbot.workspace_id, by, "helpdesk_connected", detail).of_chatbot(&chatbot.id);
    store.save_connection(&record, &activity).await.map_err(AppError::internal)?;
    tracing::info!(member_id = %by.id, bot_id = %chatbot.public_id, desk = form.desk.as_str(), "help desk connected");
    integrations(store, chatbot).await
}

pub async fn disconnect(
    store: &Store,
    chatbot: &ChatbotRecord,
    by: &MemberView,
    desk: &str,
) -> Result<Integrations, AppError> {
    let desk = desk_of(desk)?;
    let detail = format!("Disconnected {}", desk.label());
    let activity = NewActivity::by(&chatbot.workspace_id, by, "helpdesk_disconnected", detail).of_chatbot(&chatbot.id);
    if !store.delete_connection(&chatbot.id, desk, &activity).await.map_err(AppError::internal)? {
        return Err(AppError::Conflict(format!("{} is not connected", desk.label())));
    }
    tracing::info!(member_id = %by.id, bot_id = %chatbot.public_id, desk = desk.as_str(), "help desk disconnected");
    integrations(store, chatbot).await
}

pub async fn set_live_handoff(
    store: &Store,
    chatbot: &ChatbotRecord,
    by: &MemberView,
    on: bool,
) -> Result<Integrations, AppError> {
    let detail = format!("Turned Live Agent Handoff {}", if on { "on" } else { "off" });
    let activity = NewActivity::by(&chatbot.workspace_id, by, "live_handoff_changed", detail).of_chatbot(&chatbot.id);
    if !store.set_live_handoff(&chatbot.id, on, &activity).await.map_err(AppError::internal)? {
        return Err(AppError::NotFound);
    }
    tracing::info!(member_id = %by.id, bot_id = %chatbot.public_id, on, "live agent handoff changed");
    let chatbot = store.chatbot_by_id(&chatbot.id).await.map_err(AppError::internal)?.ok_or(AppError::NotFound)?;
    integrations(store, &chatbot).await
}

/// Sends a failed dispatch of this chatbot's conversation again.
pub async fn retry(
    store: &Store,
    outbox: &Outbox,
    chatbot: &ChatbotRecord,
    by: &MemberView,
    conversation_id: &str,
) -> Result<Integrations, AppError> {
    let row = store.outbox_of_conversation(conversation_id).await.map_err(AppError::internal)?;
    let row = row.filter(|r| r.chatbot_id == chatbot.id).ok_or(AppError::NotFound)?;
    let detail = format!("Sent conversation {conversation_id} to {} again after it failed", row.desk.label());
    let activity = NewActivity::by(&chatbot.workspace_id, by, "handoff_retried", detail).of_chatbot(&chatbot.id);
    if !store.outbox_requeue(&row.id, now_ms(), &activity).await.map_err(AppError::internal)? {
        return Err(AppError::Conflict("this handoff has not failed: there is nothing to retry".into()));
    }
    tracing::info!(member_id = %by.id, bot_id = %chatbot.public_id, conversation_id, "help-desk dispatch retried");
    outbox.wake();
    integrations(store, chatbot).await
}
