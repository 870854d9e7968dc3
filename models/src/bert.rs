//! A BERT encoder for inference, reading the same weights as candle-transformers'
//! `BertModel` and computing the same values, with fewer passes over memory.
//!
//! What differs from the stock model: the query, key and value projections run as one
//! matrix product; the attention scale is folded into the query weights when loading; the
//! softmax and layer norms are candle's fused kernels; and a batch without padding skips
//! the attention mask. A unit test checks the two models agree.

use candle_core::{DType, Module, Result, Tensor};
use candle_nn::{LayerNorm, Linear, VarBuilder};
use candle_transformers::models::bert::{Config, HiddenAct};

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
}

struct Layer {
    /// Query (pre-scaled by 1/sqrt(head size)), key and value, stacked: `[3 * hidden, hidden]`.
    qkv: Linear,
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
    /// Loads the encoder from `vb`, which points at the tensors under `embeddings.` and
    /// `encoder.` (the caller strips a `bert.` prefix).
    pub fn load(vb: &VarBuilder, config: &Config) -> Result<BertEncoder> {
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
            let bias = |linear: &Linear| {
                linear
                    .bias()
                    .cloned()
                    .ok_or_else(|| candle_core::Error::Msg("bias".into()))
            };
            let qkv_weight = Tensor::cat(
                &[(query.weight() * scale)?, key.weight().clone(), value.weight().clone()],
                0,
            )?;
            let qkv_bias = Tensor::cat(&[(bias(&query)? * scale)?, bias(&key)?, bias(&value)?], 0)?;
            layers.push(Layer {
                qkv: Linear::new(qkv_weight, Some(qkv_bias)),
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
        })
    }

    /// Hidden states `[batch, length, hidden]` of token ids `[batch, length]` (u32). `mask`
    /// (`[batch, length]`, 1 for tokens and 0 for padding) is needed only when the batch is
    /// padded.
    pub fn forward(&self, input_ids: &Tensor, mask: Option<&Tensor>) -> Result<Tensor> {
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
        let mut states = self.embeddings_norm.forward(&embedded)?;

        // Padding gets the most negative score, so its softmax weight is zero.
        let additive_mask = match mask {
            None => None,
            Some(mask) => {
                Some(((mask.to_dtype(DType::F32)? - 1.0)? * f64::from(f32::MAX))?.reshape((batch, 1, 1, length))?)
            }
        };
        for layer in &self.layers {
            states = self.layer_forward(layer, &states, additive_mask.as_ref(), batch, length)?;
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
    ) -> Result<Tensor> {
        let hidden = self.num_heads * self.head_size;
        // [batch, length, 3 * hidden] -> [3, batch, heads, length, head size]
        let qkv = layer
            .qkv
            .forward(states)?
            .reshape((batch, length, 3, self.num_heads, self.head_size))?
            .permute((2, 0, 3, 1, 4))?
            .contiguous()?;
        let (query, key, value) = (qkv.get(0)?, qkv.get(1)?, qkv.get(2)?);
        let mut scores = query.matmul(&key.t()?)?;
        if let Some(mask) = additive_mask {
            scores = scores.broadcast_add(mask)?;
        }
        let probabilities = candle_nn::ops::softmax_last_dim(&scores)?;
        let context = probabilities
            .matmul(&value)?
            .transpose(1, 2)?
            .contiguous()?
            .reshape((batch, length, hidden))?;
        let attended = layer
            .attention_norm
            .forward(&(layer.attention_output.forward(&context)? + states)?)?;
        let intermediate = layer.intermediate.forward(&attended)?;
        let activated = match self.hidden_act {
            HiddenAct::Gelu => intermediate.gelu_erf()?,
            HiddenAct::GeluApproximate => intermediate.gelu()?,
            HiddenAct::Relu => intermediate.relu()?,
        };
        let output = layer.output.forward(&activated)?;
        layer.output_norm.forward(&(output + attended)?)
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
    }
}
