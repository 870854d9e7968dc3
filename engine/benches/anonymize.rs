//! What anonymization adds to detection, on text with about one entity per 100 bytes
//! (`cargo bench -p obscura-engine --bench anonymize`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

// The allocator the `obscura` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use obscura_engine::DetectOptions;
use obscura_engine::anonymize::operator::{MaskOptions, Operator, Template};
use obscura_engine::anonymize::vault::{MemoryVault, VaultKeys};
use obscura_engine::anonymize::{Policy, Scope, ScopeSecrets, anonymize_text};
use obscura_engine::catalog::Catalog;

#[path = "support/corpus.rs"]
mod corpus;
use corpus::corpus;

fn anonymization(criterion: &mut Criterion) {
    let text = corpus();
    let catalog = Catalog::load(None, Vec::new()).unwrap();
    let selection = catalog.select(Some("minimal"), None, None).unwrap();
    let mut options = DetectOptions {
        language: Some("es".into()),
        ..DetectOptions::default()
    };
    selection.apply_defaults(&mut options);
    let detections = selection.detector.detect(&text, &options).unwrap();
    eprintln!(
        "{} bytes, {} detections (one per {} bytes)",
        text.len(),
        detections.len(),
        text.len() / detections.len().max(1)
    );
    let keys = VaultKeys::new("bench", &[3; 32]).unwrap();
    let secrets = ScopeSecrets::new(b"benchmark secret key");

    let mut group = criterion.benchmark_group("anonymize");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.sample_size(20);
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
