//! Extractive summaries: what the visitor needs, in their own words, turned into a
//! note about them ("I was charged twice for my subscription" → "Customer charged
//! twice for their subscription"), one or two sentences, with why the bot escalated.

use app::domain::EscalationReason;

use super::signals;

/// The summary of a conversation that escalates for `reason`, from the visitor's
/// messages (oldest first).
pub fn summarize(reason: EscalationReason, visitor_messages: &[&str]) -> String {
    let need = need(visitor_messages);
    let text = match (reason, need) {
        (EscalationReason::CannotResolve, Some(need)) => need,
        (EscalationReason::CannotResolve, None) => "Customer asked something the assistant could not answer".to_owned(),
        (EscalationReason::ExplicitRequest, Some(need)) => {
            format!("{need}. Asked to talk to a person")
        }
        (EscalationReason::ExplicitRequest, None) => {
            "Customer asked to talk to a person before describing their issue".to_owned()
        }
        (EscalationReason::Frustration, Some(need)) => {
            format!("{need}. Customer is frustrated with the answers so far")
        }
        (EscalationReason::Frustration, None) => "Customer is frustrated with the answers so far".to_owned(),
    };
    clip(&text, 400)
}

/// What the visitor needs, in at most two sentences: the issue only the team can
/// resolve if they raised one, else their first real question, plus their latest
/// one if it adds something.
pub fn need(visitor_messages: &[&str]) -> Option<String> {
    let described: Vec<&str> = visitor_messages.iter().copied().filter(|m| describes_need(m)).collect();
    if let Some(at) = described.iter().rposition(|m| signals::team_only_issue(m).is_some()) {
        let issue = described[at];
        // "I have a problem with my bill" → "it charged me twice": the two say it together.
        let refines = issue.split_whitespace().next().is_some_and(|first| {
            matches!(first.to_lowercase().as_str(), "it" | "it's" | "they" | "that" | "this" | "and" | "so" | "yes")
        });
        if let Some(before) = at.checked_sub(1).and_then(|i| described.get(i)).filter(|_| refines) {
            return Some(format!("{}: {}", sentence(before), lower_first(&third_person(issue))));
        }
        return Some(sentence(issue));
    }
    let first = described.first()?;
    let mut out = sentence(first);
    if let Some(last) = described.last().filter(|last| *last != first && !similar(first, last)) {
        out = format!("{out}. {}", sentence(last));
    }
    Some(out)
}

/// Does this message say what the visitor needs, rather than greet, thank, answer
/// yes or no, give an email or only ask for a person?
fn describes_need(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() < 3 || words.iter().any(|w| w.contains('@')) && words.len() < 8 {
        return false;
    }
    if signals::explicit_request(text) && about_part(text).is_none() {
        return false;
    }
    let lower = text.to_lowercase();
    let pleasantry = ["thank", "thanks", "ok", "okay", "great", "hello", "hi", "hey", "yes", "no"];
    !(words.len() <= 4 && pleasantry.iter().any(|p| lower.starts_with(p)))
}

/// "Can I talk to someone about my invoice?" → "my invoice".
fn about_part(text: &str) -> Option<&str> {
    let lower = text.to_lowercase();
    [" about ", " regarding ", " with my ", " for my "].iter().find_map(|marker| {
        let at = lower.find(marker)?;
        let start = at + if marker.starts_with(" with ") || marker.starts_with(" for ") { 6 } else { marker.len() };
        let rest = text.get(start..)?.trim().trim_end_matches(['.', '!', '?']);
        (!rest.is_empty()).then_some(rest)
    })
}

/// Shares most of its words with the other message: the same question again.
fn similar(a: &str, b: &str) -> bool {
    let words = |t: &str| -> Vec<String> {
        t.to_lowercase().split(|c: char| !c.is_alphanumeric()).filter(|w| w.len() > 2).map(str::to_owned).collect()
    };
    let (a, b) = (words(a), words(b));
    let shared = a.iter().filter(|w| b.contains(w)).count();
    shared * 10 >= a.len().max(b.len()) * 6
}

/// One message as a sentence about the customer.
fn sentence(text: &str) -> String {
    let text = first_sentences(text);
    if signals::explicit_request(&text) {
        if let Some(about) = about_part(&text) {
            return capitalized(&format!("Customer wants to talk to a person about {}", third_person(about)));
        }
    }
    let lower = text.to_lowercase();
    let question = text.trim_end().ends_with('?');
    for (opening, becomes) in [
        ("how do i ", "Customer asked how to "),
        ("how can i ", "Customer asked how to "),
        ("how would i ", "Customer asked how to "),
        ("how to ", "Customer asked how to "),
        ("can i ", "Customer asked whether they can "),
        ("could i ", "Customer asked whether they can "),
        ("is it possible to ", "Customer asked whether it is possible to "),
    ] {
        if lower.starts_with(opening) {
            let rest = text.get(opening.len()..).unwrap_or_default();
            return clip(&format!("{becomes}{}", third_person(rest.trim_end_matches(['?', '.', '!', ' ']))), 200);
        }
    }
    if question {
        return clip(&format!("Customer asked: \"{}\"", text.trim()), 200);
    }
    clip(&capitalized(&third_person(&text)), 200)
}

/// The first sentence, or two if the first is short ("Hi. My upload fails.").
fn first_sentences(text: &str) -> String {
    let text = text.trim();
    for (i, c) in text.char_indices() {
        if matches!(c, '.' | '!' | '?') {
            let end = i + c.len_utf8();
            if text[..end].split_whitespace().count() >= 4 {
                return text[..end].to_owned();
            }
        }
    }
    text.to_owned()
}

/// The visitor's own words, turned into a note about them.
pub fn third_person(text: &str) -> String {
    let sentence = text.trim().trim_end_matches(['.', '!', '?', ' ']);
    let mut out = format!(" {sentence} ");
    for (from, to) in [
        (" and I need this fixed ", " and is requesting a fix "),
        (" and I need ", " and needs "),
        (" and I want ", " and wants "),
        (" and I'd like ", " and would like "),
        (" I was ", " Customer "),
        (" I've been ", " Customer has been "),
        (" I have ", " Customer has "),
        (" I'm ", " Customer is "),
        (" I am ", " Customer is "),
        (" I need ", " Customer needs "),
        (" I want ", " Customer wants "),
        (" I can't ", " Customer can't "),
        (" I cannot ", " Customer cannot "),
        (" I ", " Customer "),
        (" i ", " Customer "),
        (" my ", " their "),
        (" My ", " Customer's "),
        (" me ", " them "),
        (" myself ", " themselves "),
    ] {
        out = out.replace(from, to);
    }
    // Every "Customer" after the first is "they".
    if let Some(first) = out.find(" Customer ") {
        let (head, tail) = out.split_at(first + " Customer ".len());
        out = format!("{head}{}", tail.replace(" Customer ", " they "));
    }
    out.trim().to_owned()
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_lowercase().chain(chars).collect()).unwrap_or_default()
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

pub fn clip(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use EscalationReason::*;

    #[test]
    fn the_seed_request_becomes_the_seed_summary() {
        assert_eq!(
            summarize(CannotResolve, &["I was charged twice for my subscription this month and I need this fixed."]),
            "Customer charged twice for their subscription this month and is requesting a fix"
        );
        assert_eq!(third_person("I am locked out of my account"), "Customer is locked out of their account");
    }

    #[test]
    fn explicit_requests_carry_the_need_from_earlier_turns() {
        assert_eq!(
            summarize(ExplicitRequest, &["How do I export my data to CSV?", "can I talk to someone"]),
            "Customer asked how to export their data to CSV. Asked to talk to a person"
        );
        assert_eq!(
            summarize(ExplicitRequest, &["agent please"]),
            "Customer asked to talk to a person before describing their issue"
        );
        assert_eq!(
            summarize(ExplicitRequest, &["I need to talk to somebody about my order"]),
            "Customer wants to talk to a person about their order. Asked to talk to a person"
        );
    }

    #[test]
    fn frustration_keeps_the_original_issue_and_adds_the_latest() {
        let summary = summarize(
            Frustration,
            &[
                "My uploads keep failing on large videos.",
                "ok",
                "It still fails after I renamed the file, this is useless",
            ],
        );
        assert_eq!(
            summary,
            "Customer's uploads keep failing on large videos. It still fails after Customer renamed the file, this is \
             useless. Customer is frustrated with the answers so far"
        );
    }

    #[test]
    fn a_request_refined_over_two_turns_is_summarised_as_one() {
        assert_eq!(
            summarize(CannotResolve, &["I have a problem with my bill", "it charged me twice this month"]),
            "Customer has a problem with their bill: it charged them twice this month"
        );
    }

    #[test]
    fn greetings_thanks_and_emails_are_not_the_need() {
        assert_eq!(need(&["hi", "thanks!", "it's jo@acme.com"]), None);
        assert_eq!(
            need(&["hello there", "Why is sync so slow today?"]).as_deref(),
            Some("Customer asked: \"Why is sync so slow today?\"")
        );
    }

    #[test]
    fn clipping_respects_character_boundaries() {
        assert_eq!(clip("héllo", 2), "hé…");
        assert_eq!(clip("hi", 5), "hi");
    }
}
