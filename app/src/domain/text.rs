//! Text as Baton accepts it from outside: `MessageText` (visitors' and agents'
//! messages, notes), `DisplayName` (visitors', members' and chatbots' names) and
//! `EmailAddress`.

use serde::Serialize;

use super::MAX_MESSAGE_CHARS;
use crate::error::AppError;

/// Characters that show nothing on their own: whitespace, control characters and
/// Unicode's default-ignorable code points (zero-width spaces and joiners, soft
/// hyphens, bidirectional marks, variation selectors, fillers, tag characters), plus
/// the blank characters that render as empty space (Braille blank, Hangul fillers).
pub fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(c,
            '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
            | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}' | '\u{2800}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
            | '\u{FFA0}' | '\u{FFF0}'..='\u{FFF8}' | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}')
}

/// True when `text` would show nothing at all.
pub fn is_blank(text: &str) -> bool {
    text.chars().all(is_invisible)
}

/// Bidirectional embeddings, overrides and isolates (and the marks that steer them):
/// in a name they can make the rest of a line read backwards ("Ana" shown as
/// "txt.exe"-style tricks), so names never keep them.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Trimmed, 1 to `MAX_MESSAGE_CHARS` characters, no NUL characters, and something
/// visible in it (text of zero-width or other invisible characters is empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct MessageText(String);

impl MessageText {
    pub fn parse(raw: &str) -> Result<MessageText, AppError> {
        let text = raw.trim();
        if is_blank(text) {
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

    #[test]
    fn text_of_invisible_characters_only_is_empty() {
        for raw in ["\u{200B}", "\u{200B}\u{200C}\u{200D}\u{2060}\u{FEFF}", " \u{00AD} \u{034F}", "\u{2800}\u{3164}", "\u{202E}\u{2066}"] {
            assert!(matches!(MessageText::parse(raw), Err(AppError::InvalidInput(_))), "{raw:?}");
        }
        assert_eq!(MessageText::parse("\u{200B}hi").unwrap().as_str(), "\u{200B}hi", "visible text keeps its characters");
        assert!(MessageText::parse("👍🏽").is_ok());
    }
}

/// A client's own id for a message it sends, so that a resend is stored once: 1 to
/// 64 letters, digits, `-` or `_` (UUIDs fit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ClientId(String);

impl ClientId {
    pub fn parse(raw: &str) -> Result<ClientId, AppError> {
        let plain = raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if raw.is_empty() || raw.len() > 64 || !plain {
            return Err(AppError::InvalidInput("client_id must be 1 to 64 letters, digits, '-' or '_'".into()));
        }
        Ok(ClientId(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod client_id_tests {
    use super::*;

    #[test]
    fn client_ids_are_short_and_plain() {
        assert!(ClientId::parse("0b6f0c1e-3c52-4bd3-9d4b-6a3a0e0b2f11").is_ok());
        for bad in ["", "has space", "ü", &"x".repeat(65), "a\"b"] {
            assert!(ClientId::parse(bad).is_err(), "{bad:?}");
        }
    }
}

/// A name people see: a visitor's, a team member's, a chatbot's. Bidirectional
/// controls are removed, runs of whitespace and control characters become one
/// space, and what remains must show something and fit `max_chars`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    /// `what` names the field in errors: "the name", "the title".
    pub fn parse(raw: &str, max_chars: usize, what: &str) -> Result<DisplayName, AppError> {
        if raw.contains('\0') {
            return Err(AppError::InvalidInput(format!("{what} contains a NUL character")));
        }
        let mut name = String::with_capacity(raw.len());
        for c in raw.chars().filter(|c| !is_bidi_control(*c)) {
            if c.is_whitespace() || c.is_control() {
                if !name.is_empty() && !name.ends_with(' ') {
                    name.push(' ');
                }
            } else {
                name.push(c);
            }
        }
        let name = name.trim_end().to_owned();
        if is_blank(&name) {
            return Err(AppError::InvalidInput(format!("{what} is empty")));
        }
        if name.chars().count() > max_chars {
            return Err(AppError::InvalidInput(format!("{what} is longer than {max_chars} characters")));
        }
        Ok(DisplayName(name))
    }

    /// An optional name: absent, or blank, is `None`.
    pub fn parse_optional(raw: Option<&str>, max_chars: usize, what: &str) -> Result<Option<DisplayName>, AppError> {
        match raw {
            Some(raw) if !is_blank(&raw.replace(is_bidi_control, "")) => Self::parse(raw, max_chars, what).map(Some),
            _ => Ok(None),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod name_tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_their_spaces_collapsed() {
        assert_eq!(DisplayName::parse("  Jordan \t Lee\n", 100, "the name").unwrap().as_str(), "Jordan Lee");
    }

    #[test]
    fn bidirectional_controls_are_stripped() {
        let name = DisplayName::parse("Ana\u{202E}gnp.exe\u{202C} \u{2067}x\u{2069}", 100, "the name").unwrap();
        assert_eq!(name.as_str(), "Anagnp.exe x");
    }

    #[test]
    fn blank_long_or_nul_names_are_refused() {
        for raw in ["", "   ", "\u{200B}\u{200D}", "\u{202E}", "a\0b", &"x".repeat(101)] {
            assert!(matches!(DisplayName::parse(raw, 100, "the name"), Err(AppError::InvalidInput(_))), "{raw:?}");
        }
        assert!(DisplayName::parse(&"é".repeat(100), 100, "the name").is_ok());
    }

    #[test]
    fn an_optional_blank_name_is_no_name() {
        assert_eq!(DisplayName::parse_optional(None, 100, "the name").unwrap(), None);
        assert_eq!(DisplayName::parse_optional(Some(" \u{202E} "), 100, "the name").unwrap(), None);
        assert_eq!(DisplayName::parse_optional(Some(" Sam "), 100, "the name").unwrap().unwrap().as_str(), "Sam");
        assert!(DisplayName::parse_optional(Some("a\0"), 100, "the name").is_err());
    }
}

/// A first name read off a personal email address (`jordan@…` → Jordan,
/// `jordan.lee@…` → Jordan), never off a role address (`support@…`).
pub fn name_from_email(email: &str) -> Option<String> {
    let local = email.split('@').next()?;
    let word: String = local.chars().take_while(|c| c.is_alphabetic()).collect();
    const ROLES: [&str; 12] =
        ["info", "support", "sales", "admin", "contact", "hello", "help", "billing", "office", "team", "mail", "noreply"];
    if word.chars().count() < 2 || ROLES.contains(&word.to_lowercase().as_str()) {
        return None;
    }
    let mut chars = word.chars();
    let first = chars.next()?;
    Some(first.to_uppercase().chain(chars.flat_map(char::to_lowercase)).collect())
}

/// What went wrong with an address, for the person who typed it.
fn in_plain_words(err: &email_address::Error) -> &'static str {
    use email_address::Error as E;
    match err {
        E::MissingSeparator => "it has no @",
        E::LocalPartEmpty => "there is nothing before the @",
        E::DomainEmpty => "there is nothing after the @",
        E::LocalPartTooLong | E::DomainTooLong | E::SubDomainTooLong => "it is too long",
        E::SubDomainEmpty | E::DomainInvalidSeparator => "a dot is out of place (two in a row, or at the start or end)",
        E::DomainTooFew => "the part after the @ needs a dot, like example.com",
        E::InvalidCharacter => "it holds a character an address cannot have (a space, a comma, two @…)",
        E::UnbalancedQuotes | E::InvalidComment | E::MissingDisplayName | E::MissingEndBracket => {
            "it is not written like an address"
        }
        E::InvalidIPAddress | E::UnsupportedDomainLiteral | E::UnsupportedDisplayName => {
            "use the address alone, like you@example.com"
        }
    }
}

/// What a piece of text says about the writer's email address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailAnswer {
    Found(EmailAddress),
    /// More than one valid address (the first of them): which one is meant?
    Several(EmailAddress),
    /// Something like an address, but not a valid one: why, in plain words.
    Invalid(String),
    Missing,
}

/// The address in `text` ("Sure, it's jordan@acme.com" holds one), as the server
/// reads a visitor's answer and the widget's email field checks it.
pub fn email_in(text: &str) -> EmailAnswer {
    let mut found: Vec<EmailAddress> = Vec::new();
    let mut why = None;
    for word in text.split_whitespace().filter(|word| word.contains('@')) {
        let candidate = word.trim_matches(|c: char| ",.;:!?()<>[]\"'`".contains(c));
        match EmailAddress::parse(candidate) {
            Ok(email) if !found.contains(&email) => found.push(email),
            Ok(_) => {}
            Err(err) => why = why.or(Some(err.to_string())),
        }
    }
    let several = found.len() > 1;
    match found.into_iter().next() {
        Some(first) if several => EmailAnswer::Several(first),
        Some(only) => EmailAnswer::Found(only),
        None => why.map_or(EmailAnswer::Missing, EmailAnswer::Invalid),
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
            .map_err(|e| invalid(in_plain_words(&e)))?;
        let domain = parsed.domain();
        let dotted = domain.split('.').count() >= 2 && domain.split('.').all(|label| !label.is_empty());
        if !dotted || domain.starts_with('[') {
            return Err(invalid("the part after the @ needs a dot, like example.com"));
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
    fn a_natural_answer_holds_its_address() {
        let found = |text| match email_in(text) {
            EmailAnswer::Found(email) => email.as_str().to_owned(),
            other => panic!("{text:?}: {other:?}"),
        };
        assert_eq!(found("Sure, it's jordan@acme.com"), "jordan@acme.com");
        assert_eq!(found("jordan@acme.com."), "jordan@acme.com");
        assert_eq!(found("(Jordan@Acme.com) thanks"), "jordan@acme.com");
        assert_eq!(found("it's a@b.co, yes a@b.co"), "a@b.co", "the same one twice is one");
        assert!(matches!(email_in("a@b.co or c@d.co"), EmailAnswer::Several(first) if first.as_str() == "a@b.co"));
        assert_eq!(email_in("no address here"), EmailAnswer::Missing);
        assert!(matches!(email_in("jordan@acme"), EmailAnswer::Invalid(why) if why.contains("needs a dot")));
    }

    #[test]
    fn errors_are_in_plain_words() {
        for (raw, plain) in [("jordan", "it has no @"), ("jordan@acme..com", "a dot is out of place"), ("@acme.com", "nothing before the @")] {
            let Err(AppError::InvalidInput(message)) = EmailAddress::parse(raw) else { panic!("{raw}") };
            assert!(message.contains(plain), "{raw}: {message}");
        }
    }

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

/// Any visitor text gives an answer, never a panic; an address in a sentence is
/// found as written and reads back as itself.
#[cfg(test)]
mod email_properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn any_text_gives_an_answer(text in prop_oneof![any::<String>(), "[a-z@. ,<>\"'()-]{0,60}"]) {
            match email_in(&text) {
                EmailAnswer::Found(found) | EmailAnswer::Several(found) => {
                    prop_assert_eq!(EmailAddress::parse(found.as_str()).ok(), Some(found.clone()));
                    prop_assert!(text.to_lowercase().contains(found.as_str()) || text.contains('@'));
                }
                EmailAnswer::Invalid(why) => prop_assert!(!why.is_empty() && text.contains('@')),
                EmailAnswer::Missing => {}
            }
        }

        #[test]
        fn an_address_in_a_sentence_is_found_as_written(
            local in "[a-z0-9]{1,12}(\\.[a-z0-9]{1,8})?",
            domain in "[a-z0-9]{1,12}\\.[a-z]{2,6}",
            before in "[A-Za-z ,]{0,30}",
            after in "([A-Za-z ,]{0,20}|[.!?])",
        ) {
            let address = format!("{local}@{domain}");
            let separator = if after.starts_with(['.', '!', '?']) { "" } else { " " };
            let text = format!("{before} {address}{separator}{after}");
            match email_in(&text) {
                EmailAnswer::Found(found) => prop_assert_eq!(found.as_str(), address.as_str()),
                other => prop_assert!(false, "{:?} in {:?}", other, text),
            }
        }
    }
}
