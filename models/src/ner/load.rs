//! A model directory loaded: its configuration, labels, weights (every stored tensor used)
//! and tokenizer.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::Config as BertConfig;
use candle_transformers::models::debertav2::{Config as DebertaV2Config, DebertaV2Model};
use candle_transformers::models::xlm_roberta::{Config as XlmRobertaConfig, XLMRobertaModel};
use tokenizers::Tokenizer;

use super::{Encoder, ModelError, NerModel};
use crate::bert::BertEncoder;
use crate::decode::Aggregation;
use crate::registry::read_model;

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
