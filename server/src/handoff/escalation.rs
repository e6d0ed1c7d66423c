//! Before a person takes over, Baton always has the visitor's email: the bot asks
//! for it, checks it, asks again when it is not valid, and reuses one it already
//! has (given at `widget/start` or earlier in the chat). These are the pure parts:
//! finding an address in what the visitor wrote, and what the bot says.

use app::domain::{EmailAddress, EscalationReason};
use serde::{Deserialize, Serialize};

/// An escalation waiting for the visitor's email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingEscalation {
    pub reason: EscalationReason,
    pub summary: String,
    /// What to call the issue when confirming ("the double charge").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
}

/// What a visitor's message says about their email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailAnswer {
    Found(EmailAddress),
    /// Something like an address, but not a valid one: why.
    Invalid(String),
    Missing,
}

/// The first valid address in `text`; otherwise why the address-like words are not.
pub fn find_email(text: &str) -> EmailAnswer {
    let candidates: Vec<&str> = text
        .split_whitespace()
        .filter(|word| word.contains('@'))
        .map(|word| word.trim_matches(|c: char| ",.;:!?()<>[]\"'`".contains(c)))
        .collect();
    let mut why = None;
    for candidate in &candidates {
        match EmailAddress::parse(candidate) {
            Ok(email) => return EmailAnswer::Found(email),
            Err(err) => why = why.or(Some(err.to_string())),
        }
    }
    why.map_or(EmailAnswer::Missing, EmailAnswer::Invalid)
}

/// How to greet the visitor: their given first name, else one read off the email
/// (`jordan@…` → Jordan, `jordan.lee@…` → Jordan), never a role address.
pub fn first_name(visitor_name: Option<&str>, email: &str) -> Option<String> {
    if let Some(name) = visitor_name.and_then(|n| n.split_whitespace().next()) {
        return Some(name.to_owned());
    }
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

pub fn ask_for_email(acknowledgement: &str) -> String {
    format!("{acknowledgement} Can I get the best email to reach you at?")
}

pub fn ask_again(why: &str) -> String {
    format!("Hmm, that email address doesn't look right ({why}). Could you check it and send it again?")
}

pub fn ask_for_missing_email() -> String {
    "To pass this along I need an email address where our team can reach you. What's the best one?".to_owned()
}

/// The confirmation once the conversation is handed to the team.
pub fn passed_along(name: Option<&str>, email: &str, topic: Option<&str>) -> String {
    let thanks = name.map_or_else(|| "Thanks.".to_owned(), |name| format!("Thanks, {name}."));
    let details = topic.map(|topic| format!(" with the details of {topic}")).unwrap_or_default();
    format!(
        "{thanks} I've passed this along to our support team{details}, and they'll follow up at {email} shortly. \
         Is there anything else I can help with in the meantime?"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_found_in_a_sentence() {
        let EmailAnswer::Found(email) = find_email("Sure, it's jordan@acme.com") else { panic!("found") };
        assert_eq!(email.as_str(), "jordan@acme.com");
        assert!(matches!(find_email("(Jordan@Acme.com)."), EmailAnswer::Found(e) if e.as_str() == "jordan@acme.com"));
    }

    #[test]
    fn a_broken_address_says_why_and_no_address_is_missing() {
        assert!(matches!(find_email("it's jordan@acme"), EmailAnswer::Invalid(why) if why.contains("dot")));
        assert_eq!(find_email("I'd rather not say"), EmailAnswer::Missing);
        assert_eq!(find_email("email me at @ some point"), EmailAnswer::Invalid(find_invalid_reason("@")));
    }

    fn find_invalid_reason(raw: &str) -> String {
        EmailAddress::parse(raw).unwrap_err().to_string()
    }

    #[test]
    fn first_names_come_from_the_name_or_a_personal_address() {
        assert_eq!(first_name(Some("Jordan Lee"), "x@acme.com").as_deref(), Some("Jordan"));
        assert_eq!(first_name(None, "jordan@acme.com").as_deref(), Some("Jordan"));
        assert_eq!(first_name(None, "JORDAN.lee@acme.com").as_deref(), Some("Jordan"));
        assert_eq!(first_name(None, "support@acme.com"), None);
        assert_eq!(first_name(None, "j.lee@acme.com"), None);
        assert_eq!(first_name(None, "42@acme.com"), None);
    }

    #[test]
    fn the_confirmation_reads_like_the_seed() {
        assert_eq!(
            passed_along(Some("Jordan"), "jordan@acme.com", Some("the double charge")),
            "Thanks, Jordan. I've passed this along to our support team with the details of the double charge, \
             and they'll follow up at jordan@acme.com shortly. Is there anything else I can help with in the meantime?"
        );
        assert!(passed_along(None, "a@b.co", None).starts_with("Thanks. I've passed this along to our support team, and"));
    }
}
