//! What anonymization adds to detection, on text with about one entity per 100 bytes
//! (`cargo bench -p obscura-anonymization --bench anonymize`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

// The allocator the `obscura` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{Criterion, criterion_group, criterion_main};
use obscura_detection::DetectOptions;
use obscura_detection::catalog::Catalog;

#[path = "support/corpus.rs"]
mod corpus;
use corpus::{bench_operators, corpus};

fn anonymization(criterion: &mut Criterion) {
    let text = corpus();
    let catalog = Catalog::load(None, Vec::new()).unwrap();
    let selection = catalog.select(Some("minimal"), None, None).unwrap();
    let mut options = DetectOptions {
        language: Some("es".into()),
        ..DetectOptions::default()
    };
    selection.apply_defaults(&mut options);
    let detections = selection.detector.detect(&text, &options).unwrap().detections;
    eprintln!(
        "{} bytes, {} detections (one per {} bytes)",
        text.len(),
        detections.len(),
        text.len() / detections.len().max(1)
    );
    bench_operators(criterion, "anonymize", 20, &selection.detector, &options, &text);
}

criterion_group!(benches, anonymization);
criterion_main!(benches);
