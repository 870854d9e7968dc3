//! Why fine-tuning stopped early, with file errors named by their path.

use std::path::{Path, PathBuf};

use crate::ner::ModelError;

/// Why fine-tuning stopped early.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("{path}: {message}")]
    Data { path: PathBuf, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("training: {0}")]
    Candle(#[from] candle_core::Error),
    #[error("{0}")]
    Invalid(String),
    #[error("dev scoring: {0}")]
    Scoring(#[from] obscura_detection::recognizer::RecognizerError),
}

pub(super) fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> TrainError + '_ {
    move |source| TrainError::Io {
        path: path.to_owned(),
        source,
    }
}
