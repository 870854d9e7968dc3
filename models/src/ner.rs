//! A token-classification model loaded from a model directory and run with candle.
//!
//! Long texts are cut into overlapping windows of at most `window_tokens` tokens; windows
//! of every text in a call are batched together, and where windows overlap the logits of
//! a token are averaged before the softmax.

use candle_core::Device;
use candle_transformers::models::debertav2::DebertaV2Model;
use candle_transformers::models::xlm_roberta::XLMRobertaModel;
use tokenizers::Tokenizer;

use crate::bert::BertEncoder;
use crate::decode::Aggregation;
use crate::registry::InstalledModel;

mod error;
mod load;
mod predict;
#[cfg(test)]
pub(crate) mod tests;

pub use error::ModelError;
pub(crate) use load::{id2label, special_tokens};

/// Tokens run through the encoder at once: several short windows, or a few long ones.
/// Attention holds `heads x length^2` scores per window, so long windows batch less.
pub const BATCH_TOKENS: usize = 1024;

/// The encoders a model directory can hold.
enum Encoder {
    Bert(BertEncoder),
    XlmRoberta(Box<XLMRobertaModel>),
    DebertaV2(Box<DebertaV2Model>),
}

/// A loaded token-classification model.
pub struct NerModel {
    installed: InstalledModel,
    encoder: Encoder,
    classifier: candle_nn::Linear,
    tokenizer: Tokenizer,
    /// BIO labels by id.
    labels: Vec<String>,
    /// Added to each label's logit, by id (the entry's `logit_bias`).
    logit_bias: Vec<f32>,
    aggregation: Aggregation,
    device: Device,
    /// Ids of the tokens that open and close every window, and of padding.
    open_ids: Vec<u32>,
    close_ids: Vec<u32>,
    pad_id: u32,
    /// The longest sequence the position embeddings allow.
    max_window_tokens: usize,
}

impl std::fmt::Debug for NerModel {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("NerModel")
            .field("id", &self.installed.entry.id)
            .field("labels", &self.labels.len())
            .finish_non_exhaustive()
    }
}

impl NerModel {
    pub fn installed(&self) -> &InstalledModel {
        &self.installed
    }

    /// The model's BIO labels by id.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }
}
