//! Before a person takes over, Baton always has the visitor's email: the bot asks
//! for it, checks it, asks again when it is not valid, and reuses one it already
//! has (given at `widget/start` or earlier in the chat). These are the pure parts of
//! it: what the bot says (finding the address in what the visitor wrote is
//! `app::domain::text::email_in`, shared with the widget's email field).

use app::domain::{text::name_from_email, EscalationReason};
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

/// How to greet the visitor: their given first name, else one read off the email
/// (`jordan@…` → Jordan, `jordan.lee@…` → Jordan), never a role address.
pub fn first_name(visitor_name: Option<&str>, email: &str) -> Option<String> {
    if let Some(name) = visitor_name.and_then(|n| n.split_whitespace().next()) {
        return Some(name.to_owned());
    }
    name_from_email(email)
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

/// The confirmation once the conversation is a ticket in the team's help desk (the
/// seed's words, with the address).
pub fn shared_with_desk(name: Option<&str>, email: &str) -> String {
    let thanks = name.map_or_else(|| "Thanks.".to_owned(), |name| format!("Thanks, {name}."));
    format!("{thanks} I've shared this with our support team. They'll follow up at {email}.")
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(
            shared_with_desk(Some("Jordan"), "jordan@acme.com"),
            "Thanks, Jordan. I've shared this with our support team. They'll follow up at jordan@acme.com."
        );
    }
}
