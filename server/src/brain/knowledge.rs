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

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, PoisonError},
};

use bm25::{DefaultTokenizer, Language, SearchEngine, SearchEngineBuilder, Tokenizer};

use super::signals;
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
}

/// The best entry for a question.
#[derive(Debug, Clone, Copy)]
pub struct Hit<'a> {
    pub entry: &'a KnowledgeEntry,
    /// 0 to 1: how much of the question the entry covers.
    pub coverage: f32,
}

impl Hit<'_> {
    pub fn answers(&self) -> bool {
        self.coverage >= ANSWER_COVERAGE
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
        KnowledgeBase { entries, engine, tokenizer, entry_tokens, idf, unseen_idf }
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
                Some(Hit { entry: self.entries.get(id)?, coverage: covered / total })
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
