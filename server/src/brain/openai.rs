//! The OpenAI-compatible brain: any chat-completions endpoint (OpenAI, or a local
//! Ollama, vLLM or llama.cpp server) decides the bot's turn, using tool calls to
//! hand the chat to a person.
//!
//! The model answers from the chatbot's knowledge base (the entries retrieval finds
//! for the visitor's message go into the system prompt) and the admin's
//! instructions. It calls `escalate_to_human` (or `request_email`, which means the
//! same: Baton's handoff asks for the email itself and never trusts the model to).
//! Each attempt has a timeout, transient failures (timeouts, connection errors, 429
//! and 5xx, honouring Retry-After) are retried with backoff (the `backon` crate),
//! and all of it runs under one deadline. When the endpoint fails anyway, or answers
//! something unusable, the built-in brain takes the turn: a visitor never waits
//! forever and never sees an error.

use std::{net::SocketAddr, time::Duration};

use app::domain::{redact::without_card_numbers, AuthorKind, EscalationReason, Message, MAX_MESSAGE_CHARS};
use async_trait::async_trait;
use backon::{ExponentialBuilder, Retryable};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{json, Value};
use url::Url;

use crate::security::egress::{Egress, Refusal};

use super::{builtin::BuiltinBrain, knowledge::RELATED_COVERAGE, summary::clip, BotTurn, Brain, Turn};

/// Where and how to reach the model.
#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    /// Up to and including `/v1`: `https://api.openai.com/v1`, `http://127.0.0.1:11434/v1`.
    pub base_url: String,
    pub model: String,
    /// Sent as a Bearer token; local servers often need none. Never printed.
    pub api_key: Option<SecretString>,
    /// One attempt's limit.
    pub attempt_timeout: Duration,
    /// Retries after the first attempt.
    pub retries: usize,
    /// All attempts and waits together; then the built-in brain answers.
    pub deadline: Duration,
}

pub struct OpenAiBrain {
    client: reqwest::Client,
    config: OpenAiConfig,
    /// Why an admin's endpoint, written as an address, may not be called (a name
    /// is judged by the client's resolver at each lookup).
    refused: Option<Refusal>,
    /// Takes the turn when the model does not answer.
    fallback: BuiltinBrain,
}

#[derive(Debug, thiserror::Error)]
enum CallError {
    #[error("request failed: {0}")]
    Transport(#[from] reqwest::Error),
    #[error("HTTP status {status}")]
    Status { status: u16, retry_after: Option<Duration> },
    #[error("unusable response: {0}")]
    Unusable(String),
    #[error("no answer within {0:?}")]
    Deadline(Duration),
    #[error("refused: {0}")]
    Refused(Refusal),
}

impl CallError {
    fn transient(&self) -> bool {
        match self {
            CallError::Transport(err) => err.is_timeout() || err.is_connect() || err.is_request(),
            CallError::Status { status, .. } => *status == 429 || *status >= 500,
            CallError::Unusable(_) | CallError::Deadline(_) | CallError::Refused(_) => false,
        }
    }
}

/// Retry-After in seconds (the HTTP-date form is rare from these APIs: ignored).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let seconds: f64 = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(60.0)))
}

#[derive(Debug, Deserialize)]
struct Completion {
    choices: Vec<Choice>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    message: AssistantMessage,
}

#[derive(Debug, Deserialize)]
struct AssistantMessage {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<ToolCall>,
}

#[derive(Debug, Deserialize)]
struct ToolCall {
    function: FunctionCall,
}

#[derive(Debug, Deserialize)]
struct FunctionCall {
    name: String,
    /// A JSON object, as a string (as the API sends it).
    arguments: String,
}

#[derive(Debug, Deserialize)]
struct EscalationArguments {
    reason: EscalationReason,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    reply: String,
}

fn tools() -> Value {
    let reason = json!({
        "type": "string",
        "enum": ["explicit_request", "frustration", "cannot_resolve"],
        "description": "explicit_request: the visitor asked for a person. frustration: the visitor is clearly frustrated. \
                        cannot_resolve: the issue is outside the knowledge base, or a billing dispute, refund or \
                        account-specific request."
    });
    let summary = json!({
        "type": "string",
        "description": "One or two sentences on what the visitor needs, in their words, about them \
                        (\"Customer charged twice for their subscription this month and is requesting a fix\")."
    });
    let reply = json!({"type": "string", "description": "A short message to the visitor acknowledging the handoff."});
    json!([
        {"type": "function", "function": {
            "name": "escalate_to_human",
            "description": "Hand the conversation to a person on the support team.",
            "parameters": {"type": "object", "properties": {"reason": reason, "summary": summary, "reply": reply},
                           "required": ["reason", "summary"]}
        }},
        {"type": "function", "function": {
            "name": "request_email",
            "description": "Ask the visitor for their email before handing the conversation to a person.",
            "parameters": {"type": "object", "properties": {"reason": reason, "summary": summary},
                           "required": ["reason", "summary"]}
        }}
    ])
}

fn system_prompt(turn: &Turn<'_>) -> String {
    let chatbot = turn.chatbot;
    let rules = &chatbot.instructions;
    let mut prompt = format!(
        "You are {}, the support assistant on this website. Answer the visitor briefly and only from the knowledge \
         below; if the answer is not there, say you don't know rather than guess. Call escalate_to_human when the \
         visitor asks for a person, is clearly frustrated, or has an issue you cannot resolve (outside the knowledge \
         below, a billing dispute, a double charge, a refund, or anything specific to their account). Do not escalate \
         ordinary questions you can answer. Never ask for the visitor's email yourself: Baton collects it.",
        chatbot.name
    );
    if rules.self_serve_first {
        prompt.push_str(
            "\nBefore escalating an issue you cannot resolve, offer the most relevant knowledge-base answer once.",
        );
    }
    if !rules.always_escalate.is_empty() {
        prompt.push_str(&format!("\nAlways escalate when the visitor mentions: {}.", rules.always_escalate.join("; ")));
    }
    if !rules.never_escalate.is_empty() {
        prompt.push_str(&format!("\nNever escalate because of: {}.", rules.never_escalate.join("; ")));
    }
    if !rules.text.trim().is_empty() {
        prompt.push_str(&format!("\nThe team's instructions:\n{}", rules.text.trim()));
    }
    let last = turn.messages.iter().rev().find(|m| m.author.kind == AuthorKind::Visitor);
    let found = last.and_then(|m| turn.knowledge.best(&m.text)).filter(|hit| hit.coverage >= RELATED_COVERAGE);
    prompt.push_str("\n\nKnowledge:");
    match found {
        Some(hit) => prompt.push_str(&format!("\n- {}: {}", hit.entry.title, hit.entry.body)),
        None => prompt.push_str("\n(nothing relevant found)"),
    }
    prompt
}

/// The transcript in chat-completions roles; system notes stay out, and card
/// numbers never reach the provider.
fn transcript(messages: &[Message]) -> Vec<Value> {
    messages
        .iter()
        .filter_map(|m| match m.author.kind {
            AuthorKind::Visitor => Some(json!({"role": "user", "content": without_card_numbers(&m.text)})),
            AuthorKind::Bot => Some(json!({"role": "assistant", "content": m.text})),
            AuthorKind::Agent => Some(json!({
                "role": "assistant",
                "content": format!("[{} from the team] {}", m.author.name.as_deref().unwrap_or("Agent"), m.text)
            })),
            AuthorKind::System => None,
        })
        .collect()
}

/// The client every model call goes through: no redirects (the endpoint is the
/// admin's: a redirect elsewhere would carry the key along), one attempt's timeout.
fn client_builder(config: &OpenAiConfig) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .timeout(config.attempt_timeout)
        .connect_timeout(config.attempt_timeout.min(Duration::from_secs(5)))
        .user_agent(concat!("baton/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
}

impl OpenAiBrain {
    /// The operator's endpoint (`BATON_LLM_BASE_URL`): called wherever it is.
    pub fn new(config: OpenAiConfig, fallback: BuiltinBrain) -> Result<OpenAiBrain, reqwest::Error> {
        let client = client_builder(&config).build()?;
        Ok(OpenAiBrain { client, config, refused: None, fallback })
    }

    /// An admin's endpoint (Settings → AI model): called only where `egress` allows.
    pub fn guarded(config: OpenAiConfig, fallback: BuiltinBrain, egress: &Egress) -> Result<OpenAiBrain, reqwest::Error> {
        let url = Url::parse(&config.base_url).ok();
        let port = url.as_ref().and_then(Url::port_or_known_default).unwrap_or(443);
        let refused = match &url {
            Some(url) => egress.check_written(url).err(),
            None => Some(Refusal::NotWeb),
        };
        let client = client_builder(&config).dns_resolver(egress.resolver(port)).build()?;
        Ok(OpenAiBrain { client, config, refused, fallback })
    }

    async fn attempt(&self, body: &Value) -> Result<AssistantMessage, CallError> {
        if let Some(refusal) = &self.refused {
            return Err(CallError::Refused(refusal.clone()));
        }
        let url = format!("{}/chat/completions", self.config.base_url.trim_end_matches('/'));
        let mut request = self.client.post(url).json(body);
        if let Some(key) = self.config.api_key.as_ref().map(ExposeSecret::expose_secret).filter(|k| !k.is_empty()) {
            request = request.bearer_auth(key);
        }
        let response = request.send().await?;
        let status = response.status();
        if !status.is_success() {
            return Err(CallError::Status { status: status.as_u16(), retry_after: retry_after(response.headers()) });
        }
        let completion: Completion =
            response.json().await.map_err(|err| CallError::Unusable(format!("not a chat completion: {err}")))?;
        completion
            .choices
            .into_iter()
            .next()
            .map(|choice| choice.message)
            .ok_or_else(|| CallError::Unusable("no choices".to_owned()))
    }

    /// One completion, retried on transient failures, under the deadline.
    async fn complete(&self, messages: Vec<Value>, with_tools: bool) -> Result<AssistantMessage, CallError> {
        let mut body = json!({"model": self.config.model, "messages": messages, "temperature": 0.2});
        if with_tools {
            body["tools"] = tools();
            body["tool_choice"] = json!("auto");
        }
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(200))
            .with_max_delay(Duration::from_secs(5))
            .with_max_times(self.config.retries)
            .with_jitter();
        let attempts = (|| self.attempt(&body))
            .retry(backoff)
            .when(CallError::transient)
            .adjust(|err, delay| match err {
                CallError::Status { retry_after: Some(wait), .. } => delay.map(|_| *wait),
                _ => delay,
            })
            .notify(|err, delay| tracing::info!(error = %err, ?delay, "retrying the model"));
        tokio::time::timeout(self.config.deadline, attempts)
            .await
            .map_err(|_| CallError::Deadline(self.config.deadline))?
    }

    async fn decide(&self, turn: &Turn<'_>) -> Result<BotTurn, CallError> {
        let mut messages = vec![json!({"role": "system", "content": system_prompt(turn)})];
        messages.extend(transcript(turn.messages));
        let answer = self.complete(messages, true).await?;
        if let Some(call) = answer.tool_calls.first() {
            if !matches!(call.function.name.as_str(), "escalate_to_human" | "request_email") {
                return Err(CallError::Unusable(format!("unknown tool {:?}", call.function.name)));
            }
            let args: EscalationArguments = serde_json::from_str(&call.function.arguments)
                .map_err(|err| CallError::Unusable(format!("bad {} arguments: {err}", call.function.name)))?;
            let reply = match args.reply.trim() {
                "" => "I'll bring in a member of our team.".to_owned(),
                said => clip(said, 500),
            };
            // A blank summary is written by the built-in summariser (see `handoff`).
            return Ok(BotTurn::Escalate {
                reason: args.reason,
                summary: clip(args.summary.trim(), 400),
                reply,
                topic: None,
            });
        }
        match answer.content.as_deref().map(str::trim) {
            Some(text) if !text.is_empty() => Ok(BotTurn::Reply(clip(text, MAX_MESSAGE_CHARS - 1))),
            _ => Err(CallError::Unusable("neither content nor a tool call".to_owned())),
        }
    }

    async fn text(&self, instruction: String, turn: &Turn<'_>) -> Result<String, CallError> {
        let mut messages = vec![json!({"role": "system", "content": instruction})];
        messages.extend(transcript(turn.messages));
        let answer = self.complete(messages, false).await?;
        match answer.content.as_deref().map(str::trim) {
            Some(text) if !text.is_empty() => Ok(text.to_owned()),
            _ => Err(CallError::Unusable("no content".to_owned())),
        }
    }
}

/// Settings → AI model's **Test connection**: one request, no retries, answered in
/// words an admin can act on, to the `checked` addresses of the endpoint's host
/// (`Egress::check`: no second lookup). Ok: what the model said and how long it took.
pub async fn check_endpoint(config: &OpenAiConfig, checked: &[SocketAddr]) -> Result<(String, Duration), String> {
    let mut builder = client_builder(config);
    if let Some(url::Host::Domain(name)) = Url::parse(&config.base_url).ok().as_ref().and_then(Url::host) {
        builder = builder.resolve_to_addrs(name, checked);
    }
    let client = builder.build().map_err(|err| format!("Baton could not make an HTTP client: {err}"))?;
    let url = format!("{}/chat/completions", config.base_url.trim_end_matches('/'));
    let body = json!({
        "model": config.model,
        "messages": [{"role": "user", "content": "Reply with the single word OK."}],
    });
    let mut request = client.post(&url).json(&body);
    if let Some(key) = config.api_key.as_ref().map(ExposeSecret::expose_secret).filter(|k| !k.is_empty()) {
        request = request.bearer_auth(key);
    }
    let started = std::time::Instant::now();
    let response =
        request.send().await.map_err(|err| unreachable_reason(&config.base_url, config.attempt_timeout, &err))?;
    let status = response.status();
    if status.is_redirection() {
        let to = response.headers().get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("elsewhere");
        return Err(format!(
            "the endpoint redirects to {to}; Baton does not follow redirects (they would carry the key along): give \
             the final address"
        ));
    }
    if !status.is_success() {
        let said = response.text().await.ok().and_then(|text| vendor_message(&text));
        return Err(status_reason(status.as_u16(), said.as_deref(), &config.model));
    }
    let completion: Completion = response
        .json()
        .await
        .map_err(|err| format!("the answer is not an OpenAI-style chat completion ({err}); check the base URL"))?;
    let reply = completion.choices.into_iter().next().and_then(|c| c.message.content).unwrap_or_default();
    Ok((clip(reply.trim(), 200), started.elapsed()))
}

fn unreachable_reason(base_url: &str, timeout: Duration, err: &reqwest::Error) -> String {
    if err.is_timeout() {
        format!("{base_url} did not answer within {} seconds", timeout.as_secs())
    } else if err.is_connect() {
        format!("nothing answered at {base_url}: is the server running, and is the address right?")
    } else {
        format!("could not reach {base_url}: {err}")
    }
}

/// The `error.message` of an OpenAI-style error body (clipped), if it has one.
fn vendor_message(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    let message = value.pointer("/error/message").or_else(|| value.get("error")).and_then(Value::as_str)?;
    Some(clip(message.trim(), 200))
}

fn status_reason(status: u16, said: Option<&str>, model: &str) -> String {
    let detail = said.map(|m| format!(": {m}")).unwrap_or_default();
    match status {
        401 | 403 => format!("the endpoint refused the API key (HTTP {status}{detail}): check the key"),
        404 => format!(
            "the endpoint has no model \"{model}\" or no chat-completions path (HTTP 404{detail}); the base URL \
             usually ends in /v1"
        ),
        429 => format!("the endpoint is rate-limiting this key or it is out of quota (HTTP 429{detail})"),
        400 | 422 => format!("the endpoint refused the request (HTTP {status}{detail}): check the model's name"),
        _ => format!("the endpoint failed (HTTP {status}{detail})"),
    }
}

#[async_trait]
impl Brain for OpenAiBrain {
    async fn respond(&self, turn: &Turn<'_>) -> BotTurn {
        match self.decide(turn).await {
            Ok(decision) => decision,
            Err(err) => {
                tracing::warn!(error = %err, "the model did not answer; the built-in brain takes this turn");
                self.fallback.decide(turn)
            }
        }
    }

    async fn suggest_reply(&self, turn: &Turn<'_>, agent_name: &str) -> String {
        let instruction = format!(
            "{}\n\nYou are now drafting the next reply for {agent_name}, a person on the support team who has taken \
             over this chat. Write only the reply, in the first person, friendly and brief.",
            system_prompt(turn)
        );
        match self.text(instruction, turn).await {
            Ok(text) => clip(&text, MAX_MESSAGE_CHARS - 1),
            Err(err) => {
                tracing::warn!(error = %err, "the model did not draft a reply; using the built-in draft");
                BuiltinBrain::draft(turn, agent_name)
            }
        }
    }

    async fn summarize(&self, turn: &Turn<'_>, reason: EscalationReason) -> String {
        let instruction = "Summarise in one or two sentences what the visitor (the user) needs, about them, for the \
                           support team (\"Customer charged twice for their subscription this month and is requesting \
                           a fix\"). Write only the summary."
            .to_owned();
        match self.text(instruction, turn).await {
            Ok(text) => clip(&text, 400),
            Err(err) => {
                tracing::warn!(error = %err, "the model did not summarise; using the built-in summary");
                self.fallback.summarize(turn, reason).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_never_shows_in_debug_output() {
        let config = OpenAiConfig {
            base_url: "http://127.0.0.1:1/v1".into(),
            model: "m".into(),
            api_key: Some("sk-live-abc123".into()),
            attempt_timeout: Duration::from_secs(1),
            retries: 0,
            deadline: Duration::from_secs(1),
        };
        assert!(!format!("{config:?}").contains("sk-live-abc123"));
    }

    #[test]
    fn retry_after_is_read_in_seconds_and_capped() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::RETRY_AFTER, reqwest::header::HeaderValue::from_static("2"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert(reqwest::header::RETRY_AFTER, reqwest::header::HeaderValue::from_static("3600"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(60)));
        headers.insert(reqwest::header::RETRY_AFTER, reqwest::header::HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn failed_tests_say_what_to_check() {
        assert!(status_reason(401, Some("Incorrect API key"), "m").contains("refused the API key"));
        assert!(status_reason(404, None, "gpt-x").contains("\"gpt-x\""));
        assert!(status_reason(503, None, "m").ends_with("(HTTP 503)"));
        assert_eq!(vendor_message(r#"{"error": {"message": "bad key"}}"#).as_deref(), Some("bad key"));
        assert_eq!(vendor_message(r#"{"error": "model not found"}"#).as_deref(), Some("model not found"));
        assert_eq!(vendor_message("<html>"), None);
    }

    #[test]
    fn only_timeouts_connection_errors_429_and_5xx_are_retried() {
        assert!(CallError::Status { status: 429, retry_after: None }.transient());
        assert!(CallError::Status { status: 503, retry_after: None }.transient());
        assert!(!CallError::Status { status: 401, retry_after: None }.transient());
        assert!(!CallError::Unusable("x".into()).transient());
    }
}
