//! The escalation decision measured on the labelled corpora (`corpora`):
//! leave-one-dataset-out (train on every dataset but one, score the one left out:
//! the figure that predicts data nobody here has seen, and the one thresholds are
//! chosen on), k-fold cross-validation over the training split, and the held-out
//! split scored once by a model trained on all of the training split. Every figure
//! comes from the whole built-in brain (rules, classifier, knowledge base of the
//! demo chatbot), each utterance played as the visitor's first message.

use std::{collections::BTreeMap, fmt::Write as _, sync::Arc};

use super::{
    builtin::{BuiltinBrain, Thresholds},
    corpora::{Example, Split, OWN_WEIGHT},
    eval::{evaluate, Entry, Report},
    meaning::{self, classifier::Training, Dense, Readers},
};

/// How the brain reads meaning in one measured run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// The rules alone (no model).
    Rules,
    /// The rules around a classifier reading these dense features beside the n-grams.
    Model(Dense),
}

impl Variant {
    pub fn name(self) -> String {
        match self {
            Variant::Rules => "rules alone".to_owned(),
            Variant::Model(dense) if dense == meaning::SHIPPED => format!("classifier: {} (shipped)", dense.name()),
            Variant::Model(dense) => format!("classifier: {}", dense.name()),
        }
    }
}

/// Single-turn conversations of `examples`; `line` is the index in `examples`.
pub fn entries(examples: &[&Example]) -> Vec<Entry> {
    examples
        .iter()
        .enumerate()
        .map(|(line, e)| Entry { line, label: e.label, turns: vec![e.text.clone()], kind: e.kind.clone() })
        .collect()
}

/// The readers of `dense`, out of all that are installed (`None` if one is missing).
fn readers_for(dense: Dense, all: &Readers) -> Option<Readers> {
    match dense {
        Dense::None => Some(Readers::default()),
        Dense::Contextual => Some(Readers { sentences: Some(all.sentences.clone()?) }),
    }
}

/// The brain of `variant`, trained on `train` (the rules alone if its readers are
/// not installed).
pub fn brain(variant: Variant, train: &[&Example], all: &Readers, thresholds: Option<Thresholds>) -> BuiltinBrain {
    let Variant::Model(dense) = variant else { return BuiltinBrain::rules_only() };
    let trained = readers_for(dense, all).and_then(|readers| meaning::train(train, &readers, Training::default()).ok());
    let brain = match trained {
        Some(meaning) => BuiltinBrain::with_meaning(Arc::new(meaning)),
        None => BuiltinBrain::rules_only(),
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

/// One distinct copy of each example (the training set counts Baton's own rows
/// several times; a test counts each once).
fn distinct<'a>(examples: &[&'a Example]) -> Vec<&'a Example> {
    let mut seen = std::collections::HashSet::new();
    examples.iter().copied().filter(|e| seen.insert(std::ptr::from_ref::<Example>(e))).collect()
}

/// k-fold cross-validation over `train`: each fold scored by a brain trained on the others.
pub fn cross_validate(
    variant: Variant,
    train: &[&Example],
    all: &Readers,
    k: usize,
    thresholds: Option<Thresholds>,
) -> Report {
    let mut reports = Vec::new();
    for fold in 0..k {
        let (rest, held): (Vec<&Example>, Vec<&Example>) = train.iter().partition(|e| fold_of(&e.text, k) != fold);
        let brain = brain(variant, &rest, all, thresholds);
        reports.push(evaluate(&brain, &entries(&distinct(&held))));
    }
    Report::merge(reports)
}

/// "hint3/curekart" → "hint3", "baton/chats" → "baton".
pub fn dataset(source: &str) -> String {
    source.split('/').next().unwrap_or(source).to_owned()
}

/// The training split of every dataset but `left_out` (Baton's own rows counted
/// `OWN_WEIGHT` times), and the training split of `left_out`.
fn leave_out<'a>(examples: &'a [Example], left_out: &str) -> (Vec<&'a Example>, Vec<&'a Example>) {
    let train: Vec<&Example> = examples.iter().filter(|e| e.split == Split::Train).collect();
    let (test, rest): (Vec<&Example>, Vec<&Example>) = train.into_iter().partition(|e| dataset(&e.source) == left_out);
    let rest = rest
        .into_iter()
        .flat_map(|e| std::iter::repeat_n(e, if e.source.starts_with("baton/") { OWN_WEIGHT } else { 1 }))
        .collect();
    (rest, test)
}

/// The datasets of `examples`, in name order.
pub fn datasets(examples: &[Example]) -> Vec<String> {
    let mut names: Vec<String> = examples.iter().map(|e| dataset(&e.source)).collect();
    names.sort();
    names.dedup();
    names
}

/// Leave-one-dataset-out over the training split: for each dataset, a brain trained
/// on the others scores it. The held-out split is not touched.
pub fn leave_one_dataset_out(
    variant: Variant,
    examples: &[Example],
    all: &Readers,
    thresholds: Option<Thresholds>,
) -> Vec<(String, Report)> {
    leave_one_dataset_out_grid(variant, examples, all, &[thresholds])
        .into_iter()
        .filter_map(|(name, mut reports)| Some((name, reports.pop()?)))
        .collect()
}

/// Leave-one-dataset-out with every set of thresholds in `grid`: each dataset's
/// brain is trained once and scored with each set. Per dataset, one report per set.
pub fn leave_one_dataset_out_grid(
    variant: Variant,
    examples: &[Example],
    all: &Readers,
    grid: &[Option<Thresholds>],
) -> Vec<(String, Vec<Report>)> {
    let names = datasets(examples);
    let threads = meaning::cores().min(names.len()).max(1);
    // One dataset per thread at a time: each trains its brain and scores every set.
    let mut done: Vec<(String, Vec<Report>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|worker| {
                let names = &names;
                scope.spawn(move || {
                    names
                        .iter()
                        .skip(worker)
                        .step_by(threads)
                        .map(|name| {
                            let (rest, test) = leave_out(examples, name);
                            let trained = brain(variant, &rest, all, None);
                            let test = entries(&test);
                            let reports = grid
                                .iter()
                                .map(|thresholds| match thresholds {
                                    Some(t) => evaluate(&trained.clone().with_thresholds(*t), &test),
                                    None => evaluate(&trained, &test),
                                })
                                .collect();
                            (name.clone(), reports)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap_or_default()).collect()
    });
    done.sort_by(|a, b| a.0.cmp(&b.0));
    done
}

/// The mean over datasets of "escalate at all" F1, and the worst dataset's.
pub fn mean_and_worst_f1(per_dataset: &[(String, &Report)]) -> (f64, (String, f64)) {
    let f1s: Vec<(String, f64)> = per_dataset.iter().map(|(n, r)| (n.clone(), r.any_escalation.f1())).collect();
    let mean = f1s.iter().map(|(_, f)| f).sum::<f64>() / f1s.len().max(1) as f64;
    let worst = f1s.into_iter().min_by(|a, b| a.1.total_cmp(&b.1)).unwrap_or_default();
    (mean, worst)
}

/// The held-out split scored by `brain`, overall and per dataset.
pub fn held_out(brain: &BuiltinBrain, examples: &[Example]) -> (Report, Vec<(String, Report)>) {
    let held: Vec<&Example> = examples.iter().filter(|e| e.split == Split::HeldOut).collect();
    let mut by_source: BTreeMap<String, Vec<&Example>> = BTreeMap::new();
    for example in &held {
        by_source.entry(dataset(&example.source)).or_default().push(example);
    }
    let per_source = by_source.into_iter().map(|(source, rows)| (source, evaluate(brain, &entries(&rows)))).collect();
    (evaluate(brain, &entries(&held)), per_source)
}

/// One line per dataset: how many rows, and precision/recall/F1 of "escalate at
/// all" and recall per reason.
pub fn render_sources(per_source: &[(String, &Report)]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<14} {:>6} {:>9} {:>9} {:>7} {:>10} {:>10} {:>10}",
        "dataset", "rows", "precision", "recall", "F1", "R explicit", "R frustr.", "R cannot"
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
            "{source:<14} {:>6} {:>9.3} {:>9.3} {:>7.3} {:>10} {:>10} {:>10}",
            report.entries,
            report.any_escalation.precision(),
            report.any_escalation.recall(),
            report.any_escalation.f1(),
            recall(0),
            recall(1),
            recall(2)
        );
    }
    out
}
