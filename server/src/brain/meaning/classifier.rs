//! A multinomial logistic regression over a text's features: the probability of each
//! decision (none, explicit request, frustration, cannot resolve). Trained with
//! AdaGrad on log loss with L2, classes weighted so the rare reasons count.

use std::io::{Read, Write};

use app::domain::EscalationReason;

use super::{
    features::{Features, BUCKETS},
    Dense,
};
use crate::brain::eval::Label;

/// The decisions, in the order of the model's outputs.
pub const CLASSES: [Label; 4] = [
    None,
    Some(EscalationReason::ExplicitRequest),
    Some(EscalationReason::Frustration),
    Some(EscalationReason::CannotResolve),
];
const K: usize = CLASSES.len();

pub fn class_of(label: Label) -> usize {
    CLASSES.iter().position(|c| *c == label).unwrap_or(0)
}

/// The probability of each decision, in the order of `CLASSES`.
pub type Probabilities = [f32; K];

pub struct Classifier {
    /// BUCKETS × K.
    sparse: Vec<f32>,
    /// dense × K.
    dense: Vec<f32>,
    dense_len: usize,
    bias: [f32; K],
    /// What the dense features are.
    pub reads: Dense,
}

#[derive(Debug, Clone, Copy)]
pub struct Training {
    pub epochs: usize,
    pub learning_rate: f32,
    pub l2: f32,
    pub seed: u64,
}

impl Default for Training {
    fn default() -> Self {
        Training { epochs: 12, learning_rate: 0.4, l2: 1e-6, seed: 7 }
    }
}

const MAGIC: &[u8; 8] = b"BATONLR4";

impl Classifier {
    pub fn predict(&self, features: &Features) -> Probabilities {
        let mut scores = self.bias;
        for &(bucket, value) in &features.sparse {
            let row = bucket as usize * K;
            if let Some(weights) = self.sparse.get(row..row + K) {
                for (score, w) in scores.iter_mut().zip(weights) {
                    *score += w * value;
                }
            }
        }
        if features.dense.len() == self.dense_len {
            for (i, value) in features.dense.iter().enumerate() {
                for (k, score) in scores.iter_mut().enumerate() {
                    *score += self.dense[i * K + k] * value;
                }
            }
        }
        softmax(scores)
    }

    /// Learns from `examples` (features, class index). `dense_len` is the length of
    /// the dense vectors (0 for none).
    pub fn train(examples: &[(Features, usize)], dense_len: usize, settings: Training) -> Classifier {
        let mut model = Classifier {
            sparse: vec![0.0; BUCKETS * K],
            dense: vec![0.0; dense_len * K],
            dense_len,
            bias: [0.0; K],
            reads: Dense::None,
        };
        let mut sparse_g = vec![1e-8f32; BUCKETS * K];
        let mut dense_g = vec![1e-8f32; dense_len * K];
        let mut bias_g = [1e-8f32; K];
        // Class weights: inverse frequency, square-rooted (rare reasons count more, not absolutely).
        let mut counts = [0usize; K];
        for (_, class) in examples {
            counts[*class] += 1;
        }
        let most = counts.iter().copied().max().unwrap_or(1) as f32;
        let weights: Vec<f32> = counts.iter().map(|&c| if c == 0 { 0.0 } else { (most / c as f32).sqrt() }).collect();
        let mut order: Vec<usize> = (0..examples.len()).collect();
        let mut state = settings.seed.max(1);
        let lr = settings.learning_rate;
        for _ in 0..settings.epochs {
            // Fisher–Yates with xorshift: the same order for the same seed.
            for i in (1..order.len()).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                order.swap(i, (state % (i as u64 + 1)) as usize);
            }
            for &index in &order {
                let (features, class) = &examples[index];
                let probabilities = model.predict(features);
                let weight = weights[*class];
                let mut gradient = [0f32; K];
                for k in 0..K {
                    gradient[k] = weight * (probabilities[k] - if k == *class { 1.0 } else { 0.0 });
                }
                for &(bucket, value) in &features.sparse {
                    let row = bucket as usize * K;
                    for k in 0..K {
                        let g = gradient[k] * value + settings.l2 * model.sparse[row + k];
                        sparse_g[row + k] += g * g;
                        model.sparse[row + k] -= lr * g / sparse_g[row + k].sqrt();
                    }
                }
                if features.dense.len() == dense_len {
                    for (i, value) in features.dense.iter().enumerate() {
                        for (k, grad) in gradient.iter().enumerate() {
                            let at = i * K + k;
                            let g = grad * value + settings.l2 * model.dense[at];
                            dense_g[at] += g * g;
                            model.dense[at] -= lr * g / dense_g[at].sqrt();
                        }
                    }
                }
                for k in 0..K {
                    bias_g[k] += gradient[k] * gradient[k];
                    model.bias[k] -= lr * gradient[k] / bias_g[k].sqrt();
                }
            }
        }
        model
    }

    pub fn dense_len(&self) -> usize {
        self.dense_len
    }

    pub fn write_to(&self, out: &mut impl Write) -> std::io::Result<()> {
        out.write_all(MAGIC)?;
        for n in [BUCKETS, self.dense_len, K, self.reads.code() as usize] {
            out.write_all(&(n as u32).to_le_bytes())?;
        }
        for value in self.sparse.iter().chain(&self.dense).chain(&self.bias) {
            out.write_all(&value.to_le_bytes())?;
        }
        Ok(())
    }

    pub fn read_from(input: &mut impl Read) -> std::io::Result<Classifier> {
        let invalid = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
        let mut magic = [0u8; 8];
        input.read_exact(&mut magic)?;
        if &magic != MAGIC {
            return Err(invalid("not a Baton classifier"));
        }
        let mut word = [0u8; 4];
        let mut sizes = [0u32; 4];
        for size in &mut sizes {
            input.read_exact(&mut word)?;
            *size = u32::from_le_bytes(word);
        }
        let [buckets, dense_len, classes, reads] = sizes.map(|n| n as usize);
        let reads = Dense::of_code(reads as u32);
        let Some(reads) = reads.filter(|_| buckets == BUCKETS && classes == K && dense_len <= 4096) else {
            return Err(invalid("classifier built for another feature layout"));
        };
        let mut bytes = vec![0u8; (BUCKETS * K + dense_len * K + K) * 4];
        input.read_exact(&mut bytes)?;
        let values: Vec<f32> = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        let (sparse, rest) = values.split_at(BUCKETS * K);
        let (dense, bias) = rest.split_at(dense_len * K);
        let mut bias_out = [0f32; K];
        bias_out.copy_from_slice(bias);
        Ok(Classifier {
            sparse: sparse.to_vec(),
            dense: dense.to_vec(),
            dense_len,
            bias: bias_out,
            reads,
        })
    }
}

fn softmax(scores: [f32; K]) -> Probabilities {
    let top = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut out = scores.map(|s| (s - top).exp());
    let sum: f32 = out.iter().sum();
    for value in &mut out {
        *value /= sum;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::features::sparse;
    use super::*;

    fn example(text: &str, class: usize) -> (Features, usize) {
        (Features { sparse: sparse(text), dense: Vec::new() }, class)
    }

    #[test]
    fn it_learns_a_separable_set_and_survives_a_round_trip() {
        let examples = vec![
            example("I want to talk to a human", 1),
            example("let me speak to a person", 1),
            example("how do I export my files", 0),
            example("what does the team plan cost", 0),
            example("I was charged twice", 3),
            example("refund my money please", 3),
            example("this is useless and I'm fed up", 2),
            example("absolutely ridiculous service", 2),
        ];
        let model = Classifier::train(&examples, 0, Training::default());
        for (features, class) in &examples {
            let p = model.predict(features);
            let best = (0..K).max_by(|a, b| p[*a].total_cmp(&p[*b])).unwrap_or(0);
            assert_eq!(best, *class);
        }
        let mut bytes = Vec::new();
        model.write_to(&mut bytes).expect("writes");
        let again = Classifier::read_from(&mut bytes.as_slice()).expect("reads");
        assert_eq!(again.predict(&examples[0].0), model.predict(&examples[0].0));
        assert!(Classifier::read_from(&mut &b"BATONLR0"[..]).is_err());
        assert!(Classifier::read_from(&mut &bytes[..bytes.len() - 2]).is_err(), "a cut file is refused");
    }
}
