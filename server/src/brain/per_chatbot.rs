//! The brain each chatbot chose in Settings → AI model: the server's default
//! (`BATON_BRAIN`), the built-in brain, or its own OpenAI-compatible endpoint. One
//! `Brain` in front of them all, so the rest of Baton never asks which.
//!
//! An endpoint's client is made once per chatbot and made again when its settings
//! change. A key that no longer opens (the server key was replaced without keeping
//! the old one as a previous key) is logged, and the built-in brain answers: a
//! visitor never sees the fault.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use app::domain::{model::ModelKind, EscalationReason};
use async_trait::async_trait;

use super::{
    builtin::BuiltinBrain,
    knowledge::{Hit, KnowledgeBase},
    openai::{OpenAiBrain, OpenAiConfig},
    BotTurn, Brain, Turn,
};
use crate::{
    security::{egress::Egress, vault::Vault},
    store::conversations::{ChatbotRecord, ModelChoice},
};

/// How long the model may take: the server-wide `BATON_LLM_*` limits, for every endpoint.
#[derive(Debug, Clone, Copy)]
pub struct CallLimits {
    pub attempt_timeout: Duration,
    pub retries: usize,
    pub deadline: Duration,
}

/// What sealed a chatbot's key: the key opens only for this chatbot.
pub fn key_context(chatbot_id: &str) -> String {
    format!("model:{chatbot_id}")
}

pub struct ChatbotBrains {
    default: Arc<dyn Brain>,
    /// What `default` is, in words, for Settings.
    default_label: String,
    builtin: Arc<BuiltinBrain>,
    vault: Arc<Vault>,
    limits: CallLimits,
    /// Where a chatbot's endpoint may be (the operator's own default is not judged).
    egress: Egress,
    /// Per chatbot: the settings its client was made from, and the client.
    endpoints: Mutex<HashMap<String, (ModelChoice, Arc<OpenAiBrain>)>>,
}

impl ChatbotBrains {
    pub fn new(
        default: Arc<dyn Brain>,
        default_label: String,
        builtin: BuiltinBrain,
        vault: Arc<Vault>,
        limits: CallLimits,
        egress: Egress,
    ) -> ChatbotBrains {
        ChatbotBrains {
            default,
            default_label,
            builtin: Arc::new(builtin),
            vault,
            limits,
            egress,
            endpoints: Mutex::default(),
        }
    }

    /// Where an admin's endpoint may be, and the help desks' hosts.
    pub fn egress(&self) -> &Egress {
        &self.egress
    }

    pub fn default_label(&self) -> &str {
        &self.default_label
    }

    /// The built-in brain, whose readings the Playground shows for every chatbot.
    pub fn builtin(&self) -> &BuiltinBrain {
        &self.builtin
    }

    /// Which AI answers `chatbot`, in words.
    pub fn label_for(&self, chatbot: &ChatbotRecord) -> String {
        match chatbot.model.kind {
            ModelKind::Default => self.default_label.clone(),
            ModelKind::Builtin => "the built-in AI".to_owned(),
            ModelKind::Openai => format!("{} at {}", chatbot.model.name, chatbot.model.base_url),
        }
    }

    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    pub fn limits(&self) -> CallLimits {
        self.limits
    }

    /// The endpoint's settings with its key opened.
    pub fn config(&self, base_url: &str, model: &str, key: Option<secrecy::SecretString>) -> OpenAiConfig {
        OpenAiConfig {
            base_url: base_url.to_owned(),
            model: model.to_owned(),
            api_key: key,
            attempt_timeout: self.limits.attempt_timeout,
            retries: self.limits.retries,
            deadline: self.limits.deadline,
        }
    }

    fn pick(&self, chatbot: &ChatbotRecord) -> Arc<dyn Brain> {
        match chatbot.model.kind {
            ModelKind::Default => self.default.clone(),
            ModelKind::Builtin => self.builtin.clone(),
            ModelKind::Openai => match self.endpoint(chatbot) {
                Some(brain) => brain,
                None => self.builtin.clone(),
            },
        }
    }

    fn endpoint(&self, chatbot: &ChatbotRecord) -> Option<Arc<dyn Brain>> {
        let mut endpoints = self.endpoints.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((made_from, brain)) = endpoints.get(&chatbot.id) {
            if *made_from == chatbot.model {
                return Some(brain.clone());
            }
        }
        let key = match &chatbot.model.key_sealed {
            None => None,
            Some(sealed) => match self.vault.open_sealed(sealed, &key_context(&chatbot.id)) {
                Ok(key) => Some(key),
                Err(err) => {
                    tracing::warn!(
                        bot_id = %chatbot.public_id,
                        error = %err,
                        "the chatbot's model key does not open: the built-in brain answers until an admin saves it again"
                    );
                    return None;
                }
            },
        };
        let config = self.config(&chatbot.model.base_url, &chatbot.model.name, key);
        match OpenAiBrain::guarded(config, (*self.builtin).clone(), &self.egress) {
            Ok(brain) => {
                let brain = Arc::new(brain);
                endpoints.insert(chatbot.id.clone(), (chatbot.model.clone(), brain.clone()));
                Some(brain)
            }
            Err(err) => {
                tracing::warn!(bot_id = %chatbot.public_id, error = %err, "cannot make the model's HTTP client");
                None
            }
        }
    }
}

#[async_trait]
impl Brain for ChatbotBrains {
    async fn respond(&self, turn: &Turn<'_>) -> BotTurn {
        self.pick(turn.chatbot).respond(turn).await
    }

    async fn suggest_reply(&self, turn: &Turn<'_>, agent_name: &str) -> String {
        self.pick(turn.chatbot).suggest_reply(turn, agent_name).await
    }

    async fn summarize(&self, turn: &Turn<'_>, reason: EscalationReason) -> String {
        self.pick(turn.chatbot).summarize(turn, reason).await
    }

    fn lookup<'k>(&self, chatbot: &ChatbotRecord, knowledge: &'k KnowledgeBase, question: &str) -> Option<Hit<'k>> {
        self.pick(chatbot).lookup(chatbot, knowledge, question)
    }
}
