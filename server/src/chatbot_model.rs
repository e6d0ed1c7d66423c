//! Settings → AI model: which AI answers a chatbot, stored with its key sealed like
//! help-desk credentials, and **Test connection**, one real request to an endpoint.
//! A key goes only to the address it was given for: changing the base URL without a
//! new key forgets the stored one, and a test reuses it only at the stored address.
//! The address must be public, or one the operator allowed (`security::egress`):
//! saving or testing any other is refused with the reason, before anything is sent.

use std::net::SocketAddr;

use app::{
    domain::{
        model::{checked_base_url, checked_key, checked_model, key_hint, ModelCheck, ModelDraft, ModelKind},
        model::{ModelSettings, ModelTested},
    },
    AppError,
};
use secrecy::SecretString;

use crate::{
    auth::members::Caller,
    brain::{
        openai::check_endpoint,
        per_chatbot::{key_context, ChatbotBrains},
    },
    security::egress::Egress,
    store::{
        activity::NewActivity,
        conversations::{ChatbotRecord, ModelChoice},
        Store,
    },
};

pub fn settings(chatbot: &ChatbotRecord, brains: &ChatbotBrains) -> ModelSettings {
    let model = &chatbot.model;
    ModelSettings {
        bot_id: chatbot.public_id.clone(),
        kind: model.kind,
        base_url: model.base_url.clone(),
        model: model.name.clone(),
        key_set: model.key_sealed.is_some(),
        key_hint: model.key_hint.clone(),
        server_default: brains.default_label().to_owned(),
    }
}

/// The base URL as the API checks it, where Baton may call it, and the addresses
/// its host was found at (none for an empty one).
async fn endpoint_url(raw: &str, required: bool, egress: &Egress) -> Result<(String, Vec<SocketAddr>), AppError> {
    let url = checked_base_url(raw, required)?;
    if url.is_empty() {
        return Ok((url, Vec::new()));
    }
    let parsed = reqwest::Url::parse(&url)
        .map_err(|err| AppError::InvalidInput(format!("base_url: is not an address Baton can call ({err})")))?;
    let addresses = egress.check(&parsed).await.map_err(|refusal| AppError::InvalidInput(format!("base_url: {refusal}")))?;
    Ok((url, addresses))
}

fn described(choice: &ModelChoice, default_label: &str) -> String {
    match choice.kind {
        ModelKind::Default => format!("the server's default ({default_label})"),
        ModelKind::Builtin => "the built-in AI".to_owned(),
        ModelKind::Openai => {
            let key = match &choice.key_hint {
                Some(hint) => format!("the key ending {hint}"),
                None if choice.key_sealed.is_some() => "a key".to_owned(),
                None => "no key".to_owned(),
            };
            format!("{} at {} with {key}", choice.name, choice.base_url)
        }
    }
}

pub async fn save(
    store: &Store,
    brains: &ChatbotBrains,
    caller: &Caller,
    chatbot: &ChatbotRecord,
    draft: ModelDraft,
) -> Result<ModelSettings, AppError> {
    let required = draft.kind == ModelKind::Openai;
    let (base_url, _) = endpoint_url(&draft.base_url, required, brains.egress()).await?;
    let name = checked_model(&draft.model, required)?;
    let new_key = checked_key(draft.api_key.as_deref())?;
    let stored = &chatbot.model;
    let (key_sealed, hint, key_change) = match new_key {
        Some(key) => (Some(brains.vault().seal(&key, &key_context(&chatbot.id))), key_hint(&key), "; new key"),
        None if stored.key_sealed.is_none() => (None, None, ""),
        None if draft.forget_key => (None, None, "; forgot the key"),
        None if base_url != stored.base_url => (None, None, "; forgot the key (the address changed)"),
        None => (stored.key_sealed.clone(), stored.key_hint.clone(), ""),
    };
    let choice = ModelChoice { kind: draft.kind, base_url, name, key_sealed, key_hint: hint };
    let detail = format!("Chose {}{key_change}", described(&choice, brains.default_label()));
    let activity =
        NewActivity::by(&caller.workspace_id, &caller.member, "model_changed", detail).of_chatbot(&chatbot.id);
    if !store.set_model(&chatbot.id, &choice, &activity).await.map_err(AppError::internal)? {
        return Err(AppError::NotFound);
    }
    tracing::info!(member_id = %caller.member.id, bot_id = %chatbot.public_id, kind = choice.kind.as_str(), "AI model changed");
    let chatbot = store.chatbot_by_id(&chatbot.id).await.map_err(AppError::internal)?.ok_or(AppError::NotFound)?;
    Ok(settings(&chatbot, brains))
}

pub async fn test(brains: &ChatbotBrains, chatbot: &ChatbotRecord, check: ModelCheck) -> Result<ModelTested, AppError> {
    let (base_url, addresses) = endpoint_url(&check.base_url, true, brains.egress()).await?;
    let model = checked_model(&check.model, true)?;
    let key: Option<SecretString> = match checked_key(check.api_key.as_deref())? {
        Some(key) => Some(key.into()),
        None => match &chatbot.model.key_sealed {
            Some(sealed) if chatbot.model.base_url == base_url => {
                Some(brains.vault().open_sealed(sealed, &key_context(&chatbot.id)).map_err(|err| {
                    tracing::warn!(bot_id = %chatbot.public_id, error = %err, "the stored model key does not open");
                    AppError::VerificationFailed("the stored key no longer opens on this server: enter it again".into())
                })?)
            }
            _ => None,
        },
    };
    let config = brains.config(&base_url, &model, key);
    let (reply, took) = check_endpoint(&config, &addresses).await.map_err(AppError::VerificationFailed)?;
    tracing::info!(bot_id = %chatbot.public_id, elapsed_ms = took.as_millis() as u64, "model endpoint tested");
    Ok(ModelTested { model, reply, elapsed_ms: took.as_millis() as u64 })
}
