//! Pattern packs: recognizers as data, in YAML or JSON.
//!
//! A pack has a name, a version, a description and recognizers. Each recognizer names an
//! entity type, one or more regular expressions with scores, optional context words
//! (supporting and contradicting), an optional validator, and the languages it applies to.
//! The packs shipped with Obscura are compiled in; more load from a directory.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error_kind::{ErrorClass, ErrorKind};

/// A pack file.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PackFile {
    pub name: String,
    pub version: String,
    pub description: String,
    #[serde(default)]
    pub recognizers: Vec<RecognizerSpec>,
}

/// One recognizer of a pack.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RecognizerSpec {
    /// Unique within the pack.
    pub name: String,
    /// An entity type or alias; unknown names define custom types.
    pub entity: String,
    pub patterns: Vec<PatternSpec>,
    /// Words or phrases that support the entity when found near a match.
    #[serde(default)]
    pub context: Vec<String>,
    /// Words or phrases that contradict it.
    #[serde(default)]
    pub negative_context: Vec<String>,
    /// A validator name (see `Validator`); a match that fails it is dropped, unless the
    /// request keeps unvalidated matches (`DetectOptions::keep_unvalidated`).
    #[serde(default)]
    pub validator: Option<String>,
    /// ISO 639-1 codes; empty or `any` means every language.
    #[serde(default)]
    pub languages: Vec<String>,
    /// Report this capture group instead of the whole match (for `password=VALUE`).
    #[serde(default)]
    pub group: Option<usize>,
    #[serde(default)]
    pub description: Option<String>,
}

/// One regular expression and the score of its matches.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PatternSpec {
    #[serde(default)]
    pub name: Option<String>,
    pub regex: String,
    pub score: f32,
}

/// A pack that could not be loaded; messages name the file and, where known, the line.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error("pack {file}: cannot read it: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("pack {file}, line {line}: {message}")]
    Syntax { file: String, line: usize, message: String },
    #[error("pack {file}, line {line}: recognizer {recognizer}: {message}")]
    Invalid {
        file: String,
        line: usize,
        recognizer: String,
        message: String,
    },
    #[error("pack {name} is defined twice ({file})")]
    Duplicate { name: String, file: String },
    #[error("there is no pattern pack named {0}")]
    Unknown(String),
}

impl ErrorClass for PackError {
    fn kind(&self) -> ErrorKind {
        match self {
            PackError::Read { .. } => ErrorKind::Internal,
            PackError::Syntax { .. } | PackError::Invalid { .. } | PackError::Duplicate { .. } => ErrorKind::Invalid,
            PackError::Unknown(_) => ErrorKind::NotFound,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            PackError::Read { .. } => "pack_unreadable",
            PackError::Syntax { .. } | PackError::Invalid { .. } => "invalid_pack",
            PackError::Duplicate { .. } => "duplicate_pack",
            PackError::Unknown(_) => "unknown_pack",
        }
    }
}

/// A pack with where it came from, so later errors can point at it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedPack {
    pub pack: PackFile,
    /// `builtin:<name>` or the file's path.
    pub source: String,
    /// The file's text, to find the line of a recognizer.
    pub text: String,
}

impl LoadedPack {
    /// The 1-based line on which `needle` first appears, or 1.
    pub fn line_of(&self, needle: &str) -> usize {
        self.text
            .find(needle)
            .map_or(1, |byte| self.text[..byte].matches('\n').count() + 1)
    }
}

/// Parses a pack from YAML or JSON text; `source` names it in errors.
pub fn parse_pack(text: &str, source: &str) -> Result<LoadedPack, PackError> {
    let is_json = source.ends_with(".json") || text.trim_start().starts_with('{');
    let pack: PackFile = if is_json {
        serde_json::from_str(text).map_err(|error| PackError::Syntax {
            file: source.to_owned(),
            line: error.line(),
            message: error.to_string(),
        })?
    } else {
        serde_yaml_ng::from_str(text).map_err(|error| PackError::Syntax {
            file: source.to_owned(),
            line: error.location().map_or(1, |location| location.line()),
            message: error.to_string(),
        })?
    };
    let loaded = LoadedPack {
        pack,
        source: source.to_owned(),
        text: text.to_owned(),
    };
    check_pack(&loaded)?;
    Ok(loaded)
}

/// Checks what the types cannot: names, scores, validators and regexes.
fn check_pack(loaded: &LoadedPack) -> Result<(), PackError> {
    let mut names = std::collections::BTreeSet::new();
    for spec in &loaded.pack.recognizers {
        let invalid = |message: String| PackError::Invalid {
            file: loaded.source.clone(),
            line: loaded.line_of(&format!("name: {}", spec.name)),
            recognizer: spec.name.clone(),
            message,
        };
        if !names.insert(spec.name.as_str()) {
            return Err(invalid("the name is used twice in this pack".into()));
        }
        if spec.patterns.is_empty() {
            return Err(invalid("it has no patterns".into()));
        }
        if let Some(validator) = &spec.validator
            && crate::validate::Validator::parse(validator).is_none()
        {
            let known: Vec<&str> = crate::validate::Validator::ALL
                .iter()
                .map(|validator| validator.name())
                .collect();
            return Err(invalid(format!(
                "unknown validator {validator:?}; known: {}",
                known.join(", ")
            )));
        }
        for pattern in &spec.patterns {
            if !(0.0..=1.0).contains(&pattern.score) {
                return Err(invalid(format!("score {} is outside 0..1", pattern.score)));
            }
            let line = loaded.line_of(&pattern.regex);
            let compiled = crate::pattern::compile_regex(&pattern.regex).map_err(|error| PackError::Invalid {
                file: loaded.source.clone(),
                line,
                recognizer: spec.name.clone(),
                message: format!("invalid regex: {error}"),
            })?;
            if let Some(group) = spec.group
                && group >= compiled.captures_len()
            {
                return Err(invalid(format!("group {group} does not exist in a pattern")));
            }
        }
    }
    Ok(())
}

/// The packs shipped with Obscura.
pub const BUILTIN_PACKS: &[(&str, &str)] = &[
    ("default", include_str!("../packs/default.yaml")),
    ("secrets", include_str!("../packs/secrets.yaml")),
    ("finance", include_str!("../packs/finance.yaml")),
    ("healthcare", include_str!("../packs/healthcare.yaml")),
    ("es", include_str!("../packs/es.yaml")),
    ("en", include_str!("../packs/en.yaml")),
];

/// The built-in packs, parsed.
pub fn builtin_packs() -> Result<Vec<LoadedPack>, PackError> {
    BUILTIN_PACKS
        .iter()
        .map(|(name, text)| parse_pack(text, &format!("builtin:{name}")))
        .collect()
}

/// Every `.yaml`, `.yml` and `.json` file of `directory`, in name order.
pub fn load_directory(directory: &Path) -> Result<Vec<LoadedPack>, PackError> {
    let read_error = |source| PackError::Read {
        file: directory.display().to_string(),
        source,
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(directory)
        .map_err(read_error)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.extension()
                .and_then(|extension| extension.to_str())
                .is_some_and(|extension| matches!(extension, "yaml" | "yml" | "json"))
        })
        .collect();
    paths.sort();
    let mut packs = Vec::with_capacity(paths.len());
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(|source| PackError::Read {
            file: path.display().to_string(),
            source,
        })?;
        packs.push(parse_pack(&text, &path.display().to_string())?);
    }
    Ok(packs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_packs_load() {
        let packs = builtin_packs().unwrap();
        let names: Vec<&str> = packs.iter().map(|pack| pack.pack.name.as_str()).collect();
        assert_eq!(names, ["default", "secrets", "finance", "healthcare", "es", "en"]);
        for pack in &packs {
            assert!(!pack.pack.recognizers.is_empty(), "{} is empty", pack.pack.name);
        }
    }

    #[test]
    fn a_syntax_error_names_file_and_line() {
        let text = "name: broken\nversion: \"1\"\ndescription: x\nrecognizers:\n  - name: a\n    entity: [unclosed\n";
        let error = parse_pack(text, "packs/broken.yaml").unwrap_err();
        let message = error.to_string();
        assert!(message.starts_with("pack packs/broken.yaml, line "), "{message}");
    }

    #[test]
    fn a_bad_regex_names_its_line_and_recognizer() {
        let text = "name: p\nversion: \"1\"\ndescription: x\nrecognizers:\n  - name: ids\n    entity: EMPLOYEE_ID\n    patterns:\n      - regex: 'EMP-(\\d+'\n        score: 0.6\n";
        let message = parse_pack(text, "custom.yaml").unwrap_err().to_string();
        assert!(message.contains("custom.yaml, line 8"), "{message}");
        assert!(message.contains("recognizer ids"), "{message}");
    }

    #[test]
    fn unknown_validators_and_fields_are_refused() {
        let text = "name: p\nversion: \"1\"\ndescription: x\nrecognizers:\n  - name: ids\n    entity: X\n    validator: nope\n    patterns:\n      - regex: 'x'\n        score: 0.6\n";
        assert!(
            parse_pack(text, "a.yaml")
                .unwrap_err()
                .to_string()
                .contains("unknown validator \"nope\"")
        );
        let text = "{\"name\": \"p\", \"version\": \"1\", \"description\": \"x\", \"colour\": 1}";
        let error = parse_pack(text, "a.json").unwrap_err();
        assert!(error.to_string().contains("a.json, line 1"), "{error}");
    }
}
