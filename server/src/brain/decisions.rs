//! The built-in brain with its sentence model, as the server runs it: what visitors
//! mean, the look-alikes, the clarifying question, conversation-level frustration,
//! refined requests, summaries and drafts. These need the model that `make setup`
//! installs (`make test` runs it first).

use std::sync::Arc;

use app::domain::{AuthorKind, EscalationReason, Message, Visitor};

use super::{
    builtin::{BuiltinBrain, CLARIFY, THRESHOLDS},
    eval::demo_chatbot,
    knowledge::KnowledgeBase,
    meaning::{load_sentences, sentence, similarity, Meaning, DEFAULT_MODEL_DIR, MODEL},
    BotTurn, Turn,
};
use crate::demo;

fn brain() -> BuiltinBrain {
    match Meaning::shared(std::path::Path::new(DEFAULT_MODEL_DIR)) {
        Ok(meaning) => BuiltinBrain::with_meaning(meaning),
        Err(err) => panic!("the sentence model is not installed ({err}): run `make build`, which installs and trains it"),
    }
}

fn message(seq: usize, kind: AuthorKind, text: &str) -> Message {
    super::eval::message(seq as i64, kind, text)
}

/// Plays the visitor's turns; returns the bot's decisions, one per turn, until it escalates.
fn play(brain: &BuiltinBrain, turns: &[&str]) -> (Vec<BotTurn>, Vec<Message>) {
    let chatbot = demo_chatbot();
    let knowledge = KnowledgeBase::new(demo::knowledge_entries());
    let visitor = Visitor::default();
    let mut messages = vec![message(1, AuthorKind::Bot, &chatbot.greeting)];
    let mut decisions = Vec::new();
    for said in turns {
        messages.push(message(messages.len() + 1, AuthorKind::Visitor, said));
        let turn = Turn { chatbot: &chatbot, knowledge: &knowledge, visitor: &visitor, messages: &messages };
        let decision = brain.decide(&turn);
        decisions.push(decision.clone());
        match decision {
            BotTurn::Reply(text) => messages.push(message(messages.len() + 1, AuthorKind::Bot, &text)),
            BotTurn::Escalate { .. } => break,
        }
    }
    (decisions, messages)
}

fn reason(decision: Option<&BotTurn>) -> Option<EscalationReason> {
    match decision {
        Some(BotTurn::Escalate { reason, .. }) => Some(*reason),
        _ => None,
    }
}

#[test]
fn what_the_rules_missed_is_understood() {
    let brain = brain();
    use EscalationReason::*;
    for (text, expected) in [
        ("help me to speak to customer assistance", ExplicitRequest),
        ("I don't know how I can talk to an assistant", ExplicitRequest),
        ("can I get a callback from your team", ExplicitRequest),
        ("where do I get my money back for the blender that broke", CannotResolve),
        ("I want to report an error with payments", CannotResolve),
        ("There's a charge on my card I don't recognise from you", CannotResolve),
        ("Please cancel my account and delete all my data", CannotResolve),
        ("Someone else is using my account, please lock it", CannotResolve),
    ] {
        let (decisions, _) = play(&brain, &[text]);
        assert_eq!(reason(decisions.last()), Some(expected), "{text:?}: {decisions:?}");
    }
}

#[test]
fn look_alikes_stay_with_the_bot() {
    let brain = brain();
    for text in [
        "How do I talk to my team inside the app?",
        "How do I contact human resources?",
        "human resources",
        "is this a bot?",
        "Can I set person-level permissions on a folder?",
        "person-level permissions",
        "how do I charge my phone with the desktop app running",
        "what the fuck are the delivery options to Canada?",
        "wtf how long does shipping take",
        "What does the Team plan cost?",
        "How do I cancel my subscription?",
        "Will I be charged when the trial ends?",
        "thanks, that helped!",
    ] {
        let (decisions, _) = play(&brain, &[text]);
        assert_eq!(reason(decisions.last()), None, "{text:?}: {decisions:?}");
        assert!(!matches!(decisions.last(), Some(BotTurn::Reply(r)) if r == CLARIFY), "{text:?} asked to clarify");
    }
}

#[test]
fn an_unsure_reading_asks_first_and_a_yes_escalates() {
    // Thresholds that leave every request to the question (the classifier is unsure).
    let unsure = brain().with_thresholds(super::builtin::Thresholds { explicit: 1.1, clarify: 0.0, ..THRESHOLDS });
    let (decisions, _) = play(&unsure, &["can I get a callback from your team", "yes please"]);
    assert_eq!(decisions.first(), Some(&BotTurn::Reply(CLARIFY.to_owned())), "{decisions:?}");
    assert_eq!(reason(decisions.last()), Some(EscalationReason::ExplicitRequest), "{decisions:?}");
    let (decisions, _) = play(&unsure, &["can I get a callback from your team", "no thanks"]);
    assert_eq!(reason(decisions.last()), None, "{decisions:?}");
}

#[test]
fn frustration_is_read_over_the_whole_conversation() {
    // The first message states a problem the help articles cover; what follows is not.
    let turns = ["my upload keeps failing", "still failing after I renamed the file", "this is really frustrating"];
    let (decisions, _) = play(&brain(), &turns);
    assert!(!matches!(decisions.first(), Some(BotTurn::Escalate { .. })), "not at the first turn: {decisions:?}");
    assert!(
        matches!(reason(decisions.last()), Some(EscalationReason::Frustration | EscalationReason::CannotResolve)),
        "{decisions:?}"
    );
}

#[test]
fn a_request_refined_over_two_turns_escalates_and_the_summary_names_the_need() {
    let (decisions, _) = play(&brain(), &["I have a problem with my bill", "it charged me twice"]);
    match decisions.last() {
        Some(BotTurn::Escalate { reason, summary, .. }) => {
            assert_eq!(*reason, EscalationReason::CannotResolve);
            assert!(summary.contains("their bill"), "{summary}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_need_named_only_by_its_topic_is_asked_about_then_handed_over() {
    let (decisions, _) = play(&brain(), &["hi, I have a problem with my bill", "you charged me twice for March"]);
    assert_eq!(decisions.first(), Some(&BotTurn::Reply(super::builtin::ASK_DETAILS.to_owned())), "{decisions:?}");
    assert_eq!(reason(decisions.last()), Some(EscalationReason::CannotResolve), "{decisions:?}");
}

#[test]
fn the_bot_not_helping_after_its_answer_is_frustration() {
    for follow_up in [
        "that's not what I asked",
        "you didn't answer my question, I asked about the price",
        "How much does the Team plan cost per month?",
    ] {
        let (decisions, messages) = play(&brain(), &["How much is the Team plan per month?", follow_up]);
        assert!(messages.iter().any(|m| m.text.contains("$29")), "the bot answered first: {messages:?}");
        assert_eq!(reason(decisions.last()), Some(EscalationReason::Frustration), "{follow_up:?}: {decisions:?}");
    }
}

#[test]
fn the_issues_misses_are_handed_over() {
    use EscalationReason::*;
    for (text, expected) in [
        ("I want to file a complaint about your service", CannotResolve),
        ("how do I lodge a claim against you", CannotResolve),
        ("I'd like to make a formal reclamation", CannotResolve),
        ("you still haven't answered what I asked", Frustration),
        ("nothing on this site works for me, ugh", Frustration),
        ("can you confirm my payment for this went through?", CannotResolve),
        ("I don't know how to get hold of customer service", ExplicitRequest),
        ("which number do I call for a representative?", ExplicitRequest),
        ("who do I speak to about this?", ExplicitRequest),
    ] {
        let (decisions, _) = play(&brain(), &[text]);
        assert_eq!(reason(decisions.last()), Some(expected), "{text:?}: {decisions:?}");
    }
}

#[test]
fn an_explicit_request_is_summarised_by_the_need_said_before_it() {
    let (decisions, _) =
        play(&brain(), &["My invoice shows the wrong company name", "can I get a callback from your team"]);
    match decisions.last() {
        Some(BotTurn::Escalate { summary, .. }) => assert!(summary.contains("invoice"), "{summary}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_draft_never_repeats_an_answer_that_did_not_help() {
    let brain = brain();
    let (_, mut messages) = play(&brain, &["how do I reset my password"]);
    let answer = messages.last().map(|m| m.text.clone()).unwrap_or_default();
    assert!(answer.to_lowercase().contains("password"), "{answer}");
    messages.push(message(messages.len() + 1, AuthorKind::Visitor, "that didn't help, I never get the email"));
    let chatbot = demo_chatbot();
    let knowledge = KnowledgeBase::new(demo::knowledge_entries());
    let visitor = Visitor::default();
    let turn = Turn { chatbot: &chatbot, knowledge: &knowledge, visitor: &visitor, messages: &messages };
    let draft = BuiltinBrain::draft(&turn, "Priya Shah");
    assert!(draft.contains("this is Priya"), "{draft}");
    assert!(!draft.contains(answer.trim()), "the draft repeats the answer that did not help: {draft}");
}

#[test]
fn the_tokenizer_reads_only_the_text_not_the_file_padding() {
    let file = std::path::Path::new(DEFAULT_MODEL_DIR).join(MODEL).join(sentence::TOKENIZER);
    let as_shipped = tokenizers::Tokenizer::from_file(&file).expect("the model's tokenizer.json");
    // The file pads every encoding to 128 tokens: read as is, "hello" is mostly [PAD].
    assert_eq!(sentence::token_ids(&as_shipped, "hello").len(), 128, "the file's padding changed");
    let plain = sentence::plain_tokenizer(&file).expect("the tokenizer loads");
    assert_eq!(sentence::token_ids(&plain, "hello").len(), 1);
    let long = "word ".repeat(400);
    assert_eq!(sentence::token_ids(&plain, &long).len(), 400, "and no truncation of its own");
    let sentences = load_sentences(std::path::Path::new(DEFAULT_MODEL_DIR)).expect("the sentence model loads");
    assert_eq!(sentences.windows("hello").iter().map(Vec::len).collect::<Vec<_>>(), [3], "[CLS] hello [SEP]");
    let windows = sentences.windows(&long);
    assert_eq!(windows.len(), sentence::MAX_WINDOWS, "a long text is read in a bounded number of windows");
    assert!(windows.iter().all(|w| w.len() == sentence::WINDOW), "each full");
}

#[test]
fn the_sentence_model_reads_order_and_meaning() {
    let sentences = load_sentences(std::path::Path::new(DEFAULT_MODEL_DIR)).expect("the sentence model loads");
    let near = |a: &str, b: &str| similarity(&sentences.embed(a), &sentences.embed(b));
    let paraphrase = near("I was charged twice for my order", "you billed my card two times for one purchase");
    let unrelated = near("I was charged twice for my order", "what colours does the sofa come in");
    assert!(paraphrase > unrelated + 0.3, "paraphrase {paraphrase}, unrelated {unrelated}");
    assert!(near("the dog bit the man", "the man bit the dog") < 0.999, "word order counts");
    let batch = sentences.embed_many(&["hello there", "I was charged twice for my order"], 2);
    assert!(similarity(&batch[1], &sentences.embed("I was charged twice for my order")) > 0.9999);
}

#[test]
fn the_model_loads_once_per_process() {
    let dir = std::path::Path::new(DEFAULT_MODEL_DIR);
    let (Ok(a), Ok(b)) = (Meaning::shared(dir), Meaning::shared(dir)) else {
        panic!("the sentence model is not installed: run `make setup`");
    };
    assert!(Arc::ptr_eq(&a, &b));
    let missing = tempfile::tempdir().expect("a temporary directory");
    assert!(Meaning::shared(missing.path()).is_err(), "an empty directory has no model");
}

/// Baton's own conversations (never trained on) keep their figures with the model:
/// a regression guard, the eval reports the exact figures.
#[test]
fn the_conversation_corpus_keeps_its_figures_with_the_model() {
    let entries = super::eval::parse(&super::eval::corpus()).expect("the shipped corpus parses");
    super::eval::assert_every_reason_at_least(&super::eval::evaluate(&brain(), &entries), 0.85);
}

#[test]
fn questions_in_other_words_are_answered_by_meaning_and_off_topic_ones_are_not() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/eval/retrieval.tsv");
    let questions = super::eval::parse_retrieval(&std::fs::read_to_string(path).unwrap_or_default());
    assert!(questions.len() >= 50, "{path} is missing");
    let meaning = Meaning::shared(std::path::Path::new(DEFAULT_MODEL_DIR))
        .unwrap_or_else(|err| panic!("the sentence model is not installed ({err}): run `make build`"));
    let (answer, margin) = (super::knowledge::MEANING_ANSWER, super::knowledge::MEANING_MARGIN);
    let words = super::eval::score_retrieval(&questions, None, answer, margin);
    let with_meaning = super::eval::score_retrieval(&questions, Some(&meaning), answer, margin);
    assert!(with_meaning.right >= words.right + 4, "meaning adds answers: {words:?} → {with_meaning:?}");
    assert!(with_meaning.wrong <= words.wrong, "and no wrong ones: {words:?} → {with_meaning:?}");
    assert_eq!(with_meaning.false_answers, 0, "nor answers to what the knowledge base does not hold");

    let knowledge = KnowledgeBase::new(demo::knowledge_entries());
    let framed = knowledge.best_with("Thanks! Separate question: where do I find my invoices?", Some(&meaning));
    assert!(framed.is_some_and(|hit| hit.answers() && hit.entry.title.contains("invoices")));
}
