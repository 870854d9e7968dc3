//! The overlap rule: which of a text's candidates are kept when they overlap.
//!
//! Detections that pass their thresholds are resolved to a set without overlaps:
//! 0. A model's (NER) detection that overlaps a pattern's, parser's or deny-list entry's
//!    detection of the same type is dropped: the type is agreed. A validated detection (a
//!    checksum, a phone number's metadata) keeps its exact span; any other also covers the
//!    words the model's span reaches beyond it, since a pattern for free text stops where
//!    its grammar does ("Calle Mayor 7" of "Calle Mayor 7, bloque Sur"). Word-list
//!    findings do not count; it is the other way round for them: a word-list detection
//!    that overlaps a model's detection of any type is dropped, since the model read the
//!    context and the list only knows the words (it runs a name on into "Ana López NºCol",
//!    and takes the district "Benito Juárez" for a person).
//! 1. A detection lying entirely inside a kept one is dropped: the outer span already covers
//!    it, so an email inside a URL is anonymized with the URL.
//! 2. Otherwise detections are taken in priority order, each kept unless it overlaps one
//!    already kept. Priority: deny-list entries, then validated matches, then matches with
//!    supporting context words (an explicit "NHC:" before a number outweighs a model's
//!    guess at another type), then the higher score, then the longer span, then the
//!    earlier start, then the entity name.
//!
//! The order is total, so the result never depends on the recognizers' order.

use super::*;
use crate::entity_type::EntityType;

/// A candidate with whether the deny list produced it.
#[derive(Debug)]
pub(super) struct Ranked {
    pub(super) candidate: Candidate,
    pub(super) denied: bool,
}

/// Rule 0 of the overlap rule: a model's finding that overlaps a finding of the same type
/// from a pattern, the phone parser, the entropy scan or the deny list is dropped; the type
/// is not in doubt. A finding that a validator passed (a checksum, a phone number's
/// metadata) knows where the value starts and ends and keeps its bounds; any other grows to
/// cover the model's overlapping span too when the model's reaches further by a letter or
/// digit, since a pattern for free text (a street address, an age) stops where its grammar
/// does and the model often sees the rest ("Calle Mayor 7, 3º Izda"); punctuation alone
/// ("ana@example.com.") does not count. Word lists are not exact (they find "Juan" of
/// "Juan Pérez García"), so they do not count here; a model's span displaces the word-list
/// spans it overlaps, whatever their type.
pub(super) fn drop_model_spans_under_exact_ones(
    analyzed: &AnalyzedText<'_>,
    ranked: Vec<Ranked>,
    model_recognizers: &BTreeSet<String>,
    word_list_recognizers: &BTreeSet<String>,
) -> Vec<Ranked> {
    if model_recognizers.is_empty() {
        return ranked;
    }
    let is_model = |item: &Ranked| model_recognizers.contains(&item.candidate.recognizer);
    let is_exact = |item: &Ranked| !is_model(item) && !word_list_recognizers.contains(&item.candidate.recognizer);
    // Whether a span overlaps one of sorted `spans`: of the spans starting before it ends,
    // those ending after it starts.
    fn overlapping(spans: &[(usize, usize)], start: usize, end: usize) -> impl Iterator<Item = &(usize, usize)> {
        let before_end = spans.partition_point(|(span_start, _)| *span_start < end);
        spans[..before_end]
            .iter()
            .filter(move |(_, span_end)| *span_end > start)
    }
    let model_spans = spans_by_type(ranked.iter().filter(|item| is_model(item)));
    let ranked: Vec<Ranked> = ranked
        .into_iter()
        .map(|mut item| {
            if is_exact(&item)
                && !item.candidate.is_validated()
                && let Some(spans) = model_spans.get(item.candidate.entity_type.as_str())
            {
                let (start, end) = (item.candidate.start, item.candidate.end);
                let has_word = |from: usize, to: usize| {
                    from < to && analyzed.original_slice(from, to).chars().any(char::is_alphanumeric)
                };
                for &(span_start, span_end) in overlapping(spans, start, end) {
                    if has_word(span_start, start) {
                        item.candidate.start = item.candidate.start.min(span_start);
                    }
                    if has_word(end, span_end) {
                        item.candidate.end = item.candidate.end.max(span_end);
                    }
                }
            }
            item
        })
        .collect();
    let exact = spans_by_type(ranked.iter().filter(|item| is_exact(item)));
    let overlaps = |spans: &[(usize, usize)], item: &Ranked| {
        overlapping(spans, item.candidate.start, item.candidate.end)
            .next()
            .is_some()
    };
    let ranked: Vec<Ranked> = ranked
        .into_iter()
        .filter(|item| {
            !(is_model(item)
                && exact
                    .get(item.candidate.entity_type.as_str())
                    .is_some_and(|spans| overlaps(spans, item)))
        })
        .collect();
    // A model's person that is exactly a place no one is named after ("I'm glad to hear
    // that France is moving…") is the place.
    let places: BTreeSet<(usize, usize)> = ranked
        .iter()
        .filter(|item| item.candidate.only_a_place)
        .map(|item| (item.candidate.start, item.candidate.end))
        .collect();
    let ranked: Vec<Ranked> = ranked
        .into_iter()
        .filter(|item| {
            !(is_model(item)
                && item.candidate.entity_type == EntityType::PERSON
                && places.contains(&(item.candidate.start, item.candidate.end)))
        })
        .collect();
    // The model spans that stay displace the word lists' spans they overlap, of any type:
    // a list knows a name, the model reads it in its sentence ("Benito Juárez" is a
    // district in an address, "San Borja" part of a hospital's name).
    let models = spans_by_type(ranked.iter().filter(|item| is_model(item)));
    let displaced: Vec<bool> = ranked
        .iter()
        .map(|item| {
            word_list_recognizers.contains(&item.candidate.recognizer)
                && models.values().any(|spans| overlaps(spans, item))
        })
        .collect();
    ranked
        .into_iter()
        .zip(displaced)
        .filter_map(|(item, displaced)| (!displaced).then_some(item))
        .collect()
}

/// The spans of `items` by type, each type's sorted by start.
fn spans_by_type<'a>(items: impl Iterator<Item = &'a Ranked>) -> BTreeMap<EntityType, Vec<(usize, usize)>> {
    let mut spans: BTreeMap<EntityType, Vec<(usize, usize)>> = BTreeMap::new();
    for item in items {
        spans
            .entry(item.candidate.entity_type.clone())
            .or_default()
            .push((item.candidate.start, item.candidate.end));
    }
    for spans in spans.values_mut() {
        spans.sort_unstable();
    }
    spans
}

fn priority(left: &Ranked, right: &Ranked) -> Ordering {
    // Descending by strength; the last keys make the order total.
    right
        .denied
        .cmp(&left.denied)
        .then_with(|| right.candidate.is_validated().cmp(&left.candidate.is_validated()))
        .then_with(|| {
            right
                .candidate
                .has_supporting_context()
                .cmp(&left.candidate.has_supporting_context())
        })
        .then_with(|| right.candidate.score.total_cmp(&left.candidate.score))
        .then_with(|| right.candidate.len().cmp(&left.candidate.len()))
        .then_with(|| left.candidate.start.cmp(&right.candidate.start))
        .then_with(|| left.candidate.entity_type.cmp(&right.candidate.entity_type))
        .then_with(|| left.candidate.recognizer.cmp(&right.candidate.recognizer))
}

/// Applies the module's overlap rule; returns the kept candidates by start. O(n log n).
pub(super) fn resolve_overlaps(ranked: Vec<Ranked>) -> Vec<Candidate> {
    // Rule 1: drop candidates strictly inside another. Sorted by start, longest first, a
    // candidate is inside an earlier one exactly when an earlier, different span reaches
    // at least as far.
    let mut by_position: Vec<usize> = (0..ranked.len()).collect();
    by_position.sort_by(|&left, &right| {
        let (left, right) = (&ranked[left].candidate, &ranked[right].candidate);
        left.start.cmp(&right.start).then(right.end.cmp(&left.end))
    });
    let mut inside = vec![false; ranked.len()];
    let mut reach: Option<usize> = None;
    let mut group_start = 0;
    while group_start < by_position.len() {
        // Identical spans form a group: they are not inside one another.
        let span = (
            ranked[by_position[group_start]].candidate.start,
            ranked[by_position[group_start]].candidate.end,
        );
        let mut group_end = group_start;
        while group_end < by_position.len()
            && (
                ranked[by_position[group_end]].candidate.start,
                ranked[by_position[group_end]].candidate.end,
            ) == span
        {
            group_end += 1;
        }
        let contained = reach.is_some_and(|reach| reach >= span.1);
        for &index in &by_position[group_start..group_end] {
            inside[index] = contained;
        }
        reach = Some(reach.map_or(span.1, |reach| reach.max(span.1)));
        group_start = group_end;
    }

    // Rule 2: greedy by priority among the rest; kept spans never overlap, so only the
    // nearest kept span starting before a candidate's end can overlap it.
    let mut order: Vec<usize> = (0..ranked.len()).filter(|&index| !inside[index]).collect();
    order.sort_by(|&left, &right| priority(&ranked[left], &ranked[right]));
    let mut kept_spans: BTreeMap<usize, usize> = BTreeMap::new();
    let mut kept_indices = Vec::new();
    for index in order {
        let candidate = &ranked[index].candidate;
        let overlaps_before = kept_spans
            .range(..candidate.end)
            .next_back()
            .is_some_and(|(_, &end)| end > candidate.start);
        if !overlaps_before {
            kept_spans.insert(candidate.start, candidate.end);
            kept_indices.push(index);
        }
    }
    let mut slots: Vec<Option<Ranked>> = ranked.into_iter().map(Some).collect();
    let mut kept: Vec<Candidate> = kept_indices
        .into_iter()
        .filter_map(|index| slots[index].take().map(|item| item.candidate))
        .collect();
    kept.sort_by(|left, right| left.start.cmp(&right.start).then(left.end.cmp(&right.end)));
    kept
}
