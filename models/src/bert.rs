//! A BERT encoder reading the same weights as candle-transformers' `BertModel` and
//! computing the same values, in two builds.
//!
//! For inference ([`BertEncoder::load`]) it makes fewer passes over memory than the stock
//! model: the query, key and value projections run as one matrix product; the attention
//! scale is folded into the query weights when loading; the layer norms are candle's fused
//! kernels, and the softmax and GELU vectorized loops ([`crate::fast_math`]); and a batch
//! without padding skips the attention mask.
//!
//! For fine-tuning ([`BertEncoder::load_trainable`]) every operation has a backward pass.
//! candle's fused softmax and layer norm have none, and gradients silently stop at them
//! (the stock `BertModel` uses the fused layer norm, so training through it only reaches
//! the weights after the last layer norm); the trainable build uses the composed forms,
//! keeps the projections apart so that updates to the variables are seen, and applies
//! seeded dropout. Unit tests check both builds agree with the stock model and that a
//! gradient reaches every weight.

use candle_core::{D, DType, Module, Result, Tensor};
use candle_nn::{LayerNorm, Linear, VarBuilder};
use candle_transformers::models::bert::{Config, HiddenAct};

use crate::random::Random;

/// The encoder: embeddings, then `num_hidden_layers` transformer layers.
pub struct BertEncoder {
    word_embeddings: Tensor,
    position_embeddings: Tensor,
    /// Row 0 of the token-type table: every token is of type 0 in token classification.
    token_type_embedding: Tensor,
    embeddings_norm: LayerNorm,
    layers: Vec<Layer>,
    num_heads: usize,
    head_size: usize,
    hidden_act: HiddenAct,
    /// Whether this is the differentiable build.
    trainable: bool,
}

/// The attention projections.
enum Projections {
    /// Query (pre-scaled by 1/sqrt(head size)), key and value, stacked: `[3 * hidden, hidden]`.
    Fused(Linear),
    /// The variables themselves, so that an optimizer's in-place updates are seen; the
    /// scale is applied to the scores.
    Separate {
        query: Linear,
        key: Linear,
        value: Linear,
        scale: f64,
    },
}

/// Dropout with a seeded generator, for fine-tuning: zeroes each value with probability
/// `probability` and scales the rest by `1 / (1 - probability)`.
pub struct Dropout {
    probability: f64,
    random: Random,
}

impl Dropout {
    pub fn new(probability: f64, seed: u64) -> Dropout {
        Dropout {
            probability: probability.clamp(0.0, 0.9),
            random: Random::new(seed),
        }
    }

    /// `values` with dropout applied.
    pub fn apply(&mut self, values: &Tensor) -> Result<Tensor> {
        if self.probability <= 0.0 {
            return Ok(values.clone());
        }
        let keep = (1.0 / (1.0 - self.probability)) as f32;
        let mask: Vec<f32> = (0..values.elem_count())
            .map(|_| {
                if self.random.unit() < self.probability {
                    0.0
                } else {
                    keep
                }
            })
            .collect();
        values * Tensor::from_vec(mask, values.shape(), values.device())?
    }
}

struct Layer {
    projections: Projections,
    attention_output: Linear,
    attention_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    output_norm: LayerNorm,
}

fn linear(vb: &VarBuilder, rows: usize, columns: usize) -> Result<Linear> {
    Ok(Linear::new(
        vb.get((rows, columns), "weight")?,
        Some(vb.get(rows, "bias")?),
    ))
}

fn layer_norm(vb: &VarBuilder, size: usize, eps: f64) -> Result<LayerNorm> {
    Ok(LayerNorm::new(vb.get(size, "weight")?, vb.get(size, "bias")?, eps))
}

impl BertEncoder {
    /// Loads the encoder for inference from `vb`, which points at the tensors under
    /// `embeddings.` and `encoder.` (the caller strips a `bert.` prefix).
    pub fn load(vb: &VarBuilder, config: &Config) -> Result<BertEncoder> {
        BertEncoder::build(vb, config, false)
    }

    /// Loads the differentiable encoder, for fine-tuning, from variables in `vb`.
    pub fn load_trainable(vb: &VarBuilder, config: &Config) -> Result<BertEncoder> {
        BertEncoder::build(vb, config, true)
    }

    fn build(vb: &VarBuilder, config: &Config, trainable: bool) -> Result<BertEncoder> {
        let hidden = config.hidden_size;
        if config.num_attention_heads == 0 || !hidden.is_multiple_of(config.num_attention_heads) {
            candle_core::bail!(
                "hidden_size {hidden} is not a multiple of num_attention_heads {}",
                config.num_attention_heads
            );
        }
        let head_size = hidden / config.num_attention_heads;
        let embeddings = vb.pp("embeddings");
        let word_embeddings = embeddings.get((config.vocab_size, hidden), "word_embeddings.weight")?;
        let position_embeddings =
            embeddings.get((config.max_position_embeddings, hidden), "position_embeddings.weight")?;
        let token_type_embedding = embeddings
            .get((config.type_vocab_size, hidden), "token_type_embeddings.weight")?
            .narrow(0, 0, 1)?;
        let embeddings_norm = layer_norm(&embeddings.pp("LayerNorm"), hidden, config.layer_norm_eps)?;

        let scale = 1.0 / (head_size as f64).sqrt();
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for index in 0..config.num_hidden_layers {
            let layer = vb.pp(format!("encoder.layer.{index}"));
            let attention = layer.pp("attention");
            let query = linear(&attention.pp("self.query"), hidden, hidden)?;
            let key = linear(&attention.pp("self.key"), hidden, hidden)?;
            let value = linear(&attention.pp("self.value"), hidden, hidden)?;
            let projections = if trainable {
                Projections::Separate {
                    query,
                    key,
                    value,
                    scale,
                }
            } else {
                let bias = |linear: &Linear| {
                    linear
                        .bias()
                        .cloned()
                        .ok_or_else(|| candle_core::Error::Msg("bias".into()))
                };
                let weight = Tensor::cat(
                    &[(query.weight() * scale)?, key.weight().clone(), value.weight().clone()],
                    0,
                )?;
                let bias = Tensor::cat(&[(bias(&query)? * scale)?, bias(&key)?, bias(&value)?], 0)?;
                Projections::Fused(Linear::new(weight, Some(bias)))
            };
            layers.push(Layer {
                projections,
                attention_output: linear(&attention.pp("output.dense"), hidden, hidden)?,
                attention_norm: layer_norm(&attention.pp("output.LayerNorm"), hidden, config.layer_norm_eps)?,
                intermediate: linear(&layer.pp("intermediate.dense"), config.intermediate_size, hidden)?,
                output: linear(&layer.pp("output.dense"), hidden, config.intermediate_size)?,
                output_norm: layer_norm(&layer.pp("output.LayerNorm"), hidden, config.layer_norm_eps)?,
            });
        }
        Ok(BertEncoder {
            word_embeddings,
            position_embeddings,
            token_type_embedding,
            embeddings_norm,
            layers,
            num_heads: config.num_attention_heads,
            head_size,
            hidden_act: config.hidden_act,
            trainable,
        })
    }

    /// Hidden states `[batch, length, hidden]` of token ids `[batch, length]` (u32). `mask`
    /// (`[batch, length]`, 1 for tokens and 0 for padding) is needed only when the batch is
    /// padded.
    pub fn forward(&self, input_ids: &Tensor, mask: Option<&Tensor>) -> Result<Tensor> {
        self.run(input_ids, mask, None)
    }

    /// [`forward`](Self::forward) with dropout after the embeddings, on the attention
    /// weights and after each sub-layer, as BERT was trained; only for the trainable build.
    pub fn forward_training(&self, input_ids: &Tensor, mask: Option<&Tensor>, dropout: &mut Dropout) -> Result<Tensor> {
        if !self.trainable {
            candle_core::bail!("the inference encoder cannot be trained: load it with load_trainable");
        }
        self.run(input_ids, mask, Some(dropout))
    }

    fn norm(&self, norm: &LayerNorm, values: &Tensor) -> Result<Tensor> {
        if self.trainable {
            let bias = norm
                .bias()
                .ok_or_else(|| candle_core::Error::Msg("layer norm without bias".into()))?;
            candle_nn::ops::layer_norm_slow(values, norm.weight(), bias, norm.eps() as f32)
        } else {
            norm.forward(values)
        }
    }

    /// `compute` over a copy of the values of an f32 tensor on the CPU (see
    /// [`crate::fast_math`]); `None` for other tensors, which keep candle's operations.
    fn on_cpu_values(values: &Tensor, compute: impl FnOnce(&mut [f32])) -> Result<Option<Tensor>> {
        if values.dtype() != DType::F32 || !values.device().is_cpu() {
            return Ok(None);
        }
        let mut copied = values.flatten_all()?.to_vec1::<f32>()?;
        compute(&mut copied);
        Tensor::from_vec(copied, values.shape(), values.device()).map(Some)
    }

    fn drop(dropout: &mut Option<&mut Dropout>, values: Tensor) -> Result<Tensor> {
        match dropout {
            Some(dropout) => dropout.apply(&values),
            None => Ok(values),
        }
    }

    fn run(&self, input_ids: &Tensor, mask: Option<&Tensor>, mut dropout: Option<&mut Dropout>) -> Result<Tensor> {
        let (batch, length) = input_ids.dims2()?;
        let hidden = self.num_heads * self.head_size;
        let words = self
            .word_embeddings
            .index_select(&input_ids.flatten_all()?, 0)?
            .reshape((batch, length, hidden))?;
        let positions = self.position_embeddings.narrow(0, 0, length)?;
        let embedded = words
            .broadcast_add(&positions)?
            .broadcast_add(&self.token_type_embedding)?;
        let mut states = self.norm(&self.embeddings_norm, &embedded)?;
        states = Self::drop(&mut dropout, states)?;

        // Padding gets the most negative score, so its softmax weight is zero.
        let additive_mask = match mask {
            None => None,
            Some(mask) => {
                Some(((mask.to_dtype(DType::F32)? - 1.0)? * f64::from(f32::MAX))?.reshape((batch, 1, 1, length))?)
            }
        };
        for layer in &self.layers {
            states = self.layer_forward(layer, &states, additive_mask.as_ref(), batch, length, &mut dropout)?;
        }
        Ok(states)
    }

    fn layer_forward(
        &self,
        layer: &Layer,
        states: &Tensor,
        additive_mask: Option<&Tensor>,
        batch: usize,
        length: usize,
        dropout: &mut Option<&mut Dropout>,
    ) -> Result<Tensor> {
        let hidden = self.num_heads * self.head_size;
        let (query, key, value) = match &layer.projections {
            Projections::Fused(qkv) => {
                // [batch, length, 3 * hidden] -> [3, batch, heads, length, head size]
                let qkv = qkv
                    .forward(states)?
                    .reshape((batch, length, 3, self.num_heads, self.head_size))?
                    .permute((2, 0, 3, 1, 4))?
                    .contiguous()?;
                (qkv.get(0)?, qkv.get(1)?, qkv.get(2)?)
            }
            Projections::Separate {
                query,
                key,
                value,
                scale,
            } => {
                // [batch, length, hidden] -> [batch, heads, length, head size]
                let heads = |projection: &Linear| -> Result<Tensor> {
                    projection
                        .forward(states)?
                        .reshape((batch, length, self.num_heads, self.head_size))?
                        .transpose(1, 2)?
                        .contiguous()
                };
                ((heads(query)? * *scale)?, heads(key)?, heads(value)?)
            }
        };
        let mut scores = query.matmul(&key.t()?)?;
        if let Some(mask) = additive_mask {
            scores = scores.broadcast_add(mask)?;
        }
        let probabilities = if self.trainable {
            Self::drop(dropout, candle_nn::ops::softmax(&scores, D::Minus1)?)?
        } else if let Some(probabilities) = Self::on_cpu_values(&scores, |values| {
            crate::fast_math::softmax_rows_in_place(values, length);
        })? {
            probabilities
        } else {
            candle_nn::ops::softmax_last_dim(&scores)?
        };
        let context = probabilities
            .matmul(&value)?
            .transpose(1, 2)?
            .contiguous()?
            .reshape((batch, length, hidden))?;
        let projected = Self::drop(dropout, layer.attention_output.forward(&context)?)?;
        let attended = self.norm(&layer.attention_norm, &(projected + states)?)?;
        let intermediate = layer.intermediate.forward(&attended)?;
        let activated = match self.hidden_act {
            HiddenAct::Gelu => {
                let fast = if self.trainable {
                    None
                } else {
                    Self::on_cpu_values(&intermediate, crate::fast_math::gelu_in_place)?
                };
                match fast {
                    Some(activated) => activated,
                    None => intermediate.gelu_erf()?,
                }
            }
            HiddenAct::GeluApproximate => intermediate.gelu()?,
            HiddenAct::Relu => intermediate.relu()?,
        };
        let output = Self::drop(dropout, layer.output.forward(&activated)?)?;
        self.norm(&layer.output_norm, &(output + attended)?)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use candle_core::Device;
    use candle_transformers::models::bert::BertModel;

    use super::*;

    fn largest_difference(left: &Tensor, right: &Tensor) -> f32 {
        (left - right)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap()
    }

    #[test]
    fn agrees_with_candle_transformers_with_and_without_padding() {
        let config: Config = serde_json::from_value(serde_json::json!({
            "vocab_size": 20, "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 4,
            "intermediate_size": 32, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
            "max_position_embeddings": 32, "type_vocab_size": 2, "initializer_range": 0.02,
            "layer_norm_eps": 1e-12, "pad_token_id": 0, "classifier_dropout": null
        }))
        .unwrap();
        let device = Device::Cpu;
        let varmap = candle_nn::VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &device);
        // Builds every tensor with random values.
        let stock = BertModel::load(vb.clone(), &config).unwrap();
        let tensors: HashMap<String, Tensor> = varmap
            .data()
            .lock()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(number, (name, var))| {
                // Fixed values in [-0.5, 0.5], different for every tensor: the test must not
                // depend on the random generator.
                let count = var.as_tensor().elem_count();
                let values: Vec<f32> = (0..count)
                    .map(|index| ((index * 7 + number * 13) as f32 * 0.37).sin() * 0.5)
                    .collect();
                let tensor = Tensor::from_vec(values, var.as_tensor().shape(), &device).unwrap();
                (name.clone(), tensor)
            })
            .collect();
        let vb = VarBuilder::from_tensors(tensors.clone(), DType::F32, &device);
        let stock = {
            drop(stock);
            BertModel::load(vb.clone(), &config).unwrap()
        };
        let ours = BertEncoder::load(&vb, &config).unwrap();

        let ids = Tensor::new(&[[2_u32, 5, 7, 9, 3, 0], [2, 11, 13, 17, 19, 3]], &device).unwrap();
        let mask = Tensor::new(&[[1_u32, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1]], &device).unwrap();
        let types = ids.zeros_like().unwrap();
        let expected = stock.forward(&ids, &types, Some(&mask)).unwrap();
        let found = ours.forward(&ids, Some(&mask)).unwrap();
        // Scaling the query weights instead of the scores reorders float operations, so
        // the two agree to rounding, not bit for bit. Padded positions are not compared.
        let difference = largest_difference(&expected.narrow(1, 0, 5).unwrap(), &found.narrow(1, 0, 5).unwrap());
        assert!(difference < 1e-4, "difference {difference}");

        let unpadded = ours.forward(&ids.narrow(0, 1, 1).unwrap(), None).unwrap();
        let difference = largest_difference(&expected.narrow(0, 1, 1).unwrap(), &unpadded);
        assert!(difference < 1e-4, "difference {difference}");

        // The trainable build computes the same values when nothing is dropped.
        let trainable = BertEncoder::load_trainable(&vb, &config).unwrap();
        let found = trainable.forward(&ids, Some(&mask)).unwrap();
        let difference = largest_difference(&expected.narrow(1, 0, 5).unwrap(), &found.narrow(1, 0, 5).unwrap());
        assert!(difference < 1e-4, "difference {difference}");
        assert!(ours.forward_training(&ids, None, &mut Dropout::new(0.1, 1)).is_err());
    }

    #[test]
    fn a_gradient_reaches_every_weight_of_the_trainable_encoder_and_updates_are_seen() {
        let config: Config = serde_json::from_value(serde_json::json!({
            "vocab_size": 20, "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 4,
            "intermediate_size": 32, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
            "max_position_embeddings": 32, "type_vocab_size": 2, "initializer_range": 0.02,
            "layer_norm_eps": 1e-12, "pad_token_id": 0, "classifier_dropout": null
        }))
        .unwrap();
        let device = Device::Cpu;
        let varmap = candle_nn::VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &device);
        drop(BertModel::load(vb.clone(), &config).unwrap());
        let encoder = BertEncoder::load_trainable(&vb, &config).unwrap();
        let ids = Tensor::new(&[[2_u32, 5, 7, 9, 3], [2, 11, 13, 17, 3]], &device).unwrap();
        let mut dropout = Dropout::new(0.1, 7);
        let output = encoder.forward_training(&ids, None, &mut dropout).unwrap();
        // A loss that depends on every position unevenly.
        let weights = Tensor::arange(0_f32, output.elem_count() as f32, &device)
            .unwrap()
            .reshape(output.shape())
            .unwrap()
            .sin()
            .unwrap();
        let loss = (output * weights).unwrap().sum_all().unwrap();
        let gradients = loss.backward().unwrap();
        let data = varmap.data().lock().unwrap();
        let mut checked = 0;
        for (name, var) in data.iter() {
            let gradient = gradients
                .get(var.as_tensor())
                .unwrap_or_else(|| panic!("no gradient reaches {name}"));
            // Only the first token-type row is used; every other weight moves.
            let norm = gradient.sqr().unwrap().sum_all().unwrap().to_scalar::<f32>().unwrap();
            assert!(norm > 0.0, "zero gradient for {name}");
            checked += 1;
        }
        assert!(checked >= 16 * 2 + 5, "{checked} weights");

        // An in-place update of a variable changes the next forward pass.
        let before = encoder.forward(&ids, None).unwrap();
        let (_, query) = data
            .iter()
            .find(|(name, _)| name.ends_with("layer.0.attention.self.query.weight"))
            .unwrap();
        query.set(&(query.as_tensor() * 2.0).unwrap()).unwrap();
        let after = encoder.forward(&ids, None).unwrap();
        assert!(largest_difference(&before, &after) > 1e-6);
    }
}
