//! `make eval`: how well the built-in brain decides when a person is needed.
//!
//! Usage (cargo run --release -p server --example eval -- …):
//!   (nothing)             the full report: the public corpora and Baton's own rows, for the rules
//!                         alone and the classifier with each kind of sentence features
//!                         (leave-one-dataset-out, 5-fold cross-validation on the training split,
//!                         the held-out split), then the shipped brain on the frozen test set, the
//!                         shop knowledge base, Baton's own conversations, knowledge-base retrieval,
//!                         decision time, model load time and memory
//!   --quick               the same for the shipped classifier only
//!   --tests               only the installed brain on the frozen set, the shop and the conversations
//!   --dev                 only the installed brain on the development knowledge base
//!   --time                only the installed brain's decision time (on an idle machine)
//!   FILE                  score a conversation file with the installed brain: JSON lines of
//!                         {"turns": [...], "escalate": bool, "reason": ..., "case": ...}, or the
//!                         corpus.txt format
//!   --train               train the classifier on the training split and install it in the model dir
//!   --sweep               leave-one-dataset-out over a grid of thresholds (the training split only)
//!   --retrieval           knowledge-base retrieval on server/eval/retrieval.tsv, with a sweep of limits
//!   --explain QUESTION    how the demo knowledge base ranks a question
//!   --classify TEXT       the installed classifier's probabilities for one text
//! The model directory is BATON_MODEL_DIR, or server/models. With BATON_BRAIN=openai (and
//! BATON_LLM_BASE_URL, BATON_LLM_MODEL, BATON_LLM_API_KEY as for the server), the conversations,
//! the frozen set and a sample of the held-out split (BATON_EVAL_LLM_SAMPLE utterances, 300 by
//! default) are also scored with the OpenAI-compatible brain, one request per visitor turn.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    sync::Arc,
    time::{Duration, Instant},
};

use clap::Parser;
use server::brain::{
    builtin::{BuiltinBrain, Thresholds, THRESHOLDS},
    corpora::{self, Example, Split},
    eval::{self, Entry, Report},
    knowledge::{self, KnowledgeBase},
    meaning::{self, Dense, Meaning, Readers, DEFAULT_MODEL_DIR},
    validation::{self, Variant},
    Brain,
};
use server::config::{BrainKind, Cli};

const FOLDS: usize = 5;
const EVAL_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/eval");

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
    corpora::load(corpora::default_dir(), corpora::own_files()).map_err(|err| err.to_string())
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|err| format!("cannot read {}: {err}", path.display()))
}

fn conversations(path: &Path) -> Result<Vec<Entry>, String> {
    let text = read(path)?;
    let parsed =
        if path.extension().is_some_and(|e| e == "jsonl") { eval::parse_jsonl(&text) } else { eval::parse(&text) };
    parsed.map_err(|err| format!("{}: {err}", path.display()))
}

/// The brain as the server runs it: with the installed model, or the rules alone.
fn installed() -> (BuiltinBrain, String) {
    match Meaning::load(&model_dir()) {
        Ok(meaning) => {
            let note = format!(
                "the installed classifier ({}) loaded in {:.0} ms",
                meaning.classifier().reads.name(),
                meaning.loaded_in.as_secs_f64() * 1e3
            );
            (BuiltinBrain::with_meaning(Arc::new(meaning)), note)
        }
        Err(err) => (BuiltinBrain::rules_only(), format!("rules alone: the model is not installed ({err})")),
    }
}

/// Every sentence reader that is installed.
fn all_readers() -> Readers {
    let dir = model_dir();
    Readers { sentences: meaning::load_sentences(&dir).ok().map(Arc::new) }
}

/// Reads every corpus text with the sentence model once, up front.
fn pin(readers: &Readers, examples: &[Example]) {
    let Some(sentences) = &readers.sentences else { return };
    let started = Instant::now();
    let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
    sentences.remember(&texts, meaning::cores());
    println!(
        "the sentence model read {} texts in {:.1} s on {} threads",
        texts.len(),
        started.elapsed().as_secs_f64(),
        meaning::cores()
    );
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

/// The grid `--sweep` tries.
fn grid() -> Vec<Thresholds> {
    let mut grid = Vec::new();
    for any in [0.5, 0.6, 0.7] {
        for explicit in [0.6, 0.7] {
            for over_answer in [0.9, 0.98] {
                for well_answered in [0.3, 0.45, 0.6] {
                    for sure_match in [0.7, 0.75, 0.8, 1.1] {
                        grid.push(Thresholds {
                            any,
                            explicit,
                            clarify: explicit - 0.2,
                            over_answer,
                            well_answered,
                            sure_match,
                            ..THRESHOLDS
                        });
                    }
                }
            }
        }
    }
    grid
}

fn sweep() -> Result<(), String> {
    let readers = all_readers();
    let examples = examples()?;
    pin(&readers, &examples);
    let grid = grid();
    let sets: Vec<Option<Thresholds>> = grid.iter().copied().map(Some).collect();
    let shipped = Variant::Model(meaning::SHIPPED);
    let per_dataset = validation::leave_one_dataset_out_grid(shipped, &examples, &readers, &sets);
    // The development knowledge base: the brain trained on all of the training split,
    // as it ships, with a knowledge base that answers its ordinary questions.
    let dev = knowledge_set("dev")?;
    let trained = validation::brain(shipped, &corpora::training_set(&examples), &readers, None);
    println!(
        "{:<6} {:<8} {:<6} {:<6} {:<6} {:>8} {:>7} {:>7} {:>9} {:>6} worst dataset",
        "any", "explicit", "over", "well", "sure", "mean F1", "mean P", "mean R", "dev over", "dev R"
    );
    let mut rows = Vec::new();
    for (i, thresholds) in grid.iter().enumerate() {
        let reports: Vec<(String, &Report)> =
            per_dataset.iter().filter_map(|(name, reports)| Some((name.clone(), reports.get(i)?))).collect();
        let (mean, worst) = validation::mean_and_worst_f1(&reports);
        let n = reports.len().max(1) as f64;
        let precision = reports.iter().map(|(_, r)| r.any_escalation.precision()).sum::<f64>() / n;
        let recall = reports.iter().map(|(_, r)| r.any_escalation.recall()).sum::<f64>() / n;
        let brain = trained.clone().with_thresholds(*thresholds);
        let ordinary = eval::evaluate_in(&mut |turn| brain.decide(turn), &dev.questions, &dev.knowledge);
        let needs = eval::evaluate_in(&mut |turn| brain.decide(turn), &dev.escalations, &dev.knowledge);
        let handed = ordinary.any_escalation.false_positives as f64 / dev.questions.len().max(1) as f64;
        rows.push((mean, *thresholds, precision, recall, handed, needs.any_escalation.recall(), worst));
    }
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (mean, t, precision, recall, handed, dev_recall, worst) in rows {
        println!(
            "{:<6} {:<8} {:<6} {:<6} {:<6} {:>8.4} {:>7.3} {:>7.3} {:>8.1}% {:>6.3} {} {:.3}",
            t.any,
            t.explicit,
            t.over_answer,
            t.well_answered,
            t.sure_match,
            mean,
            precision,
            recall,
            100.0 * handed,
            dev_recall,
            worst.0,
            worst.1
        );
    }
    Ok(())
}

/// The frozen test set, Baton's own and never trained on.
fn frozen() -> Result<Vec<Entry>, String> {
    conversations(&Path::new(EVAL_DIR).join("frozen.jsonl"))
}

/// The shop's knowledge base, its ordinary questions (with the title of the entry
/// that answers each) and the rows that must still go to a person.
struct Shop {
    knowledge: KnowledgeBase,
    questions: Vec<Entry>,
    answered_by: Vec<String>,
    escalations: Vec<Entry>,
}

/// A knowledge base with its questions and escalations: `shop` (a test) or `dev`.
fn knowledge_set(name: &str) -> Result<Shop, String> {
    let dir = Path::new(EVAL_DIR).join(name);
    let knowledge = eval::knowledge_from_markdown(&read(&dir.join("knowledge.md"))?)?;
    let rows: Vec<(String, String)> = read(&dir.join("questions.tsv"))?
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .map(|(entry, q)| (entry.trim().to_owned(), q.trim().to_owned()))
        .collect();
    let questions = rows
        .iter()
        .enumerate()
        .map(|(line, (_, q))| Entry { line, label: None, turns: vec![q.clone()], kind: "info".into() })
        .collect();
    let escalations = eval::parse_cases(&read(&dir.join("escalations.tsv"))?).map_err(|e| e.to_string())?;
    Ok(Shop { knowledge, questions, answered_by: rows.into_iter().map(|(entry, _)| entry).collect(), escalations })
}

fn print_frozen(brain: &BuiltinBrain) -> Result<Report, String> {
    let path = Path::new(EVAL_DIR).join("frozen.jsonl");
    let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
    let digest = sha256(&bytes);
    let entries = frozen()?;
    println!("\n## The frozen test set: server/eval/frozen.jsonl (sha256 {digest}), the installed brain\n");
    println!("written from server/eval/POLICY.md before any tuning, never trained on\n");
    let report = eval::evaluate(brain, &entries);
    print!("{}", report.render(60));
    score_openai("server/eval/frozen.jsonl", &entries)?;
    Ok(report)
}

fn print_shop(brain: &BuiltinBrain) -> Result<Report, String> {
    println!("\n## The shop knowledge base: server/eval/shop (a made-up online shop, a test), the installed brain\n");
    print_knowledge_set(brain, "shop")
}

/// A knowledge base's set (`shop`, `dev`) played with the demo chatbot holding it.
fn print_knowledge_set(brain: &BuiltinBrain, name: &str) -> Result<Report, String> {
    let Shop { knowledge, questions, answered_by, escalations } = knowledge_set(name)?;
    println!("{} knowledge-base entries", knowledge.entries().len());
    let ordinary = eval::evaluate_in(&mut |turn| brain.decide(turn), &questions, &knowledge);
    let handed = ordinary.any_escalation.false_positives;
    println!(
        "ordinary questions it answers: {} of {} handed over ({:.1} %)",
        handed,
        questions.len(),
        100.0 * handed as f64 / questions.len().max(1) as f64
    );
    for (line, _, got, _, text) in ordinary.misses.iter().filter(|m| m.2.is_some()) {
        println!("  #{line}: handed over as {}: {text}", got.map_or("none", |r| r.as_str()));
    }
    let chatbot = eval::demo_chatbot();
    let right = questions
        .iter()
        .zip(&answered_by)
        .filter(|(q, title)| {
            brain.lookup(&chatbot, &knowledge, &q.turns[0]).is_some_and(|hit| hit.answers() && hit.entry.title == **title)
        })
        .count();
    println!(
        "the knowledge base's answer is the entry written for the question: {right} of {} ({:.1} %); \"I don't know\": {}",
        questions.len(),
        100.0 * right as f64 / questions.len().max(1) as f64,
        ordinary.unanswered.len()
    );
    let needs = eval::evaluate_in(&mut |turn| brain.decide(turn), &escalations, &knowledge);
    println!("\nrows that must still go to a person with this knowledge base:\n");
    print!("{}", needs.table());
    print!("{}", needs.kinds());
    for (line, expected, got, _, text) in needs.misses.iter().take(30) {
        let name = |l: eval::Label| l.map_or("none", |r| r.as_str());
        println!("  #{line}: expected {}, got {}: {text}", name(*expected), name(*got));
    }
    Ok(ordinary)
}

/// Hex SHA-256 of `bytes`.
fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn print_lodo(variant: Variant, examples: &[Example], readers: &Readers) {
    let per_dataset = validation::leave_one_dataset_out(variant, examples, readers, None);
    let reports: Vec<(String, &Report)> = per_dataset.iter().map(|(n, r)| (n.clone(), r)).collect();
    let (mean, worst) = validation::mean_and_worst_f1(&reports);
    println!(
        "\n## {}: leave-one-dataset-out (trained on the others' training split, scored on its own)\n\n{}mean F1 {:.3}, worst {} {:.3}",
        variant.name(),
        validation::render_sources(&reports),
        mean,
        worst.0,
        worst.1
    );
    for (name, report) in &reports {
        let mut wrong: Vec<(&String, &usize)> = report.false_by_kind.iter().collect();
        wrong.sort_by(|a, b| b.1.cmp(a.1));
        let named: Vec<String> = wrong
            .iter()
            .take(6)
            .map(|(k, n)| format!("{} {n}", if k.is_empty() { "(unnamed)" } else { k.as_str() }))
            .collect();
        println!("  {name} handed over wrongly: {}", named.join(", "));
    }
    if let Some((_, baton)) = reports.iter().find(|(n, _)| n == "baton") {
        print!("Baton's own rows left out:{}", baton.kinds());
    }
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
    let examples = examples()?;
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

    // The frozen set and the shop first, with the installed brain as the server runs
    // it (nothing read ahead): their decision times are the server's.
    let frozen_report = print_frozen(&shipped)?;
    let shop_report = print_shop(&shipped)?;
    print_time(&shipped, &examples, frozen_report, shop_report);

    let readers = all_readers();
    pin(&readers, &examples);
    let variants: Vec<Variant> = if quick {
        vec![Variant::Model(meaning::SHIPPED)]
    } else {
        let mut all = vec![Variant::Rules];
        all.extend(Dense::ALL.map(Variant::Model));
        all
    };
    for variant in &variants {
        print_lodo(*variant, &examples, &readers);
    }
    let train: Vec<&Example> = corpora::training_set(&examples);
    for variant in &variants {
        let cv = validation::cross_validate(*variant, &train, &readers, FOLDS, None);
        println!("\n## {}: {FOLDS}-fold cross-validation on the training split\n\n{}", variant.name(), cv.table());
        let brain = validation::brain(*variant, &train, &readers, None);
        let (report, per_source) = validation::held_out(&brain, &examples);
        let per_source: Vec<(String, &Report)> = per_source.iter().map(|(n, r)| (n.clone(), r)).collect();
        println!("## {}: the held-out split\n\n{}", variant.name(), report.table());
        println!("{}", validation::render_sources(&per_source));
        if *variant == Variant::Model(meaning::SHIPPED) {
            print!("{}", report.kinds());
            println!("\nheld-out confusion cases, a sample:");
            for (line, expected, got, _, text) in
                report.misses.iter().step_by((report.misses.len() / 30).max(1)).take(30)
            {
                let name = |l: eval::Label| l.map_or("none", |r| r.as_str());
                println!("  #{line}: expected {}, got {}: {text}", name(*expected), name(*got));
            }
        }
    }

    retrieval(quick)?;
    for file in ["corpus.txt", "conversations.jsonl"] {
        let entries = conversations(&Path::new(EVAL_DIR).join(file))?;
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

/// Decision time of the installed brain, as the server runs it (one thread, nothing
/// read ahead): the frozen set's and the shop's turns, and every 10th held-out row.
fn print_time(shipped: &BuiltinBrain, examples: &[Example], frozen: Report, shop: Report) {
    let sample: Vec<&Example> = examples.iter().filter(|e| e.split == Split::HeldOut).step_by(10).collect();
    let timed = Report::merge(vec![frozen, shop, eval::evaluate(shipped, &validation::entries(&sample))]);
    println!(
        "\ndecision time per turn, the installed brain on one thread, nothing read ahead ({} turns: the frozen set, the shop, every 10th held-out row): p50 {:.2} ms, p99 {:.2} ms",
        timed.turns,
        timed.p50_decision.as_secs_f64() * 1e3,
        timed.p99_decision.as_secs_f64() * 1e3
    );
}

/// `--time`: the installed brain's decision time alone (run it on an idle machine).
fn time() -> Result<(), String> {
    let (shipped, note) = installed();
    println!("{note}");
    let frozen = eval::evaluate(&shipped, &frozen()?);
    let Shop { knowledge, questions, .. } = knowledge_set("shop")?;
    let shop = eval::evaluate_in(&mut |turn| shipped.decide(turn), &questions, &knowledge);
    print_time(&shipped, &examples()?, frozen, shop);
    if let Ok(sentences) = meaning::load_sentences(&model_dir()) {
        for tokens in [8, 16, 64] {
            // "help" is one word piece: `tokens` in all with `[CLS]` and `[SEP]`.
            let text = vec!["help"; tokens - 2].join(" ");
            let read = sentences.windows(&text).first().map_or(0, Vec::len);
            let mut took: Vec<Duration> = (0..51)
                .map(|_| {
                    let started = Instant::now();
                    sentences.embed_many(&[&text], 1);
                    started.elapsed()
                })
                .collect();
            took.sort();
            println!(
                "the encoder reads {read} tokens in {:.2} ms (median of 51 passes, one thread)",
                took[took.len() / 2].as_secs_f64() * 1e3
            );
        }
    }
    Ok(())
}

/// The installed brain on Baton's own test sets (nothing trained or read ahead).
fn tests() -> Result<(), String> {
    let (shipped, note) = installed();
    println!("{note}");
    print_frozen(&shipped)?;
    print_shop(&shipped)?;
    for file in ["corpus.txt", "conversations.jsonl"] {
        let entries = conversations(&Path::new(EVAL_DIR).join(file))?;
        println!("\n## Baton's own conversations: server/eval/{file}, the installed brain\n");
        print!("{}", eval::evaluate(&shipped, &entries).render(40));
    }
    Ok(())
}

/// Knowledge-base retrieval on `server/eval/retrieval.tsv`: words alone, then with
/// sentence meaning at the shipped limits, and (unless `quick`) a sweep of limits.
fn retrieval(quick: bool) -> Result<(), String> {
    let path = Path::new(EVAL_DIR).join("retrieval.tsv");
    let questions = eval::parse_retrieval(&read(&path)?);
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
    let started = Instant::now();
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
        Some("--tests") => tests(),
        Some("--time") => time(),
        Some("--dev") => {
            let (shipped, note) = installed();
            println!("{note}\n\n## The development knowledge base: server/eval/dev (a made-up telecom provider)\n");
            print_knowledge_set(&shipped, "dev").map(|_| ())
        }
        Some(file) => conversations(Path::new(file))
            .map(|entries| {
                let (brain, note) = installed();
                println!("{note}\n");
                print!("{}", eval::evaluate(&brain, &entries).render(200));
                entries
            })
            .and_then(|entries| score_openai(file, &entries)),
        None => full_report(false),
    };
    let took: Duration = started.elapsed();
    match result {
        Ok(()) => {
            eprintln!("(eval took {:.0} s)", took.as_secs_f64());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("eval: {err}");
            ExitCode::FAILURE
        }
    }
}
