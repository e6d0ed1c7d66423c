//! Sentence meaning without running a transformer per turn: a static distillation of
//! all-MiniLM-L6-v2. `make model` (the `distill` tool, `server/distill`) runs the
//! model once over every token of its vocabulary and keeps one 384-number vector per
//! token; a text's meaning is then the weighted mean of its tokens' vectors
//! (weights: how rare the token is in the training texts, learnt with the
//! classifier), which takes microseconds. The tokenizer is the model's own
//! (`tokenizers`, reading its `tokenizer.json`, without the file's padding: see
//! `sentence::plain_tokenizer`).
//!
//! A bag of token vectors loses word order and negation; the sentence model
//! (`sentence`) reads the whole sentence. The table stays for the eval's comparison
//! of the two.
//!
//! The table file: `BATONSE2`, the vocabulary size and the dimension as
//! little-endian u32, then vocabulary × dimension f16.

use std::{io::Read, path::Path};

use half::f16;
use tokenizers::Tokenizer;

const MAGIC: &[u8; 8] = b"BATONSE2";

pub struct StaticEmbedding {
    tokenizer: Tokenizer,
    dim: usize,
    /// vocabulary × dim.
    table: Vec<f16>,
    /// One weight per token.
    weights: Vec<f32>,
}

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    #[error("{0}")]
    Invalid(&'static str),
}

impl StaticEmbedding {
    pub fn new(tokenizer: Tokenizer, dim: usize, table: Vec<f16>, weights: Vec<f32>) -> Result<Self, EmbedError> {
        if dim == 0 || table.len() != weights.len() * dim {
            return Err(EmbedError::Invalid("the table does not match the token weights"));
        }
        Ok(StaticEmbedding { tokenizer, dim, table, weights })
    }

    pub fn load(tokenizer_file: &Path, table_file: &Path) -> Result<Self, EmbedError> {
        let tokenizer =
            super::sentence::plain_tokenizer(tokenizer_file).map_err(|err| EmbedError::Tokenizer(err.to_string()))?;
        let mut input = std::io::BufReader::new(std::fs::File::open(table_file)?);
        let mut magic = [0u8; 8];
        input.read_exact(&mut magic)?;
        if &magic != MAGIC {
            return Err(EmbedError::Invalid("not a Baton static embedding table"));
        }
        let mut word = [0u8; 4];
        input.read_exact(&mut word)?;
        let vocabulary = u32::from_le_bytes(word) as usize;
        input.read_exact(&mut word)?;
        let dim = u32::from_le_bytes(word) as usize;
        if vocabulary > 1_000_000 || dim > 4096 || vocabulary != tokenizer.get_vocab_size(true) {
            return Err(EmbedError::Invalid("the table was built for another tokenizer"));
        }
        let mut bytes = vec![0u8; vocabulary * dim * 2];
        input.read_exact(&mut bytes)?;
        let table = bytes.chunks_exact(2).map(|b| f16::from_le_bytes([b[0], b[1]])).collect();
        StaticEmbedding::new(tokenizer, dim, table, vec![1.0; vocabulary])
    }

    /// The same table with other token weights (one per token).
    pub fn with_weights(&self, weights: Vec<f32>) -> Result<Self, EmbedError> {
        StaticEmbedding::new(self.tokenizer.clone(), self.dim, self.table.clone(), weights)
    }

    pub fn weights(&self) -> Vec<f32> {
        self.weights.clone()
    }

    pub fn vocabulary(&self) -> usize {
        self.weights.len()
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The text's token ids (no special tokens), or none if it cannot be tokenized.
    pub fn token_ids(&self, text: &str) -> Vec<u32> {
        super::sentence::token_ids(&self.tokenizer, text)
    }

    /// The text's meaning: unit length, or all zeros for a text with no known token.
    pub fn embed(&self, text: &str) -> Vec<f32> {
        let mut sum = vec![0f32; self.dim];
        for id in self.token_ids(text) {
            let id = id as usize;
            let (Some(weight), Some(row)) = (self.weights.get(id), self.table.get(id * self.dim..(id + 1) * self.dim))
            else {
                continue;
            };
            for (total, value) in sum.iter_mut().zip(row) {
                *total += weight * value.to_f32();
            }
        }
        let norm = sum.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            for value in &mut sum {
                *value /= norm;
            }
        }
        sum
    }

    /// Token weights from how many of `texts` hold each token: ln(N / df), at least
    /// a small floor so every token counts a little.
    pub fn rarity_weights(&self, texts: &[&str]) -> Vec<f32> {
        let mut documents = vec![0u32; self.vocabulary()];
        for text in texts {
            let mut ids = self.token_ids(text);
            ids.sort_unstable();
            ids.dedup();
            for id in ids {
                if let Some(count) = documents.get_mut(id as usize) {
                    *count += 1;
                }
            }
        }
        let n = texts.len().max(1) as f32;
        documents.iter().map(|&df| (n / (df as f32 + 1.0)).ln().max(0.5)).collect()
    }
}
