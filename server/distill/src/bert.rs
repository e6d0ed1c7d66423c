//! A BERT encoder, forward pass only, for sentences of a fixed short length: what
//! the distillation needs of all-MiniLM-L6-v2 (the Hugging Face `BertModel` layout
//! of `model.safetensors`, GELU with erf, no attention padding).

use half::f16;
use safetensors::{tensor::TensorView, Dtype, SafeTensors};

/// The fields of the model's `config.json` the forward pass reads.
#[derive(Debug, serde::Deserialize)]
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

/// y = x·Wᵀ + b, with W stored as PyTorch stores it: out × in.
struct Linear {
    weight: Vec<f32>,
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

pub struct Bert {
    word: Vec<f32>,
    position: Vec<f32>,
    token_type: Vec<f32>,
    embedding_norm: LayerNorm,
    layers: Vec<Layer>,
    config: Config,
}

/// The weights file, read by tensor name (with or without the `bert.` prefix some
/// checkpoints carry).
struct Weights<'a>(SafeTensors<'a>);

impl Weights<'_> {
    fn tensor(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, String> {
        let view: TensorView<'_> = self
            .0
            .tensor(name)
            .or_else(|_| self.0.tensor(&format!("bert.{name}")))
            .map_err(|_| format!("no tensor {name}"))?;
        if view.shape() != shape {
            return Err(format!("{name} has shape {:?}, expected {shape:?}", view.shape()));
        }
        let data = view.data();
        match view.dtype() {
            Dtype::F32 => Ok(data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()),
            Dtype::F16 => Ok(data.chunks_exact(2).map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32()).collect()),
            other => Err(format!("{name} is {other:?}, expected F32 or F16")),
        }
    }

    fn linear(&self, name: &str, inputs: usize, outputs: usize) -> Result<Linear, String> {
        Ok(Linear {
            weight: self.tensor(&format!("{name}.weight"), &[outputs, inputs])?,
            bias: self.tensor(&format!("{name}.bias"), &[outputs])?,
            inputs,
            outputs,
        })
    }

    fn layer_norm(&self, name: &str, size: usize) -> Result<LayerNorm, String> {
        Ok(LayerNorm {
            gain: self.tensor(&format!("{name}.weight"), &[size])?,
            bias: self.tensor(&format!("{name}.bias"), &[size])?,
        })
    }
}

impl Bert {
    pub fn load(bytes: &[u8], config: Config) -> Result<Bert, String> {
        if config.hidden_act != "gelu" {
            return Err(format!("activation {} is not supported (only gelu)", config.hidden_act));
        }
        if config.num_attention_heads == 0 || !config.hidden_size.is_multiple_of(config.num_attention_heads) {
            return Err("the hidden size does not split into the attention heads".to_owned());
        }
        let weights = Weights(SafeTensors::deserialize(bytes).map_err(|e| e.to_string())?);
        let (hidden, inner) = (config.hidden_size, config.intermediate_size);
        let rows = |name: &str| -> Result<usize, String> {
            let view = weights.0.tensor(name).or_else(|_| weights.0.tensor(&format!("bert.{name}")));
            match view.map(|v| v.shape().to_vec()) {
                Ok(shape) if shape.len() == 2 => Ok(shape[0]),
                _ => Err(format!("no matrix {name}")),
            }
        };
        let vocabulary = rows("embeddings.word_embeddings.weight")?;
        let positions = rows("embeddings.position_embeddings.weight")?;
        let types = rows("embeddings.token_type_embeddings.weight")?;
        let layers = (0..config.num_hidden_layers)
            .map(|i| {
                let name = |part: &str| format!("encoder.layer.{i}.{part}");
                Ok(Layer {
                    query: weights.linear(&name("attention.self.query"), hidden, hidden)?,
                    key: weights.linear(&name("attention.self.key"), hidden, hidden)?,
                    value: weights.linear(&name("attention.self.value"), hidden, hidden)?,
                    attention_out: weights.linear(&name("attention.output.dense"), hidden, hidden)?,
                    attention_norm: weights.layer_norm(&name("attention.output.LayerNorm"), hidden)?,
                    intermediate: weights.linear(&name("intermediate.dense"), hidden, inner)?,
                    out: weights.linear(&name("output.dense"), inner, hidden)?,
                    out_norm: weights.layer_norm(&name("output.LayerNorm"), hidden)?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Bert {
            word: weights.tensor("embeddings.word_embeddings.weight", &[vocabulary, hidden])?,
            position: weights.tensor("embeddings.position_embeddings.weight", &[positions, hidden])?,
            token_type: weights.tensor("embeddings.token_type_embeddings.weight", &[types, hidden])?,
            embedding_norm: weights.layer_norm("embeddings.LayerNorm", hidden)?,
            layers,
            config,
        })
    }

    pub fn vocabulary(&self) -> usize {
        self.word.len() / self.config.hidden_size
    }

    pub fn dim(&self) -> usize {
        self.config.hidden_size
    }

    /// One mean-pooled, unit-length vector per sentence (all of length `N`, every
    /// token attended), concatenated. Token ids must be below `vocabulary()`.
    pub fn sentence_vectors<const N: usize>(&self, sentences: &[[u32; N]]) -> Vec<f32> {
        let hidden = self.config.hidden_size;
        let mut x = Vec::with_capacity(sentences.len() * N * hidden);
        for sentence in sentences {
            for (position, &id) in sentence.iter().enumerate() {
                let word = &self.word[id as usize * hidden..][..hidden];
                let place = &self.position[position * hidden..][..hidden];
                x.extend(word.iter().zip(place).zip(&self.token_type[..hidden]).map(|((w, p), t)| w + p + t));
            }
        }
        self.embedding_norm.apply(&mut x, self.config.layer_norm_eps);
        for layer in &self.layers {
            x = self.layer::<N>(layer, &x);
        }
        let mut pooled = Vec::with_capacity(sentences.len() * hidden);
        for sentence in x.chunks_exact(N * hidden) {
            let mut mean = vec![0f32; hidden];
            for token in sentence.chunks_exact(hidden) {
                mean.iter_mut().zip(token).for_each(|(m, v)| *m += v / N as f32);
            }
            let norm = mean.iter().map(|v| v * v).sum::<f32>().sqrt().max(f32::MIN_POSITIVE);
            pooled.extend(mean.iter().map(|v| v / norm));
        }
        pooled
    }

    fn layer<const N: usize>(&self, layer: &Layer, x: &[f32]) -> Vec<f32> {
        let hidden = self.config.hidden_size;
        let heads = self.config.num_attention_heads;
        let head = hidden / heads;
        let scale = 1.0 / (head as f32).sqrt();
        let (q, k, v) = (layer.query.apply(x), layer.key.apply(x), layer.value.apply(x));
        let mut context = vec![0f32; x.len()];
        for start in (0..x.len()).step_by(N * hidden) {
            for h in 0..heads {
                let at = |token: usize| -> std::ops::Range<usize> {
                    let from = start + token * hidden + h * head;
                    from..from + head
                };
                for i in 0..N {
                    let query = &q[at(i)];
                    let mut scores = [0f32; N];
                    for (j, score) in scores.iter_mut().enumerate() {
                        *score = query.iter().zip(&k[at(j)]).map(|(a, b)| a * b).sum::<f32>() * scale;
                    }
                    let top = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    scores.iter_mut().for_each(|s| *s = (*s - top).exp());
                    let total: f32 = scores.iter().sum();
                    let out = at(i);
                    for (j, score) in scores.iter().enumerate() {
                        let weight = score / total;
                        context[out.clone()].iter_mut().zip(&v[at(j)]).for_each(|(c, v)| *c += weight * v);
                    }
                }
            }
        }
        let eps = self.config.layer_norm_eps;
        let mut attended = layer.attention_out.apply(&context);
        attended.iter_mut().zip(x).for_each(|(a, x)| *a += x);
        layer.attention_norm.apply(&mut attended, eps);
        let mut inner = layer.intermediate.apply(&attended);
        inner.iter_mut().for_each(|v| *v = 0.5 * *v * (1.0 + libm::erff(*v * std::f32::consts::FRAC_1_SQRT_2)));
        let mut out = layer.out.apply(&inner);
        out.iter_mut().zip(&attended).for_each(|(o, a)| *o += a);
        layer.out_norm.apply(&mut out, eps);
        out
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
        // SAFETY: x is rows × inputs (row-major), the weight outputs × inputs read
        // transposed through its strides, y rows × outputs; all three live and
        // sized so, and y does not alias the others.
        unsafe {
            matrixmultiply::sgemm(
                rows,
                self.inputs,
                self.outputs,
                1.0,
                x.as_ptr(),
                self.inputs as isize,
                1,
                self.weight.as_ptr(),
                1,
                self.inputs as isize,
                1.0,
                y.as_mut_ptr(),
                self.outputs as isize,
                1,
            );
        }
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
