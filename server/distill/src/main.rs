//! `make model` step: distils all-MiniLM-L6-v2 into one vector per vocabulary token
//! (`server/models/baton/static.bin`). Each token goes through the full model once,
//! as the sentence `[CLS] token [SEP]`, and keeps the mean-pooled, unit-length
//! output, as sentence-transformers pools this model. The server then reads a text's
//! meaning as the weighted mean of its tokens' vectors, in microseconds.
//!
//! The encoder is Baton's own (`server/encoder`: embeddings, six layers of
//! self-attention and feed-forward, as in BERT, over `matrixmultiply`'s GEMM), the
//! same forward pass the server runs per visitor message.
//!
//! The file (read by `server::brain::meaning::embed`): `BATONSE2`, the vocabulary
//! size and the dimension as little-endian u32, then vocabulary × dimension f16.
//!
//! Usage: cargo run --release -p distill [-- MODEL_DIR]   (default: server/models)

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::ExitCode,
    time::Instant,
};

use half::f16;

use encoder::Encoder;

const MAGIC: &[u8; 8] = b"BATONSE2";
/// Sentences per forward pass: big enough for the GEMM to run at full speed.
const BATCH: usize = 256;

fn err(context: &str) -> impl Fn(&dyn std::fmt::Display) -> String + '_ {
    move |e| format!("{context}: {e}")
}

/// The id of a special token in the model's `tokenizer.json`.
fn special_token(tokenizer: &serde_json::Value, token: &str) -> Result<u32, String> {
    tokenizer["model"]["vocab"][token]
        .as_u64()
        .and_then(|id| u32::try_from(id).ok())
        .ok_or_else(|| format!("tokenizer.json has no {token}"))
}

fn distill(dir: &Path) -> Result<(), String> {
    let started = Instant::now();
    let model_dir = dir.join("all-minilm-l6-v2");
    let read = |name: &str| std::fs::read(model_dir.join(name)).map_err(|e| err(name)(&e));
    let tokenizer: serde_json::Value =
        serde_json::from_slice(&read("tokenizer.json")?).map_err(|e| err("tokenizer.json")(&e))?;
    let (cls, sep) = (special_token(&tokenizer, "[CLS]")?, special_token(&tokenizer, "[SEP]")?);
    let model = Encoder::from_files(&read("config.json")?, &read("model.safetensors")?).map_err(|e| e.to_string())?;

    let vocabulary = model.vocabulary();
    let dim = model.dim();
    let ids: Vec<u32> = (0..vocabulary as u32).collect();
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let share = ids.len().div_ceil(threads);
    let pooled: Vec<Vec<f32>> = std::thread::scope(|scope| {
        let workers: Vec<_> = ids
            .chunks(share)
            .map(|part| {
                let model = &model;
                scope.spawn(move || {
                    let mut out = Vec::with_capacity(part.len() * dim);
                    for batch in part.chunks(BATCH) {
                        let sentences: Vec<[u32; 3]> = batch.iter().map(|&id| [cls, id, sep]).collect();
                        let framed: Vec<&[u32]> = sentences.iter().map(|s| s.as_slice()).collect();
                        out.extend(model.embed(&framed).into_iter().flatten());
                    }
                    out
                })
            })
            .collect();
        workers.into_iter().map(|worker| worker.join().unwrap_or_default()).collect()
    });
    let table: Vec<f16> = pooled.iter().flatten().map(|v| f16::from_f32(*v)).collect();
    if table.len() != vocabulary * dim {
        return Err("a worker thread failed".to_owned());
    }

    let path = dir.join("baton/static.bin");
    let parent = path.parent().unwrap_or(dir);
    std::fs::create_dir_all(parent).map_err(|e| err(&parent.display().to_string())(&e))?;
    let partial = path.with_extension("partial");
    let write = || -> std::io::Result<()> {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&partial)?);
        out.write_all(MAGIC)?;
        out.write_all(&(vocabulary as u32).to_le_bytes())?;
        out.write_all(&(dim as u32).to_le_bytes())?;
        for value in &table {
            out.write_all(&value.to_le_bytes())?;
        }
        out.flush()?;
        drop(out);
        std::fs::rename(&partial, &path)
    };
    write().map_err(|e| err(&path.display().to_string())(&e))?;
    println!(
        "distilled {vocabulary} tokens × {dim} into {} in {:.1} s ({threads} threads)",
        path.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn main() -> ExitCode {
    let dir = std::env::args()
        .nth(1)
        .map_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../models")), PathBuf::from);
    match distill(&dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("distill: {message}");
            ExitCode::FAILURE
        }
    }
}
