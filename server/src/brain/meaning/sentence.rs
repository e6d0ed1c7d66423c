//! A sentence's meaning as all-MiniLM-L6-v2 reads it: the whole sentence through the
//! model (word order, negation and all), mean-pooled into one unit vector, as
//! sentence-transformers uses the model. The tokenizer is the model's own
//! (`tokenizers`, reading its `tokenizer.json` with the file's padding and
//! truncation turned off: the length is decided here, not by the file); the forward
//! pass is Baton's (`encoder`).
//!
//! A text is read in windows of `WINDOW` tokens (each framed `[CLS] … [SEP]`), at
//! most `MAX_WINDOWS` of them, and their vectors averaged: the first 62 word pieces
//! (about 45 words, longer than nearly every chat message) decide a message's
//! meaning, and the n-grams read the rest. A turn's cost is bounded (17 ms on one
//! core for a full window), never the model's 512 positions; with two windows the
//! longest 1 % of turns took over 20 ms. Vectors are kept in
//! a small LRU cache by text, so a conversation's earlier messages, read again at
//! every turn, cost nothing; the eval pins the vectors of every text it will ask for
//! (`remember`), computed in parallel batches.

use std::{
    collections::HashMap,
    num::NonZeroUsize,
    path::Path,
    sync::{Arc, Mutex, PoisonError, RwLock},
};

use encoder::Encoder;
use lru::LruCache;
use tokenizers::Tokenizer;

/// Tokens per window, `[CLS]` and `[SEP]` included.
pub const WINDOW: usize = 64;
/// Windows read of one text; the rest of a longer text is left to the n-grams.
pub const MAX_WINDOWS: usize = 1;
/// Texts whose vectors the cache keeps.
const CACHED: usize = 4096;
/// Sentences per forward pass when many are read at once.
const BATCH: usize = 32;

/// One text's meaning: unit length (all zeros for a text with no token).
pub type Vector = Arc<[f32]>;

pub struct Sentences {
    tokenizer: Tokenizer,
    encoder: Encoder,
    cls: u32,
    sep: u32,
    cache: Mutex<LruCache<String, Vector>>,
    pinned: RwLock<HashMap<String, Vector>>,
}

#[derive(Debug, thiserror::Error)]
pub enum SentenceError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    #[error("{0}")]
    Encoder(#[from] encoder::EncoderError),
    #[error("the tokenizer and the model disagree: {0}")]
    Mismatch(String),
}

/// The model's files in its directory.
pub const TOKENIZER: &str = "tokenizer.json";
pub const CONFIG: &str = "config.json";
pub const WEIGHTS: &str = "model.safetensors";

impl Sentences {
    /// The model in `dir` (the folder holding its tokenizer, config and weights).
    pub fn load(dir: &Path) -> Result<Sentences, SentenceError> {
        let tokenizer = plain_tokenizer(&dir.join(TOKENIZER))?;
        let encoder = Encoder::from_files(&std::fs::read(dir.join(CONFIG))?, &std::fs::read(dir.join(WEIGHTS))?)?;
        let special = |token: &str| {
            tokenizer.token_to_id(token).ok_or_else(|| SentenceError::Mismatch(format!("no {token} token")))
        };
        let (cls, sep) = (special("[CLS]")?, special("[SEP]")?);
        if tokenizer.get_vocab_size(true) != encoder.vocabulary() {
            return Err(SentenceError::Mismatch(format!(
                "{} tokens in the tokenizer, {} in the model",
                tokenizer.get_vocab_size(true),
                encoder.vocabulary()
            )));
        }
        let capacity = NonZeroUsize::new(CACHED).unwrap_or(NonZeroUsize::MIN);
        Ok(Sentences {
            tokenizer,
            encoder,
            cls,
            sep,
            cache: Mutex::new(LruCache::new(capacity)),
            pinned: RwLock::default(),
        })
    }

    pub fn dim(&self) -> usize {
        self.encoder.dim()
    }

    /// The text's windows of token ids, each framed `[CLS] … [SEP]`.
    pub fn windows(&self, text: &str) -> Vec<Vec<u32>> {
        let ids = token_ids(&self.tokenizer, text);
        ids.chunks(WINDOW - 2)
            .take(MAX_WINDOWS)
            .map(|chunk| {
                let mut framed = Vec::with_capacity(chunk.len() + 2);
                framed.push(self.cls);
                framed.extend_from_slice(chunk);
                framed.push(self.sep);
                framed
            })
            .collect()
    }

    /// The text's meaning.
    pub fn embed(&self, text: &str) -> Vector {
        if let Some(found) = self.pinned.read().unwrap_or_else(PoisonError::into_inner).get(text) {
            return found.clone();
        }
        if let Some(found) = self.cache.lock().unwrap_or_else(PoisonError::into_inner).get(text) {
            return found.clone();
        }
        let windows = self.windows(text);
        let framed: Vec<&[u32]> = windows.iter().map(Vec::as_slice).collect();
        let vector = average(self.encoder.embed(&framed), self.dim());
        self.cache.lock().unwrap_or_else(PoisonError::into_inner).put(text.to_owned(), vector.clone());
        vector
    }

    /// The meaning of many texts, in their order, read in batches of similar length
    /// on `threads` threads (the cache is neither read nor filled).
    pub fn embed_many(&self, texts: &[&str], threads: usize) -> Vec<Vector> {
        // Every window of every text, shortest first, so a batch pads little.
        let windows: Vec<Vec<Vec<u32>>> = texts.iter().map(|t| self.windows(t)).collect();
        let mut order: Vec<(usize, usize)> =
            windows.iter().enumerate().flat_map(|(t, w)| (0..w.len()).map(move |i| (t, i))).collect();
        order.sort_by_key(|&(t, i)| windows[t][i].len());
        let batches: Vec<&[(usize, usize)]> = order.chunks(BATCH).collect();
        let threads = threads.clamp(1, batches.len().max(1));
        let read: Vec<Vec<((usize, usize), Vec<f32>)>> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|worker| {
                    let (batches, windows) = (&batches, &windows);
                    scope.spawn(move || {
                        let mut out = Vec::new();
                        for batch in batches.iter().skip(worker).step_by(threads) {
                            let framed: Vec<&[u32]> = batch.iter().map(|&(t, i)| windows[t][i].as_slice()).collect();
                            out.extend(batch.iter().copied().zip(self.encoder.embed(&framed)));
                        }
                        out
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap_or_default()).collect()
        });
        let mut per_text: Vec<Vec<Vec<f32>>> = windows.iter().map(|w| vec![Vec::new(); w.len()]).collect();
        for ((t, i), vector) in read.into_iter().flatten() {
            per_text[t][i] = vector;
        }
        per_text.into_iter().map(|vectors| average(vectors, self.dim())).collect()
    }

    /// Computes and keeps the meaning of every text in `texts` not kept yet, so that
    /// `embed` answers them at once (the eval reads the same texts many times).
    pub fn remember(&self, texts: &[&str], threads: usize) {
        let missing: Vec<&str> = {
            let pinned = self.pinned.read().unwrap_or_else(PoisonError::into_inner);
            let mut seen = std::collections::HashSet::new();
            texts.iter().copied().filter(|t| !pinned.contains_key(*t) && seen.insert(*t)).collect()
        };
        let vectors = self.embed_many(&missing, threads);
        let mut pinned = self.pinned.write().unwrap_or_else(PoisonError::into_inner);
        for (text, vector) in missing.into_iter().zip(vectors) {
            pinned.insert(text.to_owned(), vector);
        }
    }
}

/// The mean of the windows' unit vectors, itself of unit length.
fn average(vectors: Vec<Vec<f32>>, dim: usize) -> Vector {
    let mut sum = vec![0f32; dim];
    for vector in &vectors {
        sum.iter_mut().zip(vector).for_each(|(s, v)| *s += v);
    }
    let norm = sum.iter().map(|v| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        sum.iter_mut().for_each(|v| *v /= norm);
    }
    sum.into()
}

/// The model's tokenizer with the file's padding and truncation turned off: the
/// file pads every encoding to 128 tokens, which would make every sentence mostly
/// `[PAD]`.
pub fn plain_tokenizer(file: &Path) -> Result<Tokenizer, SentenceError> {
    let mut tokenizer = Tokenizer::from_file(file).map_err(|err| SentenceError::Tokenizer(err.to_string()))?;
    tokenizer.with_padding(None);
    tokenizer.with_truncation(None).map_err(|err| SentenceError::Tokenizer(err.to_string()))?;
    Ok(tokenizer)
}

/// The text's token ids, no special tokens (none for a text that cannot be tokenized).
pub fn token_ids(tokenizer: &Tokenizer, text: &str) -> Vec<u32> {
    tokenizer.encode(text, false).map(|e| e.get_ids().to_vec()).unwrap_or_default()
}
