//! Which AI answers a chatbot, as admins set it in Settings → AI model: the server's
//! default (`BATON_BRAIN`), the built-in AI, or an OpenAI-compatible endpoint of the
//! chatbot's own (base URL, model, and a key that is written, never read back).
//! Checked here, for the server's API and the page alike.

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Most characters of the base URL.
pub const MAX_BASE_URL_CHARS: usize = 500;
/// Most characters of the model's name.
pub const MAX_MODEL_CHARS: usize = 200;
/// Most characters of the API key.
pub const MAX_KEY_CHARS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// Whatever the server runs for chatbots that set nothing (`BATON_BRAIN`).
    #[default]
    Default,
    /// Baton's own rules and sentence model; nothing leaves the server.
    Builtin,
    /// The chatbot's own chat-completions endpoint.
    Openai,
}

impl ModelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ModelKind::Default => "default",
            ModelKind::Builtin => "builtin",
            ModelKind::Openai => "openai",
        }
    }

    pub fn parse(raw: &str) -> Option<ModelKind> {
        [ModelKind::Default, ModelKind::Builtin, ModelKind::Openai].into_iter().find(|k| k.as_str() == raw)
    }
}

/// `settings/model`: a chatbot's choice as stored. The key itself is never sent back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelSettings {
    pub bot_id: String,
    pub kind: ModelKind,
    /// Kept when another kind is chosen, so switching back needs no retyping.
    pub base_url: String,
    pub model: String,
    /// Whether a key is stored, and its last four characters when it is long enough
    /// to show them safely.
    pub key_set: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_hint: Option<String>,
    /// What `default` means on this server, in words ("the built-in AI").
    pub server_default: String,
}

/// `settings/model/save`: the form. `api_key` absent (or empty) keeps the stored key,
/// unless `forget_key` is set or the base URL changes (a key goes only to the
/// address it was given for).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelDraft {
    pub bot_id: String,
    pub kind: ModelKind,
    #[serde(default)]
    pub base_url: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub api_key: Option<String>,
    #[serde(default)]
    pub forget_key: bool,
}

/// `settings/model/test`: one real request to an endpoint, with the form's values;
/// without `api_key`, the stored key if the base URL is the stored one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelCheck {
    pub bot_id: String,
    pub base_url: String,
    pub model: String,
    #[serde(default)]
    pub api_key: Option<String>,
}

/// What the endpoint answered to "Reply with the single word OK."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelTested {
    pub model: String,
    pub reply: String,
    pub elapsed_ms: u64,
}

fn invalid(field: &str, problem: &str) -> AppError {
    AppError::InvalidInput(format!("{field}: {problem}"))
}

/// The base URL trimmed, without a trailing `/`: http(s), no spaces, not overlong.
/// Empty stays empty (`required` says whether that is allowed).
pub fn checked_base_url(raw: &str, required: bool) -> Result<String, AppError> {
    let url = raw.trim().trim_end_matches('/');
    if url.is_empty() {
        return if required {
            Err(invalid("base_url", "is empty: give the endpoint's address"))
        } else {
            Ok(String::new())
        };
    }
    if url.chars().count() > MAX_BASE_URL_CHARS {
        return Err(invalid("base_url", &format!("is longer than {MAX_BASE_URL_CHARS} characters")));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("base_url", "holds a space or a control character"));
    }
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') => Ok(url.to_owned()),
        _ => Err(invalid("base_url", "must be an http:// or https:// address, such as https://api.openai.com/v1")),
    }
}

/// The model's name trimmed; empty stays empty unless `required`.
pub fn checked_model(raw: &str, required: bool) -> Result<String, AppError> {
    let model = raw.trim();
    if model.is_empty() && required {
        return Err(invalid("model", "is empty: give the model's name, such as gpt-4o-mini"));
    }
    if model.chars().count() > MAX_MODEL_CHARS {
        return Err(invalid("model", &format!("is longer than {MAX_MODEL_CHARS} characters")));
    }
    if model.chars().any(char::is_control) {
        return Err(invalid("model", "holds a control character"));
    }
    Ok(model.to_owned())
}

/// A new key trimmed, or `None` for "keep the stored one" (absent or blank).
pub fn checked_key(raw: Option<&str>) -> Result<Option<String>, AppError> {
    let Some(key) = raw.map(str::trim).filter(|k| !k.is_empty()) else {
        return Ok(None);
    };
    if key.chars().count() > MAX_KEY_CHARS {
        return Err(invalid("api_key", &format!("is longer than {MAX_KEY_CHARS} characters")));
    }
    if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("api_key", "holds a space or a control character"));
    }
    Ok(Some(key.to_owned()))
}

/// The last four characters of a key long enough (12 or more) to show them.
pub fn key_hint(key: &str) -> Option<String> {
    let count = key.chars().count();
    (count >= 12).then(|| key.chars().skip(count - 4).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_http_addresses_without_the_trailing_slash() {
        assert_eq!(checked_base_url(" https://api.openai.com/v1/ ", true).unwrap(), "https://api.openai.com/v1");
        assert_eq!(checked_base_url("http://127.0.0.1:11434/v1", true).unwrap(), "http://127.0.0.1:11434/v1");
        assert_eq!(checked_base_url("", false).unwrap(), "");
        for bad in ["", "api.openai.com/v1", "ftp://x/v1", "https://", "https:///v1", "https://a b/v1"] {
            assert!(matches!(checked_base_url(bad, true), Err(AppError::InvalidInput(m)) if m.starts_with("base_url")));
        }
        assert!(checked_base_url(&format!("https://{}", "a".repeat(MAX_BASE_URL_CHARS)), true).is_err());
    }

    #[test]
    fn models_and_keys_are_trimmed_and_checked() {
        assert_eq!(checked_model(" gpt-4o-mini ", true).unwrap(), "gpt-4o-mini");
        assert!(checked_model("", true).is_err());
        assert_eq!(checked_model("", false).unwrap(), "");
        assert!(checked_model("a\nb", true).is_err());
        assert_eq!(checked_key(None).unwrap(), None);
        assert_eq!(checked_key(Some("   ")).unwrap(), None);
        assert_eq!(checked_key(Some(" sk-abc ")).unwrap().as_deref(), Some("sk-abc"));
        assert!(matches!(checked_key(Some("sk abc")), Err(AppError::InvalidInput(m)) if m.starts_with("api_key")));
    }

    #[test]
    fn only_long_keys_show_their_last_four_characters() {
        assert_eq!(key_hint("sk-live-1234abcd").as_deref(), Some("abcd"));
        assert_eq!(key_hint("short"), None);
    }

    #[test]
    fn kinds_read_back_what_they_write() {
        for kind in [ModelKind::Default, ModelKind::Builtin, ModelKind::Openai] {
            assert_eq!(ModelKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ModelKind::parse("gpt"), None);
    }
}
