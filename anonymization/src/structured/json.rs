//! JSON: any value, only strings change, key paths included or excluded, depth and size
//! limited. The walker here also scans CSV cells.

use serde_json::Value;

use super::hints::{fits_hint, key_hint};
use super::{JsonReplacement, StructuredError, StructuredOutput};
use crate::given::{Finder, UnitText};
use crate::{Original, Policy, Scope, anonymize_text};
use obscura_detection::detect::{Detection, SkippedRecognizer, merge_skipped};
use obscura_detection::entity_type::EntityType;

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

/// A path pattern: keys separated by dots, `[n]` or `.n` for array items, `*` for any key
/// or item. A pattern matches a string when it matches the start of the string's path, so
/// `metadata` covers everything under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PathPattern(Vec<String>);

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
        found: Some(std::collections::HashMap::new()),
        prepared: None,
        propagation: None,
    };
    let mut path = Vec::new();
    // First every string is read, then what was found anywhere is replaced everywhere: a
    // name detected in one field ("name": "Alice Johnson") is replaced where detection
    // missed it ("alice johnson joined in 2019").
    walker.walk(value, &mut path, None)?;
    let found = walker.found.take().unwrap_or_default();
    // A one-word name ("Rosa") is not looked for elsewhere: alone it may be a word ("color":
    // "rosa"), as a given name alone never identifies a person.
    walker.propagation = crate::propagate::Propagation::new(found.values().flat_map(|(text, detections)| {
        detections
            .iter()
            .map(|detection| {
                (
                    detection.entity_type.as_str(),
                    &text[detection.byte_start..detection.byte_end],
                )
            })
            .filter(|(entity_type, value)| {
                *entity_type != obscura_detection::entity_type::names::PERSON
                    || value.split_whitespace().nth(1).is_some()
            })
    }));
    walker.prepared = Some(
        found
            .into_iter()
            .map(|(path, (_, detections))| (path, detections))
            .collect(),
    );
    walker.strings = 0;
    let content = walker.walk(value, &mut path, None)?;
    Ok(StructuredOutput {
        content,
        replacements: walker.replacements,
        skipped: walker.skipped,
    })
}

/// Walks a value, replacing in the strings the options select.
pub(super) struct Walker<'a, 'b> {
    pub(super) finder: &'a Finder<'a>,
    pub(super) policy: &'a Policy,
    pub(super) scope: &'a mut Scope<'b>,
    pub(super) options: &'a JsonOptions,
    pub(super) include: Vec<PathPattern>,
    pub(super) exclude: Vec<PathPattern>,
    pub(super) strings: usize,
    pub(super) replacements: Vec<JsonReplacement>,
    pub(super) skipped: Vec<SkippedRecognizer>,
    /// While reading, in two passes: each selected string's text and detections, by path.
    pub(super) found: Option<std::collections::HashMap<String, (String, Vec<Detection>)>>,
    /// While replacing, in two passes: the detections read, by path.
    pub(super) prepared: Option<std::collections::HashMap<String, Vec<Detection>>>,
    /// What was found anywhere, to be found everywhere.
    pub(super) propagation: Option<crate::propagate::Propagation>,
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

    pub(super) fn string(&mut self, text: &str, path: &[String], key: Option<&str>) -> Result<String, StructuredError> {
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
        let rendered = render_path(path);
        if let Some(prepared) = &mut self.prepared {
            let mut detections = prepared.remove(&rendered).unwrap_or_default();
            if let Some(propagation) = &self.propagation {
                propagation.apply(text, &mut detections);
            }
            return self.replace(text, rendered, &detections);
        }
        let language = self.finder.options.language.clone().unwrap_or_else(|| "en".into());
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
        if let Some(found) = &mut self.found {
            found.insert(rendered, (text.to_owned(), detections));
            return Ok(text.to_owned());
        }
        self.replace(text, rendered, &detections)
    }

    /// Replaces the detections of one string.
    fn replace(&mut self, text: &str, rendered: String, detections: &[Detection]) -> Result<String, StructuredError> {
        if detections.is_empty() {
            return Ok(text.to_owned());
        }
        let result = anonymize_text(text, detections, self.policy, self.scope)?;
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
