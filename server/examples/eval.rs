//! `make eval`: how well the built-in brain decides when a person is needed.
//!
//! Usage (cargo run --release -p server --example eval -- …):
//!   (nothing)             the full report: the public corpora (5-fold cross-validation on the
//!                         training split, then the held-out split, for the rules alone, an n-gram
//!                         classifier and the shipped classifier with sentence meaning), Baton's
//!                         own conversations, decision time, model load time and memory
//!   FILE                  score a conversation file with the installed brain: JSON lines of
//!                         {"turns": [...], "escalate": bool, "reason": ...}, or the corpus.txt format
//!   --train               train the classifier on the training split and install it in the model dir
//!   --sweep               cross-validate a grid of thresholds (the training split only)
//!   --retrieval           knowledge-base retrieval on server/eval/retrieval.tsv, with a sweep of limits
//!   --quick               the full report for the shipped brain only
//!   --explain QUESTION    how the demo knowledge base ranks a question
//!   --classify TEXT       the installed classifier's probabilities for one text
//! The model directory is BATON_MODEL_DIR, or server/models. With BATON_BRAIN=openai (and
//! BATON_LLM_BASE_URL, BATON_LLM_MODEL, BATON_LLM_API_KEY as for the server), the conversations
//! and a sample of the held-out split (BATON_EVAL_LLM_SAMPLE utterances, 300 by default) are also
//! scored with the OpenAI-compatible brain, one request per visitor turn.

use std::{path::PathBuf, process::ExitCode, sync::Arc};

use clap::Parser;
use server::brain::{
    builtin::{BuiltinBrain, Thresholds, THRESHOLDS},
    corpora::{self, Example, Split},
    eval::{self, Entry},
    knowledge,
    meaning::{self, Meaning, DEFAULT_MODEL_DIR},
    validation::{self, Variant},
    Brain,
};
use server::config::{BrainKind, Cli};

const FOLDS: usize = 5;

fn model_dir() -> PathBuf {
    std::env::var_os("BATON_MODEL_DIR").map_or_else(|| PathBuf::from(DEFAULT_MODEL_DIR), PathBuf::from)
}

/// Resident memory of this process, in MiB (Linux).
fn rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn examples() -> Result<Vec<Example>, String> {
    corpora::load(corpora::default_dir(), corpora::own_file()).map_err(|err| err.to_string())
}

fn conversations(path: &std::path::Path) -> Result<Vec<Entry>, String> {
    let text = std::fs::read_to_string(path).map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    let parsed =
        if path.extension().is_some_and(|e| e == "jsonl") { eval::parse_jsonl(&text) } else { eval::parse(&text) };
    parsed.map_err(|err| format!("{}: {err}", path.display()))
}

/// The brain as the server runs it: with the installed model, or the rules alone.
fn installed() -> (BuiltinBrain, String) {
    match Meaning::load(&model_dir()) {
        Ok(meaning) => {
            let note =
                format!("sentence model and classifier loaded in {:.0} ms", meaning.loaded_in.as_secs_f64() * 1e3);
            (BuiltinBrain::with_meaning(Arc::new(meaning)), note)
        }
        Err(err) => (BuiltinBrain::rules_only(), format!("rules alone: the model is not installed ({err})")),
    }
}

/// The OpenAI-compatible brain, if the environment asks for it as the server's would.
fn openai_brain() -> Result<Option<(Arc<dyn Brain>, String)>, String> {
    let settings = Cli::try_parse_from(["server"]).map_err(|err| err.to_string())?.settings;
    if settings.brain != BrainKind::Openai {
        return Ok(None);
    }
    let name = format!("{} at {}", settings.llm_model, settings.llm_base_url);
    let brain = server::startup::brain(&settings).map_err(|err| err.to_string())?;
    Ok(Some((brain, name)))
}

/// Scores `entries` with the OpenAI-compatible brain, if one is configured.
fn score_openai(title: &str, entries: &[Entry]) -> Result<(), String> {
    let Some((brain, name)) = openai_brain()? else { return Ok(()) };
    let runtime = tokio::runtime::Runtime::new().map_err(|err| err.to_string())?;
    println!("\n## {title}: the OpenAI-compatible brain ({name})\n");
    print!("{}", eval::evaluate_brain(&*brain, entries, runtime.handle()).render(40));
    Ok(())
}

fn train() -> Result<(), String> {
    let installed = meaning::install(&model_dir()).map_err(|err| err.to_string())?;
    println!(
        "trained on {} examples in {:.1} s: {}",
        installed.examples,
        installed.took.as_secs_f64(),
        installed.path.display()
    );
    Ok(())
}

fn sweep() -> Result<(), String> {
    let embedding = meaning::load_embedding(&model_dir()).ok().map(Arc::new);
    let examples = examples()?;
    let train: Vec<&Example> = corpora::training_set(&examples);
    let mut grid = Vec::new();
    for explicit in [0.5, 0.6, 0.7] {
        for cannot_resolve in [0.5, 0.6, 0.7, 0.8] {
            for frustration in [0.5, 0.6, 0.7] {
                grid.push(Thresholds { explicit, clarify: explicit - 0.2, frustration, cannot_resolve, ..THRESHOLDS });
            }
        }
    }
    println!("{:<8} {:<8} {:<8} {:>9} {:>9} {:>9}", "explicit", "cannot", "frustr.", "precision", "recall", "F1");
    let reports = validation::cross_validate_grid(&train, embedding.as_ref(), FOLDS, &grid);
    for (thresholds, report) in grid.iter().zip(reports) {
        let any = report.any_escalation;
        println!(
            "{:<8} {:<8} {:<8} {:>9.3} {:>9.3} {:>9.3}",
            thresholds.explicit,
            thresholds.cannot_resolve,
            thresholds.frustration,
            any.precision(),
            any.recall(),
            any.f1()
        );
    }
    Ok(())
}

fn full_report(quick: bool) -> Result<(), String> {
    let before = rss_mib();
    let (shipped, note) = installed();
    let after = rss_mib();
    println!("# The built-in brain's escalation decision\n\n{note}");
    if let (Some(before), Some(after)) = (before, after) {
        println!(
            "memory: the model adds {:.1} MiB to the process (RSS {:.1} → {:.1} MiB)",
            after - before,
            before,
            after
        );
    }
    let embedding = meaning::load_embedding(&model_dir()).ok().map(Arc::new);
    let examples = examples()?;
    let train: Vec<&Example> = corpora::training_set(&examples);
    let held = examples.iter().filter(|e| e.split == Split::HeldOut).count();
    println!(
        "\ncorpora: {} labelled utterances, {} for training (Baton's own counted {} times), {held} held out (never used to train or tune)",
        examples.len(),
        examples.len() - held,
        corpora::OWN_WEIGHT
    );
    for label in [
        None,
        Some(app::domain::EscalationReason::ExplicitRequest),
        Some(app::domain::EscalationReason::Frustration),
        Some(app::domain::EscalationReason::CannotResolve),
    ] {
        let count = |split| examples.iter().filter(|e| e.split == split && e.label == label).count();
        println!(
            "  {:<18} train {:>6}  held out {:>6}",
            label.map_or("none", |l| l.as_str()),
            count(Split::Train),
            count(Split::HeldOut)
        );
    }

    let mut variants = if quick { Vec::new() } else { vec![Variant::Rules, Variant::NGrams] };
    if embedding.is_some() {
        variants.push(Variant::NGramsAndMeaning);
    } else {
        println!("\n(the static sentence table is not installed: `make model`; the sentence-meaning rows are skipped)");
    }
    for variant in &variants {
        let cv = validation::cross_validate(*variant, &train, embedding.as_ref(), FOLDS, None);
        println!("\n## {}: {FOLDS}-fold cross-validation on the training split\n\n{}", variant.name(), cv.table());
        let brain = validation::brain(*variant, &train, embedding.as_ref(), None);
        let (report, per_source) = validation::held_out(&brain, &examples);
        println!("## {}: the held-out split\n\n{}", variant.name(), report.table());
        println!("{}", validation::render_sources(&per_source));
        if *variant == *variants.last().unwrap_or(&Variant::Rules) {
            println!("held-out confusion cases, a sample:");
            for (line, expected, got, _, text) in
                report.misses.iter().step_by((report.misses.len() / 30).max(1)).take(30)
            {
                let name = |l: eval::Label| l.map_or("none", |r| r.as_str());
                println!("  #{line}: expected {}, got {}: {text}", name(*expected), name(*got));
            }
            println!(
                "decision time per turn (held-out split): p50 {:.1} µs, p99 {:.1} µs",
                report.p50_decision.as_secs_f64() * 1e6,
                report.p99_decision.as_secs_f64() * 1e6
            );
        }
    }

    retrieval(quick)?;
    for file in ["corpus.txt", "conversations.jsonl"] {
        let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/eval")).join(file);
        let entries = conversations(&path)?;
        println!("\n## Baton's own conversations: server/eval/{file}, the installed brain\n");
        print!("{}", eval::evaluate(&shipped, &entries).render(40));
        score_openai(&format!("server/eval/{file}"), &entries)?;
    }
    let sample: usize = std::env::var("BATON_EVAL_LLM_SAMPLE").ok().and_then(|n| n.parse().ok()).unwrap_or(300);
    let held_out: Vec<&Example> = examples.iter().filter(|e| e.split == Split::HeldOut).collect();
    let every = (held_out.len() / sample.max(1)).max(1);
    let sampled: Vec<&Example> = held_out.into_iter().step_by(every).take(sample).collect();
    score_openai(&format!("{} held-out utterances, every {every}th", sampled.len()), &validation::entries(&sampled))?;
    Ok(())
}

/// Knowledge-base retrieval on `server/eval/retrieval.tsv`: words alone, then with
/// sentence meaning at the shipped limits, and (unless `quick`) a sweep of limits.
fn retrieval(quick: bool) -> Result<(), String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/eval/retrieval.tsv");
    let text = std::fs::read_to_string(path).map_err(|err| format!("{path}: {err}"))?;
    let questions = eval::parse_retrieval(&text);
    let count = questions.len();
    println!("\n## Knowledge-base retrieval: server/eval/retrieval.tsv ({count} questions, the demo knowledge base)\n");
    let (answer, margin) = (knowledge::MEANING_ANSWER, knowledge::MEANING_MARGIN);
    println!("words alone:        {}", eval::score_retrieval(&questions, None, answer, margin).render());
    let Ok(meaning) = Meaning::load(&model_dir()) else {
        println!("(the sentence model is not installed: the meaning rows are skipped)");
        return Ok(());
    };
    println!(
        "words and meaning:  {} (similarity ≥ {answer}, ahead by ≥ {margin})",
        eval::score_retrieval(&questions, Some(&meaning), answer, margin).render()
    );
    if !quick {
        println!("\nsweep (these questions chose the limits: not held out):");
        for answer in [0.3, 0.4, 0.5, 0.6, 0.7] {
            for margin in [0.0, 0.05, 0.1, 0.15] {
                let score = eval::score_retrieval(&questions, Some(&meaning), answer, margin);
                println!("  ≥ {answer:.2}, ahead ≥ {margin:.2}: {}", score.render());
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("--explain") => {
            print!("{}", eval::explain(&args[1..].join(" ")));
            Ok(())
        }
        Some("--train") => train(),
        Some("--classify") => Meaning::load(&model_dir()).map_err(|err| err.to_string()).map(|meaning| {
            let reading = meaning.classify(&args[1..].join(" "));
            for (label, p) in meaning::classifier::CLASSES.iter().zip(reading.0) {
                println!("{:<18} {p:.3}", label.map_or("none", |l| l.as_str()));
            }
        }),
        Some("--sweep") => sweep(),
        Some("--retrieval") => retrieval(false),
        Some("--quick") => full_report(true),
        Some(file) => conversations(std::path::Path::new(file))
            .map(|entries| {
                let (brain, note) = installed();
                println!("{note}\n");
                print!("{}", eval::evaluate(&brain, &entries).render(200));
                entries
            })
            .and_then(|entries| score_openai(file, &entries)),
        None => full_report(false),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("eval: {err}");
            ExitCode::FAILURE
        }
    }
}
