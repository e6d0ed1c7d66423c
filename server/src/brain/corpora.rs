//! The labelled data the escalation classifier learns from and is measured on: the
//! public corpora in `server/eval/corpora/` (each dataset's files unchanged, with
//! its licence) and Baton's own utterances in `server/eval/own.tsv`.
//!
//! Every row gets one of the four decisions (`none` or a reason) through the
//! suggested label map (`label_map_suggestion.json`), with Baton's policy on top:
//! - a label marked `?` (borderline) is left out, neither taught nor scored, except
//! - questions about what the bot is (`are_you_a_bot`, `check_human`,
//!   `bot_challenge`) are `none`: the bot answers them, they are not requests, and
//! - out-of-scope rows (`oos`, `out_of_scope`, `NO_NODES_DETECTED`) are `none`: the
//!   bot's "I don't know" handles them, not an escalation.
//! - NLU++ is multi-label: `handoff` wins, then any `cannot_resolve` label; a row
//!   with a borderline label and no clear one is left out.
//! - GoEmotions rows count only if every label is a frustration one (`frustration`)
//!   or the row is only `neutral` (`none`).
//!
//! Baton's own rows are `own.tsv` (`label<TAB>text`) and `chats/*.tsv`
//! (`label<TAB>case<TAB>text`, written in the register of real support chats, each
//! naming its sub-case of `server/eval/POLICY.md`).
//!
//! Held out: each dataset's own test split where it has one (Banking77, CLINC150,
//! GoEmotions, HINT3), NLU++ folds 16–19, and a fixed fifth of the rest chosen by a
//! hash of the text. A text in both parts is dropped from training, and so is any
//! text of the sets that are never trained on (`frozen.jsonl`, `shop/`, `dev/`).

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    path::Path,
};

use app::domain::EscalationReason;
use serde::Deserialize;

use super::eval::Label;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    Train,
    HeldOut,
}

#[derive(Debug, Clone)]
pub struct Example {
    pub text: String,
    pub label: Label,
    /// The dataset ("banking77", "hint3/curekart", "baton/chats").
    pub source: String,
    pub split: Split,
    /// What the row is, in its dataset's words: the original label of a public
    /// corpus ("request_refund"), the policy's sub-case of Baton's own ("complaint").
    pub kind: String,
}

#[derive(Debug, thiserror::Error)]
#[error("{file}: {problem}")]
pub struct CorporaError {
    file: String,
    problem: String,
}

fn problem(file: &Path, problem: impl ToString) -> CorporaError {
    CorporaError { file: file.display().to_string(), problem: problem.to_string() }
}

/// The corpora shipped with the source.
pub fn default_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/eval/corpora"))
}

/// Baton's own labelled data and test sets: `server/eval`.
pub fn own_files() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/eval"))
}

pub fn label_of(name: &str) -> Option<Label> {
    match name {
        "none" => Some(None),
        "explicit_request" => Some(Some(EscalationReason::ExplicitRequest)),
        "frustration" => Some(Some(EscalationReason::Frustration)),
        "cannot_resolve" => Some(Some(EscalationReason::CannotResolve)),
        _ => None,
    }
}

/// One dataset's label map, with Baton's policy applied: `None` leaves the row out.
struct LabelMap(HashMap<String, Option<Label>>);

impl LabelMap {
    fn of(all: &serde_json::Value, dataset: &str) -> LabelMap {
        let mut map = HashMap::new();
        if let Some(labels) = all.get(dataset).and_then(|v| v.as_object()) {
            for (label, reason) in labels {
                let reason = reason.as_str().unwrap_or_default();
                let decided = match label.as_str() {
                    "are_you_a_bot" | "check_human" | "bot_challenge" => Some(None),
                    "oos" | "out_of_scope" | "NO_NODES_DETECTED" => Some(None),
                    _ if reason.ends_with('?') => None,
                    _ => label_of(reason),
                };
                map.insert(label.clone(), decided);
            }
        }
        LabelMap(map)
    }

    fn get(&self, label: &str) -> Option<Label> {
        self.0.get(label).copied().flatten()
    }
}

/// A stable fifth of the texts, by FNV-1a of the lowercased text.
fn hashed_split(text: &str) -> Split {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.trim().to_lowercase().bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    if hash.is_multiple_of(5) {
        Split::HeldOut
    } else {
        Split::Train
    }
}

fn read(path: &Path) -> Result<String, CorporaError> {
    std::fs::read_to_string(path).map_err(|err| problem(path, err))
}

/// Rows of a CSV file with a header: the text column and the label column.
fn csv_rows(path: &Path, text: &str, label: &str) -> Result<Vec<(String, String)>, CorporaError> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_path(path).map_err(|err| problem(path, err))?;
    let headers = reader.headers().map_err(|err| problem(path, err))?.clone();
    let column =
        |name: &str| headers.iter().position(|h| h == name).ok_or_else(|| problem(path, format!("no column {name:?}")));
    let (text_at, label_at) = (column(text)?, column(label)?);
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|err| problem(path, err))?;
        if let (Some(t), Some(l)) = (record.get(text_at), record.get(label_at)) {
            rows.push((t.to_owned(), l.to_owned()));
        }
    }
    Ok(rows)
}

struct Loader {
    examples: Vec<Example>,
}

impl Loader {
    fn push(&mut self, source: &str, text: &str, label: Label, split: Split, kind: &str) {
        let text = text.trim();
        if !text.is_empty() {
            self.examples.push(Example {
                text: text.to_owned(),
                label,
                source: source.to_owned(),
                split,
                kind: kind.to_owned(),
            });
        }
    }

    fn mapped(&mut self, source: &str, map: &LabelMap, rows: Vec<(String, String)>, split: Option<Split>) {
        for (text, label) in rows {
            if let Some(decided) = map.get(&label) {
                self.push(source, &text, decided, split.unwrap_or_else(|| hashed_split(&text)), &label);
            }
        }
    }
}

#[derive(Deserialize)]
struct NluppRow {
    text: String,
    #[serde(default)]
    intents: Vec<String>,
}

#[derive(Deserialize)]
struct DstcRow {
    utterance: String,
    intent: String,
}

/// Every labelled example: the public corpora in `dir`, then Baton's own in `own`
/// (`server/eval`), less the texts of its test sets.
pub fn load(dir: &Path, own: &Path) -> Result<Vec<Example>, CorporaError> {
    let map_file = dir.join("label_map_suggestion.json");
    let maps: serde_json::Value = serde_json::from_str(&read(&map_file)?).map_err(|err| problem(&map_file, err))?;
    let mut loader = Loader { examples: Vec::new() };

    let banking = LabelMap::of(&maps, "banking77");
    for (file, split) in [("train.csv", Split::Train), ("test.csv", Split::HeldOut)] {
        let rows = csv_rows(&dir.join("banking77").join(file), "text", "category")?;
        loader.mapped("banking77", &banking, rows, Some(split));
    }

    let hint3 = ["curekart", "powerplay11", "sofmattress"];
    for bot in hint3 {
        let map = LabelMap::of(&maps, &format!("hint3/{bot}"));
        for (part, split) in [("train", Split::Train), ("test", Split::HeldOut)] {
            let rows = csv_rows(&dir.join("hint3").join(part).join(format!("{bot}_{part}.csv")), "sentence", "label")?;
            loader.mapped(&format!("hint3/{bot}"), &map, rows, Some(split));
        }
    }

    let clinc_file = dir.join("clinc150/data_full.json");
    // A BTreeMap: the same order on every run, so training is reproducible.
    let clinc: BTreeMap<String, Vec<(String, String)>> =
        serde_json::from_str(&read(&clinc_file)?).map_err(|err| problem(&clinc_file, err))?;
    let clinc_map = LabelMap::of(&maps, "clinc150");
    for (part, rows) in clinc {
        let split = if part.ends_with("test") { Split::HeldOut } else { Split::Train };
        loader.mapped("clinc150", &clinc_map, rows, Some(split));
    }

    for domain in ["insurance", "banking", "finance"] {
        let file = dir.join("dstc11_intents").join(format!("{domain}.jsonl"));
        let map = LabelMap::of(&maps, &format!("dstc11_intents/{domain}"));
        let mut rows = Vec::new();
        for line in read(&file)?.lines().filter(|l| !l.trim().is_empty()) {
            let row: DstcRow = serde_json::from_str(line).map_err(|err| problem(&file, err))?;
            rows.push((row.utterance, row.intent));
        }
        loader.mapped(&format!("dstc11/{domain}"), &map, rows, None);
    }

    let rasa = LabelMap::of(&maps, "rasa_demos");
    let rows = csv_rows(&dir.join("rasa_demos/utterances.csv"), "text", "intent")?;
    loader.mapped("rasa_demos", &rasa, rows, None);

    let nlupp = LabelMap::of(&maps, "nlupp");
    for domain in ["banking", "hotels"] {
        for fold in 0..20 {
            let file = dir.join("nlupp").join(domain).join(format!("fold{fold}.json"));
            let rows: Vec<NluppRow> = serde_json::from_str(&read(&file)?).map_err(|err| problem(&file, err))?;
            let split = if fold >= 16 { Split::HeldOut } else { Split::Train };
            for row in rows {
                let reasons: Vec<Option<Label>> =
                    row.intents.iter().map(|i| nlupp.0.get(i).copied().flatten()).collect();
                let borderline = reasons.iter().any(Option::is_none);
                let label = if row.intents.iter().any(|i| i == "handoff") {
                    Some(Some(EscalationReason::ExplicitRequest))
                } else if reasons.contains(&Some(Some(EscalationReason::CannotResolve))) {
                    Some(Some(EscalationReason::CannotResolve))
                } else if borderline {
                    None
                } else {
                    Some(None)
                };
                if let Some(label) = label {
                    loader.push(&format!("nlupp/{domain}"), &row.text, label, split, &row.intents.join("+"));
                }
            }
        }
    }

    let goemotions = LabelMap::of(&maps, "goemotions");
    let names: Vec<String> = read(&dir.join("goemotions/emotions.txt"))?.lines().map(str::to_owned).collect();
    for (file, split) in [("dev.tsv", Split::Train), ("test.tsv", Split::HeldOut)] {
        for line in read(&dir.join("goemotions").join(file))?.lines() {
            let mut columns = line.split('\t');
            let (Some(text), Some(ids)) = (columns.next(), columns.next()) else { continue };
            let labels: Vec<&str> = ids
                .split(',')
                .filter_map(|id| id.parse::<usize>().ok())
                .filter_map(|i| names.get(i))
                .map(String::as_str)
                .collect();
            let frustration = Some(Some(EscalationReason::Frustration));
            let label = if labels == ["neutral"] {
                Some(None)
            } else if !labels.is_empty()
                && labels.iter().all(|l| goemotions.0.get(*l).copied().flatten() == frustration)
            {
                frustration
            } else {
                None
            };
            if let Some(label) = label {
                loader.push("goemotions", text, label, split, &labels.join("+"));
            }
        }
    }

    let own_tsv = own.join("own.tsv");
    for (at, line) in read(&own_tsv)?.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (label, text) = line
            .split_once('\t')
            .ok_or_else(|| problem(&own_tsv, format!("line {}: expected label<TAB>text", at + 1)))?;
        let label = label_of(label.trim())
            .ok_or_else(|| problem(&own_tsv, format!("line {}: unknown label {label:?}", at + 1)))?;
        loader.push("baton/own", text, label, hashed_split(text), "");
    }
    for file in chat_files(own)? {
        for (at, line) in read(&file)?.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let row = ChatRow::parse(line).map_err(|why| problem(&file, format!("line {}: {why}", at + 1)))?;
            loader.push("baton/chats", row.text, row.label, hashed_split(row.text), row.case);
        }
    }
    let tests = test_texts(own)?;
    loader.examples.retain(|e| !tests.contains(&key(&e.text)));

    Ok(without_leaks(loader.examples))
}

/// How many times Baton's own utterances count in training: they are in the register of
/// a software product's support chat, which the public corpora (banking, travel,
/// Reddit) are not.
pub const OWN_WEIGHT: usize = 3;

/// The training split as the classifier learns from it: Baton's own rows `OWN_WEIGHT` times.
pub fn training_set(examples: &[Example]) -> Vec<&Example> {
    examples
        .iter()
        .filter(|e| e.split == Split::Train)
        .flat_map(|e| std::iter::repeat_n(e, if e.source.starts_with("baton/") { OWN_WEIGHT } else { 1 }))
        .collect()
}

/// `chats/*.tsv` in `own`, in name order.
fn chat_files(own: &Path) -> Result<Vec<std::path::PathBuf>, CorporaError> {
    let dir = own.join("chats");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|err| problem(&dir, err))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "tsv"))
        .collect();
    files.sort();
    Ok(files)
}

/// One row of `chats/*.tsv`: `label<TAB>case<TAB>text`.
pub struct ChatRow<'a> {
    pub label: Label,
    pub case: &'a str,
    pub text: &'a str,
}

impl<'a> ChatRow<'a> {
    pub fn parse(line: &'a str) -> Result<ChatRow<'a>, String> {
        let mut fields = line.splitn(3, '\t');
        let (Some(label), Some(case), Some(text)) = (fields.next(), fields.next(), fields.next()) else {
            return Err("expected label<TAB>case<TAB>text".to_owned());
        };
        let label = label_of(label.trim()).ok_or_else(|| format!("unknown label {label:?}"))?;
        if !super::policy::is_case_of(case.trim(), label) {
            return Err(format!("{case:?} is not a sub-case of {}", label.map_or("none", |l| l.as_str())));
        }
        Ok(ChatRow { label, case: case.trim(), text: text.trim() })
    }
}

/// How texts are compared across files: trimmed, lower case, one space between words.
pub fn key(text: &str) -> String {
    text.to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every visitor turn of the sets that are never trained on: the frozen set and the
/// shop knowledge base's questions and escalations (tests), and the development
/// knowledge base's (`dev/`, which chose how a knowledge-base answer weighs).
pub fn test_texts(own: &Path) -> Result<HashSet<String>, CorporaError> {
    let mut texts = HashSet::new();
    let frozen = own.join("frozen.jsonl");
    for entry in super::eval::parse_jsonl(&read(&frozen)?).map_err(|err| problem(&frozen, err))? {
        texts.extend(entry.turns.iter().map(|t| key(t)));
    }
    for set in ["shop", "dev"] {
        for name in ["questions.tsv", "escalations.tsv"] {
            let file = own.join(set).join(name);
            if let Ok(text) = std::fs::read_to_string(&file) {
                texts.extend(text.lines().filter_map(|l| l.rsplit('\t').next()).map(key));
            }
        }
    }
    Ok(texts)
}

/// Duplicates once, and no training text that is also held out.
fn without_leaks(examples: Vec<Example>) -> Vec<Example> {
    let key = |e: &Example| e.text.trim().to_lowercase();
    let held_out: HashSet<String> = examples.iter().filter(|e| e.split == Split::HeldOut).map(key).collect();
    let mut seen = HashSet::new();
    examples
        .into_iter()
        .filter(|e| e.split == Split::HeldOut || !held_out.contains(&key(e)))
        .filter(|e| seen.insert((key(e), e.split == Split::HeldOut)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_corpora_load_with_every_reason_on_both_sides() {
        let examples = load(default_dir(), own_files()).expect("the shipped corpora load");
        for split in [Split::Train, Split::HeldOut] {
            for reason in [
                None,
                Some(EscalationReason::ExplicitRequest),
                Some(EscalationReason::Frustration),
                Some(EscalationReason::CannotResolve),
            ] {
                let count = examples.iter().filter(|e| e.split == split && e.label == reason).count();
                assert!(count >= 50, "{split:?} {reason:?}: {count}");
            }
        }
        let train: HashSet<String> =
            examples.iter().filter(|e| e.split == Split::Train).map(|e| e.text.to_lowercase()).collect();
        assert!(examples.iter().filter(|e| e.split == Split::HeldOut).all(|e| !train.contains(&e.text.to_lowercase())));
    }

    /// Words of a text, for comparing texts that differ in a word or two.
    fn words(text: &str) -> HashSet<String> {
        text.to_lowercase()
            .split(|c: char| !(c.is_alphanumeric() || c == '\''))
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn the_test_sets_are_never_trained_on_not_even_reworded() {
        let examples = load(default_dir(), own_files()).expect("the shipped corpora load");
        let tests: Vec<HashSet<String>> = test_texts(own_files()).expect("the test sets load").iter().map(|t| words(t)).collect();
        assert!(tests.len() >= 800, "{} test texts", tests.len());
        for example in examples.iter().filter(|e| e.source.starts_with("baton/")) {
            let mine = words(&example.text);
            for test in &tests {
                let shared = mine.intersection(test).count();
                let near = mine.len().min(test.len()) >= 3 && shared * 10 >= mine.union(test).count() * 7;
                let same = !mine.is_empty() && mine == *test;
                assert!(!same && !near, "{:?} is (nearly) a test text", example.text);
            }
        }
    }

    #[test]
    fn questions_about_the_bot_are_not_requests() {
        let maps: serde_json::Value = serde_json::json!({"clinc150": {"are_you_a_bot": "explicit_request?", "balance": "cannot_resolve?", "report_fraud": "cannot_resolve"}});
        let map = LabelMap::of(&maps, "clinc150");
        assert_eq!(map.get("are_you_a_bot"), Some(None));
        assert_eq!(map.get("balance"), None);
        assert_eq!(map.get("report_fraud"), Some(Some(EscalationReason::CannotResolve)));
    }
}
