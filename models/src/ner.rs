//! A token-classification model loaded from a model directory and run with candle.
//!
//! Long texts are cut into overlapping windows of at most `window_tokens` tokens; windows
//! of every text in a call are batched together, and where windows overlap the logits of
//! a token are averaged before the softmax.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::{Module, VarBuilder};
use candle_transformers::models::bert::Config as BertConfig;
use candle_transformers::models::debertav2::{Config as DebertaV2Config, DebertaV2Model};
use candle_transformers::models::xlm_roberta::{Config as XlmRobertaConfig, XLMRobertaModel};
use obscura_detection::error_kind::{ErrorClass, ErrorKind};
use tokenizers::Tokenizer;

use crate::bert::BertEncoder;
use crate::decode::{Aggregation, LabeledSpan, TokenPrediction, decode};
use crate::registry::{InstalledModel, RegistryError, read_model};

/// Tokens run through the encoder at once: several short windows, or a few long ones.
/// Attention holds `heads x length^2` scores per window, so long windows batch less.
pub const BATCH_TOKENS: usize = 1024;

/// Why a model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(
        "model {id}: architecture {architecture} is not supported (supported: bert, roberta, xlm-roberta, deberta-v2 token classifiers)"
    )]
    UnsupportedArchitecture { id: String, architecture: String },
    #[error("model {id}: config.json: {message}")]
    Config { id: String, message: String },
    #[error("model {id}: tokenizer.json: {message}")]
    Tokenizer { id: String, message: String },
    #[error("model {id}: weights: {message}")]
    Weights { id: String, message: String },
    #[error("model {id}: label {label} has no taxonomy type in obscura-model.json")]
    UnmappedLabel { id: String, label: String },
    #[error("model {id}: inference failed: {message}")]
    Inference { id: String, message: String },
}

impl ErrorClass for ModelError {
    fn kind(&self) -> ErrorKind {
        match self {
            ModelError::Registry(RegistryError::NotFound { .. }) => ErrorKind::NotFound,
            ModelError::UnsupportedArchitecture { .. } => ErrorKind::Unsupported,
            ModelError::Registry(_)
            | ModelError::Config { .. }
            | ModelError::Tokenizer { .. }
            | ModelError::Weights { .. }
            | ModelError::UnmappedLabel { .. } => ErrorKind::Invalid,
            ModelError::Inference { .. } => ErrorKind::Internal,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ModelError::Registry(RegistryError::NotFound { .. }) => "model_not_found",
            ModelError::Registry(_) => "model_files_invalid",
            ModelError::UnsupportedArchitecture { .. } => "model_architecture_unsupported",
            ModelError::Config { .. } => "model_config_invalid",
            ModelError::Tokenizer { .. } => "model_tokenizer_invalid",
            ModelError::Weights { .. } => "model_weights_invalid",
            ModelError::UnmappedLabel { .. } => "model_label_unmapped",
            ModelError::Inference { .. } => "model_inference_failed",
        }
    }
}

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
    /// Loads the model in `dir` on the CPU.
    pub fn load(dir: &Path) -> Result<NerModel, ModelError> {
        let installed = read_model(dir)?;
        let id = installed.entry.id.clone();
        let config_text = std::fs::read_to_string(dir.join("config.json")).map_err(|error| ModelError::Config {
            id: id.clone(),
            message: error.to_string(),
        })?;
        let config: serde_json::Value = serde_json::from_str(&config_text).map_err(|error| ModelError::Config {
            id: id.clone(),
            message: error.to_string(),
        })?;
        let labels = id2label(&config).map_err(|message| ModelError::Config {
            id: id.clone(),
            message,
        })?;
        for label in &labels {
            let entity = label.trim_start_matches("B-").trim_start_matches("I-");
            if label != "O" && !installed.entry.labels.contains_key(entity) {
                return Err(ModelError::UnmappedLabel {
                    id: id.clone(),
                    label: entity.to_owned(),
                });
            }
        }
        let aggregation = Aggregation::parse(&installed.entry.aggregation).ok_or_else(|| ModelError::Config {
            id: id.clone(),
            message: format!(
                "aggregation {} is not one of first, average, max",
                installed.entry.aggregation
            ),
        })?;

        let device = inference_device();
        let weights_error = |message: String| ModelError::Weights {
            id: id.clone(),
            message,
        };
        let tensors = candle_core::safetensors::load(dir.join("model.safetensors"), &device)
            .map_err(|error| weights_error(error.to_string()))?;
        let architecture = config["architectures"][0].as_str().unwrap_or_default().to_owned();
        let max_window_tokens = config["max_position_embeddings"]
            .as_u64()
            .and_then(|value| usize::try_from(value).ok())
            .unwrap_or(512);
        let names: Vec<String> = tensors.keys().cloned().collect();
        let tracker = crate::weights::TrackingBackend::new(tensors);
        let used = tracker.used();
        let vb = VarBuilder::from_backend(Box::new(tracker), DType::F32, device.clone());
        let config_error = |error: serde_json::Error| ModelError::Config {
            id: id.clone(),
            message: error.to_string(),
        };
        // The encoder's tensors sit under the prefix Hugging Face gives the architecture;
        // choosing it here keeps candle's own fallbacks from hiding which tensor is missing.
        let prefix = |name: &str| {
            if names.iter().any(|tensor| tensor.starts_with(&format!("{name}."))) {
                vb.pp(name)
            } else {
                vb.clone()
            }
        };
        let (encoder, hidden_size) = match (installed.entry.architecture.as_str(), architecture.as_str()) {
            ("bert", "BertForTokenClassification") => {
                let bert_config: BertConfig = serde_json::from_value(config.clone()).map_err(config_error)?;
                let model = BertEncoder::load(&prefix("bert"), &bert_config)
                    .map_err(|error| weights_error(error.to_string()))?;
                (Encoder::Bert(model), bert_config.hidden_size)
            }
            ("roberta" | "xlm-roberta", "RobertaForTokenClassification" | "XLMRobertaForTokenClassification") => {
                let roberta_config: XlmRobertaConfig = serde_json::from_value(config.clone()).map_err(config_error)?;
                let model = XLMRobertaModel::new(&roberta_config, prefix("roberta"))
                    .map_err(|error| weights_error(error.to_string()))?;
                (Encoder::XlmRoberta(Box::new(model)), roberta_config.hidden_size)
            }
            ("deberta-v2", "DebertaV2ForTokenClassification") => {
                let deberta_config: DebertaV2Config = serde_json::from_value(config.clone()).map_err(config_error)?;
                let model = DebertaV2Model::load(prefix("deberta"), &deberta_config)
                    .map_err(|error| weights_error(error.to_string()))?;
                (Encoder::DebertaV2(Box::new(model)), deberta_config.hidden_size)
            }
            (declared, found) => {
                return Err(ModelError::UnsupportedArchitecture {
                    id,
                    architecture: if found.is_empty() {
                        declared.to_owned()
                    } else {
                        found.to_owned()
                    },
                });
            }
        };
        // The head has a bias in Hugging Face checkpoints, DeBERTa's included: it is loaded,
        // never dropped.
        let classifier = candle_nn::linear(hidden_size, labels.len(), vb.pp("classifier"))
            .map_err(|error| weights_error(format!("classifier: {error}")))?;
        // Every stored tensor must be used: a weight that is silently left out gives a
        // model that runs and is wrong. Poolers serve sentence classification only.
        let used = used.lock().map(|used| used.clone()).unwrap_or_default();
        let unused: Vec<&String> = names
            .iter()
            .filter(|name| !used.contains(name.as_str()) && !name.contains("pooler."))
            .collect();
        if let Some(name) = unused.first() {
            return Err(weights_error(format!(
                "tensor {name} is not used by the {architecture} architecture ({} unused in all)",
                unused.len()
            )));
        }

        let mut tokenizer =
            Tokenizer::from_file(dir.join("tokenizer.json")).map_err(|error| ModelError::Tokenizer {
                id: id.clone(),
                message: error.to_string(),
            })?;
        tokenizer.with_truncation(None).map_err(|error| ModelError::Tokenizer {
            id: id.clone(),
            message: error.to_string(),
        })?;
        tokenizer.with_padding(None);
        let (open_ids, close_ids) = special_tokens(&tokenizer).map_err(|message| ModelError::Tokenizer {
            id: id.clone(),
            message,
        })?;
        let pad_id = config["pad_token_id"]
            .as_u64()
            .and_then(|id| u32::try_from(id).ok())
            .unwrap_or(0);
        for label in installed.entry.logit_bias.keys() {
            if !labels.contains(label) {
                return Err(ModelError::Config {
                    id: id.clone(),
                    message: format!("logit_bias names {label}, which is not one of the model's labels"),
                });
            }
        }
        let logit_bias = labels
            .iter()
            .map(|label| installed.entry.logit_bias.get(label).copied().unwrap_or(0.0))
            .collect();
        Ok(NerModel {
            installed,
            encoder,
            classifier,
            tokenizer,
            labels,
            logit_bias,
            aggregation,
            device,
            open_ids,
            close_ids,
            pad_id,
            max_window_tokens,
        })
    }

    pub fn installed(&self) -> &InstalledModel {
        &self.installed
    }

    /// The model's BIO labels by id.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Token ids (with the special tokens) and logits of a short text in one window, for
    /// comparing with a reference implementation.
    pub fn window_logits(&self, text: &str) -> Result<(Vec<u32>, Vec<Vec<f32>>), ModelError> {
        let encoding = self
            .tokenizer
            .encode_char_offsets(text, true)
            .map_err(|error| self.inference_error(error.to_string()))?;
        let ids = encoding.get_ids().to_vec();
        let logits = self.forward(std::slice::from_ref(&ids))?;
        Ok((ids, logits.into_iter().next().unwrap_or_default()))
    }

    /// The spans in each of `texts`, with code-point offsets and the model's labels.
    pub fn predict(&self, texts: &[&str]) -> Result<Vec<Vec<LabeledSpan>>, ModelError> {
        let entry = &self.installed.entry;
        self.predict_windowed(texts, entry.window_tokens, entry.window_overlap)
    }

    /// Tokens in `text`, without the special tokens.
    pub fn count_tokens(&self, text: &str) -> Result<usize, ModelError> {
        self.tokenizer
            .encode_char_offsets(text, false)
            .map(|encoding| encoding.get_ids().len())
            .map_err(|error| self.inference_error(error.to_string()))
    }

    /// [`NerModel::predict`] with windows of `window_tokens` tokens (special tokens
    /// included, at most the model's maximum) sharing `window_overlap` tokens.
    pub fn predict_windowed(
        &self,
        texts: &[&str],
        window_tokens: usize,
        window_overlap: usize,
    ) -> Result<Vec<Vec<LabeledSpan>>, ModelError> {
        let content = window_tokens
            .min(self.max_window_tokens)
            .saturating_sub(self.open_ids.len() + self.close_ids.len())
            .max(1);
        let step = content.saturating_sub(window_overlap).max(1);

        struct Window {
            text: usize,
            start: usize,
            end: usize,
        }
        let mut encodings = Vec::with_capacity(texts.len());
        let mut windows = Vec::new();
        for (text_index, text) in texts.iter().enumerate() {
            let encoding = self
                .tokenizer
                .encode_char_offsets(*text, false)
                .map_err(|error| self.inference_error(error.to_string()))?;
            let count = encoding.get_ids().len();
            let mut start = 0;
            while start < count {
                let end = (start + content).min(count);
                windows.push(Window {
                    text: text_index,
                    start,
                    end,
                });
                if end == count {
                    break;
                }
                start += step;
            }
            encodings.push(encoding);
        }

        // Summed logits and the number of windows that saw each token.
        let n_labels = self.labels.len();
        let mut sums: Vec<Vec<f32>> = encodings
            .iter()
            .map(|encoding| vec![0.0; encoding.get_ids().len() * n_labels])
            .collect();
        let mut counts: Vec<Vec<u32>> = encodings
            .iter()
            .map(|encoding| vec![0; encoding.get_ids().len()])
            .collect();
        let window_length = content + self.open_ids.len() + self.close_ids.len();
        let batch_windows = (BATCH_TOKENS / window_length).max(1);
        // Windows of like length batch together, so that a text's short last window is not
        // padded to a full one.
        windows.sort_by_key(|window| std::cmp::Reverse(window.end - window.start));
        for batch in windows.chunks(batch_windows) {
            let inputs: Vec<Vec<u32>> = batch
                .iter()
                .map(|window| {
                    let ids = &encodings[window.text].get_ids()[window.start..window.end];
                    self.open_ids
                        .iter()
                        .chain(ids)
                        .chain(&self.close_ids)
                        .copied()
                        .collect()
                })
                .collect();
            let logits = self.forward(&inputs)?;
            for (window, window_logits) in batch.iter().zip(logits) {
                for (position, token) in (window.start..window.end).enumerate() {
                    let row = &window_logits[self.open_ids.len() + position];
                    let sum = &mut sums[window.text][token * n_labels..(token + 1) * n_labels];
                    for (total, value) in sum.iter_mut().zip(row) {
                        *total += value;
                    }
                    counts[window.text][token] += 1;
                }
            }
        }

        let mut results = Vec::with_capacity(texts.len());
        for (text_index, encoding) in encodings.iter().enumerate() {
            let characters: Vec<char> = texts[text_index].chars().collect();
            let tokens: Vec<TokenPrediction> = encoding
                .get_offsets()
                .iter()
                .zip(encoding.get_word_ids())
                .enumerate()
                .map(|(token, (&(start, end), word))| {
                    let seen = counts[text_index][token].max(1) as f32;
                    let logits: Vec<f32> = sums[text_index][token * n_labels..(token + 1) * n_labels]
                        .iter()
                        .zip(&self.logit_bias)
                        .map(|(total, bias)| total / seen + bias)
                        .collect();
                    TokenPrediction {
                        // Tokens outside any word (rare) each stand alone.
                        word: word.map_or(usize::MAX - token, |word| word as usize),
                        start,
                        // Uncased tokenizers drop combining accents, so a token can end
                        // just before the marks that belong to its last letter.
                        end: end_after_marks(&characters, end),
                        probabilities: softmax(&logits),
                    }
                })
                .collect();
            results.push(decode(
                &tokens,
                &self.labels,
                self.aggregation,
                &self.installed.entry.groups,
                &characters,
            ));
        }
        Ok(results)
    }

    /// Logits `[window][position][label]` of a batch of token-id sequences.
    fn forward(&self, inputs: &[Vec<u32>]) -> Result<Vec<Vec<Vec<f32>>>, ModelError> {
        let longest = inputs.iter().map(Vec::len).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(inputs.len() * longest);
        let mut mask = Vec::with_capacity(inputs.len() * longest);
        for input in inputs {
            ids.extend(input.iter().copied());
            ids.extend(std::iter::repeat_n(self.pad_id, longest - input.len()));
            mask.extend(std::iter::repeat_n(1_u32, input.len()));
            mask.extend(std::iter::repeat_n(0_u32, longest - input.len()));
        }
        let run = || -> candle_core::Result<Vec<Vec<Vec<f32>>>> {
            let shape = (inputs.len(), longest);
            let ids = Tensor::from_vec(ids, shape, &self.device)?;
            let mask = Tensor::from_vec(mask, shape, &self.device)?;
            let padded = inputs.iter().any(|input| input.len() < longest);
            let hidden = match &self.encoder {
                Encoder::Bert(model) => model.forward(&ids, padded.then_some(&mask))?,
                Encoder::XlmRoberta(model) => model.forward(&ids, &mask, &ids.zeros_like()?, None, None, None)?,
                Encoder::DebertaV2(model) => {
                    model.forward(&ids, Some(ids.zeros_like()?), Some(mask.to_dtype(DType::I64)?))?
                }
            };
            self.classifier.forward(&hidden)?.to_vec3::<f32>()
        };
        run().map_err(|error| self.inference_error(error.to_string()))
    }

    fn inference_error(&self, message: String) -> ModelError {
        ModelError::Inference {
            id: self.installed.entry.id.clone(),
            message,
        }
    }
}

/// The CPU, or with the `cuda` feature the first GPU when one answers.
fn inference_device() -> Device {
    #[cfg(feature = "cuda")]
    {
        match Device::cuda_if_available(0) {
            Ok(device) => return device,
            Err(error) => tracing::warn!(%error, "no CUDA device; NER runs on the CPU"),
        }
    }
    Device::Cpu
}

/// `end` moved past the combining marks that follow it.
fn end_after_marks(characters: &[char], end: usize) -> usize {
    let mut end = end;
    while characters.get(end).copied().is_some_and(is_combining_mark) {
        end += 1;
    }
    end
}

/// Combining diacritical marks and variation selectors, which attach to the character
/// before them.
fn is_combining_mark(character: char) -> bool {
    matches!(
        character,
        '\u{0300}'..='\u{036F}'
            | '\u{1AB0}'..='\u{1AFF}'
            | '\u{1DC0}'..='\u{1DFF}'
            | '\u{20D0}'..='\u{20FF}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FE20}'..='\u{FE2F}'
    )
}

fn softmax(logits: &[f32]) -> Vec<f32> {
    let largest = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exponentials: Vec<f32> = logits.iter().map(|value| (value - largest).exp()).collect();
    let total: f32 = exponentials.iter().sum();
    exponentials.iter().map(|value| value / total).collect()
}

/// `id2label` of a Hugging Face config as a list by id.
pub(crate) fn id2label(config: &serde_json::Value) -> Result<Vec<String>, String> {
    let map = config["id2label"].as_object().ok_or("it has no id2label map")?;
    let mut labels: HashMap<usize, String> = HashMap::new();
    for (id, label) in map {
        let id: usize = id.parse().map_err(|_| format!("id2label key {id} is not a number"))?;
        let label = label.as_str().ok_or(format!("id2label {id} is not a string"))?;
        labels.insert(id, label.to_owned());
    }
    (0..labels.len())
        .map(|id| labels.remove(&id).ok_or(format!("id2label has no label {id}")))
        .collect()
}

/// The tokens the tokenizer puts before and after a text (`[CLS]` and `[SEP]` for BERT).
pub(crate) fn special_tokens(tokenizer: &Tokenizer) -> Result<(Vec<u32>, Vec<u32>), String> {
    let with = tokenizer.encode("a", true).map_err(|error| error.to_string())?;
    let without = tokenizer.encode("a", false).map_err(|error| error.to_string())?;
    let ids = with.get_ids();
    let inner = without.get_ids();
    let position = ids
        .windows(inner.len().max(1))
        .position(|window| window == inner)
        .ok_or("its template does not keep the text's tokens")?;
    Ok((ids[..position].to_vec(), ids[position + inner.len()..].to_vec()))
}

/// The tensor names a BERT token classifier reads.
#[cfg(test)]
fn bert_tensor_names(config: &BertConfig, prefixed: bool) -> std::collections::BTreeSet<String> {
    let prefix = if prefixed { "bert." } else { "" };
    let mut names = std::collections::BTreeSet::new();
    for table in ["word_embeddings", "position_embeddings", "token_type_embeddings"] {
        names.insert(format!("{prefix}embeddings.{table}.weight"));
    }
    for part in ["weight", "bias"] {
        names.insert(format!("{prefix}embeddings.LayerNorm.{part}"));
        names.insert(format!("classifier.{part}"));
        for layer in 0..config.num_hidden_layers {
            for module in [
                "attention.self.query",
                "attention.self.key",
                "attention.self.value",
                "attention.output.dense",
                "attention.output.LayerNorm",
                "intermediate.dense",
                "output.dense",
                "output.LayerNorm",
            ] {
                names.insert(format!("{prefix}encoder.layer.{layer}.{module}.{part}"));
            }
        }
    }
    names
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::registry::{ENTRY_FILE, ModelEntry};
    use std::collections::BTreeMap;

    const WORDS: &[&str] = &[
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "ana", "lives", "in", "madrid", "##s", ".", ",",
    ];

    /// A BERT token classifier with random weights: 1 layer, 8 hidden units, 3 labels.
    pub(crate) fn tiny_model(
        dir: &Path,
        edit: impl FnOnce(&mut serde_json::Value, &mut HashMap<String, Tensor>, &mut ModelEntry),
    ) {
        let mut config = serde_json::json!({
            "architectures": ["BertForTokenClassification"],
            "model_type": "bert", "vocab_size": WORDS.len(), "hidden_size": 8, "num_hidden_layers": 1,
            "num_attention_heads": 2, "intermediate_size": 16, "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1, "max_position_embeddings": 64, "type_vocab_size": 2,
            "initializer_range": 0.02, "layer_norm_eps": 1e-12, "pad_token_id": 0, "classifier_dropout": null,
            "id2label": {"0": "O", "1": "B-NAME", "2": "I-NAME"}
        });
        let bert_config: BertConfig = serde_json::from_value(config.clone()).unwrap();
        let mut tensors = HashMap::new();
        for name in bert_tensor_names(&bert_config, true) {
            let shape: Vec<usize> = if name.contains("word_embeddings") {
                vec![WORDS.len(), 8]
            } else if name.contains("position_embeddings") {
                vec![64, 8]
            } else if name.contains("token_type_embeddings") {
                vec![2, 8]
            } else if name.starts_with("classifier.weight") {
                vec![3, 8]
            } else if name.starts_with("classifier.bias") {
                vec![3]
            } else if name.contains("intermediate.dense.weight") {
                vec![16, 8]
            } else if name.contains("intermediate.dense.bias") {
                vec![16]
            } else if name.contains("output.dense.weight") && !name.contains("attention") {
                vec![8, 16]
            } else if name.ends_with(".weight") && !name.contains("LayerNorm") {
                vec![8, 8]
            } else {
                vec![8]
            };
            tensors.insert(name, Tensor::randn(0_f32, 0.5, shape, &Device::Cpu).unwrap());
        }
        let mut entry = ModelEntry {
            id: "tiny".into(),
            description: "random".into(),
            architecture: "bert".into(),
            languages: vec!["en".into()],
            license: "CC0-1.0".into(),
            attribution: "tests".into(),
            source: "random".into(),
            labels: BTreeMap::from([("NAME".to_owned(), "PERSON".to_owned())]),
            skip_labels: Vec::new(),
            thresholds: BTreeMap::new(),
            default_threshold: 0.0,
            groups: Vec::new(),
            window_tokens: 16,
            window_overlap: 4,
            aggregation: "first".into(),
            logit_bias: BTreeMap::new(),
            checksums: BTreeMap::new(),
        };
        edit(&mut config, &mut tensors, &mut entry);

        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
        candle_core::safetensors::save(&tensors, dir.join("model.safetensors")).unwrap();
        std::fs::write(dir.join(ENTRY_FILE), serde_json::to_string(&entry).unwrap()).unwrap();
        let vocab_path = dir.join("vocab.txt");
        std::fs::write(&vocab_path, WORDS.join("\n")).unwrap();
        let wordpiece = tokenizers::models::wordpiece::WordPiece::from_file(&vocab_path.display().to_string())
            .unk_token("[UNK]".into())
            .build()
            .unwrap();
        let mut tokenizer = Tokenizer::new(wordpiece);
        tokenizer
            .with_normalizer(Some(tokenizers::normalizers::bert::BertNormalizer::default()))
            .unwrap();
        tokenizer.with_pre_tokenizer(Some(tokenizers::pre_tokenizers::bert::BertPreTokenizer));
        tokenizer.with_post_processor(Some(tokenizers::processors::bert::BertProcessing::new(
            ("[SEP]".into(), 3),
            ("[CLS]".into(), 2),
        )));
        tokenizer.save(dir.join("tokenizer.json"), false).unwrap();
    }

    #[test]
    fn a_tiny_model_runs_over_many_windows_with_offsets_in_code_points() {
        let dir = tempfile::tempdir().unwrap();
        tiny_model(dir.path(), |_, _, _| {});
        let model = NerModel::load(dir.path()).unwrap();
        let (ids, logits) = model.window_logits("Ana lives in Madrid.").unwrap();
        assert_eq!(ids, [2, 4, 5, 6, 7, 9, 3]);
        assert_eq!((logits.len(), logits[0].len()), (7, 3));

        // Thirty sentences are about 150 tokens: a dozen windows of 16, batched.
        let text = "Ána lives in Madrid, Ána. ".repeat(30);
        let characters: Vec<char> = text.chars().collect();
        let spans = model.predict(&[&text, "Madrid"]).unwrap();
        assert_eq!(spans.len(), 2);
        for span in &spans[0] {
            assert!(span.start < span.end && span.end <= characters.len(), "{span:?}");
            let found: String = characters[span.start..span.end].iter().collect();
            assert!(text.contains(&found));
        }
    }

    #[test]
    fn a_logit_bias_shifts_the_labels_it_names() {
        let dir = tempfile::tempdir().unwrap();
        tiny_model(dir.path(), |_, _, _| {});
        let text = "Ána lives in Madrid, Ána. ".repeat(3);
        let unbiased = NerModel::load(dir.path()).unwrap().predict(&[&text]).unwrap();
        // A bias far above any logit makes every word the start of a name; far below, on
        // both name labels, makes none.
        for (bias, every_word) in [(100.0_f32, true), (-100.0, false)] {
            let biased = tempfile::tempdir().unwrap();
            tiny_model(biased.path(), |_, _, entry| {
                entry.logit_bias = BTreeMap::from([("B-NAME".to_owned(), bias)]);
                if !every_word {
                    entry.logit_bias.insert("I-NAME".to_owned(), bias);
                }
            });
            let spans = NerModel::load(biased.path()).unwrap().predict(&[&text]).unwrap();
            let words = text.split_whitespace().count();
            if every_word {
                assert!(spans[0].len() >= words, "{spans:?}");
            } else {
                assert!(spans[0].is_empty(), "{spans:?} (unbiased: {unbiased:?})");
            }
        }
        let error = load_error(|_, _, entry| {
            entry.logit_bias = BTreeMap::from([("B-PLACE".to_owned(), 1.0)]);
        });
        assert!(error.contains("B-PLACE"), "{error}");
    }

    fn load_error(edit: impl FnOnce(&mut serde_json::Value, &mut HashMap<String, Tensor>, &mut ModelEntry)) -> String {
        let dir = tempfile::tempdir().unwrap();
        tiny_model(dir.path(), edit);
        NerModel::load(dir.path()).unwrap_err().to_string()
    }

    #[test]
    fn missing_unused_and_misshapen_weights_are_named() {
        let error = load_error(|_, tensors, _| {
            tensors.remove("bert.encoder.layer.0.attention.self.key.bias");
        });
        assert!(error.contains("attention.self.key.bias"), "{error}");
        let error = load_error(|_, tensors, _| {
            tensors.insert(
                "bert.encoder.layer.0.extra.weight".into(),
                Tensor::zeros(2, DType::F32, &Device::Cpu).unwrap(),
            );
        });
        assert!(error.contains("bert.encoder.layer.0.extra.weight"), "{error}");
        let error = load_error(|_, tensors, _| {
            tensors.insert(
                "classifier.bias".into(),
                Tensor::zeros(5, DType::F32, &Device::Cpu).unwrap(),
            );
        });
        assert!(error.contains("classifier"), "{error}");
    }

    /// Replaces the tiny BERT in `dir` with another architecture's random weights, built by
    /// candle's own model so that the names and shapes are the ones it reads.
    fn swap_architecture(dir: &Path, architecture: &str, class: &str, config: serde_json::Value) {
        let varmap = candle_nn::VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        match architecture {
            "xlm-roberta" => {
                let typed: XlmRobertaConfig = serde_json::from_value(config.clone()).unwrap();
                XLMRobertaModel::new(&typed, vb.pp("roberta")).unwrap();
            }
            _ => {
                let typed: DebertaV2Config = serde_json::from_value(config.clone()).unwrap();
                DebertaV2Model::load(vb.pp("deberta"), &typed).unwrap();
            }
        }
        candle_nn::linear(8, 3, vb.pp("classifier")).unwrap();
        varmap.save(dir.join("model.safetensors")).unwrap();
        let mut config = config;
        config["architectures"] = serde_json::json!([class]);
        config["id2label"] = serde_json::json!({"0": "O", "1": "B-NAME", "2": "I-NAME"});
        std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
        let entry_path = dir.join(ENTRY_FILE);
        let mut entry: ModelEntry = serde_json::from_str(&std::fs::read_to_string(&entry_path).unwrap()).unwrap();
        entry.architecture = architecture.into();
        std::fs::write(&entry_path, serde_json::to_string(&entry).unwrap()).unwrap();
    }

    #[test]
    fn roberta_and_deberta_token_classifiers_load_and_run() {
        let common = serde_json::json!({
            "vocab_size": WORDS.len(), "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
            "intermediate_size": 16, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 64, "type_vocab_size": 1,
            "initializer_range": 0.02, "layer_norm_eps": 1e-7, "pad_token_id": 0
        });
        let mut roberta = common.clone();
        roberta["position_embedding_type"] = serde_json::json!("absolute");
        let mut deberta = common;
        for (key, value) in [
            ("relative_attention", serde_json::json!(true)),
            ("max_relative_positions", serde_json::json!(-1)),
            ("position_biased_input", serde_json::json!(false)),
            ("pos_att_type", serde_json::json!(["p2c", "c2p"])),
            ("position_buckets", serde_json::json!(16)),
            ("share_att_key", serde_json::json!(true)),
            ("norm_rel_ebd", serde_json::json!("layer_norm")),
        ] {
            deberta[key] = value;
        }
        for (architecture, class, config) in [
            ("xlm-roberta", "XLMRobertaForTokenClassification", roberta),
            ("deberta-v2", "DebertaV2ForTokenClassification", deberta),
        ] {
            let dir = tempfile::tempdir().unwrap();
            tiny_model(dir.path(), |_, _, _| {});
            swap_architecture(dir.path(), architecture, class, config);
            let model = NerModel::load(dir.path()).unwrap_or_else(|error| panic!("{architecture}: {error}"));
            let (ids, logits) = model.window_logits("Ana lives in Madrid.").unwrap();
            assert_eq!((logits.len(), logits[0].len()), (ids.len(), 3), "{architecture}");
            let text = "Ana lives in Madrid. ".repeat(12);
            model.predict(&[&text]).unwrap();
        }
    }

    #[test]
    fn unknown_architectures_and_unmapped_labels_are_refused() {
        let error = load_error(|config, _, entry| {
            config["architectures"] = serde_json::json!(["FunnelForTokenClassification"]);
            entry.architecture = "funnel".into();
        });
        assert!(
            error.contains("FunnelForTokenClassification") && error.contains("not supported"),
            "{error}"
        );
        let error = load_error(|_, _, entry| {
            entry.labels.clear();
        });
        assert!(error.contains("label NAME"), "{error}");
    }
}
