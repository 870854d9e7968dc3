//! Property tests: any input is safe, offsets are sound, and streaming equals whole-text
//! detection.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use obscura_detection::stream::DetectionStream;
use obscura_detection::{DetectOptions, Detector};
use proptest::prelude::*;

fn detector() -> &'static Detector {
    static DETECTOR: std::sync::OnceLock<Detector> = std::sync::OnceLock::new();
    DETECTOR.get_or_init(|| Detector::with_builtin_packs().expect("built-in packs load"))
}

/// Pieces that look like personal data, and awkward Unicode around them.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("jane.doe@example.com".to_owned()),
        Just("4111 1111 1111 1111".to_owned()),
        Just("＋３４ ６１２ ３４５ ６７８".to_owned()),
        Just("DNI 12345678Z".to_owned()),
        Just("nacido el 15 de marzo de 1980".to_owned()),
        Just("IBAN ES91 2100 0418 4502 0005 1332".to_owned()),
        Just("192.168.0.1".to_owned()),
        Just("password=hunter2hunter2".to_owned()),
        Just("é\u{301}".to_owned()),
        Just("👩‍👩‍👧".to_owned()),
        Just("\u{200B}\u{200D}\u{FEFF}".to_owned()),
        Just("שלום עולם".to_owned()),
        Just(" \n\t".to_owned()),
        "[a-zA-Z0-9 .,:@/+-]{0,24}",
        any::<String>(),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..40).prop_map(|pieces| pieces.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn detections_fall_on_char_boundaries_and_agree_with_code_points(text in text(), language in prop_oneof![Just("en"), Just("es")]) {
        let options = DetectOptions { language: Some(language.to_owned()), explain: true, ..DetectOptions::default() };
        let detections = detector().detect(&text, &options).expect("valid options").detections;
        let length = text.chars().count();
        let mut previous_end = 0;
        for detection in &detections {
            prop_assert!(detection.start < detection.end && detection.end <= length);
            prop_assert!(text.is_char_boundary(detection.byte_start) && text.is_char_boundary(detection.byte_end));
            prop_assert_eq!(text[..detection.byte_start].chars().count(), detection.start);
            prop_assert_eq!(text[detection.byte_start..detection.byte_end].chars().count(), detection.end - detection.start);
            prop_assert!((0.0..=1.0).contains(&detection.score));
            prop_assert!(detection.start >= previous_end, "detections overlap");
            previous_end = detection.end;
        }
    }

    #[test]
    fn streaming_equals_whole_text(text in text(), cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6)) {
        let options = DetectOptions::default();
        let whole = detector().detect(&text, &options).expect("valid options");
        let boundaries: Vec<usize> = text.char_indices().map(|(byte, _)| byte).chain([text.len()]).collect();
        let mut points: Vec<usize> = cuts.iter().map(|cut| boundaries[cut.index(boundaries.len())]).collect();
        points.sort_unstable();
        // Tiny rounds, so that every text takes several.
        let mut stream = DetectionStream::new(detector(), options).with_sizes(128, 256);
        let mut from = 0;
        for point in points.into_iter().chain([text.len()]) {
            stream.push(&text[from..point]).expect("valid options");
            from = point;
        }
        prop_assert_eq!(stream.finish().expect("valid options"), whole);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn local_context_windows_equal_the_full_word_list(text in text(), a in any::<prop::sample::Index>(), b in any::<prop::sample::Index>(), window in 0_usize..8) {
        let analyzed = obscura_detection::text::AnalyzedText::new(&text);
        let length = analyzed.char_len();
        let (mut start, mut end) = (a.index(length + 1), b.index(length + 1));
        if start > end {
            std::mem::swap(&mut start, &mut end);
        }
        let expected: Vec<String> = obscura_detection::context::window_around(&obscura_detection::context::words(analyzed.normalized()), start, end, window)
            .into_iter()
            .map(str::to_owned)
            .collect();
        prop_assert_eq!(analyzed.context_window(start, end, window), expected);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn detecting_many_texts_equals_detecting_each(texts in prop::collection::vec(text(), 0..5)) {
        let options = DetectOptions { language: Some("es".to_owned()), ..DetectOptions::default() };
        let references: Vec<&str> = texts.iter().map(String::as_str).collect();
        let many = detector().detect_many(&references, &options).unwrap().detections;
        prop_assert_eq!(many.len(), texts.len());
        for (text, found) in texts.iter().zip(many) {
            prop_assert_eq!(found, detector().detect(text, &options).unwrap().detections);
        }
    }
}
