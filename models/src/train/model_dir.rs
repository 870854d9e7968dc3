//! The current weights written as a model directory the inference path loads, with its
//! config, tokenizer and registry entry.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use candle_nn::VarMap;

use super::TrainOptions;
use super::error::{TrainError, io_error};
use super::loss::logit_bias;
use crate::registry::{ENTRY_FILE, ModelEntry};

pub(super) fn tokenizer_path(dir: &Path) -> PathBuf {
    dir.join("tokenizer.json")
}

/// Writes the current weights as a model directory the inference path loads.
#[allow(clippy::too_many_arguments)]
pub(super) fn write_model_dir(
    dir: &Path,
    varmap: &VarMap,
    base: &crate::registry::InstalledModel,
    base_config: &serde_json::Value,
    labels: &[String],
    class_weights: &[f32],
    tokenizer: &Path,
    options: &TrainOptions,
) -> Result<(), TrainError> {
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    varmap.save(dir.join("model.safetensors"))?;
    let mut config = base_config.clone();
    config["id2label"] = serde_json::json!(
        labels
            .iter()
            .enumerate()
            .map(|(id, label)| (id.to_string(), label.clone()))
            .collect::<BTreeMap<_, _>>()
    );
    config["label2id"] = serde_json::json!(
        labels
            .iter()
            .enumerate()
            .map(|(id, label)| (label.clone(), id))
            .collect::<BTreeMap<_, _>>()
    );
    let config_path = dir.join("config.json");
    std::fs::write(&config_path, config.to_string()).map_err(io_error(&config_path))?;
    let tokenizer_target = dir.join("tokenizer.json");
    std::fs::copy(tokenizer, &tokenizer_target).map_err(io_error(&tokenizer_target))?;
    for name in ["LICENSE", "NOTICE", "ATTRIBUTION"] {
        let source = base.dir.join(name);
        if source.is_file() {
            let target = dir.join(name);
            std::fs::copy(&source, &target).map_err(io_error(&target))?;
        }
    }

    let id = options
        .out
        .file_name()
        .map_or_else(|| "fine-tuned".to_owned(), |name| name.to_string_lossy().into_owned());
    let mut entry: ModelEntry = base.entry.clone();
    entry.id = id;
    entry.description = format!(
        "{} fine-tuned on {} file(s) of labelled spans",
        base.entry.id,
        options.train.len()
    );
    entry.source = format!(
        "fine-tuned from {} with obscura models train ({} epochs at most)",
        base.entry.id, options.epochs
    );
    const FINE_TUNED: &str = "fine-tuned with Obscura";
    if !base.entry.attribution.ends_with(FINE_TUNED) {
        entry.attribution = format!("{}; {FINE_TUNED}", base.entry.attribution);
    }
    entry.checksums.clear();
    entry.logit_bias = logit_bias(labels, class_weights);
    // The model reads windows as long as the ones it was trained on.
    entry.window_tokens = options.window_tokens;
    entry.window_overlap = entry.window_overlap.min(options.window_tokens / 4);
    for label in labels {
        let entity = label.trim_start_matches("B-").trim_start_matches("I-");
        if label != "O" && !entry.labels.contains_key(entity) {
            entry.labels.insert(entity.to_owned(), entity.to_owned());
        }
    }
    let entry_path = dir.join(ENTRY_FILE);
    let text = serde_json::to_string_pretty(&entry).map_err(|error| TrainError::Invalid(error.to_string()))?;
    std::fs::write(&entry_path, text).map_err(io_error(&entry_path))?;
    Ok(())
}

pub(super) fn replace_dir(source: &Path, target: &Path) -> Result<(), TrainError> {
    if target.exists() {
        std::fs::remove_dir_all(target).map_err(io_error(target))?;
    }
    std::fs::rename(source, target).map_err(io_error(target))
}
