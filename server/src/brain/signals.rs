//! Escalation signals read from what the visitor wrote. Pure functions over text.
//!
//! An explicit request for a person is a request verb aimed at a person ("can I
//! talk to someone", "I need a human", "transfer me to support"), a question after
//! one ("is there a human I can speak to?"), or a bare call ("agent please").
//! Look-alikes are not requests: questions about the bot itself ("is this answered
//! by a human or a bot?"), other meanings ("human resources", "agent fees",
//! "travel agent"), and negations ("I don't need a person").

/// Who a visitor may ask for.
/// ("people" and "member" are left out: "I need people to share files", "add a team member".)
const PERSON: [&str; 21] = [
    "human", "humans", "person", "agent", "agents", "representative", "rep", "someone", "somebody", "anyone",
    "anybody", "operator", "staff", "employee", "supervisor", "manager", "live", "real", "support", "service", "team",
];

/// Nouns that only mean a person when a strong verb points at them ("transfer me to support").
const WEAK_PERSON: [&str; 5] = ["support", "service", "team", "live", "real"];

/// Verbs that ask for contact.
const ASK: [&str; 16] = [
    "talk", "speak", "chat", "connect", "transfer", "through", "get", "give", "need", "want", "have", "see", "reach",
    "escalate", "contact", "call",
];

/// Verbs strong enough that "support" or "the team" after them means a person.
const STRONG_ASK: [&str; 5] = ["connect", "transfer", "through", "escalate", "speak"];

const NEGATIONS: [&str; 8] = ["dont", "don't", "not", "no", "never", "without", "nobody", "needn't"];

/// Phrases where a person word means something else.
const LOOK_ALIKES: [&str; 12] = [
    "human resources", "agent fee", "agent fees", "travel agent", "estate agent", "user agent", "agent program",
    "agent commission", "personal", "people search", "service fee", "service agreement",
];

/// Filler that may surround a bare call like "agent please".
const FILLER: [&str; 22] = [
    "please", "pls", "plz", "now", "a", "an", "the", "some", "can", "i", "get", "just", "ok", "okay", "hey", "hi",
    "hello", "yes", "asap", "immediately", "me", "to",
];

fn tokens(text: &str) -> Vec<String> {
    let mut lowered = text.to_lowercase().replace('’', "'");
    for phrase in LOOK_ALIKES {
        lowered = lowered.replace(phrase, " ");
    }
    lowered
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// "are you a human", "is this a bot", "answered by a human or a bot": asking what
/// the assistant is, not asking for a person.
fn asks_what_the_bot_is(text: &str) -> bool {
    let text = text.to_lowercase();
    let about_bot = ["are you a", "are you human", "are you real", "is this a bot", "is this a human", "am i talking to a",
        "am i chatting with a", "am i speaking to a", "am i speaking with a", "or a bot", "or a human", "or an ai", "a bot or",
        "are you an ai", "are you a bot"];
    about_bot.iter().any(|p| text.contains(p))
}

/// Does this message ask for a person?
pub fn explicit_request(text: &str) -> bool {
    let words = tokens(text);
    if words.is_empty() {
        return false;
    }
    let is_person = |w: &str| PERSON.contains(&w) && !WEAK_PERSON.contains(&w);
    let is_weak = |w: &str| WEAK_PERSON.contains(&w);
    let negated = |at: usize| words[at.saturating_sub(3)..at].iter().any(|w| NEGATIONS.contains(&w.as_str()));

    // A bare call: nothing but filler and person words ("agent please", "a real person now").
    let bare = words.iter().all(|w| FILLER.contains(&w.as_str()) || PERSON.contains(&w.as_str()))
        && words.iter().any(|w| is_person(w));
    if bare {
        return true;
    }

    // A request verb with a person in the next few words, not negated.
    let verb_then_person = words.iter().enumerate().any(|(i, verb)| {
        if !ASK.contains(&verb.as_str()) || negated(i) {
            return false;
        }
        let strong = STRONG_ASK.contains(&verb.as_str());
        words[i + 1..].iter().take(6).any(|w| is_person(w) || (strong && is_weak(w)))
    });
    // "is there a human (I can speak to)", "anyone there?", "can a real person help".
    let person_available = words.windows(2).enumerate().any(|(i, pair)| {
        matches!(pair[0].as_str(), "there" | "any" | "can" | "could") && is_person(&pair[1]) && !negated(i)
    }) || words.windows(4).enumerate().any(|(i, w)| {
        matches!(w[0].as_str(), "there" | "can" | "could") && matches!(w[1].as_str(), "a" | "an" | "any" | "some" | "real" | "live")
            && (is_person(&w[2]) || is_person(&w[3]))
            && !negated(i)
    }) || text.to_lowercase().contains("anyone there");

    if !(verb_then_person || person_available) {
        return false;
    }
    // A question about the bot's nature counts only if a request comes with it.
    !asks_what_the_bot_is(text) || verb_then_person_outside_bot_question(text)
}

/// "Are you a bot? I want a human." — the request stands on its own after the question.
fn verb_then_person_outside_bot_question(text: &str) -> bool {
    text.split(['?', '.', '!']).filter(|s| !asks_what_the_bot_is(s)).any(|s| !s.trim().is_empty() && explicit_request(s))
}

#[cfg(test)]
mod tests {
    use super::explicit_request;

    #[test]
    fn the_many_ways_people_ask_for_a_person() {
        for text in [
            "Can I talk to someone?",
            "Is there a human I can speak to?",
            "agent please",
            "AGENT!!",
            "Representative.",
            "a real person please",
            "I need a human",
            "I want to speak to a manager",
            "let me talk to a live agent",
            "Can you connect me with support?",
            "transfer me to customer service",
            "put me through to someone",
            "I'd like to chat with a person",
            "get me a human now",
            "can a real person help me with this",
            "is anyone there?",
            "Could I speak with somebody from your team?",
            "Are you a bot? I want a human.",
            "escalate this to a supervisor",
            "I need to talk to somebody about my order",
        ] {
            assert!(explicit_request(text), "should ask for a person: {text:?}");
        }
    }

    #[test]
    fn look_alikes_are_not_requests() {
        for text in [
            "Is this answered by a human or a bot?",
            "are you a human?",
            "How do I contact human resources?",
            "What are your agent fees?",
            "Do you work with a travel agent?",
            "Someone charged my card twice",
            "I don't need a person, just tell me the price",
            "no need to talk to anyone, thanks",
            "What does the Team plan cost?",
            "How many people can use one account?",
            "I need to add a team member",
            "I need people to be able to share files",
            "Can I see the live demo?",
            "Can I get a refund of the unused months?",
            "Is my personal data safe?",
            "Thanks, that helped!",
            "What's your support email for invoices?",
            "What is your humane policy?",
            "",
        ] {
            assert!(!explicit_request(text), "should not ask for a person: {text:?}");
        }
    }
}

/// Phrases that alone show the visitor has had enough of the bot.
const FED_UP: [&str; 16] = [
    "isn't helping", "is not helping", "not helping", "not helpful", "unhelpful", "useless", "waste of time",
    "wasting my time", "pointless", "unacceptable", "this is a joke", "fed up", "sick of this", "i already told you",
    "i already said", "you're not listening",
];

/// Insults and profanity (whole words).
const INSULTS: [&str; 10] = ["wtf", "stupid", "idiot", "idiotic", "dumb", "crap", "shit", "fuck", "fucking", "damn"];

/// Words of a complaint: one is mild, several across the conversation are not.
const COMPLAINTS: [&str; 12] = [
    "frustrating", "frustrated", "annoying", "annoyed", "terrible", "awful", "worst", "ridiculous", "horrible",
    "angry", "upset", "disappointed",
];

/// How frustrated one message sounds: 2 means enough on its own.
fn message_heat(text: &str) -> u32 {
    let lower = text.to_lowercase().replace('’', "'");
    if FED_UP.iter().any(|p| lower.contains(p)) {
        return 2;
    }
    let words: Vec<&str> = lower.split(|c: char| !(c.is_alphanumeric() || c == '\'')).filter(|w| !w.is_empty()).collect();
    if words.iter().any(|w| INSULTS.contains(w)) {
        return 2;
    }
    let letters: Vec<char> = text.chars().filter(|c| c.is_alphabetic()).collect();
    let shouting = letters.len() >= 8 && letters.iter().filter(|c| c.is_uppercase()).count() * 10 >= letters.len() * 7;
    let complaint = words.iter().any(|w| COMPLAINTS.contains(w));
    u32::from(shouting) + u32::from(complaint) + u32::from(text.contains("!!!") || text.contains("??"))
}

fn normalized(text: &str) -> Vec<String> {
    let mut words: Vec<String> =
        text.to_lowercase().split(|c: char| !c.is_alphanumeric()).filter(|w| w.len() > 2).map(str::to_owned).collect();
    words.sort();
    words.dedup();
    words
}

/// The same question again: most of its words were in an earlier message.
fn repeats_earlier(last: &str, earlier: &[&str]) -> bool {
    let now = normalized(last);
    if now.len() < 3 {
        return false;
    }
    earlier.iter().any(|before| {
        let before = normalized(before);
        let shared = now.iter().filter(|w| before.contains(w)).count();
        shared * 10 >= now.len().max(before.len()) * 8
    })
}

/// Is the visitor clearly frustrated, judging by the whole conversation (their
/// messages, oldest first)? The latest message must show it; earlier heat adds up.
pub fn frustrated(visitor_messages: &[&str]) -> bool {
    let Some((last, earlier)) = visitor_messages.split_last() else { return false };
    let heat_now = message_heat(last) + u32::from(repeats_earlier(last, earlier)) * 2;
    if heat_now == 0 {
        return false;
    }
    let heat_before: u32 = earlier.iter().map(|m| message_heat(m)).sum();
    heat_now >= 2 || heat_now + heat_before >= 2
}

#[cfg(test)]
mod frustration_tests {
    use super::frustrated;

    #[test]
    fn clear_frustration_is_recognised() {
        for conversation in [
            &["how do I export my data?", "this isn't helping"][..],
            &["This is useless"],
            &["WHY DOES MY EXPORT KEEP FAILING!!!"],
            &["my export keeps failing, this is annoying", "still failing, terrible"],
            &["How do I export my data to CSV?", "How do I export my data to CSV?"],
            &["wtf is going on with my account"],
            &["I already told you, the invoice is wrong"],
        ] {
            assert!(frustrated(conversation), "{conversation:?}");
        }
    }

    #[test]
    fn mild_complaints_and_ordinary_turns_are_not_frustration() {
        for conversation in [
            &["The app is slow, how do I fix it?"][..],
            &["this is a bit annoying, how do I change my plan?"],
            &["Thanks, that helped!"],
            &["what is the price of the Team plan?", "and for the Business plan?"],
            &["I'm frustrated", "ok thanks, that fixed it"],
            &["NASA", "ok"],
            &["HELLO THERE"],
        ] {
            assert!(!frustrated(conversation), "{conversation:?}");
        }
    }
}
