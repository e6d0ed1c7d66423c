//! Escalation signals read from what the visitor wrote. Pure functions over text.
//!
//! An explicit request for a person is a request verb aimed at a person ("can I
//! talk to someone", "I need a human", "transfer me to support"), a question after
//! one ("is there a human I can speak to?"), or a bare call ("agent please").
//! Look-alikes are not requests: questions about the bot itself ("is this answered
//! by a human or a bot?"), other meanings ("human resources", "agent fees",
//! "travel agent"), and negations ("I don't need a person").

use std::sync::LazyLock;

use vader_parity::SentimentIntensityAnalyzer;

/// Who a visitor may ask for.
/// ("people" is left out: "I need people to share files"; "member" counts only after a
/// strong verb: "I need to add a team member" is not a request.)
/// (Common misspellings included.)
const PERSON: [&str; 34] = [
    "human", "humans", "person", "agent", "agents", "representative", "rep", "someone", "somebody", "anyone",
    "anybody", "operator", "staff", "employee", "supervisor", "manager", "live", "real", "support", "service", "team",
    "sales", "billing", "member", "assistant", "assistance", "sombody", "somone", "someome", "sumone", "huamn", "hooman", "representitive",
    "represenative",
];

/// Nouns that only mean a person when a strong verb points at them ("transfer me to
/// support", "talk to sales", "a member of your team").
/// ("assistant" too: "talk to an assistant" is a request, "the AI assistant feature" is not.)
const WEAK_PERSON: [&str; 10] =
    ["support", "service", "team", "live", "real", "sales", "billing", "member", "assistant", "assistance"];

/// Verbs that ask for contact (with their common forms).
const ASK: [&str; 28] = [
    "talk", "talking", "speak", "speaking", "chat", "chatting", "connect", "connected", "transfer", "transferred",
    "through", "touch", "get", "give", "need", "want", "wanna", "like", "prefer", "see", "reach", "escalate",
    "escalated", "contact", "call", "put", "passed", "forward",
];

/// Verbs strong enough that "support" or "the team" after them means a person.
const STRONG_ASK: [&str; 12] = [
    "connect", "connected", "transfer", "transferred", "through", "touch", "escalate", "escalated", "speak",
    "speaking", "talk", "chat",
];

const NEGATIONS: [&str; 8] = ["dont", "don't", "not", "no", "never", "without", "nobody", "needn't"];

/// Phrases where a person word means something else, or a person who is not the
/// team ("can someone else on my team restore files?").
const LOOK_ALIKES: [&str; 37] = [
    "my team", "our team", "my colleagues", "my coworkers", "my co-workers", "my manager", "my staff",
    "my employees", "person-level", "per person", "per-person", "human resources", "agent fee", "agent fees", "travel agent", "estate agent", "user agent", "agent program",
    "agent commission", "for agents", "personal", "people search", "service fee", "service agreement",
    "human-readable", "human readable", "human error", "someone else", "somebody else", "anyone else", "anybody else",
    "transfer ownership", "transfer files", "transfer my files", "transfer data", "real time", "real-time",
];

/// Filler that may surround a bare call like "agent please".
const FILLER: [&str; 27] = [
    "please", "pls", "plz", "now", "a", "an", "the", "some", "can", "i", "get", "just", "ok", "okay", "hey", "hi",
    "hello", "yes", "asap", "immediately", "me", "to", "have", "need", "want", "talk", "speak",
];

/// The text lowercased, with spaces for punctuation and at both ends, so a phrase
/// matches only from the start of a word (" our team" is not in " your team").
fn spaced(text: &str) -> String {
    let lowered: String = text
        .to_lowercase()
        .replace('’', "'")
        .chars()
        .map(|c| if c.is_alphanumeric() || c == '-' || c == '\'' { c } else { ' ' })
        .collect();
    format!(" {lowered} ")
}

fn tokens(text: &str) -> Vec<String> {
    let mut lowered = spaced(text);
    for phrase in LOOK_ALIKES {
        lowered = lowered.replace(&format!(" {phrase}"), " ");
    }
    lowered.split(|c: char| !(c.is_alphanumeric() || c == '\'')).filter(|t| !t.is_empty()).map(str::to_owned).collect()
}

/// "are you a human", "is this a bot", "answered by a human or a bot": asking what
/// the assistant is, not asking for a person.
pub fn asks_what_the_bot_is(text: &str) -> bool {
    let text = text.to_lowercase();
    let about_bot = [
        "are you a", "are you human", "are you real", "is this a bot", "is this a human", "am i talking to a",
        "am i chatting with a", "am i speaking to a", "am i speaking with a", "or a bot", "or a human", "or an ai",
        "a bot or", "are you an ai", "are you a bot",
    ];
    about_bot.iter().any(|p| text.contains(p))
}

/// Does the text speak of people in a way that is not a request for one ("human
/// resources", "talk to my team inside the app", "is this a bot?")? The classifier's
/// guess of a request does not count against this.
pub fn look_alike(text: &str) -> bool {
    let lowered = spaced(text);
    asks_what_the_bot_is(text) || LOOK_ALIKES.iter().any(|phrase| lowered.contains(&format!(" {phrase}")))
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
        // "talk", "chat", "speak" are strong only as verbs: "talk to sales", not "live chat support".
        let as_verb = !matches!(verb.as_str(), "talk" | "chat" | "speak" | "speaking")
            || matches!(words.get(i + 1).map(String::as_str), Some("to" | "with"));
        let strong = STRONG_ASK.contains(&verb.as_str()) && as_verb;
        words[i + 1..].iter().take(6).any(|w| is_person(w) || (strong && is_weak(w)))
    });
    // "is there a human (I can speak to)", "anyone there?", "can a real person help".
    let person_available = words.windows(2).enumerate().any(|(i, pair)| {
        matches!(pair[0].as_str(), "there" | "any" | "can" | "could") && is_person(&pair[1]) && !negated(i)
    }) || words.windows(4).enumerate().any(|(i, w)| {
        matches!(w[0].as_str(), "there" | "can" | "could")
            && matches!(w[1].as_str(), "a" | "an" | "any" | "some" | "real" | "live")
            && (is_person(&w[2]) || is_person(&w[3]))
            && !negated(i)
    }) || text.to_lowercase().contains("anyone there");

    // "have someone from your team contact me", "can somebody call me back".
    let person_then_contact = words.iter().enumerate().any(|(i, w)| {
        is_person(w)
            && !negated(i)
            && words[i + 1..].windows(2).take(6).any(|pair| {
                matches!(pair[0].as_str(), "contact" | "call" | "email" | "reach" | "ring") && pair[1] == "me"
            })
    });
    if !(verb_then_person || person_available || person_then_contact) {
        return false;
    }
    // A question about the bot's nature counts only if a request comes with it.
    !asks_what_the_bot_is(text) || verb_then_person_outside_bot_question(text)
}

/// "Are you a bot? I want a human." — the request stands on its own after the question.
fn verb_then_person_outside_bot_question(text: &str) -> bool {
    text.split(['?', '.', '!'])
        .filter(|s| !asks_what_the_bot_is(s))
        .any(|s| !s.trim().is_empty() && explicit_request(s))
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
            "I'd like someone from your team to call me",
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
            "How do I talk to my team inside the app?",
            "Can I set person-level permissions?",
            "",
        ] {
            assert!(!explicit_request(text), "should not ask for a person: {text:?}");
        }
    }
}

/// Phrases that alone show the visitor has had enough of the bot.
const FED_UP: [&str; 37] = [
    "isn't helping", "is not helping", "not helping", "not helpful", "unhelpful", "useless", "waste of time",
    "wasting my time", "pointless", "unacceptable", "this is a joke", "fed up", "sick of this", "i already told you",
    "i already said", "you're not listening", "not listening", "not what i asked", "are you even reading",
    "keep repeating", "repeating myself", "losing my patience", "lost my patience", "ignoring my question",
    "keep ignoring", "worthless", "garbage", "nothing you say", "can't you answer", "third time", "so angry",
    "really angry", "i hate", "worst service", "worst support", "beyond frustrating", "how bad this is",
];

/// Insults and profanity (whole words).
const INSULTS: [&str; 10] = ["wtf", "stupid", "idiot", "idiotic", "dumb", "crap", "shit", "fuck", "fucking", "damn"];

/// Words of a complaint: one is mild, several across the conversation are not.
const COMPLAINTS: [&str; 15] = [
    "frustrating", "frustrated", "annoying", "annoyed", "terrible", "awful", "worst", "ridiculous", "horrible",
    "angry", "upset", "disappointed", "seriously", "disaster", "unbelievable",
];

/// Words that turn a complaint word into a strong one ("absolutely ridiculous").
const INTENSIFIERS: [&str; 8] = ["absolutely", "so", "really", "totally", "completely", "utterly", "beyond", "very"];

/// "still doesn't work", "still broken": the problem is back after an answer.
const STILL: [&str; 9] = [
    "still doesn't", "still does not", "still not", "still broken", "still fails", "still failing", "still stuck",
    "still nothing", "still wrong",
];

/// Is this word about how the visitor feels rather than what they ask about?
pub fn is_emotional(word: &str) -> bool {
    let word = word.to_lowercase();
    let word = word.trim_matches(|c: char| !c.is_alphanumeric());
    COMPLAINTS.contains(&word) || INSULTS.contains(&word)
}

/// VADER (the `vader-parity` crate): the lexicon and rules are parsed once.
static SENTIMENT: LazyLock<SentimentIntensityAnalyzer> = LazyLock::new(SentimentIntensityAnalyzer::new);

/// VADER's compound score at or below which a message counts as angry.
const NEGATIVE_COMPOUND: f64 = -0.6;

/// How negative a text sounds, from -1 to 1 (VADER's compound score).
pub fn sentiment(text: &str) -> f64 {
    SENTIMENT.polarity_scores(text).compound
}

/// What an insult may be aimed at for it to count as anger at the service.
const TARGETS: [&str; 14] =
    ["you", "your", "u", "ur", "you're", "youre", "bot", "this", "app", "service", "company", "site", "website", "yall"];

/// How frustrated one message sounds: 2 means enough on its own. Swearing counts
/// fully only when aimed at the bot or the service ("this stupid bot", "fuck you");
/// in an ordinary question ("where the fuck is the size guide") it counts as 1.
pub fn message_heat(text: &str) -> u32 {
    let lower = text.to_lowercase().replace('’', "'");
    if FED_UP.iter().any(|p| lower.contains(p)) {
        return 2;
    }
    let words: Vec<&str> =
        lower.split(|c: char| !(c.is_alphanumeric() || c == '\'')).filter(|w| !w.is_empty()).collect();
    let aimed_insult = words.iter().enumerate().any(|(i, w)| {
        INSULTS.contains(w) && words[i.saturating_sub(3)..(i + 5).min(words.len())].iter().any(|t| TARGETS.contains(t))
    });
    if aimed_insult {
        return 2;
    }
    let insult = words.iter().any(|w| INSULTS.contains(w));
    let letters: Vec<char> = text.chars().filter(|c| c.is_alphabetic()).collect();
    let shouting = letters.len() >= 8 && letters.iter().filter(|c| c.is_uppercase()).count() * 10 >= letters.len() * 7;
    let complaint = words.iter().any(|w| COMPLAINTS.contains(w));
    let intensified = words.windows(2).any(|pair| INTENSIFIERS.contains(&pair[0]) && COMPLAINTS.contains(&pair[1]));
    // The swearing is counted above: the rest of the message must sound angry too.
    let clean: Vec<&str> = text
        .split_whitespace()
        .filter(|w| !INSULTS.contains(&w.to_lowercase().trim_matches(|c: char| !c.is_alphanumeric())))
        .collect();
    let angry = sentiment(&clean.join(" ")) <= NEGATIVE_COMPOUND;
    let again = STILL.iter().any(|p| lower.contains(p));
    let marks = text.contains("!!") || text.contains("??");
    u32::from(insult)
        + u32::from(shouting)
        + u32::from(complaint)
        + u32::from(intensified)
        + u32::from(angry)
        + u32::from(again)
        + u32::from(marks)
}

fn normalized(text: &str) -> Vec<String> {
    let mut words: Vec<String> =
        text.to_lowercase().split(|c: char| !c.is_alphanumeric()).filter(|w| w.len() > 2).map(str::to_owned).collect();
    words.sort();
    words.dedup();
    words
}

/// The same question again: most of its words were in an earlier message.
pub fn repeats_earlier(last: &str, earlier: &[&str]) -> bool {
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
    let Some((last, earlier)) = visitor_messages.split_last() else {
        return false;
    };
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
            &["wtf is wrong with this app"],
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
            &["where the fuck do I find the delivery options?"],
        ] {
            assert!(!frustrated(conversation), "{conversation:?}");
        }
    }
}

/// Words of a message that says there is a need without saying what it is.
const VAGUE: [&str; 50] = [
    "i", "have", "has", "got", "having", "a", "an", "the", "my", "some", "problem", "problems", "issue", "issues",
    "question", "questions", "query", "trouble", "help", "with", "about", "regarding", "re", "concerning", "it's",
    "its", "it", "is", "there", "there's", "need", "hi", "hello", "hey", "quick", "small", "one", "something",
    "something's", "wrong", "on", "in", "for", "of", "me", "i'm", "im", "am", "this", "good",
];

/// What a vague message may name as its topic ("my bill", "the app").
const TOPICS: [&str; 40] = [
    "bill", "billing", "account", "order", "orders", "subscription", "card", "payment", "payments", "delivery",
    "refund", "booking", "statement", "invoice", "plan", "app", "service", "contract", "policy", "membership",
    "internet", "phone", "package", "parcel", "reservation", "ticket", "flight", "router", "meter", "loan",
    "transfer", "login", "password", "purchase", "return", "claim", "bills", "line", "broadband", "direct",
];

/// Greetings and times of day a vague message may open with.
const OPENERS: [&str; 5] = ["morning", "afternoon", "evening", "there", "team"];

/// "I have a problem with my bill", "question about my account", "my refund": a need
/// named only by its topic. The bot asks what it is before handing over, so the
/// person who takes the chat reads the need, not just "a problem".
pub fn vague_need(text: &str) -> bool {
    let lower = text.to_lowercase().replace('’', "'");
    let words: Vec<&str> =
        lower.split(|c: char| !(c.is_alphanumeric() || c == '\'')).filter(|w| !w.is_empty()).collect();
    if words.is_empty() || words.len() > 10 || !words.iter().any(|w| TOPICS.contains(w)) {
        return false;
    }
    // Every word is vague, a topic, an opener, or a word naming the topic that follows
    // it ("my electricity statement", "gym membership").
    words.iter().enumerate().all(|(i, w)| {
        VAGUE.contains(w)
            || TOPICS.contains(w)
            || OPENERS.contains(w)
            || words.get(i + 1).is_some_and(|next| TOPICS.contains(next))
    })
}

#[cfg(test)]
mod vague_tests {
    use super::vague_need;

    #[test]
    fn a_need_named_only_by_its_topic_is_vague() {
        for text in [
            "I have a problem with my bill",
            "question about my account",
            "my refund",
            "hi, problem with the app",
            "Good afternoon, I have a query regarding my electricity statement.",
            "something's wrong with my delivery",
        ] {
            assert!(vague_need(text), "{text}");
        }
        // A request is not vague: "refund please" says what is wanted.
        for text in ["Refund please", "help with my refund pls"] {
            assert!(!vague_need(text), "{text}");
        }
        for text in [
            "I was charged twice for my subscription",
            "my refund hasn't arrived after three weeks",
            "hello",
            "how do I cancel my subscription?",
            "the app crashes when I open my statement",
        ] {
            assert!(!vague_need(text), "{text}");
        }
    }
}

/// An issue only the team can resolve, and how the bot speaks of it.
#[derive(Debug, PartialEq, Eq)]
pub struct TeamOnlyIssue {
    pub acknowledgement: &'static str,
    /// What to call it in the confirmation ("the double charge").
    pub topic: &'static str,
}

const TEAM_ONLY: [(&[&str], TeamOnlyIssue); 4] = [
    (
        &[
            "charged twice", "charged me twice", "double charge", "double-charge", "double charged",
            "charged two times", "billed twice", "billed me twice", "charged 2 times", "two charges",
            "duplicate charge",
        ],
        TeamOnlyIssue {
            acknowledgement:
                "I'm sorry about the double charge — that's something our team will want to sort out for you directly.",
            topic: "the double charge",
        },
    ),
    (
        &[
            "refund", "money back", "reimburse", "restitution", "compensation", "money returned", "return my money",
            "my money return", "return the money", "repayment of",
        ],
        TeamOnlyIssue {
            acknowledgement: "I'm sorry to hear that. Refunds are handled by our team directly.",
            topic: "your refund request",
        },
    ),
    (
        &[
            "overcharged", "over charged", "wrong amount", "billing error", "billing mistake", "invoice is wrong",
            "wrong invoice", "dispute", "chargeback", "unauthorized charge", "unauthorised charge", "didn't authorize",
            "didn't authorise", "still being charged", "still charged", "charged after i cancel", "charged me after",
            "charged even though", "charged for a plan i", "unexpected charge", "charged more than",
        ],
        TeamOnlyIssue {
            acknowledgement:
                "I'm sorry about the billing trouble — our team will want to look at that with you directly.",
            topic: "the billing issue",
        },
    ),
    (
        &[
            "delete my account",
            "close my account",
            "my account is locked",
            "account locked",
            "locked out of my account",
            "locked me out",
            "change my account email",
            "change the email on my account",
            "change my login email",
            "account was hacked",
            "account has been hacked",
            "hacked my account",
            "account is compromised",
            "account was compromised",
            "transfer ownership",
            "merge my accounts",
            "merge two accounts",
            "account suspended",
            "account was suspended",
            "account has been suspended",
            "account is suspended",
            "reactivate my account",
        ],
        TeamOnlyIssue {
            acknowledgement: "That needs someone who can look at your account directly.",
            topic: "your account request",
        },
    ),
];

/// A billing dispute, double charge, refund or account-specific request: the bot
/// must not try to resolve these itself.
pub fn team_only_issue(text: &str) -> Option<&'static TeamOnlyIssue> {
    let text = text.to_lowercase().replace('’', "'");
    let phrased = TEAM_ONLY.iter().find(|(phrases, _)| phrases.iter().any(|p| text.contains(p)));
    if let Some((_, issue)) = phrased {
        return Some(issue);
    }
    let words: Vec<&str> =
        text.split(|c: char| !(c.is_alphanumeric() || c == '\'')).filter(|w| !w.is_empty()).collect();
    let has = |set: &[&str]| words.iter().any(|w| set.contains(w));
    // A charge the visitor objects to ("I was charged $79 but I'm on Team"), not a
    // question about what will be charged ("will I be charged after the trial?").
    const CHARGED: [&str; 5] = ["charged", "charge", "charges", "billed", "charging"];
    const OBJECTION: [&str; 15] = [
        "but", "though", "wrong", "more", "supposed", "never", "didn't", "why", "difference", "cancelled", "canceled",
        "again", "extra", "still", "without",
    ];
    const FUTURE: [&str; 4] = ["will", "would", "if", "when"];
    if has(&CHARGED) && has(&OBJECTION) && !has(&FUTURE) {
        return TEAM_ONLY.get(2).map(|(_, issue)| issue);
    }
    // Trouble with the account itself: only the team can look at it.
    const ACCOUNT: [&str; 3] = ["account", "accounts", "login"];
    const TROUBLE: [&str; 9] =
        ["hacked", "compromised", "locked", "suspended", "banned", "disabled", "deactivated", "merge", "stolen"];
    if has(&ACCOUNT) && has(&TROUBLE) {
        return TEAM_ONLY.get(3).map(|(_, issue)| issue);
    }
    None
}

#[cfg(test)]
mod team_only_tests {
    use super::team_only_issue;

    #[test]
    fn billing_refund_and_account_issues_go_to_the_team() {
        for text in [
            "I was charged twice for my subscription",
            "Can I get a refund?",
            "where can I obtain restitution of my money",
            "I think I was overcharged",
            "please delete my account",
            "My account was hacked",
            "I cancelled last month but I'm still being charged",
            "I was charged $79 but I'm on the Team plan",
            "can you merge my two accounts?",
        ] {
            assert!(team_only_issue(text).is_some(), "{text}");
        }
        for text in [
            "How do I change my password?",
            "What does the Team plan cost?",
            "How do I cancel my subscription?",
            "Will I be charged when the trial ends?",
            "Why is my upload stuck?",
        ] {
            assert!(team_only_issue(text).is_none(), "{text}");
        }
    }
}
