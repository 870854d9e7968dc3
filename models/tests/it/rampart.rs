//! The converted default model against onnxruntime on the original file, and its spans.

use obscura_detection::recognizer::{RecognitionRequest, Recognizer};
use obscura_detection::text::AnalyzedText;
use obscura_models::NerRecognizer;
use serde::Deserialize;

use crate::rampart_model;

#[derive(Deserialize)]
struct Reference {
    runtime: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    text: String,
    ids: Vec<u32>,
    logits: Vec<Vec<f32>>,
}

/// Written by `scripts/rampart-reference.py` from the package's own ONNX file.
fn reference() -> Reference {
    serde_json::from_str(include_str!("../fixtures/rampart-reference.json")).unwrap()
}

fn argmax(row: &[f32]) -> usize {
    row.iter()
        .enumerate()
        .max_by(|left, right| left.1.total_cmp(right.1))
        .map(|(index, _)| index)
        .unwrap()
}

#[test]
fn logits_match_onnxruntime_on_the_original_file() {
    let model = rampart_model();
    let reference = reference();
    let mut largest_difference = 0.0_f32;
    let (mut tokens, mut agreeing) = (0, 0);
    for case in &reference.cases {
        let (ids, logits) = model.window_logits(&case.text).unwrap();
        assert_eq!(ids, case.ids, "token ids of {:?}", case.text);
        assert_eq!(logits.len(), case.logits.len());
        for (ours, theirs) in logits.iter().zip(&case.logits) {
            for (a, b) in ours.iter().zip(theirs) {
                largest_difference = largest_difference.max((a - b).abs());
            }
            tokens += 1;
            agreeing += usize::from(argmax(ours) == argmax(theirs));
        }
    }
    eprintln!(
        "{} texts, {tokens} tokens: largest logit difference {largest_difference:e} against {}",
        reference.cases.len(),
        reference.runtime
    );
    assert!(
        largest_difference <= 1e-4,
        "largest logit difference {largest_difference}"
    );
    assert_eq!(agreeing, tokens, "predicted labels differ");
}

/// What a detector with the model alone finds: its spans, bounded by the detector's span
/// refinement.
fn found(text: &str, language: &str) -> Vec<(String, String)> {
    let recognizer = NerRecognizer::new(rampart_model());
    let detector = obscura_detection::Detector::without_patterns(vec![std::sync::Arc::new(recognizer)]).unwrap();
    let options = obscura_detection::DetectOptions {
        language: Some(language.into()),
        ..Default::default()
    };
    detector
        .detect(text, &options)
        .unwrap()
        .detections
        .into_iter()
        .map(|detection| {
            (
                detection.entity_type.to_string(),
                text[detection.byte_start..detection.byte_end].to_owned(),
            )
        })
        .collect()
}

#[test]
fn names_and_addresses_in_english_and_spanish() {
    let english = found(
        "My name is Sarah Connor and I live at 742 Evergreen Terrace, Springfield.",
        "en",
    );
    assert!(
        english.contains(&("PERSON".into(), "Sarah Connor".into())),
        "{english:?}"
    );
    assert!(
        english
            .iter()
            .any(|(entity, text)| entity == "ADDRESS" && text.starts_with("742 Evergreen Terrace")),
        "{english:?}"
    );
    let spanish = found("El paciente José Núñez Pérez ingresó ayer en el hospital.", "es");
    assert!(
        spanish.contains(&("PERSON".into(), "José Núñez Pérez".into())),
        "{spanish:?}"
    );
}

#[test]
fn offsets_point_at_the_original_text_around_emoji_accents_and_combining_marks() {
    // "Zoë" with a combining diaeresis, an emoji with joiners, and accents the uncased
    // tokenizer strips: the spans must still cut the original characters exactly.
    let text = "👩‍⚕️ Nurse note: Zoe\u{308} Ångström called Dr. Émile Zola about it.";
    let spans = found(text, "en");
    let people: Vec<&str> = spans
        .iter()
        .filter(|(entity, _)| entity == "PERSON")
        .map(|(_, text)| text.as_str())
        .collect();
    assert!(people.contains(&"Émile Zola"), "{spans:?}");
    assert!(
        people.iter().any(|person| person.starts_with("Zoe\u{308}")),
        "{spans:?}"
    );
}

#[test]
fn long_texts_are_windowed_and_every_window_is_read() {
    let model = rampart_model();
    let sentence = "Please forward the file to Margaret Thompson before Friday. ";
    let text = sentence.repeat(60);
    let spans = model.predict(&[&text]).unwrap().pop().unwrap();
    let characters: Vec<char> = text.chars().collect();
    let sentence_length = sentence.chars().count();
    let mut copies_found = std::collections::BTreeSet::new();
    for span in &spans {
        let found: String = characters[span.start..span.end].iter().collect();
        if span.label == "PERSON" && found == "Margaret Thompson" {
            copies_found.insert(span.start / sentence_length);
        }
    }
    // Every copy, including those in the overlaps between windows and in the last one.
    assert_eq!(copies_found.len(), 60, "found in copies {copies_found:?}");
}

#[test]
fn texts_batched_together_give_each_text_its_own_spans() {
    let recognizer = NerRecognizer::new(rampart_model());
    let request = RecognitionRequest {
        language: "es",
        context_window: 5,
    };
    // Texts of very different lengths, so that the batch is padded.
    let long = "El paciente Juan Pérez García vive en la Calle Mayor 5 de Madrid. ".repeat(30);
    let texts = [
        "Me llamo Ana López.",
        long.as_str(),
        "Contact John Smith at 42 Baker Street, London.",
        "",
        "Sin datos personales.",
    ];
    let analyzed: Vec<AnalyzedText<'_>> = texts.iter().map(|text| AnalyzedText::new(text)).collect();
    let references: Vec<&AnalyzedText<'_>> = analyzed.iter().collect();
    let batched = recognizer.recognize_many(&references, &request).unwrap();
    assert_eq!(batched.len(), texts.len());
    let spans = |candidates: &[obscura_detection::Candidate]| -> Vec<(String, usize, usize)> {
        candidates
            .iter()
            .map(|candidate| (candidate.entity_type.to_string(), candidate.start, candidate.end))
            .collect()
    };
    for (text, found) in analyzed.iter().zip(&batched) {
        assert_eq!(spans(found), spans(&recognizer.recognize(text, &request).unwrap()));
    }
    assert!(spans(&batched[0]).iter().any(|(kind, _, _)| kind == "PERSON"));
    assert!(batched[3].is_empty());
}
