//! Model directories and their registry entries.
//!
//! A model directory holds the Hugging Face files (`config.json`, `tokenizer.json`,
//! `model.safetensors`), its license and attribution, and `obscura-model.json`: the entry
//! that says what the model is and how its labels map to the engine's taxonomy.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The name of the registry entry inside a model directory.
pub const ENTRY_FILE: &str = "obscura-model.json";
/// Files every model directory must hold besides the entry.
pub const REQUIRED_FILES: &[&str] = &["config.json", "tokenizer.json", "model.safetensors"];

/// What a model is, and how its output becomes engine candidates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelEntry {
    /// Short id, such as `rampart`; the directory's name.
    pub id: String,
    pub description: String,
    /// `bert`, `roberta`, `xlm-roberta` or `deberta-v2`.
    pub architecture: String,
    /// ISO 639-1 codes the model was trained for.
    pub languages: Vec<String>,
    /// SPDX id of the weights' license.
    pub license: String,
    /// Who made the weights and where they came from.
    pub attribution: String,
    /// Where the files were obtained, such as a package name and version.
    pub source: String,
    /// The model's own entity types (without B-/I-) and the taxonomy type each becomes.
    pub labels: BTreeMap<String, String>,
    /// Model labels never reported, because other recognizers find those types better.
    #[serde(default)]
    pub skip_labels: Vec<String>,
    /// Least score per taxonomy type; types not listed use `default_threshold`.
    #[serde(default)]
    pub thresholds: BTreeMap<String, f32>,
    #[serde(default = "default_threshold")]
    pub default_threshold: f32,
    /// Runs of adjacent spans that together form one entity, such as an address.
    #[serde(default)]
    pub groups: Vec<SpanGroup>,
    /// Tokens per window, special tokens included; at most 512.
    #[serde(default = "default_window_tokens")]
    pub window_tokens: usize,
    /// Tokens shared by consecutive windows, whose logits are averaged.
    #[serde(default = "default_window_overlap")]
    pub window_overlap: usize,
    /// How sub-word predictions become word predictions: `first`, `average` or `max`.
    #[serde(default = "default_aggregation")]
    pub aggregation: String,
    /// Added to a BIO label's logit before the softmax. Fine-tuning with class weights
    /// teaches a model probabilities scaled by each label's weight; the bias is minus the
    /// logarithm of that weight, which takes the scaling out again (without it the model
    /// leans towards rare labels and runs names on into the next word: "Leiva flew").
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub logit_bias: BTreeMap<String, f32>,
    /// SHA-256 of each file, by name, as written at install time.
    #[serde(default)]
    pub checksums: BTreeMap<String, String>,
}

/// Adjacent spans with the model labels `labels`, separated by nothing but characters of
/// `separators`, become one span of `entity` when at least one of them is in `requires`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanGroup {
    pub entity: String,
    pub labels: Vec<String>,
    pub requires: Vec<String>,
    pub separators: String,
}

fn default_threshold() -> f32 {
    0.5
}

fn default_window_tokens() -> usize {
    512
}

fn default_window_overlap() -> usize {
    64
}

fn default_aggregation() -> String {
    "average".into()
}

/// Why a model directory could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("no model {id} in {dir}")]
    NotFound { id: String, dir: PathBuf },
    #[error("model {id} is missing {file}")]
    MissingFile { id: String, file: String },
    #[error("model {id}: {file} is not valid: {message}")]
    InvalidEntry { id: String, file: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl RegistryError {
    pub fn io(path: &Path, source: std::io::Error) -> RegistryError {
        RegistryError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// An installed model: its directory, entry and size on disk.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstalledModel {
    pub dir: PathBuf,
    pub entry: ModelEntry,
    pub size_bytes: u64,
}

/// Reads the entry of the model in `dir` and checks that its files are there.
pub fn read_model(dir: &Path) -> Result<InstalledModel, RegistryError> {
    let id = dir
        .file_name()
        .map_or_else(|| dir.display().to_string(), |name| name.to_string_lossy().into_owned());
    let entry_path = dir.join(ENTRY_FILE);
    let text = std::fs::read_to_string(&entry_path).map_err(|error| {
        if error.kind() == std::io::ErrorKind::NotFound {
            RegistryError::MissingFile {
                id: id.clone(),
                file: ENTRY_FILE.into(),
            }
        } else {
            RegistryError::io(&entry_path, error)
        }
    })?;
    let entry: ModelEntry = serde_json::from_str(&text).map_err(|error| RegistryError::InvalidEntry {
        id: id.clone(),
        file: ENTRY_FILE.into(),
        message: error.to_string(),
    })?;
    let mut size_bytes = 0;
    for file in REQUIRED_FILES {
        let metadata = std::fs::metadata(dir.join(file)).map_err(|_| RegistryError::MissingFile {
            id: id.clone(),
            file: (*file).into(),
        })?;
        size_bytes += metadata.len();
    }
    if entry.window_tokens < 16 || entry.window_tokens > 512 || entry.window_overlap * 2 >= entry.window_tokens {
        return Err(RegistryError::InvalidEntry {
            id,
            file: ENTRY_FILE.into(),
            message: "window_tokens must be 16 to 512 and more than twice window_overlap".into(),
        });
    }
    Ok(InstalledModel {
        dir: dir.to_owned(),
        entry,
        size_bytes,
    })
}

/// Every model in `models_dir`, by id; directories without an entry are skipped, broken
/// ones are returned as errors.
pub fn list_models(models_dir: &Path) -> Result<Vec<Result<InstalledModel, RegistryError>>, RegistryError> {
    let entries = match std::fs::read_dir(models_dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(RegistryError::io(models_dir, error)),
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.join(ENTRY_FILE).is_file())
        .collect();
    dirs.sort();
    Ok(dirs.iter().map(|dir| read_model(dir)).collect())
}

/// The installed model `id` in `models_dir`.
pub fn find_model(models_dir: &Path, id: &str) -> Result<InstalledModel, RegistryError> {
    let dir = models_dir.join(id);
    if !valid_id(id) || !dir.join(ENTRY_FILE).is_file() {
        return Err(RegistryError::NotFound {
            id: id.to_owned(),
            dir: models_dir.to_owned(),
        });
    }
    read_model(&dir)
}

/// Deletes the model `id` from `models_dir`.
pub fn remove_model(models_dir: &Path, id: &str) -> Result<(), RegistryError> {
    let model = find_model(models_dir, id)?;
    std::fs::remove_dir_all(&model.dir).map_err(|error| RegistryError::io(&model.dir, error))
}

/// Model ids are directory names: letters, digits, `-`, `_` and `.`, not starting with `.`.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('.')
        && id.len() <= 64
        && id
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || matches!(character, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_plain_directory_names() {
        assert!(valid_id("rampart"));
        assert!(valid_id("obscura-es-en_1.0"));
        for bad in ["", ".", "..", "../x", "a/b", "a b"] {
            assert!(!valid_id(bad), "{bad}");
        }
    }

    #[test]
    fn missing_models_and_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        assert!(list_models(&dir.path().join("absent")).unwrap().is_empty());
        let error = find_model(dir.path(), "rampart").unwrap_err().to_string();
        assert!(error.contains("rampart"), "{error}");
        let model_dir = dir.path().join("tiny");
        std::fs::create_dir(&model_dir).unwrap();
        std::fs::write(model_dir.join(ENTRY_FILE), "{").unwrap();
        let error = find_model(dir.path(), "tiny").unwrap_err().to_string();
        assert!(error.contains("obscura-model.json"), "{error}");
    }
}
