//! Retrieval over a chatbot's knowledge base: BM25 (the `bm25` crate, with its
//! stemming, stop-word tokenizer) ranks the entries, and a coverage check decides
//! whether the best one really answers the question.
//!
//! BM25 scores have no fixed scale (they grow with the query's length and the
//! rarity of its words), so they rank but cannot say "this is an answer". Coverage
//! can: the share of the query's meaning, weighted by each word's rarity in the
//! knowledge base (IDF), that the entry contains. A word no entry contains weighs
//! a lot, so a question about something the knowledge base never mentions has low
//! coverage whatever the ranking says. (It weighs half as much as the rarest known
//! word: an unknown word is as often a paraphrase as another topic.)
//!
//! With the sentence model (`meaning`), a question the words leave unanswered is
//! also read by what it means: the entry whose title is nearest in meaning answers
//! it when it is near enough and clearly nearer than the next ("Where are my past
//! bills?" finds "Where do I find my invoices and receipts?" with no word in common).

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, OnceLock, PoisonError},
};

use bm25::{DefaultTokenizer, Language, SearchEngine, SearchEngineBuilder, Tokenizer};

use super::{
    meaning::{sentence::Vector, similarity, Meaning},
    signals,
};
use crate::store::{
    conversations::ChatbotRecord,
    knowledge::{EntryKind, KnowledgeEntry},
    Store,
};

/// Coverage at or above which the best entry is given as the answer.
pub const ANSWER_COVERAGE: f32 = 0.5;
/// Coverage at or above which an entry is related enough to offer as a self-serve try.
pub const RELATED_COVERAGE: f32 = 0.3;
/// How many BM25-ranked entries the coverage check looks at.
const CANDIDATES: usize = 8;
/// Similarity in meaning (cosine of the static sentence vectors) at or above which the
/// nearest entry answers a question its words did not, and how much nearer than the
/// next entry it must be. Chosen on `server/eval/retrieval.tsv` (`make eval`).
pub const MEANING_ANSWER: f32 = 0.50;
/// A question is also read by meaning part by part only when it has at most this
/// many parts and characters.
const MEANING_PARTS: usize = 3;
const MEANING_PARTS_CHARS: usize = 200;
pub const MEANING_MARGIN: f32 = 0.10;

/// An indexed knowledge base.
pub struct KnowledgeBase {
    entries: Vec<KnowledgeEntry>,
    engine: Option<SearchEngine<usize>>,
    tokenizer: DefaultTokenizer,
    /// Each entry's distinct tokens.
    entry_tokens: Vec<HashSet<String>>,
    /// Inverse document frequency of every token in the knowledge base.
    idf: HashMap<String, f32>,
    /// The weight of a token no entry contains.
    unseen_idf: f32,
    /// Each entry's title as a sentence vector, made the first time meaning is asked.
    vectors: OnceLock<Vec<Vector>>,
}

/// The best entry for a question.
#[derive(Debug, Clone, Copy)]
pub struct Hit<'a> {
    pub entry: &'a KnowledgeEntry,
    /// 0 to 1: how much of the question the entry covers (an entry found by meaning
    /// counts as covering enough to answer).
    pub coverage: f32,
    /// Found by meaning, not by words.
    pub by_meaning: bool,
    /// How near the entry's title is to the question in meaning (cosine), when the
    /// sentence model read both.
    pub similarity: Option<f32>,
}

impl Hit<'_> {
    pub fn answers(&self) -> bool {
        self.coverage >= ANSWER_COVERAGE
    }

    /// It answers, and (when the sentence model read both) its title is at least
    /// `limit` near the question in meaning: an answer sure enough to outweigh a
    /// reading that the visitor needs a person. "Please merge my two accounts" shares the words of
    /// "How do I create or delete an account?", not its meaning.
    pub fn answers_well(&self, limit: f32) -> bool {
        self.answers() && self.similarity.is_none_or(|near| near >= limit)
    }

    /// The entry as the bot says it: the answer of a Q&A, the text of an article.
    pub fn text(&self) -> &str {
        &self.entry.body
    }
}

/// Words of conversation rather than of content (as the stemmer leaves them):
/// greetings, requests, filler, time words and everyday English that questions are
/// full of whatever they ask about. They say nothing about which entry answers, so
/// questions are matched without them.
const CONVERSATIONAL: &[&str] = &[
    // greetings, courtesy, interjections
    "hi", "hello", "hey", "thank", "thanks", "pleas", "ok", "okay", "ugh", "oop", "hmm", "oh", "um", "wow",
    // asking and wanting
    "get", "want", "need", "like", "know", "tell", "help", "ask", "find", "wonder", "question", "idea", "tip", "talk",
    "speak", "someon", "somebodi", "person", "human", "agent", "anyon", "confus", // filler and degree
    "realli", "actual", "also", "way", "still", "one", "bit", "littl", "quick", "lot", "thing", "stuff", "kind",
    "type", "whole", "exact", "simpl", "easi", "mayb", "instead", "els", "good", "best", "better", "mani", "extra",
    "use", "make", "possibl", "abl", "option", "tri", "accid", "accident", "someth", "anyth", "everyth",
    // time
    "yesterday", "today", "ago", "earlier", "last", "first", "next", "current",
];

/// Common paraphrases, rewritten to the words help articles use.
const PARAPHRASES: [(&str, &str); 17] = [
    ("get back", "recover"),
    ("get it back", "recover"),
    ("get them back", "recover"),
    ("previous", "older"),
    ("buy more", "add"),
    ("how much is", "cost price"),
    ("how much does", "cost price"),
    ("how much do", "cost price"),
    ("safe", "secure"),
    ("log in", "sign in"),
    ("login", "sign in"),
    ("largest", "maximum"),
    ("biggest", "maximum"),
    ("max ", "maximum "),
    ("undelete", "restore deleted"),
    ("removed", "deleted"),
    ("pay for", "payment"),
];

/// What the question is about: paraphrases rewritten, without its complaint words
/// ("this is a bit annoying, how do I change my plan?": how the visitor feels does
/// not say which entry answers) and without words of conversation.
fn topic_words(tokenizer: &DefaultTokenizer, question: &str) -> String {
    let mut text = question.to_lowercase();
    for (from, to) in PARAPHRASES {
        text = text.replace(from, to);
    }
    text.split_whitespace()
        .filter(|word| !signals::is_emotional(word))
        // Contractions ("I'm", "can't") are never what a question is about.
        .filter(|word| !word.contains('\'') && !word.contains('’'))
        .filter(|word| !tokenizer.tokenize(word).iter().all(|token| CONVERSATIONAL.contains(&token.as_str())))
        .collect::<Vec<_>>()
        .join(" ")
}

fn tokenizer() -> DefaultTokenizer {
    DefaultTokenizer::builder()
        .language_mode(Language::English)
        .normalization(true)
        .stemming(true)
        .stopwords(true)
        .build()
}

/// What the index reads of an entry: a Q&A's question counts twice, since visitors ask
/// in its words.
fn indexed_text(entry: &KnowledgeEntry) -> String {
    match entry.kind {
        EntryKind::Qa => format!("{0}\n{0}\n{1}", entry.title, entry.body),
        EntryKind::Article => format!("{}\n{}", entry.title, entry.body),
    }
}

fn bm25_idf(entries: usize, containing: usize) -> f32 {
    let (n, df) = (entries as f32, containing as f32);
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

impl KnowledgeBase {
    pub fn new(entries: Vec<KnowledgeEntry>) -> KnowledgeBase {
        let tokenizer = tokenizer();
        let texts: Vec<String> = entries.iter().map(indexed_text).collect();
        let entry_tokens: Vec<HashSet<String>> =
            texts.iter().map(|text| tokenizer.tokenize(text).into_iter().collect()).collect();
        let mut containing: HashMap<&str, usize> = HashMap::new();
        for tokens in &entry_tokens {
            for token in tokens {
                *containing.entry(token.as_str()).or_default() += 1;
            }
        }
        let idf = containing.iter().map(|(token, n)| ((*token).to_owned(), bm25_idf(entries.len(), *n))).collect();
        // Half the weight of the rarest word: a word no entry has is as often the
        // visitor's paraphrase ("largest" for "maximum") as a sign of another topic.
        let unseen_idf = bm25_idf(entries.len(), 0) * 0.75;
        let engine = (!entries.is_empty()).then(|| {
            let documents = texts.into_iter().enumerate().map(|(i, text)| bm25::Document::new(i, text));
            SearchEngineBuilder::<usize>::with_tokenizer_and_documents(self::tokenizer(), documents).build()
        });
        KnowledgeBase { entries, engine, tokenizer, entry_tokens, idf, unseen_idf, vectors: OnceLock::new() }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn entries(&self) -> &[KnowledgeEntry] {
        &self.entries
    }

    /// The entry that best answers `question`, if any shares a meaningful word with it.
    /// A message of several parts ("Thanks! Separate question: where do I find my
    /// invoices?") is also read part by part, and the part answered best counts: the
    /// framing around a question does not dilute it.
    pub fn best(&self, question: &str) -> Option<Hit<'_>> {
        let whole = self.best_of(question);
        let parts: Vec<&str> = question.split(['.', '!', '?', ':', ';', '\n']).map(str::trim).collect();
        if parts.iter().filter(|p| !p.is_empty()).count() < 2 {
            return whole;
        }
        parts
            .into_iter()
            .filter(|part| !self.question_tokens(part).is_empty())
            .filter_map(|part| self.best_of(part))
            .chain(whole)
            .fold(None, |best, hit| match best {
                Some(top) if top.coverage >= hit.coverage => Some(top),
                _ => Some(hit),
            })
    }

    /// `best`, and when its words find no answer, the entry nearest in meaning if it
    /// is near enough (`MEANING_ANSWER`) and clearly nearest (`MEANING_MARGIN`). The
    /// question is read whole and part by part, as `best` reads it.
    pub fn best_with(&self, question: &str, meaning: Option<&Meaning>) -> Option<Hit<'_>> {
        self.best_with_limits(question, meaning, MEANING_ANSWER, MEANING_MARGIN)
    }

    /// `best_with` at other limits (the eval's sweep).
    pub fn best_with_limits(
        &self,
        question: &str,
        meaning: Option<&Meaning>,
        answer: f32,
        margin: f32,
    ) -> Option<Hit<'_>> {
        let by_words = self.best(question);
        let Some(meaning) = meaning else { return by_words };
        let vectors = self.vectors.get_or_init(|| self.entries.iter().filter_map(|e| meaning.embed(&e.title)).collect());
        if vectors.len() != self.entries.len() {
            return by_words;
        }
        let near_title = |question: &[f32], entry: &KnowledgeEntry| {
            let at = self.entries.iter().position(|e| std::ptr::eq(e, entry))?;
            vectors.get(at).map(|title| similarity(question, title))
        };
        // Answers by words, the best in words and meaning together: the words say it
        // answers, the meaning which of the answering entries is meant ("refund
        // time?" shares a word with several entries and means one).
        if let Some(best) = by_words.filter(Hit::answers) {
            let Some(q) = meaning.embed(question) else { return Some(best) };
            let candidates = self.candidates(question).into_iter().chain([best]).filter(Hit::answers);
            let scored = candidates.map(|hit| {
                let near = near_title(&q, hit.entry);
                (hit.coverage + near.unwrap_or(0.0), Hit { similarity: near, ..hit })
            });
            return scored.max_by(|a, b| a.0.total_cmp(&b.0)).map(|(_, hit)| hit);
        }
        // The question whole, and each of its parts when it has a few (each part is
        // one more pass of the model: a long message is read whole).
        let parts: Vec<&str> =
            question.split(['.', '!', '?', ':', ';', '\n']).map(str::trim).filter(|p| !p.is_empty()).collect();
        let few = (2..=MEANING_PARTS).contains(&parts.len()) && question.len() <= MEANING_PARTS_CHARS;
        let whole = std::iter::once(question);
        let parts = whole.chain(parts.iter().copied().filter(|_| few));
        let nearest = parts
            .filter(|part| !self.question_tokens(part).is_empty())
            .filter_map(|part| {
                let asked = meaning.embed(part)?;
                let mut ranked: Vec<(f32, usize)> =
                    vectors.iter().enumerate().map(|(i, v)| (similarity(&asked, v), i)).collect();
                ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
                let (top, next) = (ranked.first().copied()?, ranked.get(1).map_or(-1.0, |r| r.0));
                Some((top.0, top.0 - next, top.1))
            })
            .filter(|(near, ahead, _)| *near >= answer && *ahead >= margin)
            .max_by(|a, b| a.0.total_cmp(&b.0));
        match nearest.and_then(|(near, _, i)| Some((near, self.entries.get(i)?))) {
            Some((near, entry)) => {
                Some(Hit { entry, coverage: ANSWER_COVERAGE, by_meaning: true, similarity: Some(near) })
            }
            None => by_words,
        }
    }

    fn best_of(&self, question: &str) -> Option<Hit<'_>> {
        self.candidates(question).into_iter().fold(None, |best, hit| match best {
            Some(top) if top.coverage >= hit.coverage => Some(top),
            _ => Some(hit),
        })
    }

    /// The words of `question` that retrieval matches, with their weights.
    pub fn question_tokens(&self, question: &str) -> Vec<(String, f32)> {
        let question = topic_words(&self.tokenizer, question);
        let mut tokens: Vec<String> = self.tokenizer.tokenize(&question);
        tokens.sort();
        tokens.dedup();
        tokens.into_iter().map(|t| (t.clone(), self.idf.get(&t).copied().unwrap_or(self.unseen_idf))).collect()
    }

    /// The top BM25 candidates for `question`, best-ranked first, with their coverage.
    pub fn candidates(&self, question: &str) -> Vec<Hit<'_>> {
        let Some(engine) = self.engine.as_ref() else {
            return Vec::new();
        };
        let question = topic_words(&self.tokenizer, question);
        let asked: HashSet<String> = self.tokenizer.tokenize(&question).into_iter().collect();
        if asked.is_empty() {
            return Vec::new();
        }
        let weight = |token: &String| self.idf.get(token).copied().unwrap_or(self.unseen_idf);
        let total: f32 = asked.iter().map(weight).sum();
        engine
            .search(&question, CANDIDATES)
            .into_iter()
            .filter_map(|result| {
                let id = result.document.id;
                let tokens = self.entry_tokens.get(id)?;
                let covered: f32 = asked.iter().filter(|t| tokens.contains(*t)).map(weight).sum();
                Some(Hit { entry: self.entries.get(id)?, coverage: covered / total, by_meaning: false, similarity: None })
            })
            .collect()
    }
}

/// Indexed knowledge bases by chatbot, rebuilt when a chatbot's revision moves.
#[derive(Default)]
pub struct KnowledgeCache {
    indexed: Mutex<HashMap<String, (i64, Arc<KnowledgeBase>)>>,
}

impl KnowledgeCache {
    pub async fn for_chatbot(&self, store: &Store, chatbot: &ChatbotRecord) -> Result<Arc<KnowledgeBase>, sqlx::Error> {
        let cached = self.indexed.lock().unwrap_or_else(PoisonError::into_inner).get(&chatbot.id).cloned();
        if let Some((revision, base)) = cached {
            if revision == chatbot.knowledge_revision {
                return Ok(base);
            }
        }
        let entries = store.knowledge_entries(&chatbot.id).await?;
        let base = Arc::new(KnowledgeBase::new(entries));
        self.indexed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(chatbot.id.clone(), (chatbot.knowledge_revision, base.clone()));
        Ok(base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;

    fn demo_base() -> KnowledgeBase {
        KnowledgeBase::new(demo::knowledge_entries())
    }

    #[test]
    fn questions_find_their_entries_in_other_words() {
        let base = demo_base();
        for (question, title_word) in [
            ("How much is the Team plan?", "cost"),
            ("how do I reset my password", "password"),
            ("can I get back a file I deleted yesterday", "deleted"),
            ("is my data encrypted?", "secure"),
            ("How do I export everything to a zip?", "export"),
            ("Thanks! Separate question: where do I find my invoices?", "invoice"),
            ("ok that worked. Another thing - how do I reset my password?", "password"),
        ] {
            let hit = base.best(question).unwrap_or_else(|| panic!("no hit for {question:?}"));
            assert!(hit.answers(), "{question:?} → {:?} at {}", hit.entry.title, hit.coverage);
            assert!(hit.entry.title.to_lowercase().contains(title_word), "{question:?} → {:?}", hit.entry.title);
        }
    }

    #[test]
    fn questions_outside_the_knowledge_base_are_not_answered() {
        let base = demo_base();
        for question in ["Do you sell bicycles?", "What's the weather in Paris?", "Can I integrate with SAP Ariba?"] {
            assert!(base.best(question).is_none_or(|hit| !hit.answers()), "{question:?}");
        }
    }

    #[test]
    fn an_empty_knowledge_base_answers_nothing() {
        let base = KnowledgeBase::new(Vec::new());
        assert!(base.best("How much is it?").is_none());
        assert!(base.is_empty());
    }
}
