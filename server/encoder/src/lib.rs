//! A BERT encoder, forward pass only: what the built-in brain needs of
//! all-MiniLM-L6-v2 (the Hugging Face `BertModel` layout of `model.safetensors`,
//! GELU with erf). Sentences of any length up to the model's positions, in batches
//! of mixed lengths (padded, the padding kept out of attention and of the mean),
//! each become one mean-pooled, unit-length vector, as sentence-transformers pools
//! this model.
//!
//! The matrix products run on the kernels of `kernels` (register tiles over weights
//! laid out once at load, with AVX-512 or AVX2 and FMA where the CPU has them, else
//! `matrixmultiply`'s GEMM), so the crate builds in seconds instead of compiling a
//! machine-learning framework on every fresh machine, and a short sentence costs
//! milliseconds: a GEMM library packs the whole weight matrix at every call, which
//! for one sentence of a dozen tokens costs more than the products themselves. The
//! word table, two thirds of the weights, is kept in f16: half the memory, and the
//! same vectors to within f16 rounding of the input.

mod kernels;
mod math;

use half::f16;
use kernels::{Cpu, Matrix};
use safetensors::{tensor::TensorView, Dtype, SafeTensors};

/// The fields of the model's `config.json` the forward pass reads.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Config {
    hidden_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    intermediate_size: usize,
    #[serde(default = "default_layer_norm_eps")]
    layer_norm_eps: f32,
    hidden_act: String,
}

fn default_layer_norm_eps() -> f32 {
    1e-12
}

#[derive(Debug, thiserror::Error)]
pub enum EncoderError {
    #[error("config.json: {0}")]
    Config(String),
    #[error("model.safetensors: {0}")]
    Weights(String),
}

/// y = x·W + b, with W inputs × outputs (PyTorch stores it outputs × inputs: it is
/// transposed at load) and laid out for this CPU (`kernels`).
struct Linear {
    weight: Matrix,
    bias: Vec<f32>,
    inputs: usize,
    outputs: usize,
}

struct LayerNorm {
    gain: Vec<f32>,
    bias: Vec<f32>,
}

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attention_out: Linear,
    attention_norm: LayerNorm,
    intermediate: Linear,
    out: Linear,
    out_norm: LayerNorm,
}

pub struct Encoder {
    /// vocabulary × hidden.
    word: Vec<f16>,
    /// positions × hidden.
    position: Vec<f32>,
    /// The first token type's row (BERT's segment A; sentences are one segment).
    token_type: Vec<f32>,
    embedding_norm: LayerNorm,
    layers: Vec<Layer>,
    config: Config,
    /// What the CPU runs, detected at load.
    cpu: Cpu,
}

/// The weights file, read by tensor name (with or without the `bert.` prefix some
/// checkpoints carry).
struct Weights<'a>(SafeTensors<'a>);

impl Weights<'_> {
    fn view(&self, name: &str) -> Result<TensorView<'_>, EncoderError> {
        self.0
            .tensor(name)
            .or_else(|_| self.0.tensor(&format!("bert.{name}")))
            .map_err(|_| EncoderError::Weights(format!("no tensor {name}")))
    }

    fn tensor(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, EncoderError> {
        let view = self.view(name)?;
        if view.shape() != shape {
            return Err(EncoderError::Weights(format!(
                "{name} has shape {:?}, expected {shape:?}",
                view.shape()
            )));
        }
        let data = view.data();
        match view.dtype() {
            Dtype::F32 => Ok(data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()),
            Dtype::F16 => Ok(data.chunks_exact(2).map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32()).collect()),
            other => Err(EncoderError::Weights(format!("{name} is {other:?}, expected F32 or F16"))),
        }
    }

    /// The number of rows of a matrix.
    fn rows(&self, name: &str) -> Result<usize, EncoderError> {
        match self.view(name)?.shape() {
            [rows, _] => Ok(*rows),
            other => Err(EncoderError::Weights(format!("{name} has shape {other:?}, expected a matrix"))),
        }
    }

    fn linear(&self, name: &str, inputs: usize, outputs: usize, cpu: Cpu) -> Result<Linear, EncoderError> {
        let stored = self.tensor(&format!("{name}.weight"), &[outputs, inputs])?;
        let mut weight = vec![0f32; stored.len()];
        for (o, row) in stored.chunks_exact(inputs).enumerate() {
            for (i, value) in row.iter().enumerate() {
                weight[i * outputs + o] = *value;
            }
        }
        Ok(Linear {
            weight: Matrix::new(inputs, outputs, weight, cpu),
            bias: self.tensor(&format!("{name}.bias"), &[outputs])?,
            inputs,
            outputs,
        })
    }

    fn layer_norm(&self, name: &str, size: usize) -> Result<LayerNorm, EncoderError> {
        Ok(LayerNorm {
            gain: self.tensor(&format!("{name}.weight"), &[size])?,
            bias: self.tensor(&format!("{name}.bias"), &[size])?,
        })
    }
}

impl Encoder {
    /// The model from its `config.json` and `model.safetensors` bytes.
    pub fn from_files(config: &[u8], weights: &[u8]) -> Result<Encoder, EncoderError> {
        let config: Config = serde_json::from_slice(config).map_err(|e| EncoderError::Config(e.to_string()))?;
        Encoder::load(weights, config)
    }

    pub fn load(bytes: &[u8], config: Config) -> Result<Encoder, EncoderError> {
        if config.hidden_act != "gelu" {
            return Err(EncoderError::Config(format!("activation {} is not supported (only gelu)", config.hidden_act)));
        }
        if config.num_attention_heads == 0 || !config.hidden_size.is_multiple_of(config.num_attention_heads) {
            return Err(EncoderError::Config("the hidden size does not split into the attention heads".to_owned()));
        }
        let weights = Weights(SafeTensors::deserialize(bytes).map_err(|e| EncoderError::Weights(e.to_string()))?);
        let (hidden, inner) = (config.hidden_size, config.intermediate_size);
        let vocabulary = weights.rows("embeddings.word_embeddings.weight")?;
        let positions = weights.rows("embeddings.position_embeddings.weight")?;
        let types = weights.rows("embeddings.token_type_embeddings.weight")?;
        let cpu = Cpu::detect();
        let layers = (0..config.num_hidden_layers)
            .map(|i| {
                let name = |part: &str| format!("encoder.layer.{i}.{part}");
                Ok(Layer {
                    query: weights.linear(&name("attention.self.query"), hidden, hidden, cpu)?,
                    key: weights.linear(&name("attention.self.key"), hidden, hidden, cpu)?,
                    value: weights.linear(&name("attention.self.value"), hidden, hidden, cpu)?,
                    attention_out: weights.linear(&name("attention.output.dense"), hidden, hidden, cpu)?,
                    attention_norm: weights.layer_norm(&name("attention.output.LayerNorm"), hidden)?,
                    intermediate: weights.linear(&name("intermediate.dense"), hidden, inner, cpu)?,
                    out: weights.linear(&name("output.dense"), inner, hidden, cpu)?,
                    out_norm: weights.layer_norm(&name("output.LayerNorm"), hidden)?,
                })
            })
            .collect::<Result<Vec<_>, EncoderError>>()?;
        let word = weights.tensor("embeddings.word_embeddings.weight", &[vocabulary, hidden])?;
        let mut token_type = weights.tensor("embeddings.token_type_embeddings.weight", &[types, hidden])?;
        token_type.truncate(hidden);
        Ok(Encoder {
            word: word.into_iter().map(f16::from_f32).collect(),
            position: weights.tensor("embeddings.position_embeddings.weight", &[positions, hidden])?,
            token_type,
            embedding_norm: weights.layer_norm("embeddings.LayerNorm", hidden)?,
            layers,
            config,
            cpu,
        })
    }

    pub fn vocabulary(&self) -> usize {
        self.word.len() / self.config.hidden_size
    }

    /// The length of a sentence vector.
    pub fn dim(&self) -> usize {
        self.config.hidden_size
    }

    /// The longest sentence, in tokens, the model has positions for.
    pub fn max_tokens(&self) -> usize {
        self.position.len() / self.config.hidden_size
    }

    /// One mean-pooled, unit-length vector per sentence of token ids (each framed as
    /// the model expects, `[CLS] … [SEP]`). A sentence longer than `max_tokens` is
    /// cut there; an id outside the vocabulary reads as a zero word vector. A batch
    /// costs as if every sentence were as long as its longest: batch sentences of
    /// similar length.
    pub fn embed(&self, sentences: &[&[u32]]) -> Vec<Vec<f32>> {
        let hidden = self.config.hidden_size;
        let lengths: Vec<usize> = sentences.iter().map(|s| s.len().min(self.max_tokens())).collect();
        let n = lengths.iter().copied().max().unwrap_or(0);
        if n == 0 {
            return sentences.iter().map(|_| vec![0.0; hidden]).collect();
        }
        let mut x = vec![0f32; sentences.len() * n * hidden];
        for (s, (sentence, &length)) in sentences.iter().zip(&lengths).enumerate() {
            for (position, &id) in sentence[..length].iter().enumerate() {
                let row = &mut x[(s * n + position) * hidden..][..hidden];
                let word = self.word.get(id as usize * hidden..(id as usize + 1) * hidden);
                let place = &self.position[position * hidden..][..hidden];
                for (i, out) in row.iter_mut().enumerate() {
                    *out = word.map_or(0.0, |w| w[i].to_f32()) + place[i] + self.token_type[i];
                }
            }
        }
        self.embedding_norm.apply(&mut x, self.config.layer_norm_eps);
        for layer in &self.layers {
            x = self.layer(layer, &x, n, &lengths);
        }
        x.chunks_exact(n * hidden)
            .zip(&lengths)
            .map(|(sentence, &length)| {
                let mut mean = vec![0f32; hidden];
                for token in sentence.chunks_exact(hidden).take(length) {
                    mean.iter_mut().zip(token).for_each(|(m, v)| *m += v);
                }
                let norm = mean.iter().map(|v| v * v).sum::<f32>().sqrt();
                if norm > 0.0 {
                    mean.iter_mut().for_each(|v| *v /= norm);
                }
                mean
            })
            .collect()
    }

    /// One encoder layer over `x`: sentences of `n` rows each, of which the first
    /// `lengths[s]` are tokens and the rest padding (attended by nobody, and left as
    /// they come out: no sentence reads them).
    fn layer(&self, layer: &Layer, x: &[f32], n: usize, lengths: &[usize]) -> Vec<f32> {
        let hidden = self.config.hidden_size;
        let heads = self.config.num_attention_heads;
        let head = hidden / heads;
        let scale = 1.0 / (head as f32).sqrt();
        let (q, k, v) = (layer.query.apply(x), layer.key.apply(x), layer.value.apply(x));
        let mut context = vec![0f32; x.len()];
        let mut scores = vec![0f32; n * n];
        for (s, &length) in lengths.iter().enumerate() {
            for h in 0..heads {
                let at = s * n * hidden + h * head;
                let scores = &mut scores[..length * length];
                // scores = Q·Kᵀ × scale over the sentence's own tokens, one row per query.
                gemm(length, head, length, scale, (&q[at..], hidden, 1), (&k[at..], 1, hidden), (scores, length));
                math::softmax(self.cpu, scores, length);
                // context = softmax · V.
                gemm(length, length, head, 1.0, (scores, length, 1), (&v[at..], hidden, 1), (&mut context[at..], hidden));
            }
        }
        let eps = self.config.layer_norm_eps;
        let mut attended = layer.attention_out.apply(&context);
        attended.iter_mut().zip(x).for_each(|(a, x)| *a += x);
        layer.attention_norm.apply(&mut attended, eps);
        let mut inner = layer.intermediate.apply(&attended);
        math::gelu(self.cpu, &mut inner);
        let mut out = layer.out.apply(&inner);
        out.iter_mut().zip(&attended).for_each(|(o, a)| *o += a);
        layer.out_norm.apply(&mut out, eps);
        out
    }
}

/// c = alpha · a·b for the attention's small products (`matrixmultiply`, which reads
/// any strides, so the heads are multiplied where they lie): a is m × k given as
/// (values, row stride, column stride), b is k × n likewise, c is m × n with its row
/// stride. Panics if a slice is too short for its shape.
fn gemm(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: (&[f32], usize, usize),
    b: (&[f32], usize, usize),
    c: (&mut [f32], usize),
) {
    let last = |rows: usize, columns: usize, (row, column): (usize, usize)| {
        if rows == 0 || columns == 0 { 0 } else { (rows - 1) * row + (columns - 1) * column + 1 }
    };
    assert!(a.0.len() >= last(m, k, (a.1, a.2)) && b.0.len() >= last(k, n, (b.1, b.2)));
    assert!(c.0.len() >= last(m, n, (c.1, 1)));
    // SAFETY: every element the product reads or writes is inside its slice (asserted
    // just above); c does not alias a or b (a &mut borrow).
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            alpha,
            a.0.as_ptr(),
            a.1 as isize,
            a.2 as isize,
            b.0.as_ptr(),
            b.1 as isize,
            b.2 as isize,
            0.0,
            c.0.as_mut_ptr(),
            c.1 as isize,
            1,
        );
    }
}

impl Linear {
    /// Rows of `inputs` numbers in, rows of `outputs` numbers out.
    fn apply(&self, x: &[f32]) -> Vec<f32> {
        let rows = x.len() / self.inputs;
        let mut y: Vec<f32> = Vec::with_capacity(rows * self.outputs);
        for _ in 0..rows {
            y.extend_from_slice(&self.bias);
        }
        self.weight.multiply_add(rows, &x[..rows * self.inputs], &mut y);
        y
    }
}

impl LayerNorm {
    fn apply(&self, x: &mut [f32], eps: f32) {
        let size = self.gain.len();
        for row in x.chunks_exact_mut(size) {
            let mean = row.iter().sum::<f32>() / size as f32;
            let variance = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / size as f32;
            let scale = 1.0 / (variance + eps).sqrt();
            for ((v, g), b) in row.iter_mut().zip(&self.gain).zip(&self.bias) {
                *v = (*v - mean) * scale * g + b;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use safetensors::tensor::TensorView;

    use super::*;

    const HIDDEN: usize = 8;
    const INNER: usize = 16;
    const VOCABULARY: usize = 20;
    const POSITIONS: usize = 12;

    /// A two-layer model with small pseudo-random weights, as safetensors bytes.
    fn tiny_model() -> Encoder {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut random = |count: usize| -> Vec<u8> {
            (0..count)
                .flat_map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    ((state % 2001) as f32 / 1000.0 - 1.0).mul_add(0.5, 0.0).to_le_bytes()
                })
                .collect()
        };
        let mut shapes: Vec<(String, Vec<usize>)> = vec![
            ("embeddings.word_embeddings.weight".into(), vec![VOCABULARY, HIDDEN]),
            ("embeddings.position_embeddings.weight".into(), vec![POSITIONS, HIDDEN]),
            ("embeddings.token_type_embeddings.weight".into(), vec![2, HIDDEN]),
            ("embeddings.LayerNorm.weight".into(), vec![HIDDEN]),
            ("embeddings.LayerNorm.bias".into(), vec![HIDDEN]),
        ];
        for i in 0..2 {
            for (part, shape) in [
                ("attention.self.query", [HIDDEN, HIDDEN]),
                ("attention.self.key", [HIDDEN, HIDDEN]),
                ("attention.self.value", [HIDDEN, HIDDEN]),
                ("attention.output.dense", [HIDDEN, HIDDEN]),
                ("intermediate.dense", [INNER, HIDDEN]),
                ("output.dense", [HIDDEN, INNER]),
            ] {
                shapes.push((format!("encoder.layer.{i}.{part}.weight"), shape.to_vec()));
                shapes.push((format!("encoder.layer.{i}.{part}.bias"), vec![shape[0]]));
            }
            for norm in ["attention.output.LayerNorm", "output.LayerNorm"] {
                shapes.push((format!("encoder.layer.{i}.{norm}.weight"), vec![HIDDEN]));
                shapes.push((format!("encoder.layer.{i}.{norm}.bias"), vec![HIDDEN]));
            }
        }
        let data: Vec<(String, Vec<usize>, Vec<u8>)> =
            shapes.into_iter().map(|(name, shape)| (name, shape.clone(), random(shape.iter().product()))).collect();
        let views: HashMap<String, TensorView<'_>> = data
            .iter()
            .map(|(name, shape, bytes)| {
                (name.clone(), TensorView::new(Dtype::F32, shape.clone(), bytes).expect("a tensor view"))
            })
            .collect();
        let bytes = safetensors::serialize(&views, None).expect("serialises");
        let config = format!(
            r#"{{"hidden_size": {HIDDEN}, "num_hidden_layers": 2, "num_attention_heads": 2,
                "intermediate_size": {INNER}, "hidden_act": "gelu"}}"#
        );
        Encoder::from_files(config.as_bytes(), &bytes).expect("the tiny model loads")
    }

    fn close(a: &[f32], b: &[f32]) -> bool {
        a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5)
    }

    #[test]
    fn a_sentence_reads_the_same_alone_and_padded_in_a_batch() {
        let model = tiny_model();
        let (short, long): (&[u32], &[u32]) = (&[1, 5, 7, 2], &[1, 9, 3, 4, 11, 6, 2]);
        let alone = [model.embed(&[short]), model.embed(&[long])].concat();
        let batched = model.embed(&[short, long]);
        assert!(close(&alone[0], &batched[0]), "{alone:?} vs {batched:?}");
        assert!(close(&alone[1], &batched[1]));
        let norm: f32 = batched[0].iter().map(|v| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-4, "unit length: {norm}");
    }

    #[test]
    fn word_order_changes_the_vector_and_odd_input_is_survived() {
        let model = tiny_model();
        let vectors = model.embed(&[&[1, 5, 7, 2], &[1, 7, 5, 2]]);
        assert!(!close(&vectors[0], &vectors[1]), "not a bag of words");
        let too_long: Vec<u32> = (0..40).map(|i| i % 20).collect();
        let odd = model.embed(&[&[], &[1, 999, 2], &too_long]);
        assert_eq!(odd[0], vec![0.0; HIDDEN], "no tokens, no meaning");
        assert!(odd.iter().flatten().all(|v| v.is_finite()));
        assert!(Encoder::from_files(b"{}", b"").is_err());
    }
}
