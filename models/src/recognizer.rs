//! A loaded model as one of the engine's recognizers.

use std::collections::BTreeMap;
use std::sync::Arc;

use obscura_detection::entity_type::EntityType;
use obscura_detection::recognizer::{Candidate, RecognitionRequest, Recognizer, RecognizerError, RecognizerInfo};
use obscura_detection::taxonomy::Taxonomy;
use obscura_detection::text::AnalyzedText;

use crate::ner::NerModel;

/// Runs a [`NerModel`] over the text and reports its spans as candidates, with the
/// taxonomy types and thresholds of the model's registry entry.
#[derive(Debug)]
pub struct NerRecognizer {
    model: Arc<NerModel>,
    info: RecognizerInfo,
    /// Taxonomy type by model label (and by group entity).
    entities: BTreeMap<String, EntityType>,
}

impl NerRecognizer {
    pub fn new(model: Arc<NerModel>) -> NerRecognizer {
        let entry = &model.installed().entry;
        let taxonomy = Taxonomy;
        let mut entities: BTreeMap<String, EntityType> = entry
            .labels
            .iter()
            .map(|(label, entity)| (label.clone(), taxonomy.canonical_name(entity)))
            .collect();
        for group in &entry.groups {
            entities.insert(group.entity.clone(), taxonomy.canonical_name(&group.entity));
        }
        let mut reported: Vec<EntityType> = entities.values().cloned().collect();
        reported.sort();
        reported.dedup();
        let mut settings = BTreeMap::new();
        settings.insert("architecture".into(), entry.architecture.clone());
        settings.insert("window_tokens".into(), entry.window_tokens.to_string());
        settings.insert("window_overlap".into(), entry.window_overlap.to_string());
        settings.insert("aggregation".into(), entry.aggregation.clone());
        settings.insert("default_threshold".into(), entry.default_threshold.to_string());
        settings.insert("license".into(), entry.license.clone());
        let info = RecognizerInfo {
            name: format!("ner/{}", entry.id),
            kind: obscura_detection::recognizer::RecognizerKind::Ner,
            entities: reported,
            languages: entry.languages.clone(),
            description: entry.description.clone(),
            settings,
        };
        NerRecognizer { model, info, entities }
    }

    pub fn model(&self) -> &NerModel {
        &self.model
    }
}

impl Recognizer for NerRecognizer {
    fn info(&self) -> &RecognizerInfo {
        &self.info
    }

    fn recognize(
        &self,
        text: &AnalyzedText<'_>,
        request: &RecognitionRequest<'_>,
    ) -> Result<Vec<Candidate>, RecognizerError> {
        Ok(self.recognize_many(&[text], request)?.pop().unwrap_or_default())
    }

    /// All the texts' windows go through the model together, batched by token budget.
    /// Inference fails only on faults of the model (a tokenizer that gives ids its weights
    /// do not have, a shape it cannot take); the detection then fails with it.
    fn recognize_many(
        &self,
        texts: &[&AnalyzedText<'_>],
        _request: &RecognitionRequest<'_>,
    ) -> Result<Vec<Vec<Candidate>>, RecognizerError> {
        let inputs: Vec<&str> = texts.iter().map(|text| text.normalized()).collect();
        let predicted = self
            .model
            .predict(&inputs)
            .map_err(|error| RecognizerError::new(error.to_string()))?;
        Ok(predicted.into_iter().map(|spans| self.candidates(spans)).collect())
    }
}

impl NerRecognizer {
    /// The model's spans as candidates of taxonomy types, above their thresholds. Where
    /// they start and end is read off the text afterwards, by the detector's span
    /// refinement (`obscura_detection::refine`, model-span stage).
    fn candidates(&self, spans: Vec<crate::decode::LabeledSpan>) -> Vec<Candidate> {
        let entry = &self.model.installed().entry;
        spans
            .into_iter()
            .filter(|span| !entry.skip_labels.contains(&span.label))
            .filter_map(|span| {
                let entity = self.entities.get(&span.label)?.clone();
                let threshold = entry
                    .thresholds
                    .get(entity.as_str())
                    .copied()
                    .unwrap_or(entry.default_threshold);
                (span.score >= threshold && span.start < span.end).then(|| Candidate {
                    entity_type: entity,
                    start: span.start,
                    end: span.end,
                    score: span.score,
                    recognizer: self.info.name.clone(),
                    pattern: Some(span.label.clone()),
                    validator: None,
                    context_words: Vec::new(),
                    base_score: span.score,
                    only_a_place: false,
                })
            })
            .collect()
    }
}
