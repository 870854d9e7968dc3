//! What anonymization adds to detection with the default profile, NER included, on the text
//! of the engine's anonymization benchmark (`cargo bench -p obscura-models --bench
//! anonymize_with_ner`). The model is read as in the `ner` benchmark.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use obscura_detection::DetectOptions;
use obscura_detection::catalog::Catalog;
use obscura_models::NerModel;
use obscura_models::recognizer::NerRecognizer;

#[path = "../../anonymization/benches/support/corpus.rs"]
mod corpus;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn anonymization(criterion: &mut Criterion) {
    let dir = std::env::var_os("OBSCURA_TEST_MODELS_DIR")
        .map(PathBuf::from)
        .expect("OBSCURA_TEST_MODELS_DIR names a models directory holding rampart");
    let model =
        NerModel::load(&dir.join("rampart")).expect("the default model is installed (scripts/test installs it)");
    let catalog = Catalog::load(None, vec![Arc::new(NerRecognizer::new(Arc::new(model)))]).unwrap();
    let selection = catalog.select(Some("standard"), None, None).unwrap();
    let mut options = DetectOptions {
        language: Some("es".into()),
        ..DetectOptions::default()
    };
    selection.apply_defaults(&mut options);
    let text = corpus::corpus();
    corpus::bench_operators(
        criterion,
        "anonymize_with_ner",
        10,
        &selection.detector,
        &options,
        &text,
    );
}

criterion_group!(benches, anonymization);
criterion_main!(benches);
