//! Evaluation against labelled data in the JSONL span format:
//! `{"id", "lang", "text", "spans": [{"start", "end", "label"}]}`, offsets in code points.
//!
//! A label map says which of our entity types count as each dataset label. For every
//! mapped label, precision, recall and F1 are computed twice: for exact spans, and for any
//! overlap. Predictions of types no label maps to are not scored. Micro averages pool all
//! mapped labels.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::detect::{DetectError, DetectOptions, Detector};
use crate::taxonomy::Taxonomy;

/// One labelled document.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Document {
    pub id: String,
    #[serde(default)]
    pub lang: Option<String>,
    pub text: String,
    #[serde(default)]
    pub spans: Vec<Span>,
}

/// A labelled span, in code points, end exclusive.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
}

/// How dataset labels map to our entity types.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LabelMap {
    #[serde(default)]
    pub description: String,
    /// Dataset label -> our types that count as it (the first names the row), or nothing to
    /// leave the label unscored.
    pub labels: BTreeMap<String, LabelTarget>,
}

/// One label's targets.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum LabelTarget {
    Ignored(()),
    One(String),
    Many(Vec<String>),
}

impl LabelTarget {
    /// Our canonical types that count as the label; empty when it is not scored.
    pub fn types(&self) -> Vec<String> {
        match self {
            LabelTarget::Ignored(()) => Vec::new(),
            LabelTarget::One(name) => vec![Taxonomy.canonical_name(name).to_string()],
            LabelTarget::Many(names) => names
                .iter()
                .map(|name| Taxonomy.canonical_name(name).to_string())
                .collect(),
        }
    }
}

/// A dataset line that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("line {line}: {message}")]
    Line { line: usize, message: String },
    #[error("label map: {0}")]
    LabelMap(String),
    #[error("document {id}: {source}")]
    Detect {
        id: String,
        #[source]
        source: DetectError,
    },
}

/// Reads JSONL documents, naming the line of the first bad one.
pub fn read_documents(text: &str) -> Result<Vec<Document>, EvalError> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            let document: Document = serde_json::from_str(line).map_err(|error| EvalError::Line {
                line: index + 1,
                message: error.to_string(),
            })?;
            let length = document.text.chars().count();
            if let Some(span) = document
                .spans
                .iter()
                .find(|span| span.start >= span.end || span.end > length)
            {
                return Err(EvalError::Line {
                    line: index + 1,
                    message: format!(
                        "span {}..{} does not fit a text of {length} code points",
                        span.start, span.end
                    ),
                });
            }
            Ok(document)
        })
        .collect()
}

/// Parses a label map from YAML.
pub fn parse_label_map(text: &str) -> Result<LabelMap, EvalError> {
    serde_yaml_ng::from_str(text).map_err(|error| EvalError::LabelMap(error.to_string()))
}

/// Counts of one label.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Counts {
    pub gold: usize,
    pub predicted: usize,
    pub true_positive_predictions: usize,
    pub found_gold: usize,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.gold += other.gold;
        self.predicted += other.predicted;
        self.true_positive_predictions += other.true_positive_predictions;
        self.found_gold += other.found_gold;
    }

    pub fn precision(&self) -> f64 {
        if self.predicted == 0 {
            0.0
        } else {
            self.true_positive_predictions as f64 / self.predicted as f64
        }
    }

    pub fn recall(&self) -> f64 {
        if self.gold == 0 {
            0.0
        } else {
            self.found_gold as f64 / self.gold as f64
        }
    }

    pub fn f1(&self) -> f64 {
        let (precision, recall) = (self.precision(), self.recall());
        if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        }
    }
}

/// Scores of one row: exact and overlap.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RowScores {
    pub exact: Counts,
    pub overlap: Counts,
}

/// The whole evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub documents: usize,
    pub characters: usize,
    pub bytes: usize,
    /// Time spent in detection only.
    pub detection_seconds: f64,
    /// Rows by our entity type (the first target of a label).
    pub rows: BTreeMap<String, RowScores>,
    pub micro: RowScores,
}

impl Report {
    pub fn megabytes_per_second(&self) -> f64 {
        if self.detection_seconds == 0.0 {
            0.0
        } else {
            self.bytes as f64 / 1_000_000.0 / self.detection_seconds
        }
    }
}

/// Runs `detector` over `documents` and scores it; `progress` is called after each document.
pub fn evaluate(
    detector: &Detector,
    documents: &[Document],
    map: &LabelMap,
    options: &DetectOptions,
    mut progress: impl FnMut(usize),
) -> Result<Report, EvalError> {
    // Our type -> the row it counts for; dataset label -> row.
    let mut row_of_type: BTreeMap<String, String> = BTreeMap::new();
    let mut row_of_label: BTreeMap<String, String> = BTreeMap::new();
    let mut accepted_types: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (label, target) in &map.labels {
        let types = target.types();
        accepted_types.insert(label.clone(), types.clone());
        if let Some(row) = types.first() {
            row_of_label.insert(label.clone(), row.clone());
            for kind in &types {
                row_of_type.entry(kind.clone()).or_insert_with(|| row.clone());
            }
        }
    }
    let mut rows: BTreeMap<String, RowScores> = row_of_label
        .values()
        .map(|row| (row.clone(), RowScores::default()))
        .collect();
    let mut elapsed = Duration::ZERO;
    let mut characters = 0;
    let mut bytes = 0;
    // Consecutive documents of one language are detected together, so that a model
    // batches their windows.
    let mut index = 0;
    while index < documents.len() {
        let language = options.language.clone().or_else(|| documents[index].lang.clone());
        let mut end = index + 1;
        while end < documents.len()
            && end - index < EVAL_BATCH_DOCUMENTS
            && options.language.clone().or_else(|| documents[end].lang.clone()) == language
        {
            end += 1;
        }
        let batch = &documents[index..end];
        let mut batch_options = options.clone();
        batch_options.language = language;
        let texts: Vec<&str> = batch.iter().map(|document| document.text.as_str()).collect();
        let started = Instant::now();
        let results = detector
            .detect_many(&texts, &batch_options)
            .map_err(|source| EvalError::Detect {
                id: batch[0].id.clone(),
                source,
            })?;
        elapsed += started.elapsed();
        for (document, detections) in batch.iter().zip(results.detections) {
            score_document(
                document,
                &detections,
                &row_of_label,
                &accepted_types,
                &row_of_type,
                &mut rows,
            );
            characters += document.text.chars().count();
            bytes += document.text.len();
            index += 1;
            progress(index);
        }
    }
    let mut micro = RowScores::default();
    for scores in rows.values() {
        micro.exact.add(scores.exact);
        micro.overlap.add(scores.overlap);
    }
    Ok(Report {
        documents: documents.len(),
        characters,
        bytes,
        detection_seconds: elapsed.as_secs_f64(),
        rows,
        micro,
    })
}

/// What one span refinement step adds: micro F1 with every step, less micro F1 with that
/// step off.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepEffect {
    pub step: &'static str,
    pub does: &'static str,
    /// Micro F1 with the step off.
    pub exact_f1_without: f64,
    pub overlap_f1_without: f64,
    /// What the step adds (negative when it costs).
    pub exact_f1_added: f64,
    pub overlap_f1_added: f64,
}

/// The evaluation with every step, and once per span refinement step with that step off
/// (steps the options already switch off are left off throughout).
pub fn ablate(
    detector: &Detector,
    documents: &[Document],
    map: &LabelMap,
    options: &DetectOptions,
    mut progress: impl FnMut(&str, usize),
) -> Result<(Report, Vec<StepEffect>), EvalError> {
    // Every run sees the same texts: each model runs once per text.
    let detector = &detector.remembering_models();
    let baseline = evaluate(detector, documents, map, options, |done| progress("all steps", done))?;
    let mut effects = Vec::new();
    for step in crate::refine::REFINE_STEPS {
        if options.refinements_off.iter().any(|name| name == step.name) {
            continue;
        }
        let mut without = options.clone();
        without.refinements_off.push(step.name.to_owned());
        let report = evaluate(detector, documents, map, &without, |done| progress(step.name, done))?;
        effects.push(StepEffect {
            step: step.name,
            does: step.does,
            exact_f1_without: report.micro.exact.f1(),
            overlap_f1_without: report.micro.overlap.f1(),
            exact_f1_added: baseline.micro.exact.f1() - report.micro.exact.f1(),
            overlap_f1_added: baseline.micro.overlap.f1() - report.micro.overlap.f1(),
        });
    }
    Ok((baseline, effects))
}

/// The ablation as a table: per step, micro F1 without it and what it adds.
pub fn render_ablation(baseline: &Report, effects: &[StepEffect]) -> String {
    let mut out = format!(
        "{:<36} {:>9} {:>9} {:>9} {:>9}\n{:<36} {:>9.4} {:>9} {:>9.4} {:>9}\n",
        "step",
        "F1",
        "added",
        "F1~",
        "added~",
        "all steps",
        baseline.micro.exact.f1(),
        "",
        baseline.micro.overlap.f1(),
        ""
    );
    for effect in effects {
        out.push_str(&format!(
            "{:<36} {:>9.4} {:>+9.4} {:>9.4} {:>+9.4}\n",
            effect.step,
            effect.exact_f1_without,
            effect.exact_f1_added,
            effect.overlap_f1_without,
            effect.overlap_f1_added
        ));
    }
    out.push_str("F1 without the step, and what the step adds to micro F1 (~ = any overlap)\n");
    out
}

/// The report as a fixed-width table.
pub fn render_table(report: &Report) -> String {
    let mut out = format!(
        "{:<22} {:>5} {:>5} | {:>6} {:>6} {:>6} | {:>6} {:>6} {:>6}\n",
        "entity", "gold", "pred", "P", "R", "F1", "P~", "R~", "F1~"
    );
    let mut line = |name: &str, scores: &RowScores| {
        out.push_str(&format!(
            "{:<22} {:>5} {:>5} | {:>6.3} {:>6.3} {:>6.3} | {:>6.3} {:>6.3} {:>6.3}\n",
            name,
            scores.exact.gold,
            scores.exact.predicted,
            scores.exact.precision(),
            scores.exact.recall(),
            scores.exact.f1(),
            scores.overlap.precision(),
            scores.overlap.recall(),
            scores.overlap.f1()
        ));
    };
    for (name, scores) in &report.rows {
        line(name, scores);
    }
    line("micro", &report.micro);
    out.push_str(&format!(
        "{} documents, {} characters, {:.3} s in detection, {:.2} MB/s ({} = exact spans, ~ = any overlap)\n",
        report.documents,
        report.characters,
        report.detection_seconds,
        report.megabytes_per_second(),
        "P/R/F1"
    ));
    out
}

/// Documents detected together by `evaluate`.
const EVAL_BATCH_DOCUMENTS: usize = 32;

/// Adds one document's gold and predicted spans to the rows.
fn score_document(
    document: &Document,
    detections: &[crate::detect::Detection],
    row_of_label: &BTreeMap<String, String>,
    accepted_types: &BTreeMap<String, Vec<String>>,
    row_of_type: &BTreeMap<String, String>,
    rows: &mut BTreeMap<String, RowScores>,
) {
    // A prediction is right when it matches a gold span whose label accepts its type;
    // a right one counts in that label's row, a wrong one in its own type's row.
    let gold: Vec<(&str, usize, usize, &[String])> = document
        .spans
        .iter()
        .filter_map(|span| {
            let row = row_of_label.get(&span.label)?;
            let accepted = accepted_types.get(&span.label)?;
            Some((row.as_str(), span.start, span.end, accepted.as_slice()))
        })
        .collect();
    let predicted: Vec<(&str, usize, usize)> = detections
        .iter()
        .filter_map(|detection| {
            row_of_type.contains_key(detection.entity_type.as_str()).then_some((
                detection.entity_type.as_str(),
                detection.start,
                detection.end,
            ))
        })
        .collect();
    for (exact, counts_of) in [(true, 0), (false, 1)] {
        let matches = |a: (usize, usize), b: (usize, usize)| if exact { a == b } else { a.0 < b.1 && b.0 < a.1 };
        for gold_span in &gold {
            let row = rows.entry(gold_span.0.to_owned()).or_default();
            let counts = if counts_of == 0 {
                &mut row.exact
            } else {
                &mut row.overlap
            };
            counts.gold += 1;
            let found = predicted.iter().any(|prediction| {
                gold_span.3.iter().any(|kind| kind == prediction.0)
                    && matches((prediction.1, prediction.2), (gold_span.1, gold_span.2))
            });
            if found {
                counts.found_gold += 1;
            }
        }
        for prediction in &predicted {
            let matched = gold.iter().find(|gold_span| {
                gold_span.3.iter().any(|kind| kind == prediction.0)
                    && matches((prediction.1, prediction.2), (gold_span.1, gold_span.2))
            });
            let row_name = match matched {
                Some(gold_span) => gold_span.0.to_owned(),
                None => row_of_type.get(prediction.0).cloned().unwrap_or_default(),
            };
            let row = rows.entry(row_name).or_default();
            let counts = if counts_of == 0 {
                &mut row.exact
            } else {
                &mut row.overlap
            };
            counts.predicted += 1;
            if matched.is_some() {
                counts.true_positive_predictions += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_exact_and_overlap_matches() {
        let detector = Detector::with_builtin_packs().unwrap();
        let documents = read_documents(
            "{\"id\":\"1\",\"lang\":\"en\",\"text\":\"mail a@example.com or b@example.org\",\"spans\":[{\"start\":5,\"end\":18,\"label\":\"EMAIL\"},{\"start\":22,\"end\":25,\"label\":\"EMAIL\"}]}\n",
        )
        .unwrap();
        let map = parse_label_map("labels:\n  EMAIL: EMAIL_ADDRESS\n").unwrap();
        let report = evaluate(&detector, &documents, &map, &DetectOptions::default(), |_| {}).unwrap();
        let row = &report.rows["EMAIL_ADDRESS"];
        assert_eq!(row.exact.gold, 2);
        assert_eq!(row.exact.predicted, 2);
        assert_eq!(row.exact.true_positive_predictions, 1);
        assert_eq!(row.overlap.true_positive_predictions, 2);
        assert!((row.overlap.f1() - 1.0).abs() < 1e-9);
        assert!(render_table(&report).contains("EMAIL_ADDRESS"));
    }

    /// A model that tags a given name and a surname apart.
    #[derive(Debug)]
    struct Pieces(crate::recognizer::RecognizerInfo);

    impl crate::recognizer::Recognizer for Pieces {
        fn info(&self) -> &crate::recognizer::RecognizerInfo {
            &self.0
        }

        fn recognize(
            &self,
            _text: &crate::text::AnalyzedText<'_>,
            _request: &crate::recognizer::RecognitionRequest<'_>,
        ) -> Result<Vec<crate::recognizer::Candidate>, crate::recognizer::RecognizerError> {
            Ok([(6, 10), (11, 16)]
                .into_iter()
                .map(|(start, end)| crate::recognizer::Candidate {
                    entity_type: "PERSON".into(),
                    start,
                    end,
                    score: 0.9,
                    recognizer: "ner/pieces".into(),
                    pattern: None,
                    validator: None,
                    context_words: Vec::new(),
                    base_score: 0.9,
                    only_a_place: false,
                })
                .collect())
        }
    }

    #[test]
    fn ablation_measures_what_each_step_adds() {
        let info = crate::recognizer::RecognizerInfo {
            name: "ner/pieces".into(),
            kind: crate::recognizer::RecognizerKind::Ner,
            entities: vec!["PERSON".into()],
            languages: vec!["any".into()],
            description: String::new(),
            settings: BTreeMap::new(),
        };
        let detector = Detector::without_patterns(vec![std::sync::Arc::new(Pieces(info))]).unwrap();
        let documents = read_documents(
            "{\"id\":\"1\",\"lang\":\"es\",\"text\":\"Firma Juan Pérez.\",\"spans\":[{\"start\":6,\"end\":16,\"label\":\"PERSON\"}]}\n",
        )
        .unwrap();
        let map = parse_label_map("labels:\n  PERSON: PERSON\n").unwrap();
        let (baseline, effects) = ablate(&detector, &documents, &map, &DetectOptions::default(), |_, _| {}).unwrap();
        assert!((baseline.micro.exact.f1() - 1.0).abs() < 1e-9);
        assert_eq!(effects.len(), crate::refine::REFINE_STEPS.len());
        let join = effects
            .iter()
            .find(|effect| effect.step == "join_person_parts")
            .unwrap();
        assert!((join.exact_f1_added - 1.0).abs() < 1e-9, "{join:?}");
        let function_words = effects
            .iter()
            .find(|effect| effect.step == "function_words_are_not_entities")
            .unwrap();
        assert!(function_words.exact_f1_added.abs() < 1e-9);
        assert!(render_ablation(&baseline, &effects).contains("join_person_parts"));
    }

    #[test]
    fn bad_lines_are_named() {
        let error = read_documents("{\"id\":\"1\",\"text\":\"ab\",\"spans\":[]}\nnot json\n").unwrap_err();
        assert!(error.to_string().starts_with("line 2:"), "{error}");
        let error =
            read_documents("{\"id\":\"1\",\"text\":\"ab\",\"spans\":[{\"start\":0,\"end\":5,\"label\":\"X\"}]}")
                .unwrap_err();
        assert!(error.to_string().contains("does not fit"), "{error}");
    }

    #[test]
    fn ignored_labels_are_not_scored() {
        let map = parse_label_map("labels:\n  TITLE: ~\n  DATE_TIME: [DATE_TIME, DATE_OF_BIRTH]\n").unwrap();
        assert!(map.labels["TITLE"].types().is_empty());
        assert_eq!(map.labels["DATE_TIME"].types(), ["DATE_TIME", "DATE_OF_BIRTH"]);
    }
}
