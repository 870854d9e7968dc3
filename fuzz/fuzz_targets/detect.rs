//! Fuzzes the detection pipeline: any UTF-8 text, in both languages, whole and streamed.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use obscura_detection::stream::DetectionStream;
use obscura_detection::{DetectOptions, Detector};

fn detector() -> &'static Detector {
    static DETECTOR: OnceLock<Detector> = OnceLock::new();
    DETECTOR.get_or_init(|| Detector::with_builtin_packs().expect("built-in packs load"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for language in ["en", "es"] {
        let options = DetectOptions { language: Some(language.into()), explain: true, ..DetectOptions::default() };
        let whole = detector().detect(text, &options).expect("valid options");
        for detection in &whole.detections {
            assert!(text.is_char_boundary(detection.byte_start) && text.is_char_boundary(detection.byte_end));
        }
        let mut stream = DetectionStream::new(detector(), options).with_sizes(64, 512);
        let middle = text.char_indices().nth(text.chars().count() / 2).map_or(0, |(byte, _)| byte);
        stream.push(&text[..middle]).expect("valid options");
        stream.push(&text[middle..]).expect("valid options");
        assert_eq!(stream.finish().expect("valid options"), whole);
    }
});
