//! Why a model could not be loaded or run, with the stable error code of each state.

use obscura_detection::error_kind::{ErrorClass, ErrorKind};

use crate::registry::RegistryError;

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
