//! What the classifier sees of a text: word and word-pair counts and character
//! n-grams inside words (hashed into a fixed number of buckets, so misspellings and
//! word forms share most of their features), and, when the sentence model is
//! installed, the text's meaning as a dense vector.

/// Hashed sparse features: 2^18 buckets.
pub const BUCKETS: usize = 1 << 18;

/// A text's features: sparse (bucket, value) pairs with unit length, and the dense
/// meaning vector (empty without the sentence model).
#[derive(Debug, Clone, Default)]
pub struct Features {
    pub sparse: Vec<(u32, f32)>,
    pub dense: Vec<f32>,
}

/// The bucket of a feature named by `parts`.
pub fn bucket(parts: &[&str]) -> u32 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hash = (hash ^ 0x1f).wrapping_mul(0x0100_0000_01b3);
        }
        for byte in part.bytes() {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    (hash % BUCKETS as u64) as u32
}

/// Lowercased words, apostrophes dropped ("don't" → "dont"), digits kept as one "0".
pub fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .replace(['’', '\''], "")
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| if w.chars().all(|c| c.is_ascii_digit()) { "0".to_owned() } else { w.to_owned() })
        .collect()
}

/// The sparse part of a text's features.
pub fn sparse(text: &str) -> Vec<(u32, f32)> {
    let words = words(text);
    let mut counts: Vec<(u32, f32)> = Vec::with_capacity(words.len() * 12);
    for word in &words {
        counts.push((bucket(&["w", word]), 1.0));
        let padded: Vec<char> = format!("<{word}>").chars().collect();
        for n in 3..=5 {
            for gram in padded.windows(n) {
                let gram: String = gram.iter().collect();
                counts.push((bucket(&["c", &gram]), 0.5));
            }
        }
    }
    for pair in words.windows(2) {
        counts.push((bucket(&["b", &pair[0], &pair[1]]), 1.0));
    }
    counts.push((bucket(&["len", &words.len().min(12).to_string()]), 1.0));
    if text.contains('?') {
        counts.push((bucket(&["?"]), 1.0));
    }
    if text.contains("!!") {
        counts.push((bucket(&["!!"]), 1.0));
    }
    let letters: Vec<char> = text.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.len() >= 8 && letters.iter().filter(|c| c.is_uppercase()).count() * 10 >= letters.len() * 7 {
        counts.push((bucket(&["SHOUT"]), 1.0));
    }
    counts.sort_unstable_by_key(|(bucket, _)| *bucket);
    let mut merged: Vec<(u32, f32)> = Vec::with_capacity(counts.len());
    for (bucket, value) in counts {
        match merged.last_mut() {
            Some((last, sum)) if *last == bucket => *sum += value,
            _ => merged.push((bucket, value)),
        }
    }
    // Sublinear counts, then unit length: long texts don't outweigh short ones.
    for (_, value) in &mut merged {
        *value = 1.0 + value.ln().max(0.0);
    }
    let norm = merged.iter().map(|(_, v)| v * v).sum::<f32>().sqrt().max(1e-6);
    for (_, value) in &mut merged {
        *value /= norm;
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_have_unit_length_and_share_misspellings() {
        let a = sparse("Can I talk to a human?");
        let norm: f32 = a.iter().map(|(_, v)| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-4);
        let b = sparse("can i tlak to a huamn");
        let shared = a.iter().filter(|(bucket, _)| b.iter().any(|(other, _)| other == bucket)).count();
        assert!(shared * 3 >= a.len(), "{shared} of {}", a.len());
        assert!(sparse("").len() <= 1);
        assert_eq!(words("I don't WANT 3 bots"), ["i", "dont", "want", "0", "bots"]);
    }
}
