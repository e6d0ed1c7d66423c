//! `make eval`: precision, recall and F1 of the built-in brain's escalation
//! decision per reason on the labelled corpus, the confusion cases, and the
//! decision time per turn.
//!
//! Usage: cargo run --release -p server --example eval [-- path/to/corpus.txt]
//!        cargo run --release -p server --example eval -- --explain "a visitor's question"

use std::process::ExitCode;

use server::brain::eval;

fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("--explain") {
        let question = std::env::args().skip(2).collect::<Vec<_>>().join(" ");
        print!("{}", eval::explain(&question));
        return ExitCode::SUCCESS;
    }
    let path =
        std::env::args().nth(1).unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/eval/corpus.txt").to_owned());
    let corpus = match std::fs::read_to_string(&path) {
        Ok(corpus) => corpus,
        Err(err) => {
            eprintln!("cannot read {path}: {err}");
            return ExitCode::FAILURE;
        }
    };
    let entries = match eval::parse(&corpus) {
        Ok(entries) => entries,
        Err(err) => {
            eprintln!("{path}: {err}");
            return ExitCode::FAILURE;
        }
    };
    // Once to warm up (the tokenizer's and VADER's tables load on first use), once to measure.
    let _ = eval::evaluate(&entries);
    print!("{}", eval::evaluate(&entries).render());
    ExitCode::SUCCESS
}
