//! What anonymization adds to detection with the default profile, NER included, on the text
//! of the engine's anonymization benchmark (`cargo bench -p obscura-models --bench
//! anonymize_with_ner`). The model is read as in the `ner` benchmark.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use obscura_engine::DetectOptions;
use obscura_engine::anonymize::operator::{MaskOptions, Operator, Template};
use obscura_engine::anonymize::vault::{MemoryVault, VaultKeys};
use obscura_engine::anonymize::{Policy, Scope, ScopeSecrets, anonymize_text};
use obscura_engine::catalog::Catalog;
use obscura_models::NerModel;
use obscura_models::recognizer::NerRecognizer;

#[path = "../../engine/benches/support/corpus.rs"]
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
    let keys = VaultKeys::new("bench", &[3; 32]).unwrap();
    let secrets = ScopeSecrets::new(b"benchmark secret key");

    let mut group = criterion.benchmark_group("anonymize_with_ner");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.sample_size(10);
    group.bench_function("detect_only", |bencher| {
        bencher.iter(|| {
            selection
                .detector
                .detect(std::hint::black_box(&text), &options)
                .unwrap()
        })
    });
    for (name, operator) in [
        (
            "replace",
            Operator::Replace {
                template: Template::default(),
            },
        ),
        ("mask", Operator::Mask(MaskOptions::default())),
        ("surrogate", Operator::Surrogate),
    ] {
        let policy = Policy::uniform(operator);
        group.bench_function(format!("detect_and_{name}"), |bencher| {
            bencher.iter(|| {
                let detections = selection
                    .detector
                    .detect(std::hint::black_box(&text), &options)
                    .unwrap();
                let mut vault = MemoryVault::for_request();
                let mut scope = Scope {
                    vault: &mut vault,
                    keys: &keys,
                    secrets: &secrets,
                    language: "es".into(),
                };
                anonymize_text(&text, &detections, &policy, &mut scope).unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, anonymization);
criterion_main!(benches);
