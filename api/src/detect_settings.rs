//! The detection settings every text endpoint and command accepts, as the API writes them,
//! and the detector and options they select (`obscura_platform::services::detection`).

use obscura_detection::catalog::Selection;
use obscura_detection::entity_type::EntityType;
use obscura_detection::profile::Engine;
use obscura_detection::{DenyEntry, DetectOptions, OnRecognizerError, SkippedRecognizer};
use obscura_platform::services::ServiceError;
use obscura_platform::services::detection::{self, DetectSettings};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::problem::ApiError;
use crate::state::AppState;

/// A value the deny list always reports: a plain string (reported as `CUSTOM`) or a value
/// with its entity type.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum DenyListItem {
    Value(String),
    Typed { value: String, entity_type: String },
}

/// Which recognizer families to run.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum EngineName {
    Patterns,
    Gazetteer,
    Ner,
    /// The PII & Secret Detection service's name for its general detector: every family.
    #[value(skip)]
    Presidio,
    /// The same service's name for its secret scanner: the patterns, where secrets are.
    #[value(skip)]
    DetectSecrets,
}

impl EngineName {
    /// The families of the detection engine the name runs.
    pub fn engines(self) -> &'static [Engine] {
        match self {
            EngineName::Patterns | EngineName::DetectSecrets => &[Engine::Patterns],
            EngineName::Gazetteer => &[Engine::Gazetteer],
            EngineName::Ner => &[Engine::Ner],
            EngineName::Presidio => &[Engine::Patterns, Engine::Gazetteer, Engine::Ner],
        }
    }
}

/// The families a list of engine names runs, each once.
pub fn engine_families(names: &[EngineName]) -> Vec<Engine> {
    let mut families: Vec<Engine> = Vec::new();
    for family in names.iter().flat_map(|name| name.engines()) {
        if !families.contains(family) {
            families.push(*family);
        }
    }
    families
}

/// What a recognizer's failure (a model's inference fault) does to a request: `fail` (the
/// default) answers 503 `recognizer_failed`; `skip` answers without that recognizer and
/// names it in `skipped_recognizers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum RecognizerErrorMode {
    Fail,
    Skip,
}

impl RecognizerErrorMode {
    pub fn domain(self) -> OnRecognizerError {
        match self {
            RecognizerErrorMode::Fail => OnRecognizerError::Fail,
            RecognizerErrorMode::Skip => OnRecognizerError::Skip,
        }
    }
}

/// A recognizer an answer was made without, because it failed and the request (or its
/// profile) allowed that: what it finds may be left in the text.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SkippedRecognizerView {
    pub recognizer: String,
    /// What failed.
    pub reason: String,
}

/// The skipped recognizers of an answer.
pub fn skipped_views(skipped: Vec<SkippedRecognizer>) -> Vec<SkippedRecognizerView> {
    skipped
        .into_iter()
        .map(|item| SkippedRecognizerView {
            recognizer: item.recognizer,
            reason: item.reason,
        })
        .collect()
}

/// The detection settings every text endpoint accepts.
#[derive(Debug, Clone, Default)]
pub struct DetectFields {
    pub language: Option<String>,
    pub entities: Option<Vec<String>>,
    pub min_score: Option<f32>,
    pub allow_list: Vec<String>,
    pub deny_list: Vec<DenyListItem>,
    pub pattern_packs: Option<Vec<String>>,
    pub profile: Option<String>,
    pub engines: Option<Vec<EngineName>>,
    pub explain: bool,
    pub on_recognizer_error: Option<RecognizerErrorMode>,
}

impl DetectFields {
    /// The settings in the platform's terms; a plain deny-list value is reported as
    /// `CUSTOM`.
    pub fn settings(self) -> DetectSettings {
        DetectSettings {
            language: self.language,
            entities: self.entities,
            min_score: self.min_score,
            allow_list: self.allow_list,
            deny_list: self
                .deny_list
                .into_iter()
                .map(|item| match item {
                    DenyListItem::Value(value) => DenyEntry {
                        value,
                        entity_type: EntityType::CUSTOM.to_string(),
                    },
                    DenyListItem::Typed { value, entity_type } => DenyEntry { value, entity_type },
                })
                .collect(),
            pattern_packs: self.pattern_packs,
            profile: self.profile,
            engines: self.engines.map(|engines| engine_families(&engines)),
            explain: self.explain,
            on_recognizer_error: self.on_recognizer_error.map(RecognizerErrorMode::domain),
        }
    }
}

/// The detector and options a request asks for; a pack or profile that does not exist is
/// the request's fault, named by the field that asked for it.
pub fn prepare(state: &AppState, fields: DetectFields) -> Result<(Selection, DetectOptions), ApiError> {
    let field = if fields.profile.is_some() {
        "body.profile"
    } else {
        "body.pattern_packs"
    };
    detection::prepare(&state.catalog, fields.settings()).map_err(|error| match error {
        ServiceError::UnknownSelection(name) => {
            ApiError::invalid_field("invalid_body", field, format!("{name} does not exist"))
        }
        other
        @ (ServiceError::Packs(_) | ServiceError::Session(_) | ServiceError::Vault(_) | ServiceError::Task(_)) => {
            ApiError::from_class(other)
        }
    })
}
