//! The label policy every labelled row and every decision of the built-in brain
//! follows (`server/eval/POLICY.md`, quoted in the README):
//!
//! - **explicit_request**: the visitor wants a person: asks for one in any words
//!   (`ask_person`), asks how to reach one ("which number do I call", "who do I
//!   speak to about this": `reach_person`), asks to be contacted (`callback`), or
//!   says yes to the bot's offer (`yes_to_offer`). Not: what the bot is ("is this
//!   a bot?"), people who are not the support team ("human resources", "my team"),
//!   other senses ("per person").
//! - **frustration**: clearly upset with the bot (`with_bot`: "that's not what I
//!   asked", the same question again after an answer) or with the service or the
//!   situation (`with_service`). Swearing alone is not frustration.
//! - **cannot_resolve**: only the team can act: complaints and claims
//!   (`complaint`), charges and refunds in dispute (`billing_dispute`), an action
//!   on the visitor's own account, service or booking the bot cannot carry out
//!   (`account_action`), their own order gone wrong (`order_problem`), access and
//!   security (`access_security`), a need spread over turns (`spread_need`).
//! - **none**: the bot answers: information the knowledge base holds, trigger
//!   words and all (`info`: "what's your refund policy", "how do I cancel an
//!   order"), look-alikes (`lookalike`), ordinary questions said rudely
//!   (`rude_ordinary`), pleasantries (`small_talk`), `off_topic`.
//!
//! The rule that decides most cases: a request for information the knowledge base
//! holds is answered; a problem with, or an action on, the visitor's own account,
//! order, payment or booking goes to a person.

use app::domain::EscalationReason;

use super::eval::Label;

/// Every sub-case and the decision it belongs to.
pub const CASES: [(&str, Label); 17] = [
    ("ask_person", Some(EscalationReason::ExplicitRequest)),
    ("reach_person", Some(EscalationReason::ExplicitRequest)),
    ("callback", Some(EscalationReason::ExplicitRequest)),
    ("yes_to_offer", Some(EscalationReason::ExplicitRequest)),
    ("with_bot", Some(EscalationReason::Frustration)),
    ("with_service", Some(EscalationReason::Frustration)),
    ("complaint", Some(EscalationReason::CannotResolve)),
    ("billing_dispute", Some(EscalationReason::CannotResolve)),
    ("account_action", Some(EscalationReason::CannotResolve)),
    ("order_problem", Some(EscalationReason::CannotResolve)),
    ("access_security", Some(EscalationReason::CannotResolve)),
    ("spread_need", Some(EscalationReason::CannotResolve)),
    ("info", None),
    ("lookalike", None),
    ("rude_ordinary", None),
    ("small_talk", None),
    ("off_topic", None),
];

/// The decision a sub-case belongs to, if it is one.
pub fn label_of_case(case: &str) -> Option<Label> {
    CASES.iter().find(|(name, _)| *name == case).map(|(_, label)| *label)
}

/// Is `case` a sub-case of `label`?
pub fn is_case_of(case: &str, label: Label) -> bool {
    label_of_case(case) == Some(label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_its_sub_cases_and_none_is_shared() {
        for (i, (name, _)) in CASES.iter().enumerate() {
            assert!(CASES[i + 1..].iter().all(|(other, _)| other != name), "{name} twice");
        }
        assert!(is_case_of("complaint", Some(EscalationReason::CannotResolve)));
        assert!(!is_case_of("complaint", None));
        assert!(!is_case_of("nonsense", None));
    }
}
