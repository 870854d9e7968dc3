//! The detector and options that a request's, a job's or a command's detection settings
//! select.

use obscura_detection::catalog::{Catalog, Selection};
use obscura_detection::profile::Engine;
use obscura_detection::{DenyEntry, DetectOptions, OnRecognizerError};

use super::ServiceError;

/// Detection settings, as every text endpoint, document job and command takes them.
#[derive(Debug, Clone, Default)]
pub struct DetectSettings {
    /// ISO 639-1 code; `None` for the default.
    pub language: Option<String>,
    /// Entity types (names or aliases) to report; `None` for all.
    pub entities: Option<Vec<String>>,
    pub min_score: Option<f32>,
    pub allow_list: Vec<String>,
    pub deny_list: Vec<DenyEntry>,
    pub pattern_packs: Option<Vec<String>>,
    pub profile: Option<String>,
    pub engines: Option<Vec<Engine>>,
    pub explain: bool,
    /// What a recognizer's failure does; `None` for the profile's choice.
    pub on_recognizer_error: Option<OnRecognizerError>,
}

/// The detector and options that `settings` select from `catalog`; a pack or profile that
/// does not exist is [`ServiceError::UnknownSelection`].
pub fn prepare(catalog: &Catalog, settings: DetectSettings) -> Result<(Selection, DetectOptions), ServiceError> {
    let selection = catalog.select(
        settings.profile.as_deref(),
        settings.pattern_packs.as_deref(),
        settings.engines.as_deref(),
    )?;
    let mut options = DetectOptions {
        language: settings.language,
        entities: settings.entities,
        min_score: settings.min_score,
        allow_list: settings.allow_list,
        deny_list: settings.deny_list,
        explain: settings.explain,
        ..DetectOptions::default()
    };
    selection.apply_defaults(&mut options);
    if let Some(mode) = settings.on_recognizer_error {
        options.on_recognizer_error = mode;
    }
    Ok((selection, options))
}
