//! Anonymizing JSON: any value is accepted, only strings change, and the structure stays.
//!
//! Numbers, booleans and null are kept as they are. Key names are hints: a string under
//! `email`, `telefono`, `dni` or `nombre` is first checked as that type as a whole, and
//! taken as one when it passes the type's check (an e-mail needs an `@`, a phone must parse,
//! ids must pass their validators; names, addresses and places need only be non-empty);
//! otherwise, and under other keys, the detector runs on the string. Key paths can be
//! included or excluded, and depth and size have limits.
//!
//! HTML: the text nodes and chosen attributes that `html` finds are anonymized, the markup
//! is copied unchanged, and replacements are escaped.
//!
//! CSV: column-aware. The header names are hints as key names are in JSON, the header row
//! itself is kept, and each cell is scanned; the delimiter is kept, and rows keep their
//! number of fields.

use super::Original;
use obscura_detection::entity_type::names;
use serde_json::Value;

use super::given::{Finder, UnitText, outside};
use super::html::{Edit, apply_edits, escape, scannable};
use super::{AnonymizeError, Anonymized, Policy, Replacement, Scope, anonymize_text};
use obscura_detection::context::fold_word;
use obscura_detection::detect::{DetectError, Detection, SkippedRecognizer, merge_skipped};
use obscura_detection::entity_type::EntityType;
use obscura_detection::error_kind::{ErrorClass, ErrorKind};
use obscura_detection::validate::Validator;

/// The deepest nesting accepted by default.
pub const DEFAULT_MAX_DEPTH: usize = 64;
/// The most strings scanned in one value by default.
pub const DEFAULT_MAX_STRINGS: usize = 100_000;

/// Which parts of a JSON value are scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonOptions {
    /// Only strings under these paths are scanned (all when empty).
    pub include_paths: Vec<String>,
    /// Strings under these paths are left alone.
    pub exclude_paths: Vec<String>,
    /// Use key names as hints.
    pub key_hints: bool,
    pub max_depth: usize,
    pub max_strings: usize,
}

impl Default for JsonOptions {
    fn default() -> JsonOptions {
        JsonOptions {
            include_paths: Vec::new(),
            exclude_paths: Vec::new(),
            key_hints: true,
            max_depth: DEFAULT_MAX_DEPTH,
            max_strings: DEFAULT_MAX_STRINGS,
        }
    }
}

/// A replacement made in a JSON value.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct JsonReplacement {
    /// Where the string is, as `user.emails[0]`.
    pub path: String,
    pub entity_type: EntityType,
    /// Code-point offsets within the string.
    pub start: usize,
    pub end: usize,
    pub operator: &'static str,
    pub alias: String,
    /// The value replaced, for checks that the output no longer holds it; never serialized.
    #[serde(skip)]
    pub original: Original,
}

/// A JSON value or a CSV document, anonymized.
#[derive(Debug, Clone, PartialEq)]
pub struct StructuredOutput<T> {
    pub content: T,
    pub replacements: Vec<JsonReplacement>,
    /// Recognizers detection went without (only when the options allow skipping).
    pub skipped: Vec<SkippedRecognizer>,
}

/// Why a JSON value could not be anonymized.
#[derive(Debug, thiserror::Error)]
pub enum StructuredError {
    #[error("the value nests deeper than {limit} levels at {path}")]
    TooDeep { path: String, limit: usize },
    #[error("the value holds more than {limit} strings")]
    TooManyStrings { limit: usize },
    #[error("invalid path {path:?}: {reason}")]
    InvalidPath { path: String, reason: &'static str },
    #[error(transparent)]
    Csv(CsvError),
    #[error(transparent)]
    Detect(#[from] DetectError),
    #[error(transparent)]
    Anonymize(#[from] AnonymizeError),
}

impl ErrorClass for StructuredError {
    fn kind(&self) -> ErrorKind {
        match self {
            StructuredError::TooDeep { .. } | StructuredError::TooManyStrings { .. } => ErrorKind::TooLarge,
            StructuredError::InvalidPath { .. } | StructuredError::Csv(_) => ErrorKind::Invalid,
            StructuredError::Detect(error) => error.kind(),
            StructuredError::Anonymize(error) => error.kind(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            StructuredError::TooDeep { .. } => "json_too_deep",
            StructuredError::TooManyStrings { .. } => "json_too_many_strings",
            StructuredError::InvalidPath { .. } => "invalid_path",
            StructuredError::Csv(_) => "invalid_csv",
            StructuredError::Detect(error) => error.code(),
            StructuredError::Anonymize(error) => error.code(),
        }
    }

    fn public_detail(&self) -> Option<String> {
        match self {
            StructuredError::Detect(error) => error.public_detail(),
            StructuredError::Anonymize(error) => error.public_detail(),
            StructuredError::TooDeep { .. }
            | StructuredError::TooManyStrings { .. }
            | StructuredError::InvalidPath { .. }
            | StructuredError::Csv(_) => None,
        }
    }
}

/// A path pattern: keys separated by dots, `[n]` or `.n` for array items, `*` for any key
/// or item. A pattern matches a string when it matches the start of the string's path, so
/// `metadata` covers everything under it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PathPattern(Vec<String>);

impl PathPattern {
    fn parse(text: &str) -> Result<PathPattern, StructuredError> {
        let trimmed = text.trim().trim_start_matches("$.").trim_start_matches('$');
        if trimmed.is_empty() {
            return Err(StructuredError::InvalidPath {
                path: text.to_owned(),
                reason: "it is empty",
            });
        }
        let components: Vec<String> = trimmed
            .replace('[', ".")
            .replace(']', "")
            .split('.')
            .map(str::to_owned)
            .collect();
        if components.iter().any(String::is_empty) {
            return Err(StructuredError::InvalidPath {
                path: text.to_owned(),
                reason: "it has an empty component",
            });
        }
        Ok(PathPattern(components))
    }

    fn covers(&self, path: &[String]) -> bool {
        self.0.len() <= path.len()
            && self
                .0
                .iter()
                .zip(path)
                .all(|(pattern, component)| pattern == "*" || pattern == component)
    }
}

/// The entity type a key name hints at.
pub fn key_hint(key: &str) -> Option<&'static str> {
    // Split camelCase and snake_case into folded words.
    let mut spaced = String::with_capacity(key.len() + 4);
    let mut previous_lower = false;
    for character in key.chars() {
        if character.is_uppercase() && previous_lower {
            spaced.push(' ');
        }
        previous_lower = character.is_lowercase();
        spaced.push(if character.is_alphanumeric() { character } else { ' ' });
    }
    let words: Vec<String> = spaced.split_whitespace().map(fold_word).collect();
    let has = |names: &[&str]| words.iter().any(|word| names.contains(&word.as_str()));
    Some(
        if has(&["email", "mail", "correo", "e"]) && has(&["email", "mail", "correo"]) {
            names::EMAIL_ADDRESS
        } else if has(&[
            "phone",
            "telephone",
            "tel",
            "telefono",
            "mobile",
            "movil",
            "cell",
            "fax",
        ]) {
            names::PHONE_NUMBER
        } else if has(&["dni", "nif"]) {
            names::ES_NIF
        } else if has(&["nie"]) {
            names::ES_NIE
        } else if has(&["iban"]) {
            names::IBAN_CODE
        } else if has(&["ssn"]) {
            names::US_SSN
        } else if has(&["nss"]) {
            names::ES_NSS
        } else if has(&["card", "tarjeta"]) {
            names::CREDIT_CARD
        } else if has(&["ip"]) {
            names::IP_ADDRESS
        } else if has(&["dob", "birth", "birthdate", "birthday", "nacimiento"]) {
            names::DATE_OF_BIRTH
        } else if has(&["zip", "postcode", "postal", "cp"]) {
            names::POSTAL_CODE
        } else if has(&["address", "direccion", "domicilio", "street", "calle"]) {
            names::ADDRESS
        } else if has(&["city", "ciudad", "localidad", "municipio", "town"]) {
            names::LOCATION
        } else if has(&["password", "passwd", "pwd", "contrasena", "clave"]) {
            names::PASSWORD
        } else if has(&[
            "name",
            "nombre",
            "surname",
            "apellido",
            "apellidos",
            "fullname",
            "patient",
            "paciente",
        ]) && !has(&[
            "file", "filename", "user", "username", "host", "hostname", "company", "product",
        ]) {
            names::PERSON
        } else {
            return None;
        },
    )
}

/// Whether `value` as a whole is an entity of the hinted type.
fn fits_hint(entity_type: &str, value: &str, language: &str) -> bool {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > 200 {
        return false;
    }
    match entity_type {
        names::EMAIL_ADDRESS => value.contains('@') && !value.contains(char::is_whitespace),
        names::PHONE_NUMBER => phonenumber::parse(Some(obscura_detection::phone::home_region(language)), value)
            .is_ok_and(|number| phonenumber::is_valid(&number)),
        names::DATE_OF_BIRTH => Validator::Date.check(value),
        names::POSTAL_CODE => value.chars().any(|character| character.is_ascii_digit()) && value.len() <= 10,
        // Checked identifiers pass their check; names, addresses, places and passwords need
        // only be non-empty.
        _ => Validator::for_entity(entity_type).is_none_or(|validator| validator.check(value)),
    }
}

/// Anonymizes every string of `value` that the options select; returns the new value and
/// what was replaced. The same value gets the same replacement throughout (the scope's).
pub fn anonymize_json(
    value: &Value,
    finder: &Finder<'_>,
    policy: &Policy,
    scope: &mut Scope<'_>,
    options: &JsonOptions,
) -> Result<StructuredOutput<Value>, StructuredError> {
    let include = options
        .include_paths
        .iter()
        .map(|path| PathPattern::parse(path))
        .collect::<Result<Vec<_>, _>>()?;
    let exclude = options
        .exclude_paths
        .iter()
        .map(|path| PathPattern::parse(path))
        .collect::<Result<Vec<_>, _>>()?;
    let mut walker = Walker {
        finder,
        policy,
        scope,
        options,
        include,
        exclude,
        strings: 0,
        replacements: Vec::new(),
        skipped: Vec::new(),
    };
    let mut path = Vec::new();
    let content = walker.walk(value, &mut path, None)?;
    Ok(StructuredOutput {
        content,
        replacements: walker.replacements,
        skipped: walker.skipped,
    })
}

struct Walker<'a, 'b> {
    finder: &'a Finder<'a>,
    policy: &'a Policy,
    scope: &'a mut Scope<'b>,
    options: &'a JsonOptions,
    include: Vec<PathPattern>,
    exclude: Vec<PathPattern>,
    strings: usize,
    replacements: Vec<JsonReplacement>,
    skipped: Vec<SkippedRecognizer>,
}

fn render_path(path: &[String]) -> String {
    let mut out = String::new();
    for component in path {
        if component.parse::<usize>().is_ok() {
            out.push_str(&format!("[{component}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(component);
        }
    }
    if out.is_empty() { "$".to_owned() } else { out }
}

impl Walker<'_, '_> {
    fn walk(&mut self, value: &Value, path: &mut Vec<String>, key: Option<&str>) -> Result<Value, StructuredError> {
        if path.len() > self.options.max_depth {
            return Err(StructuredError::TooDeep {
                path: render_path(path),
                limit: self.options.max_depth,
            });
        }
        Ok(match value {
            Value::Object(map) => {
                let mut out = serde_json::Map::with_capacity(map.len());
                for (name, item) in map {
                    path.push(name.clone());
                    let walked = self.walk(item, path, Some(name));
                    path.pop();
                    out.insert(name.clone(), walked?);
                }
                Value::Object(out)
            }
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (index, item) in items.iter().enumerate() {
                    path.push(index.to_string());
                    // Items of a list inherit the list's key as their hint.
                    let walked = self.walk(item, path, key);
                    path.pop();
                    out.push(walked?);
                }
                Value::Array(out)
            }
            Value::String(text) => Value::String(self.string(text, path, key)?),
            Value::Null | Value::Bool(_) | Value::Number(_) => value.clone(),
        })
    }

    fn string(&mut self, text: &str, path: &[String], key: Option<&str>) -> Result<String, StructuredError> {
        let selected = (self.include.is_empty() || self.include.iter().any(|pattern| pattern.covers(path)))
            && !self.exclude.iter().any(|pattern| pattern.covers(path));
        if !selected || text.is_empty() {
            return Ok(text.to_owned());
        }
        self.strings += 1;
        if self.strings > self.options.max_strings {
            return Err(StructuredError::TooManyStrings {
                limit: self.options.max_strings,
            });
        }
        let language = self.finder.options.language.clone().unwrap_or_else(|| "en".into());
        let rendered = render_path(path);
        let (mut detections, skipped) = self.finder.find(UnitText {
            location: &rendered,
            paragraph: None,
            text,
        })?;
        merge_skipped(&mut self.skipped, skipped);
        // Given entities were decided with the hints already.
        if self.options.key_hints
            && !self.finder.is_given()
            && let Some(hint) = key.and_then(key_hint)
            && self.wanted(hint)
        {
            let length = text.chars().count();
            let covered: usize = detections.iter().map(|detection| detection.end - detection.start).sum();
            // The whole value is the hinted entity unless detection already covers most of it.
            if covered * 2 < length && fits_hint(hint, text, &language) {
                detections = vec![Detection {
                    entity_type: EntityType::new(hint),
                    start: 0,
                    end: length,
                    byte_start: 0,
                    byte_end: text.len(),
                    score: 1.0,
                    recognizer: "key_hint".to_owned(),
                    explanation: None,
                }];
            }
        }
        if detections.is_empty() {
            return Ok(text.to_owned());
        }
        let result = anonymize_text(text, &detections, self.policy, self.scope)?;
        let characters: Vec<char> = text.chars().collect();
        self.replacements
            .extend(result.replacements.into_iter().map(|replacement| JsonReplacement {
                path: rendered.clone(),
                original: Original::new(characters[replacement.start..replacement.end].iter().collect()),
                entity_type: replacement.entity_type,
                start: replacement.start,
                end: replacement.end,
                operator: replacement.operator,
                alias: replacement.alias,
            }));
        Ok(result.text)
    }

    /// Whether the request's entity filter lets a hinted type through.
    fn wanted(&self, entity_type: &str) -> bool {
        self.finder.options.entities.as_ref().is_none_or(|entities| {
            entities.iter().any(|name| {
                self.finder
                    .detector
                    .entity_name(name)
                    .is_ok_and(|canonical| canonical == entity_type)
            })
        })
    }
}

/// The location of an HTML document's entities, whose offsets count in code points of the
/// whole document.
pub const HTML_LOCATION: &str = "html";

/// Anonymizes an HTML document's text nodes and chosen attributes. Replacement offsets are
/// byte offsets in the document (`start`, `end`) and in the output.
pub fn anonymize_html(
    html: &str,
    finder: &Finder<'_>,
    policy: &Policy,
    scope: &mut Scope<'_>,
) -> Result<Anonymized, StructuredError> {
    let mut edits = Vec::new();
    let mut replacements = Vec::new();
    let mut skipped = Vec::new();
    for piece in scannable(html) {
        let findings = finder.detector.detect(&piece.text, finder.options)?;
        merge_skipped(&mut skipped, findings.skipped);
        // Given entities count in code points of the whole document.
        let detections = match finder.given {
            Some(given) => outside(
                given.detections_in_piece(HTML_LOCATION, html, &piece.text, &piece.offsets)?,
                findings.detections,
            ),
            None => findings.detections,
        };
        if detections.is_empty() {
            continue;
        }
        let result = anonymize_text(&piece.text, &detections, policy, scope)?;
        let output: Vec<char> = result.text.chars().collect();
        for replacement in result.replacements {
            let written: String = output[replacement.output_start..replacement.output_end]
                .iter()
                .collect();
            let range = piece.offsets[replacement.start]..piece.offsets[replacement.end];
            replacements.push(Replacement {
                start: range.start,
                end: range.end,
                ..replacement
            });
            edits.push(Edit {
                range,
                replacement: escape(&written),
            });
        }
    }
    // Output offsets follow from the edits, in document order.
    replacements.sort_by_key(|replacement| replacement.start);
    edits.sort_by_key(|edit| edit.range.start);
    let mut shift: isize = 0;
    for (replacement, edit) in replacements.iter_mut().zip(&edits) {
        let start = edit.range.start.saturating_add_signed(shift);
        replacement.output_start = start;
        replacement.output_end = start + edit.replacement.len();
        shift += edit.replacement.len() as isize - edit.range.len() as isize;
    }
    Ok(Anonymized {
        text: apply_edits(html, edits),
        replacements,
        skipped,
    })
}

/// Options of CSV anonymization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvOptions {
    pub delimiter: u8,
    /// Whether the first row names the columns.
    pub has_header: bool,
    /// Columns (by header name) left alone.
    pub exclude_columns: Vec<String>,
}

impl Default for CsvOptions {
    fn default() -> CsvOptions {
        CsvOptions {
            delimiter: b',',
            has_header: true,
            exclude_columns: Vec::new(),
        }
    }
}

/// A CSV that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("CSV row {row}: {message}")]
pub struct CsvError {
    pub row: u64,
    pub message: String,
}

/// Anonymizes a CSV document cell by cell, with header names as hints; replacement paths
/// are `row[column]` (1-based rows counting the header).
pub fn anonymize_csv(
    text: &str,
    finder: &Finder<'_>,
    policy: &Policy,
    scope: &mut Scope<'_>,
    options: &CsvOptions,
) -> Result<StructuredOutput<String>, StructuredError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(options.delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut writer = csv::WriterBuilder::new()
        .delimiter(options.delimiter)
        .flexible(true)
        .from_writer(Vec::with_capacity(text.len()));
    let json_options = JsonOptions::default();
    let mut walker = Walker {
        finder,
        policy,
        scope,
        options: &json_options,
        include: Vec::new(),
        exclude: Vec::new(),
        strings: 0,
        replacements: Vec::new(),
        skipped: Vec::new(),
    };
    let mut headers: Vec<String> = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|error| {
            StructuredError::Csv(CsvError {
                row: error.position().map_or(index as u64 + 1, |position| position.line()),
                message: error.to_string(),
            })
        })?;
        let row = index + 1;
        if row == 1 && options.has_header {
            headers = record.iter().map(str::to_owned).collect();
            writer
                .write_record(&record)
                .map_err(|error| csv_write_error(row, &error))?;
            continue;
        }
        let mut out = Vec::with_capacity(record.len());
        for (column, cell) in record.iter().enumerate() {
            let name = headers.get(column).cloned().unwrap_or_else(|| column.to_string());
            if options.exclude_columns.iter().any(|excluded| excluded == &name) {
                out.push(cell.to_owned());
                continue;
            }
            let path = vec![row.to_string(), name.clone()];
            out.push(walker.string(cell, &path, Some(&name))?);
        }
        writer
            .write_record(&out)
            .map_err(|error| csv_write_error(row, &error))?;
    }
    let bytes = writer.into_inner().map_err(|error| {
        StructuredError::Csv(CsvError {
            row: 0,
            message: error.to_string(),
        })
    })?;
    let mut output = String::from_utf8(bytes).map_err(|error| {
        StructuredError::Csv(CsvError {
            row: 0,
            message: error.to_string(),
        })
    })?;
    // The writer ends every row with a newline; keep the input's ending.
    if !text.ends_with('\n') && output.ends_with('\n') {
        output.pop();
    }
    Ok(StructuredOutput {
        content: output,
        replacements: walker.replacements,
        skipped: walker.skipped,
    })
}

fn csv_write_error(row: usize, error: &csv::Error) -> StructuredError {
    StructuredError::Csv(CsvError {
        row: row as u64,
        message: error.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operator::{Operator, Template};
    use crate::vault::{MemoryVault, VaultKeys};
    use crate::{Policy, ScopeSecrets};
    use obscura_detection::detect::{DetectOptions, Detector};

    /// Runs `work` with the built-in detector, Spanish options, the default `replace`
    /// policy and a fresh vault.
    fn in_scope<T>(work: impl FnOnce(&Detector, &DetectOptions, &Policy, &mut Scope<'_>) -> T) -> T {
        let detector = Detector::with_builtin_packs().unwrap();
        let keys = VaultKeys::new("k", &[1; 32]).unwrap();
        let secrets = ScopeSecrets::new(b"structured test secret");
        let mut vault = MemoryVault::new();
        let mut scope = Scope {
            vault: &mut vault,
            keys: &keys,
            secrets: &secrets,
            language: "es".into(),
        };
        let policy = Policy::uniform(Operator::Replace {
            template: Template::default(),
        });
        let options = DetectOptions {
            language: Some("es".into()),
            ..DetectOptions::default()
        };
        work(&detector, &options, &policy, &mut scope)
    }

    fn run(value: &Value, options: &JsonOptions) -> Result<(Value, Vec<JsonReplacement>), StructuredError> {
        in_scope(|detector, detect_options, policy, scope| {
            anonymize_json(
                value,
                &Finder::detecting(detector, detect_options),
                policy,
                scope,
                options,
            )
            .map(|output| (output.content, output.replacements))
        })
    }

    #[test]
    fn only_strings_change_and_the_structure_stays() {
        let value = serde_json::json!({
            "nombre": "Rosa",
            "email": "rosa.garcia@example.com",
            "contacto": {"telefono": "+34 612 345 678", "nota": "escribir a rosa.garcia@example.com"},
            "edad": 41,
            "activo": true,
            "baja": null,
            "ids": ["12345678Z", 7],
            "color": "rosa"
        });
        let (output, replacements) = run(&value, &JsonOptions::default()).unwrap();
        assert_eq!(output["nombre"], "<PERSON_1>");
        assert_eq!(output["email"], "<EMAIL_ADDRESS_1>");
        // The same value gets the same replacement.
        assert_eq!(output["contacto"]["nota"], "escribir a <EMAIL_ADDRESS_1>");
        assert_eq!(output["contacto"]["telefono"], "<PHONE_NUMBER_1>");
        assert_eq!(output["edad"], 41);
        assert_eq!(output["activo"], true);
        assert_eq!(output["baja"], Value::Null);
        assert_eq!(output["ids"][1], 7);
        assert_ne!(output["ids"][0], "12345678Z");
        // Not under a name key: the colour stays.
        assert_eq!(output["color"], "rosa");
        assert!(
            replacements
                .iter()
                .any(|replacement| replacement.path == "contacto.nota")
        );
        assert!(replacements.iter().any(|replacement| replacement.path == "ids[0]"));
    }

    #[test]
    fn paths_are_included_and_excluded() {
        let value = serde_json::json!({
            "user": {"email": "ana@example.com"},
            "audit": {"by": "ana@example.com"},
            "items": [{"email": "luis@example.com"}]
        });
        let only_user = JsonOptions {
            include_paths: vec!["user".into(), "items[*].email".into()],
            ..JsonOptions::default()
        };
        let (output, _) = run(&value, &only_user).unwrap();
        assert_eq!(output["audit"]["by"], "ana@example.com");
        assert_ne!(output["user"]["email"], "ana@example.com");
        assert_ne!(output["items"][0]["email"], "luis@example.com");
        let without_audit = JsonOptions {
            exclude_paths: vec!["$.audit".into()],
            ..JsonOptions::default()
        };
        let (output, _) = run(&value, &without_audit).unwrap();
        assert_eq!(output["audit"]["by"], "ana@example.com");
        assert!(matches!(
            run(
                &value,
                &JsonOptions {
                    exclude_paths: vec!["a..b".into()],
                    ..JsonOptions::default()
                }
            ),
            Err(StructuredError::InvalidPath { .. })
        ));
    }

    #[test]
    fn depth_and_size_limits_are_errors() {
        let mut deep = Value::String("x".into());
        for _ in 0..10 {
            deep = serde_json::json!([deep]);
        }
        let shallow = JsonOptions {
            max_depth: 5,
            ..JsonOptions::default()
        };
        let error = run(&deep, &shallow).unwrap_err();
        assert_eq!(error.code(), "json_too_deep");
        assert!(error.to_string().contains("[0][0][0][0][0]"), "{error}");
        let few = JsonOptions {
            max_strings: 2,
            ..JsonOptions::default()
        };
        let error = run(&serde_json::json!(["a", "b", "c"]), &few).unwrap_err();
        assert_eq!(error.code(), "json_too_many_strings");
    }

    #[test]
    fn html_markup_stays_and_only_text_changes() {
        let html = r#"<div class="ana@example.com"><p title="Ana García">Escribir a ana@example.com &amp; <a href="mailto:ana@example.com">aquí</a></p></div>"#;
        let result = in_scope(|detector, options, policy, scope| {
            anonymize_html(html, &Finder::detecting(detector, options), policy, scope)
        })
        .unwrap();
        assert_eq!(
            result.text,
            r#"<div class="ana@example.com"><p title="Ana García">Escribir a &lt;EMAIL_ADDRESS_1&gt; &amp; <a href="mailto:&lt;EMAIL_ADDRESS_1&gt;">aquí</a></p></div>"#
        );
        for replacement in &result.replacements {
            assert_eq!(
                &result.text[replacement.output_start..replacement.output_end],
                "&lt;EMAIL_ADDRESS_1&gt;"
            );
        }
    }

    #[test]
    fn csv_columns_use_their_headers_as_hints() {
        let text = "nombre,email,nota,importe\nRosa,rosa@example.com,\"llamar, luego, a rosa@example.com\",12.5\nLuis,,sin datos,3\n";
        let csv = |options: &CsvOptions| {
            in_scope(|detector, detect_options, policy, scope| {
                let output = anonymize_csv(
                    text,
                    &Finder::detecting(detector, detect_options),
                    policy,
                    scope,
                    options,
                )
                .unwrap();
                (output.content, output.replacements)
            })
        };
        let (output, replacements) = csv(&CsvOptions::default());
        assert_eq!(
            output,
            "nombre,email,nota,importe\n<PERSON_1>,<EMAIL_ADDRESS_1>,\"llamar, luego, a <EMAIL_ADDRESS_1>\",12.5\n<PERSON_2>,,sin datos,3\n"
        );
        assert!(replacements.iter().any(|replacement| replacement.path == "[2].email"));
        let (output, _) = csv(&CsvOptions {
            exclude_columns: vec!["nombre".into()],
            ..CsvOptions::default()
        });
        assert!(output.contains("\nRosa,"));
    }

    #[test]
    fn key_names_hint_at_types() {
        assert_eq!(key_hint("email"), Some("EMAIL_ADDRESS"));
        assert_eq!(key_hint("contactEmail"), Some("EMAIL_ADDRESS"));
        assert_eq!(key_hint("telefono_movil"), Some("PHONE_NUMBER"));
        assert_eq!(key_hint("firstName"), Some("PERSON"));
        assert_eq!(key_hint("apellidos"), Some("PERSON"));
        assert_eq!(key_hint("file_name"), None);
        assert_eq!(key_hint("username"), None);
        assert_eq!(key_hint("fecha_nacimiento"), Some("DATE_OF_BIRTH"));
        assert_eq!(key_hint("status"), None);
    }
}
