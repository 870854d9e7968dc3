//! Span refinement: named steps that correct where spans start and end and what they are,
//! in one ordered list. Each does one thing, has its own tests, and can be switched off by
//! name (`DetectOptions::refinements_off`, or a profile's `refinements_off`), so that
//! `obscura eval --ablate` measures what it adds.
//!
//! Steps run at one of two stages:
//! - [`Stage::ModelSpans`]: on the spans of a model recognizer (NER), before thresholds and
//!   overlaps are weighed: an uncased, word-piece model cannot see capitals, punctuation or
//!   the layout of a form, so its bounds are read off the text here.
//! - [`Stage::Findings`]: on a text's findings once overlaps are resolved, whichever
//!   recognizers made them.
//!
//! The words the steps look for are data, in `wordlists/`.

mod bounds;
mod findings;
mod names;

use crate::entity_type::EntityType;
use crate::recognizer::Candidate;
use crate::text::AnalyzedText;

/// When a step runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// On one model recognizer's spans, before overlaps are resolved.
    ModelSpans,
    /// On a text's findings, after overlaps are resolved.
    Findings,
}

/// What a step sees besides the spans.
#[derive(Debug, Clone, Copy)]
pub struct Refining<'t> {
    pub text: &'t AnalyzedText<'t>,
    /// ISO 639-1 code of the text.
    pub language: &'t str,
    /// Whether the text uses capitals at all (a text in lower case only says nothing by
    /// its capitals).
    pub cased: bool,
}

impl<'t> Refining<'t> {
    pub fn new(text: &'t AnalyzedText<'t>, language: &'t str) -> Refining<'t> {
        Refining {
            text,
            language,
            cased: text.original().chars().any(char::is_uppercase),
        }
    }

    fn spanish(&self) -> bool {
        self.language == "es"
    }
}

/// One refinement step.
#[derive(Debug, Clone, Copy)]
pub struct RefineStep {
    /// The name profiles and options switch it off by.
    pub name: &'static str,
    /// What it does, in one line.
    pub does: &'static str,
    pub stage: Stage,
    run: fn(&Refining<'_>, Vec<Candidate>) -> Vec<Candidate>,
}

const PERSON: EntityType = EntityType::PERSON;
const ORGANIZATION: EntityType = EntityType::ORGANIZATION;

/// Every step, in the order they run.
pub const REFINE_STEPS: &[RefineStep] = &[
    RefineStep {
        name: "sentence_marks_off_ends",
        does: "the sentence's punctuation at either end of a model's span (\"Dublin,\", \"Vigo (\") is not the value's",
        stage: Stage::ModelSpans,
        run: bounds::sentence_marks_off_ends,
    },
    RefineStep {
        name: "capitals_bound_names",
        does: "in cased text, lower-case words at the ends of a name are not the name's; an English person without a capital is none",
        stage: Stage::ModelSpans,
        run: bounds::capitals_bound_names,
    },
    RefineStep {
        name: "lone_letters_are_not_entities",
        does: "a model's span of one letter (\"P\" of \"C.P.\") is no entity",
        stage: Stage::ModelSpans,
        run: bounds::lone_letters_are_not_entities,
    },
    RefineStep {
        name: "patient_sex_is_not_a_person",
        does: "in Spanish, the patient's sex that a clinical report opens with (\"Niña de 13 años\") is no person to name",
        stage: Stage::ModelSpans,
        run: bounds::patient_sex_is_not_a_person,
    },
    RefineStep {
        name: "companies_named_after_people",
        does: "a person's span before a company designator (\"Bertha Inc\", \"Thomas and Sons\") is the company",
        stage: Stage::ModelSpans,
        run: names::companies_named_after_people,
    },
    RefineStep {
        name: "firms_are_organizations",
        does: "surnames a model took for people inside a firm's name (\"Barnett, Melton and Garcia\") are the firm",
        stage: Stage::ModelSpans,
        run: names::firms_are_organizations,
    },
    RefineStep {
        name: "recurring_names",
        does: "in cased text, a word of a person's name written alone elsewhere (\"starring Westgård\") is that person",
        stage: Stage::ModelSpans,
        run: names::recurring_names,
    },
    RefineStep {
        name: "function_words_are_not_entities",
        does: "a span of function words alone (\"Le\" of \"Le escribo\", \"de la\") is no entity, whoever found it",
        stage: Stage::Findings,
        run: findings::function_words_are_not_entities,
    },
    RefineStep {
        name: "given_name_before_person",
        does: "a listed given name just before a person's span (\"María\" of \"María López Ruiz\") joins it",
        stage: Stage::Findings,
        run: findings::given_name_before_person,
    },
    RefineStep {
        name: "surname_after_person",
        does: "a listed surname just after a person's span (\"Quero\" of \"Baldomero Suárez Quero:\") joins it",
        stage: Stage::Findings,
        run: findings::surname_after_person,
    },
    RefineStep {
        name: "join_person_parts",
        does: "person spans that only spaces or one line break part (\"Juan\" \"Pérez\" \"García\") are one person",
        stage: Stage::Findings,
        run: findings::join_person_parts,
    },
];

/// True when `name` is a step.
pub fn is_step(name: &str) -> bool {
    REFINE_STEPS.iter().any(|step| step.name == name)
}

/// Runs the model-span steps not named in `off` on one model recognizer's `candidates`.
pub fn refine_model_spans(refining: &Refining<'_>, mut candidates: Vec<Candidate>, off: &[String]) -> Vec<Candidate> {
    candidates.sort_by_key(|candidate| (candidate.start, candidate.end));
    run_stage(Stage::ModelSpans, refining, candidates, off)
}

/// Runs the findings steps not named in `off` on `candidates` (sorted by start, not
/// overlapping).
pub fn refine(refining: &Refining<'_>, candidates: Vec<Candidate>, off: &[String]) -> Vec<Candidate> {
    run_stage(Stage::Findings, refining, candidates, off)
}

fn run_stage(stage: Stage, refining: &Refining<'_>, candidates: Vec<Candidate>, off: &[String]) -> Vec<Candidate> {
    REFINE_STEPS
        .iter()
        .filter(|step| step.stage == stage && !off.iter().any(|name| name == step.name))
        .fold(candidates, |candidates, step| {
            (step.run)(refining, candidates)
                .into_iter()
                .filter(|candidate| !candidate.is_empty())
                .collect()
        })
}

/// The words of `span` between characters that `separates`, each with its offset in code
/// points.
pub fn words_at(span: &str, separates: impl Fn(char) -> bool) -> Vec<(usize, &str)> {
    span.split(separates)
        .scan(0, |offset, word| {
            let at = *offset;
            *offset += word.chars().count() + 1;
            Some((at, word))
        })
        .filter(|(_, word)| !word.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_has_a_unique_name_and_says_what_it_does() {
        let mut names = std::collections::BTreeSet::new();
        for step in REFINE_STEPS {
            assert!(names.insert(step.name), "{} twice", step.name);
            assert!(is_step(step.name) && !step.does.is_empty());
        }
        // Model-span steps run before the findings steps, in the list as in the detector.
        let first_findings = REFINE_STEPS
            .iter()
            .position(|step| step.stage == Stage::Findings)
            .unwrap_or(REFINE_STEPS.len());
        assert!(
            REFINE_STEPS[first_findings..]
                .iter()
                .all(|step| step.stage == Stage::Findings)
        );
    }
}
