//! `make model` step: distils all-MiniLM-L6-v2 into one vector per vocabulary token
//! (`server/models/baton/static.bin`). Each token goes through the full model once,
//! as the sentence `[CLS] token [SEP]`, and keeps the mean-pooled, unit-length
//! output, as sentence-transformers pools this model. The server then reads a text's
//! meaning as the weighted mean of its tokens' vectors, in microseconds.
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

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use half::f16;
use tokenizers::Tokenizer;

const MAGIC: &[u8; 8] = b"BATONSE2";
const BATCH: usize = 512;

fn err(context: &str) -> impl Fn(&dyn std::fmt::Display) -> String + '_ {
    move |e| format!("{context}: {e}")
}

fn distill(dir: &Path) -> Result<(), String> {
    let started = Instant::now();
    let model_dir = dir.join("all-minilm-l6-v2");
    let tokenizer = Tokenizer::from_file(model_dir.join("tokenizer.json")).map_err(|e| err("tokenizer")(&e))?;
    let config_file = model_dir.join("config.json");
    let config_text = std::fs::read_to_string(&config_file).map_err(|e| err("config.json")(&e))?;
    let config: Config = serde_json::from_str(&config_text).map_err(|e| err("config.json")(&e))?;
    let device = Device::Cpu;
    // SAFETY: the weights file is not modified while it is mapped (setup wrote it and
    // checked its hash; nothing else writes it).
    let weights =
        unsafe { VarBuilder::from_mmaped_safetensors(&[model_dir.join("model.safetensors")], DType::F32, &device) }
            .map_err(|e| err("model.safetensors")(&e))?;
    let model = BertModel::load(weights, &config).map_err(|e| err("model")(&e))?;

    let vocabulary = tokenizer.get_vocab_size(true);
    let (Some(cls), Some(sep)) = (tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")) else {
        return Err("the tokenizer has no [CLS] or [SEP]".to_owned());
    };
    let mut table: Vec<f16> = Vec::with_capacity(vocabulary * config.hidden_size);
    let ids: Vec<u32> = (0..vocabulary as u32).collect();
    for batch in ids.chunks(BATCH) {
        let rows: Vec<u32> = batch.iter().flat_map(|&id| [cls, id, sep]).collect();
        let forward = || -> candle_core::Result<Vec<Vec<f32>>> {
            let input = Tensor::from_vec(rows.clone(), (batch.len(), 3), &device)?;
            let types = input.zeros_like()?;
            let mask = input.ones_like()?;
            let pooled = model.forward(&input, &types, Some(&mask))?.mean(1)?;
            let norms = pooled.sqr()?.sum_keepdim(1)?.sqrt()?;
            pooled.broadcast_div(&norms)?.to_vec2()
        };
        let vectors = forward().map_err(|e| err("forward pass")(&e))?;
        table.extend(vectors.iter().flatten().map(|v| f16::from_f32(*v)));
    }

    let path = dir.join("baton/static.bin");
    let parent = path.parent().unwrap_or(dir);
    std::fs::create_dir_all(parent).map_err(|e| err(&parent.display().to_string())(&e))?;
    let partial = path.with_extension("partial");
    let write = || -> std::io::Result<()> {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&partial)?);
        out.write_all(MAGIC)?;
        out.write_all(&(vocabulary as u32).to_le_bytes())?;
        out.write_all(&(config.hidden_size as u32).to_le_bytes())?;
        for value in &table {
            out.write_all(&value.to_le_bytes())?;
        }
        out.flush()?;
        drop(out);
        std::fs::rename(&partial, &path)
    };
    write().map_err(|e| err(&path.display().to_string())(&e))?;
    println!(
        "distilled {vocabulary} tokens × {} into {} in {:.1} s",
        config.hidden_size,
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
