//! The labelled data a run reads: documents, merged label maps, and the labels the data adds
//! to the base model's.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use obscura_detection::eval::{Document, LabelMap};

use super::error::{TrainError, io_error};

/// One map holding the labels of every map in `paths`.
pub(super) fn merged_label_map(paths: &[PathBuf]) -> Result<LabelMap, TrainError> {
    let mut merged = LabelMap {
        description: String::new(),
        labels: BTreeMap::new(),
    };
    for path in paths {
        let text = std::fs::read_to_string(path).map_err(io_error(path))?;
        let map = obscura_detection::eval::parse_label_map(&text).map_err(|error| TrainError::Data {
            path: path.clone(),
            message: error.to_string(),
        })?;
        for (label, target) in map.labels {
            if let Some(existing) = merged.labels.get(&label)
                && existing != &target
            {
                return Err(TrainError::Data {
                    path: path.clone(),
                    message: format!("label {label} is mapped differently by an earlier label map"),
                });
            }
            merged.labels.insert(label, target);
        }
    }
    Ok(merged)
}

pub(super) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, TrainError> {
    let text = std::fs::read_to_string(path).map_err(io_error(path))?;
    serde_json::from_str(&text).map_err(|error| TrainError::Data {
        path: path.to_owned(),
        message: error.to_string(),
    })
}

pub(super) fn read_documents(path: &Path) -> Result<Vec<Document>, TrainError> {
    let text = std::fs::read_to_string(path).map_err(io_error(path))?;
    obscura_detection::eval::read_documents(&text).map_err(|error| TrainError::Data {
        path: path.to_owned(),
        message: error.to_string(),
    })
}

/// The base labels, then `B-T` and `I-T` for each type `T` the data maps to that the base
/// does not have.
pub(super) fn extended_labels(base: &[String], documents: &[Document], map: &LabelMap) -> Vec<String> {
    let types: BTreeSet<String> = documents
        .iter()
        .flat_map(|document| &document.spans)
        .filter_map(|span| target_type(map, &span.label))
        .collect();
    let mut labels = base.to_vec();
    for entity in types {
        for tag in ["B", "I"] {
            let label = format!("{tag}-{entity}");
            if !labels.contains(&label) {
                labels.push(label);
            }
        }
    }
    labels
}

/// The taxonomy type a dataset label trains as: the first its map entry names.
pub(super) fn target_type(map: &LabelMap, label: &str) -> Option<String> {
    map.labels
        .get(label)
        .and_then(|target| target.types().into_iter().next())
}
