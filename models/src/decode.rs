//! From per-token label probabilities to entity spans.
//!
//! Sub-word tokens are first combined into words with one of the aggregation strategies of
//! Hugging Face's token-classification pipeline, then BIO tags group words into spans, and
//! span groups (a given name followed by a surname, the parts of an address) are joined.

use crate::registry::SpanGroup;

/// How the tokens of one word decide the word's label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregation {
    /// The first token's prediction.
    First,
    /// The mean of the tokens' probabilities.
    Average,
    /// The prediction of the token that is most sure.
    Max,
}

impl Aggregation {
    pub fn parse(name: &str) -> Option<Aggregation> {
        match name {
            "first" => Some(Aggregation::First),
            "average" => Some(Aggregation::Average),
            "max" => Some(Aggregation::Max),
            _ => None,
        }
    }
}

/// One token of the text: its word, code-point offsets and label probabilities.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenPrediction {
    pub word: usize,
    pub start: usize,
    pub end: usize,
    pub probabilities: Vec<f32>,
}

/// A span the model found, in code points, with the model's own label (without B-/I-).
#[derive(Debug, Clone, PartialEq)]
pub struct LabeledSpan {
    pub start: usize,
    pub end: usize,
    pub label: String,
    pub score: f32,
}

/// Spans from token predictions. `labels` are the model's BIO labels by id; `text` is the
/// text the offsets point into, as code points, for the separators between grouped spans.
pub fn decode(
    tokens: &[TokenPrediction],
    labels: &[String],
    aggregation: Aggregation,
    groups: &[SpanGroup],
    text: &[char],
) -> Vec<LabeledSpan> {
    // The label ids of each group's parts ("B-GIVEN_NAME", "I-SURNAME", …).
    let group_labels: Vec<Vec<usize>> = groups
        .iter()
        .map(|group| {
            labels
                .iter()
                .enumerate()
                .filter(|(_, label)| {
                    let (tag, entity) = split_tag(label);
                    tag != Tag::Outside && group.labels.iter().any(|part| part == entity)
                })
                .map(|(id, _)| id)
                .collect()
        })
        .collect();
    let outside = labels.iter().position(|label| label == "O");
    let words = aggregate_words(tokens, aggregation, outside, &group_labels);
    let mut spans: Vec<(LabeledSpan, usize)> = Vec::new();
    // The open span, with the number of words in it so far.
    let mut open: Option<(LabeledSpan, usize)> = None;
    for word in words {
        let label = labels.get(word.label).map_or("O", String::as_str);
        let (tag, entity) = split_tag(label);
        let continues = open
            .as_ref()
            .is_some_and(|(span, _)| tag == Tag::Inside && span.label == entity);
        if continues {
            if let Some((span, count)) = open.as_mut() {
                span.end = word.end;
                span.score += word.score;
                *count += 1;
            }
            continue;
        }
        spans.extend(open.take());
        if tag != Tag::Outside {
            open = Some((
                LabeledSpan {
                    start: word.start,
                    end: word.end,
                    label: entity.to_owned(),
                    score: word.score,
                },
                1,
            ));
        }
    }
    spans.extend(open);
    let spans: Vec<LabeledSpan> = spans
        .into_iter()
        .map(|(mut span, count)| {
            span.score /= count as f32;
            span
        })
        .collect();
    apply_groups(spans, groups, text)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Begin,
    Inside,
    Outside,
}

fn split_tag(label: &str) -> (Tag, &str) {
    if let Some(entity) = label.strip_prefix("B-") {
        (Tag::Begin, entity)
    } else if let Some(entity) = label.strip_prefix("I-") {
        (Tag::Inside, entity)
    } else if label == "O" {
        (Tag::Outside, "")
    } else {
        // A label without a tag is an entity type of its own (IO tagging).
        (Tag::Inside, label)
    }
}

struct Word {
    start: usize,
    end: usize,
    label: usize,
    score: f32,
}

/// The words of `tokens`, each with its label. A word the model gives to no entity ("O")
/// goes to a group's most likely part when the group's parts together are more likely than
/// "O": a model that splits a name into given names and surnames spreads its belief that a
/// word is a name over four labels, and "O" can win over each while losing to their sum.
fn aggregate_words(
    tokens: &[TokenPrediction],
    aggregation: Aggregation,
    outside: Option<usize>,
    group_labels: &[Vec<usize>],
) -> Vec<Word> {
    let mut words = Vec::new();
    let mut index = 0;
    while index < tokens.len() {
        let mut last = index;
        while last + 1 < tokens.len() && tokens[last + 1].word == tokens[index].word {
            last += 1;
        }
        let pieces = &tokens[index..=last];
        let probabilities: Vec<f32> = match aggregation {
            Aggregation::First => pieces[0].probabilities.clone(),
            Aggregation::Average => {
                let mut sum = vec![0.0_f32; pieces[0].probabilities.len()];
                for piece in pieces {
                    for (total, value) in sum.iter_mut().zip(&piece.probabilities) {
                        *total += value;
                    }
                }
                sum.iter().map(|total| total / pieces.len() as f32).collect()
            }
            Aggregation::Max => pieces
                .iter()
                .max_by(|left, right| best(&left.probabilities).1.total_cmp(&best(&right.probabilities).1))
                .map(|piece| piece.probabilities.clone())
                .unwrap_or_default(),
        };
        let (mut label, mut score) = best(&probabilities);
        if Some(label) == outside {
            let probability = |id: usize| probabilities.get(id).copied().unwrap_or(0.0);
            let sum = |ids: &[usize]| ids.iter().map(|&id| probability(id)).sum::<f32>();
            if let Some(ids) = group_labels
                .iter()
                .filter(|ids| sum(ids) > score)
                .max_by(|left, right| sum(left).total_cmp(&sum(right)))
                && let Some(&part) = ids
                    .iter()
                    .max_by(|left, right| probability(**left).total_cmp(&probability(**right)))
            {
                (label, score) = (part, sum(ids));
            }
        }
        words.push(Word {
            start: pieces[0].start,
            end: pieces[pieces.len() - 1].end,
            label,
            score,
        });
        index = last + 1;
    }
    words
}

/// The most probable label and its probability; the first wins a tie.
fn best(probabilities: &[f32]) -> (usize, f32) {
    probabilities
        .iter()
        .copied()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (index, value)| {
            if value > best.1 { (index, value) } else { best }
        })
}

fn apply_groups(spans: Vec<LabeledSpan>, groups: &[SpanGroup], text: &[char]) -> Vec<LabeledSpan> {
    let mut spans = spans;
    for group in groups {
        let mut out: Vec<LabeledSpan> = Vec::with_capacity(spans.len());
        let mut index = 0;
        while index < spans.len() {
            if !group.labels.contains(&spans[index].label) {
                out.push(spans[index].clone());
                index += 1;
                continue;
            }
            let mut last = index;
            while last + 1 < spans.len()
                && group.labels.contains(&spans[last + 1].label)
                && spans[last].end <= spans[last + 1].start
                && text
                    .get(spans[last].end..spans[last + 1].start)
                    .is_some_and(|gap| gap.iter().all(|character| group.separators.contains(*character)))
            {
                last += 1;
            }
            let run = &spans[index..=last];
            if run.iter().any(|span| group.requires.contains(&span.label)) {
                out.push(LabeledSpan {
                    start: run[0].start,
                    end: run[run.len() - 1].end,
                    label: group.entity.clone(),
                    score: run.iter().map(|span| span.score).sum::<f32>() / run.len() as f32,
                });
            } else {
                out.extend(run.iter().cloned());
            }
            index = last + 1;
        }
        spans = out;
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Vec<String> {
        [
            "O",
            "B-GIVEN_NAME",
            "I-GIVEN_NAME",
            "B-SURNAME",
            "I-SURNAME",
            "B-STREET_NAME",
            "I-STREET_NAME",
            "B-CITY",
        ]
        .iter()
        .map(|label| (*label).to_owned())
        .collect()
    }

    /// A token sure of `label`, unsure of the rest.
    fn token(word: usize, start: usize, end: usize, label: usize, score: f32) -> TokenPrediction {
        let others = (1.0 - score) / 7.0;
        let mut probabilities = vec![others; 8];
        probabilities[label] = score;
        TokenPrediction {
            word,
            start,
            end,
            probabilities,
        }
    }

    fn person_group() -> SpanGroup {
        SpanGroup {
            entity: "PERSON".into(),
            labels: vec!["GIVEN_NAME".into(), "SURNAME".into()],
            requires: vec!["GIVEN_NAME".into(), "SURNAME".into()],
            separators: " ".into(),
        }
    }

    fn address_group() -> SpanGroup {
        SpanGroup {
            entity: "ADDRESS".into(),
            labels: vec!["STREET_NAME".into(), "CITY".into()],
            requires: vec!["STREET_NAME".into()],
            separators: " ,".into(),
        }
    }

    #[test]
    fn a_word_goes_to_a_group_whose_parts_together_outweigh_outside() {
        let text: Vec<char> = "Ana Kowalczyk came".chars().collect();
        let doubtful = TokenPrediction {
            word: 1,
            start: 4,
            end: 13,
            // "O" is the single most likely label, the name's parts together more likely.
            probabilities: vec![0.40, 0.05, 0.05, 0.28, 0.17, 0.02, 0.02, 0.01],
        };
        let tokens = vec![token(0, 0, 3, 1, 0.9), doubtful.clone(), token(2, 14, 18, 0, 0.9)];
        let spans = decode(&tokens, &labels(), Aggregation::First, &[person_group()], &text);
        assert_eq!(spans.len(), 1, "{spans:?}");
        assert_eq!(
            (spans[0].start, spans[0].end, spans[0].label.as_str()),
            (0, 13, "PERSON")
        );
        // Without the group, "O" wins.
        let spans = decode(&tokens, &labels(), Aggregation::First, &[], &text);
        assert_eq!(spans.len(), 1, "{spans:?}");
        assert_eq!((spans[0].start, spans[0].end), (0, 3));
        // Nor does a group win when "O" outweighs its parts together.
        let mut sure = doubtful;
        sure.probabilities = vec![0.60, 0.05, 0.05, 0.15, 0.10, 0.02, 0.02, 0.01];
        let tokens = vec![token(0, 0, 3, 1, 0.9), sure, token(2, 14, 18, 0, 0.9)];
        let spans = decode(&tokens, &labels(), Aggregation::First, &[person_group()], &text);
        assert_eq!(spans.len(), 1, "{spans:?}");
        assert_eq!(
            (spans[0].start, spans[0].end, spans[0].label.as_str()),
            (0, 3, "PERSON")
        );
    }

    #[test]
    fn sub_words_join_and_names_merge_into_a_person() {
        let text: Vec<char> = "Dr Ana Lopezz came".chars().collect();
        // "Lopezz" is two tokens, "lopez" and "##z", of one word.
        let tokens = vec![
            token(0, 0, 2, 0, 0.9),
            token(1, 3, 6, 1, 0.9),
            token(2, 7, 12, 3, 0.8),
            token(2, 12, 13, 4, 0.6),
            token(3, 14, 18, 0, 0.9),
        ];
        let spans = decode(&tokens, &labels(), Aggregation::First, &[person_group()], &text);
        assert_eq!(spans.len(), 1, "{spans:?}");
        assert_eq!(
            (spans[0].start, spans[0].end, spans[0].label.as_str()),
            (3, 13, "PERSON")
        );
        // Without the group, the two names stay apart.
        let spans = decode(&tokens, &labels(), Aggregation::Average, &[], &text);
        assert_eq!(
            spans.iter().map(|span| span.label.as_str()).collect::<Vec<_>>(),
            ["GIVEN_NAME", "SURNAME"]
        );
    }

    #[test]
    fn aggregation_strategies_differ_on_split_words() {
        let text: Vec<char> = "Xavi".chars().collect();
        // The first piece says outside weakly, the second says given name strongly.
        let tokens = vec![token(0, 0, 2, 0, 0.4), token(0, 2, 4, 1, 0.95)];
        assert!(decode(&tokens, &labels(), Aggregation::First, &[], &text).is_empty());
        assert_eq!(decode(&tokens, &labels(), Aggregation::Max, &[], &text).len(), 1);
        assert_eq!(decode(&tokens, &labels(), Aggregation::Average, &[], &text).len(), 1);
    }

    #[test]
    fn begin_tags_split_and_groups_need_their_anchor() {
        let text: Vec<char> = "Ana Eva, Gran Via, Madrid".chars().collect();
        let tokens = vec![
            token(0, 0, 3, 1, 0.9),
            token(1, 4, 7, 1, 0.9),
            token(2, 7, 8, 0, 0.9),
            token(3, 9, 13, 5, 0.9),
            token(4, 14, 17, 6, 0.9),
            token(5, 17, 18, 0, 0.9),
            token(6, 19, 25, 7, 0.9),
        ];
        let spans = decode(&tokens, &labels(), Aggregation::First, &[address_group()], &text);
        let found: Vec<(usize, usize, &str)> = spans
            .iter()
            .map(|span| (span.start, span.end, span.label.as_str()))
            .collect();
        assert_eq!(found, [(0, 3, "GIVEN_NAME"), (4, 7, "GIVEN_NAME"), (9, 25, "ADDRESS")]);
        // A city alone is not an address.
        let alone = decode(&tokens[6..], &labels(), Aggregation::First, &[address_group()], &text);
        assert_eq!(alone[0].label, "CITY");
    }
}
