//! Evaluation of the built-in brain's escalation decision (`make eval` prints the
//! report): on conversations (`server/eval/corpus.txt`, `conversations.jsonl`, or
//! anyone's JSONL file), and on the labelled public corpora with k-fold
//! cross-validation and a held-out split (`corpora`).
//!
//! Each entry is a short conversation: the visitor's messages, and the decision the
//! bot should make at the last one (`none`, or a reason). The eval plays it against
//! the demo chatbot, bot replies included; the prediction is the first escalation
//! the bot makes (or none). Escalating before the last turn counts as wrong. The
//! bot's clarifying question ("Would you like me to connect you…?") is not an
//! escalation: the eval counts it as none, and reports how often it asked.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    time::{Duration, Instant},
};

use app::domain::{Author, AuthorKind, EscalationReason, Message, Visitor};

use super::{
    builtin::{BuiltinBrain, CLARIFY, DONT_KNOW},
    knowledge::KnowledgeBase,
    BotTurn, Brain, Turn,
};
use crate::{demo, store::conversations::ChatbotRecord};

/// The decision for one conversation: escalate for a reason, or not.
pub type Label = Option<EscalationReason>;

#[derive(Debug, Clone)]
pub struct Entry {
    pub line: usize,
    pub label: Label,
    pub turns: Vec<String>,
    /// What the entry is: its sub-case of the policy, or the original label of a
    /// public corpus's row; empty when unknown.
    pub kind: String,
}

/// One line of a JSONL conversation file.
#[derive(serde::Deserialize)]
struct JsonEntry {
    turns: Vec<String>,
    escalate: bool,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    case: Option<String>,
}

/// Conversations as JSON lines: `{"turns": [...], "escalate": bool, "reason": ...}`.
pub fn parse_jsonl(text: &str) -> Result<Vec<Entry>, CorpusError> {
    let mut entries = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let entry: JsonEntry =
            serde_json::from_str(raw).map_err(|err| CorpusError { line, problem: format!("not a conversation: {err}") })?;
        let label = match (entry.escalate, entry.reason.as_deref()) {
            (false, _) => None,
            (true, Some(reason)) => super::corpora::label_of(reason)
                .flatten()
                .ok_or_else(|| CorpusError { line, problem: format!("unknown reason {reason:?}") })?
                .into(),
            (true, None) => return Err(CorpusError { line, problem: "escalate is true but no reason".into() }),
        };
        let turns: Vec<String> = entry.turns.iter().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect();
        if turns.is_empty() {
            return Err(CorpusError { line, problem: "no visitor turns".into() });
        }
        let kind = entry.case.unwrap_or_default();
        if !kind.is_empty() && !super::policy::is_case_of(&kind, label) {
            return Err(CorpusError { line, problem: format!("{kind:?} is not a sub-case of {}", label_name(label)) });
        }
        entries.push(Entry { line, label, turns, kind });
    }
    Ok(entries)
}

#[derive(Debug, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct CorpusError {
    line: usize,
    problem: String,
}

pub fn parse(corpus: &str) -> Result<Vec<Entry>, CorpusError> {
    let mut entries = Vec::new();
    for (index, raw) in corpus.lines().enumerate() {
        let line = index + 1;
        let raw = raw.trim();
        if raw.is_empty() || raw.starts_with('#') {
            continue;
        }
        let (label, turns) = raw
            .split_once('|')
            .ok_or_else(|| CorpusError { line, problem: "expected `label | turn || turn`".into() })?;
        let label = match label.trim() {
            "none" => None,
            "explicit_request" => Some(EscalationReason::ExplicitRequest),
            "frustration" => Some(EscalationReason::Frustration),
            "cannot_resolve" => Some(EscalationReason::CannotResolve),
            other => return Err(CorpusError { line, problem: format!("unknown label {other:?}") }),
        };
        let turns: Vec<String> = turns.split("||").map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect();
        if turns.is_empty() {
            return Err(CorpusError { line, problem: "no visitor turns".into() });
        }
        entries.push(Entry { line, label, turns, kind: String::new() });
    }
    Ok(entries)
}

/// What the bot did with one entry.
pub struct Outcome {
    pub predicted: Label,
    /// The escalation came before the last turn.
    pub early: bool,
    /// The bot's last reply was its "I don't know".
    pub unanswered: bool,
    /// The bot's last reply asked whether the visitor wants a person.
    pub clarified: bool,
}

/// The demo chatbot, as first start creates it.
pub fn demo_chatbot() -> ChatbotRecord {
    ChatbotRecord {
        id: "bot_eval".into(),
        workspace_id: "ws_eval".into(),
        public_id: demo::DEMO_BOT_ID.into(),
        name: "Acme support".into(),
        greeting: "Hi! I'm Acme's assistant. Ask me anything, or ask for a person at any time.".into(),
        live_handoff: true,
        knowledge_revision: 1,
        instructions: Default::default(),
        color: "#4338ca".into(),
        launcher_position: Default::default(),
        allowed_origins: "*".into(),
        archived_at: None,
        created_at: 0,
        model: Default::default(),
    }
}

/// A message in a played conversation.
pub(crate) fn message(seq: i64, kind: AuthorKind, text: &str) -> Message {
    Message {
        seq,
        id: format!("m{seq}"),
        author: Author { kind, name: None },
        text: text.to_owned(),
        client_id: None,
        asks: None,
        at: String::new(),
    }
}

/// Decides the bot's turn: the built-in brain's `decide`, or any brain's `respond`.
pub type Decide<'a> = dyn FnMut(&Turn<'_>) -> BotTurn + 'a;

/// Plays one entry with the built-in brain; `timings` gets the time of every decision.
pub fn play(
    brain: &BuiltinBrain,
    entry: &Entry,
    chatbot: &ChatbotRecord,
    knowledge: &KnowledgeBase,
    timings: &mut Vec<Duration>,
) -> Outcome {
    play_with(&mut |turn| brain.decide(turn), entry, chatbot, knowledge, timings)
}

/// Plays one entry, each bot turn decided by `decide`.
pub fn play_with(
    decide: &mut Decide<'_>,
    entry: &Entry,
    chatbot: &ChatbotRecord,
    knowledge: &KnowledgeBase,
    timings: &mut Vec<Duration>,
) -> Outcome {
    let visitor = Visitor::default();
    let mut messages = vec![message(1, AuthorKind::Bot, &chatbot.greeting)];
    for (i, said) in entry.turns.iter().enumerate() {
        messages.push(message(messages.len() as i64 + 1, AuthorKind::Visitor, said));
        let turn = Turn { chatbot, knowledge, visitor: &visitor, messages: &messages };
        let started = Instant::now();
        let decision = decide(&turn);
        timings.push(started.elapsed());
        match decision {
            BotTurn::Escalate { reason, .. } => {
                return Outcome {
                    predicted: Some(reason),
                    early: i + 1 < entry.turns.len(),
                    unanswered: false,
                    clarified: false,
                };
            }
            BotTurn::Reply(text) => messages.push(message(messages.len() as i64 + 1, AuthorKind::Bot, &text)),
        }
    }
    let unanswered = messages.last().is_some_and(|m| m.text.starts_with(DONT_KNOW));
    let clarified = messages.last().is_some_and(|m| m.text == CLARIFY);
    Outcome { predicted: None, early: false, unanswered, clarified }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Scores {
    pub true_positives: usize,
    pub false_positives: usize,
    pub false_negatives: usize,
}

impl Scores {
    pub fn precision(&self) -> f64 {
        ratio(self.true_positives, self.true_positives + self.false_positives)
    }

    pub fn recall(&self) -> f64 {
        ratio(self.true_positives, self.true_positives + self.false_negatives)
    }

    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

pub struct Report {
    pub entries: usize,
    pub turns: usize,
    /// Per reason, and (last) for "escalate at all".
    pub per_reason: Vec<(EscalationReason, Scores)>,
    pub any_escalation: Scores,
    /// Line, expected, predicted, early, the visitor's turns.
    pub misses: Vec<(usize, Label, Label, bool, String)>,
    /// `none` conversations the bot ended with "I don't know": line, turns.
    pub unanswered: Vec<(usize, String)>,
    pub ordinary: usize,
    /// Conversations that ended with the bot's clarifying question.
    pub clarified: usize,
    pub p50_decision: Duration,
    pub p99_decision: Duration,
    /// Per kind of entry that should be handed over: (handed over, of how many).
    pub recall_by_kind: BTreeMap<String, (usize, usize)>,
    /// Per kind of entry that should not be handed over: how many were.
    pub false_by_kind: BTreeMap<String, usize>,
}

const REASONS: [EscalationReason; 3] =
    [EscalationReason::ExplicitRequest, EscalationReason::Frustration, EscalationReason::CannotResolve];

pub fn evaluate(brain: &BuiltinBrain, entries: &[Entry]) -> Report {
    evaluate_with(&mut |turn| brain.decide(turn), entries)
}

/// The same evaluation for any brain (the OpenAI-compatible one too): each turn's
/// `respond` runs to completion on `runtime`. Call it outside the runtime's threads.
pub fn evaluate_brain(brain: &dyn Brain, entries: &[Entry], runtime: &tokio::runtime::Handle) -> Report {
    evaluate_with(&mut |turn| runtime.block_on(brain.respond(turn)), entries)
}

pub fn evaluate_with(decide: &mut Decide<'_>, entries: &[Entry]) -> Report {
    evaluate_in(decide, entries, &KnowledgeBase::new(demo::knowledge_entries()))
}

/// The evaluation with the demo chatbot holding another knowledge base.
pub fn evaluate_in(decide: &mut Decide<'_>, entries: &[Entry], knowledge: &KnowledgeBase) -> Report {
    let chatbot = demo_chatbot();
    let mut timings = Vec::new();
    let mut per_reason: Vec<(EscalationReason, Scores)> = REASONS.iter().map(|r| (*r, Scores::default())).collect();
    let mut any = Scores::default();
    let mut misses = Vec::new();
    let mut unanswered = Vec::new();
    let mut clarified = 0;
    let mut recall_by_kind: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut false_by_kind: BTreeMap<String, usize> = BTreeMap::new();
    for entry in entries {
        let outcome = play_with(decide, entry, &chatbot, knowledge, &mut timings);
        let handed_over = outcome.predicted.is_some() && !outcome.early;
        if entry.label.is_some() {
            let counts = recall_by_kind.entry(entry.kind.clone()).or_default();
            counts.0 += usize::from(handed_over);
            counts.1 += 1;
        } else if outcome.predicted.is_some() {
            *false_by_kind.entry(entry.kind.clone()).or_default() += 1;
        }
        clarified += usize::from(outcome.clarified);
        // An early escalation is a wrong one, whatever its reason.
        let predicted = if outcome.early { None } else { outcome.predicted };
        let early_escalation = outcome.early.then_some(outcome.predicted).flatten();
        for (reason, scores) in &mut per_reason {
            let expected = entry.label == Some(*reason);
            let got = predicted == Some(*reason) || early_escalation == Some(*reason);
            let right = expected && predicted == Some(*reason);
            match (expected, got) {
                _ if right => scores.true_positives += 1,
                (true, _) => scores.false_negatives += 1,
                (false, true) => scores.false_positives += 1,
                (false, false) => {}
            }
        }
        match (entry.label.is_some(), outcome.predicted.is_some() && !outcome.early) {
            (true, true) => any.true_positives += 1,
            (true, false) => any.false_negatives += 1,
            (false, true) => any.false_positives += 1,
            (false, false) => any.false_positives += usize::from(outcome.early),
        }
        if entry.label.is_none() && outcome.unanswered {
            unanswered.push((entry.line, entry.turns.join(" || ")));
        }
        if predicted != entry.label || outcome.early {
            misses.push((entry.line, entry.label, outcome.predicted, outcome.early, entry.turns.join(" || ")));
        }
    }
    timings.sort();
    let turns = timings.len();
    let at = |per_cent: usize| timings.get((turns * per_cent / 100).min(turns.saturating_sub(1))).copied();
    let ordinary = entries.iter().filter(|e| e.label.is_none()).count();
    Report {
        entries: entries.len(),
        turns,
        per_reason,
        any_escalation: any,
        misses,
        unanswered,
        ordinary,
        clarified,
        p50_decision: at(50).unwrap_or_default(),
        p99_decision: at(99).unwrap_or_default(),
        recall_by_kind,
        false_by_kind,
    }
}

/// A knowledge base from a Markdown file as admins import it (one `## ` heading per entry).
pub fn knowledge_from_markdown(text: &str) -> Result<KnowledgeBase, String> {
    let drafts = super::knowledge_files::read(app::domain::knowledge::ImportFormat::Markdown, text)
        .map_err(|err| err.to_string())?;
    let entries = drafts
        .into_iter()
        .enumerate()
        .map(|(i, d)| crate::store::knowledge::KnowledgeEntry {
            id: format!("kb-{i}"),
            kind: d.kind,
            title: d.title,
            body: d.body,
        })
        .collect();
    Ok(KnowledgeBase::new(entries))
}

/// Rows of `label<TAB>case<TAB>text` as single-turn conversations (the shop's
/// escalations; `chats/*.tsv`).
pub fn parse_cases(text: &str) -> Result<Vec<Entry>, CorpusError> {
    let mut entries = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        if raw.trim().is_empty() || raw.starts_with('#') {
            continue;
        }
        let row = super::corpora::ChatRow::parse(raw).map_err(|problem| CorpusError { line, problem })?;
        entries.push(Entry { line, label: row.label, turns: vec![row.text.to_owned()], kind: row.case.to_owned() });
    }
    Ok(entries)
}

/// How knowledge-base retrieval did on questions with a known answer (or none).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetrievalScore {
    /// Answered with the right entry.
    pub right: usize,
    /// Answered with another entry: the visitor gets a wrong answer.
    pub wrong: usize,
    /// Not answered though an entry answers it.
    pub missed: usize,
    /// Answered though no entry does.
    pub false_answers: usize,
    /// Correctly left unanswered.
    pub left: usize,
}

impl RetrievalScore {
    pub fn render(&self) -> String {
        let answerable = self.right + self.wrong + self.missed;
        format!(
            "right {}/{answerable}, wrong entry {}, missed {}; of {} questions no entry answers, answered anyway {}",
            self.right,
            self.wrong,
            self.missed,
            self.false_answers + self.left,
            self.false_answers
        )
    }
}

/// `server/eval/retrieval.tsv`: a question, a tab, a word of the answering entry's
/// title or `-`.
pub fn parse_retrieval(text: &str) -> Vec<(String, Option<String>)> {
    text.lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once('\t'))
        .map(|(q, a)| (q.trim().to_owned(), Some(a.trim().to_lowercase()).filter(|a| a != "-")))
        .collect()
}

/// Scores retrieval on the demo knowledge base: words alone (`meaning` None), or
/// with sentence meaning at these limits.
pub fn score_retrieval(
    questions: &[(String, Option<String>)],
    meaning: Option<&super::meaning::Meaning>,
    answer: f32,
    margin: f32,
) -> RetrievalScore {
    let knowledge = KnowledgeBase::new(demo::knowledge_entries());
    let mut score = RetrievalScore::default();
    for (question, expected) in questions {
        let hit = knowledge.best_with_limits(question, meaning, answer, margin).filter(|h| h.answers());
        match (hit, expected) {
            (Some(hit), Some(word)) if hit.entry.title.to_lowercase().contains(word.as_str()) => score.right += 1,
            (Some(_), Some(_)) => score.wrong += 1,
            (None, Some(_)) => score.missed += 1,
            (Some(_), None) => score.false_answers += 1,
            (None, None) => score.left += 1,
        }
    }
    score
}

/// How the demo knowledge base ranks and covers a question (for tuning).
pub fn explain(question: &str) -> String {
    let knowledge = KnowledgeBase::new(demo::knowledge_entries());
    let mut out = String::new();
    let _ = writeln!(out, "matched words: {:?}", knowledge.question_tokens(question));
    for hit in knowledge.candidates(question) {
        let verdict = if hit.answers() { "answers" } else { "" };
        let _ = writeln!(out, "{:.3} {verdict:<8} {}", hit.coverage, hit.entry.title);
    }
    if out.is_empty() {
        out.push_str("no candidate\n");
    }
    out
}

fn label_name(label: Label) -> &'static str {
    label.map_or("none", EscalationReason::as_str)
}

impl Scores {
    fn add(&mut self, other: &Scores) {
        self.true_positives += other.true_positives;
        self.false_positives += other.false_positives;
        self.false_negatives += other.false_negatives;
    }
}

impl Report {
    /// The reports of the folds of a cross-validation as one (counts summed; the
    /// decision times are the slowest fold's).
    pub fn merge(reports: Vec<Report>) -> Report {
        let mut merged = Report {
            entries: 0,
            turns: 0,
            per_reason: REASONS.iter().map(|r| (*r, Scores::default())).collect(),
            any_escalation: Scores::default(),
            misses: Vec::new(),
            unanswered: Vec::new(),
            ordinary: 0,
            clarified: 0,
            p50_decision: Duration::ZERO,
            p99_decision: Duration::ZERO,
            recall_by_kind: BTreeMap::new(),
            false_by_kind: BTreeMap::new(),
        };
        for report in reports {
            for (kind, (hit, all)) in report.recall_by_kind {
                let counts = merged.recall_by_kind.entry(kind).or_default();
                counts.0 += hit;
                counts.1 += all;
            }
            for (kind, count) in report.false_by_kind {
                *merged.false_by_kind.entry(kind).or_default() += count;
            }
            merged.entries += report.entries;
            merged.turns += report.turns;
            for ((_, total), (_, part)) in merged.per_reason.iter_mut().zip(&report.per_reason) {
                total.add(part);
            }
            merged.any_escalation.add(&report.any_escalation);
            merged.misses.extend(report.misses);
            merged.unanswered.extend(report.unanswered);
            merged.ordinary += report.ordinary;
            merged.clarified += report.clarified;
            merged.p50_decision = merged.p50_decision.max(report.p50_decision);
            merged.p99_decision = merged.p99_decision.max(report.p99_decision);
        }
        merged
    }

    /// Recall per kind of entry that should be handed over, and what was handed over
    /// wrongly, by kind (only the kinds the entries name).
    pub fn kinds(&self) -> String {
        let mut out = String::new();
        let named = |kind: &&String| super::policy::label_of_case(kind).is_some();
        if self.recall_by_kind.keys().any(|k| named(&k)) {
            let _ = writeln!(out, "\nrecall by sub-case:");
            for (kind, (hit, all)) in self.recall_by_kind.iter().filter(|(k, _)| named(k)) {
                let _ = writeln!(out, "  {kind:<18} {:>6.3}  ({hit} of {all})", ratio(*hit, *all));
            }
        }
        let wrong: usize = self.false_by_kind.values().sum();
        if wrong > 0 {
            let _ = writeln!(out, "\nhanded over wrongly ({wrong}), by what they were:");
            let mut kinds: Vec<(&String, &usize)> = self.false_by_kind.iter().collect();
            kinds.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            for (kind, count) in kinds.into_iter().take(25) {
                let name = if kind.is_empty() { "(unnamed)" } else { kind.as_str() };
                let _ = writeln!(out, "  {name:<40} {count:>5}");
            }
        }
        out
    }

    /// The scores table: precision, recall, F1 and counts per reason and overall.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<18} {:>9} {:>9} {:>9} {:>5} {:>5} {:>5}",
            "reason", "precision", "recall", "F1", "TP", "FP", "FN"
        );
        let rows =
            self.per_reason.iter().map(|(r, s)| (r.as_str(), s)).chain([("any escalation", &self.any_escalation)]);
        for (name, s) in rows {
            let _ = writeln!(
                out,
                "{name:<18} {:>9.3} {:>9.3} {:>9.3} {:>5} {:>5} {:>5}",
                s.precision(),
                s.recall(),
                s.f1(),
                s.true_positives,
                s.false_positives,
                s.false_negatives
            );
        }
        out
    }

    /// The table, the decision time, and up to `max_cases` confusion cases.
    pub fn render(&self, max_cases: usize) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{} conversations, {} visitor turns decided\n", self.entries, self.turns);
        out.push_str(&self.table());
        let _ = writeln!(
            out,
            "\ndecision time per turn: p50 {:.1} µs, p99 {:.1} µs",
            self.p50_decision.as_secs_f64() * 1e6,
            self.p99_decision.as_secs_f64() * 1e6
        );
        let _ = writeln!(out, "the bot asked whether the visitor wants a person (counted as none): {}", self.clarified);
        out.push_str(&self.kinds());
        let _ = writeln!(out, "\n{} confusion cases{}:", self.misses.len(), if self.misses.len() > max_cases {
            format!(" (the first {max_cases})")
        } else {
            String::new()
        });
        for (line, expected, predicted, early, turns) in self.misses.iter().take(max_cases) {
            let when = if *early { " (before the last turn)" } else { "" };
            let _ = writeln!(
                out,
                "  line {line}: expected {}, got {}{when}: {turns}",
                label_name(*expected),
                label_name(*predicted)
            );
        }
        let _ = writeln!(
            out,
            "\n{} of {} conversations labelled none end with the bot's \"I don't know\" (no escalation, but no answer)",
            self.unanswered.len(),
            self.ordinary
        );
        out
    }
}

/// Fails unless every reason's precision and recall in `report` reach `floor`.
#[cfg(test)]
pub(crate) fn assert_every_reason_at_least(report: &Report, floor: f64) {
    for (reason, scores) in &report.per_reason {
        assert!(
            scores.precision() >= floor && scores.recall() >= floor,
            "{reason:?}: P {:.3} R {:.3}\n{}",
            scores.precision(),
            scores.recall(),
            report.render(50)
        );
    }
}

/// `server/eval/corpus.txt`.
#[cfg(test)]
pub(crate) fn corpus() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/eval/corpus.txt");
    std::fs::read_to_string(path).unwrap_or_else(|err| panic!("{path}: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_corpus_parses_and_is_big_enough() {
        let entries = parse(&corpus()).expect("the shipped corpus parses");
        assert!(entries.len() >= 300, "{} entries", entries.len());
        for reason in REASONS {
            assert!(entries.iter().filter(|e| e.label == Some(reason)).count() >= 40, "{reason:?}");
        }
    }

    /// The rules alone keep their figures on the shipped corpus: precision and
    /// recall of every reason at 0.95 or better.
    #[test]
    fn the_rules_meet_their_aim_on_the_corpus() {
        let report = evaluate(&BuiltinBrain::rules_only(), &parse(&corpus()).expect("parses"));
        assert_every_reason_at_least(&report, 0.95);
    }

    #[test]
    fn malformed_corpus_lines_are_reported_with_their_line() {
        let err = parse("# c\nnone | hi\nmaybe | hello").err().map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("line 3: unknown label \"maybe\""));
        assert!(parse("none |  || ").is_err());
    }
}
