//! `MessageText`: message text as Baton accepts it from visitors and agents.

use serde::Serialize;

use super::MAX_MESSAGE_CHARS;
use crate::error::AppError;

/// Trimmed, 1 to `MAX_MESSAGE_CHARS` characters, no NUL characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct MessageText(String);

impl MessageText {
    pub fn parse(raw: &str) -> Result<MessageText, AppError> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(AppError::InvalidInput("the message is empty".to_owned()));
        }
        if text.contains('\0') {
            return Err(AppError::InvalidInput("the message contains a NUL character".to_owned()));
        }
        let chars = text.chars().count();
        if chars > MAX_MESSAGE_CHARS {
            return Err(AppError::TooLarge(format!(
                "the message has {chars} characters; the limit is {MAX_MESSAGE_CHARS}"
            )));
        }
        Ok(MessageText(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed() {
        assert_eq!(MessageText::parse("  hello \n").unwrap().as_str(), "hello");
    }

    #[test]
    fn empty_and_blank_text_is_invalid_input() {
        for raw in ["", "   ", "\n\t "] {
            assert!(matches!(MessageText::parse(raw), Err(AppError::InvalidInput(_))), "{raw:?}");
        }
    }

    #[test]
    fn the_limit_counts_characters_not_bytes() {
        assert!(MessageText::parse(&"é".repeat(MAX_MESSAGE_CHARS)).is_ok());
        assert!(matches!(MessageText::parse(&"é".repeat(MAX_MESSAGE_CHARS + 1)), Err(AppError::TooLarge(_))));
    }

    #[test]
    fn nul_characters_are_refused() {
        assert!(matches!(MessageText::parse("a\0b"), Err(AppError::InvalidInput(_))));
    }
}

/// A visitor's or member's email address: checked with the `email_address` crate
/// (RFC 5321/5322 syntax), plus what a deliverable address needs in practice: a
/// dotted domain. Stored lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<EmailAddress, AppError> {
        let text = raw.trim();
        let invalid = |why: &str| AppError::InvalidInput(format!("{text:?} is not a valid email address: {why}"));
        if text.is_empty() {
            return Err(AppError::InvalidInput("the email address is empty".to_owned()));
        }
        if text.len() > 254 {
            return Err(invalid("it is longer than 254 characters"));
        }
        let parsed = email_address::EmailAddress::parse_with_options(text, email_address::Options::default())
            .map_err(|e| invalid(&e.to_string()))?;
        let domain = parsed.domain();
        let dotted = domain.split('.').count() >= 2 && domain.split('.').all(|label| !label.is_empty());
        if !dotted || domain.starts_with('[') {
            return Err(invalid("the domain needs a dot, like example.com"));
        }
        Ok(EmailAddress(text.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod email_tests {
    use super::*;

    #[test]
    fn ordinary_addresses_parse_and_are_lower_cased() {
        assert_eq!(EmailAddress::parse(" Jordan@Acme.com ").unwrap().as_str(), "jordan@acme.com");
        assert!(EmailAddress::parse("first.last+tag@mail.example.co.uk").is_ok());
    }

    #[test]
    fn malformed_addresses_are_invalid_input() {
        for raw in ["", "jordan", "jordan@", "@acme.com", "jordan@acme", "jordan@acme.", "jo rdan@acme.com", "a@b@c.com"] {
            assert!(matches!(EmailAddress::parse(raw), Err(AppError::InvalidInput(_))), "{raw:?}");
        }
    }
}
