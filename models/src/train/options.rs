//! What a fine-tuning run is given, with its defaults, and the recipe of the Spanish-and-English
//! model.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// How to fine-tune.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    /// The model directory to start from.
    pub base: PathBuf,
    pub train: Vec<PathBuf>,
    /// Dev data; the documents of all files are scored together. Checkpoints written when
    /// this was one file still read.
    #[serde(deserialize_with = "one_or_many")]
    pub dev: Vec<PathBuf>,
    /// Dataset label -> taxonomy types, as for `obscura eval`; the maps of several datasets
    /// are merged, and a label mapped two ways is an error.
    pub label_maps: Vec<PathBuf>,
    /// Where the fine-tuned model directory is written; its name is the model's id.
    pub out: PathBuf,
    pub epochs: usize,
    /// Windows per optimizer step.
    pub batch_windows: usize,
    /// Tokens per training window, special tokens included.
    pub window_tokens: usize,
    pub learning_rate: f64,
    /// Share of all steps spent warming the learning rate up from zero.
    pub warmup_fraction: f64,
    pub weight_decay: f64,
    /// Gradients are scaled down when their global L2 norm is above this.
    pub max_grad_norm: f64,
    /// Epochs without a better dev F1 before stopping.
    pub patience: usize,
    pub seed: u64,
    /// Train on the first documents only (for quick runs).
    pub max_documents: Option<usize>,
}

impl TrainOptions {
    /// Defaults for `base`, `train`, `dev`, `label_map` and `out`.
    pub fn new(
        base: PathBuf,
        train: Vec<PathBuf>,
        dev: Vec<PathBuf>,
        label_maps: Vec<PathBuf>,
        out: PathBuf,
    ) -> TrainOptions {
        TrainOptions {
            base,
            train,
            dev,
            label_maps,
            out,
            epochs: 4,
            batch_windows: 8,
            window_tokens: 128,
            learning_rate: 5e-5,
            warmup_fraction: 0.1,
            weight_decay: 0.01,
            max_grad_norm: 1.0,
            patience: 2,
            seed: 17,
            max_documents: None,
        }
    }
}

/// The id of the Spanish-and-English model fine-tuned from the default one.
pub const ES_EN_MODEL_ID: &str = "obscura-es-en";

/// The recipe of `obscura-es-en`, in two stages run one after the other.
///
/// 1. Rampart (`base`) fine-tuned on the MEDDOCAN and Spanish ECHR train splits in windows
///    of 128 tokens, stopping early on MEDDOCAN dev, into `stage_one`.
/// 2. That model fine-tuned again, at a lower rate and in windows of 256 tokens, on the same
///    splits plus the synthetic English set, stopping early on MEDDOCAN dev and the synthetic
///    English dev set together, into `out`.
///
/// `datasets` is the repository's `datasets/`.
pub fn es_en_recipe(datasets: &Path, base: PathBuf, stage_one: PathBuf, out: PathBuf) -> [TrainOptions; 2] {
    let spanish_train = [
        datasets.join("meddocan/train.jsonl"),
        datasets.join("echr-es/train.jsonl"),
    ];
    let spanish_maps = [
        datasets.join("label-maps/meddocan.yaml"),
        datasets.join("label-maps/echr-es.yaml"),
    ];
    let mut first = TrainOptions::new(
        base,
        spanish_train.to_vec(),
        vec![datasets.join("meddocan/dev.jsonl")],
        spanish_maps.to_vec(),
        stage_one.clone(),
    );
    first.epochs = 6;
    first.learning_rate = 1e-4;
    let mut train = spanish_train.to_vec();
    train.push(datasets.join("synthetic-en/train.jsonl"));
    let mut maps = spanish_maps.to_vec();
    maps.push(datasets.join("label-maps/synthetic-en.yaml"));
    let mut second = TrainOptions::new(
        stage_one,
        train,
        vec![
            datasets.join("meddocan/dev.jsonl"),
            datasets.join("synthetic-en/dev.jsonl"),
        ],
        maps,
        out,
    );
    second.epochs = 3;
    second.learning_rate = 3e-5;
    second.window_tokens = 256;
    [first, second]
}

/// A list of paths, or one path alone.
fn one_or_many<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<PathBuf>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(PathBuf),
        Many(Vec<PathBuf>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(path) => vec![path],
        OneOrMany::Many(paths) => paths,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::data::{merged_label_map, read_documents};

    #[test]
    fn the_es_en_recipe_reads_labelled_data_its_label_maps_cover() {
        let datasets = std::path::PathBuf::from(
            std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
        )
        .join("../datasets");
        let [first, second] = es_en_recipe(&datasets, "base".into(), "stage1".into(), "out".into());
        assert_eq!(second.base, first.out, "the second stage starts from the first");
        for stage in [&first, &second] {
            let map = merged_label_map(&stage.label_maps).unwrap();
            for path in stage.train.iter().chain(&stage.dev) {
                let documents = read_documents(path).unwrap();
                assert!(!documents.is_empty(), "{}", path.display());
                for document in &documents {
                    let length = document.text.chars().count();
                    for span in &document.spans {
                        assert!(
                            map.labels.contains_key(&span.label),
                            "{}: label {} is in no label map of the stage",
                            path.display(),
                            span.label
                        );
                        assert!(
                            span.start < span.end && span.end <= length,
                            "{}: {}",
                            path.display(),
                            document.id
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn options_with_one_dev_file_still_read() {
        let mut options = TrainOptions::new("b".into(), vec!["t".into()], vec!["d".into()], Vec::new(), "o".into());
        let mut json = serde_json::to_value(&options).unwrap();
        json["dev"] = serde_json::json!("d");
        assert_eq!(serde_json::from_value::<TrainOptions>(json).unwrap(), options);
        options.dev.push("e".into());
        let json = serde_json::to_value(&options).unwrap();
        assert_eq!(serde_json::from_value::<TrainOptions>(json).unwrap(), options);
    }
}
