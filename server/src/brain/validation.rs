//! The escalation decision measured on the labelled corpora (`corpora`): k-fold
//! cross-validation over the training split, and the held-out split scored once
//! by a model trained on all of the training split. Every figure comes from the
//! whole built-in brain (rules, classifier, knowledge base of the demo chatbot),
//! each utterance played as the visitor's first message.

use std::{collections::BTreeMap, fmt::Write as _, sync::Arc};

use super::{
    builtin::{BuiltinBrain, Thresholds},
    corpora::{Example, Split},
    eval::{evaluate, Entry, Report},
    meaning::{self, classifier::Training, embed::StaticEmbedding},
};

/// How the brain reads meaning in one measured run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// The rules alone (no model).
    Rules,
    /// Rules and a classifier over word and character n-grams.
    NGrams,
    /// Rules and a classifier over n-grams and the static sentence embedding.
    NGramsAndMeaning,
}

impl Variant {
    pub fn name(self) -> &'static str {
        match self {
            Variant::Rules => "rules alone",
            Variant::NGrams => "rules + n-gram classifier",
            Variant::NGramsAndMeaning => "rules + n-grams and sentence meaning (shipped)",
        }
    }
}

/// Single-turn conversations of `examples`; `line` is the index in `examples`.
pub fn entries(examples: &[&Example]) -> Vec<Entry> {
    examples.iter().enumerate().map(|(line, e)| Entry { line, label: e.label, turns: vec![e.text.clone()] }).collect()
}

/// The brain of `variant`, trained on `train`.
pub fn brain(
    variant: Variant,
    train: &[&Example],
    embedding: Option<&Arc<StaticEmbedding>>,
    thresholds: Option<Thresholds>,
) -> BuiltinBrain {
    let embedding = match variant {
        Variant::Rules => return BuiltinBrain::rules_only(),
        Variant::NGrams => None,
        Variant::NGramsAndMeaning => embedding.cloned(),
    };
    let brain = match meaning::train(train, embedding.as_deref(), Training::default()) {
        Ok(meaning) => BuiltinBrain::with_meaning(Arc::new(meaning)),
        Err(_) => BuiltinBrain::rules_only(),
    };
    match thresholds {
        Some(t) => brain.with_thresholds(t),
        None => brain,
    }
}

/// The `k` folds of `train`, by a stable hash of each text.
fn fold_of(text: &str, k: usize) -> usize {
    let mut hash: u64 = 0x8422_2325_cbf2_9ce4;
    for byte in text.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    (hash % k as u64) as usize
}

/// k-fold cross-validation over `train`: each fold scored by a brain trained on the others.
pub fn cross_validate(
    variant: Variant,
    train: &[&Example],
    embedding: Option<&Arc<StaticEmbedding>>,
    k: usize,
    thresholds: Option<Thresholds>,
) -> Report {
    let mut reports = Vec::new();
    for fold in 0..k {
        let (rest, held): (Vec<&Example>, Vec<&Example>) = train.iter().partition(|e| fold_of(&e.text, k) != fold);
        let brain = brain(variant, &rest, embedding, thresholds);
        reports.push(evaluate(&brain, &entries(&held)));
    }
    Report::merge(reports)
}

/// Cross-validation of many thresholds at once: each fold's classifier is trained
/// once and scored with every set in `grid`.
pub fn cross_validate_grid(
    train: &[&Example],
    embedding: Option<&Arc<StaticEmbedding>>,
    k: usize,
    grid: &[Thresholds],
) -> Vec<Report> {
    let mut per_set: Vec<Vec<Report>> = grid.iter().map(|_| Vec::new()).collect();
    for fold in 0..k {
        let (rest, held): (Vec<&Example>, Vec<&Example>) = train.iter().partition(|e| fold_of(&e.text, k) != fold);
        let trained = brain(Variant::NGramsAndMeaning, &rest, embedding, None);
        let fold_entries = entries(&held);
        for (thresholds, reports) in grid.iter().zip(&mut per_set) {
            reports.push(evaluate(&trained.clone().with_thresholds(*thresholds), &fold_entries));
        }
    }
    per_set.into_iter().map(Report::merge).collect()
}

/// The held-out split scored by `brain`, overall and per dataset.
pub fn held_out(brain: &BuiltinBrain, examples: &[Example]) -> (Report, Vec<(String, Report)>) {
    let held: Vec<&Example> = examples.iter().filter(|e| e.split == Split::HeldOut).collect();
    let mut by_source: BTreeMap<String, Vec<&Example>> = BTreeMap::new();
    for example in &held {
        by_source.entry(source_group(&example.source)).or_default().push(example);
    }
    let per_source = by_source.into_iter().map(|(source, rows)| (source, evaluate(brain, &entries(&rows)))).collect();
    (evaluate(brain, &entries(&held)), per_source)
}

/// "hint3/curekart" → "hint3".
fn source_group(source: &str) -> String {
    source.split('/').next().unwrap_or(source).to_owned()
}

/// One line per dataset: how many rows, and precision/recall of "escalate at all"
/// and recall per reason.
pub fn render_sources(per_source: &[(String, Report)]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<14} {:>6} {:>9} {:>9} {:>10} {:>10} {:>10}",
        "dataset", "rows", "precision", "recall", "R explicit", "R frustr.", "R cannot"
    );
    for (source, report) in per_source {
        let recall = |i: usize| {
            report.per_reason.get(i).map_or("-".to_owned(), |(_, s)| {
                if s.true_positives + s.false_negatives == 0 {
                    "-".to_owned()
                } else {
                    format!("{:.3}", s.recall())
                }
            })
        };
        let _ = writeln!(
            out,
            "{source:<14} {:>6} {:>9.3} {:>9.3} {:>10} {:>10} {:>10}",
            report.entries,
            report.any_escalation.precision(),
            report.any_escalation.recall(),
            recall(0),
            recall(1),
            recall(2)
        );
    }
    out
}
