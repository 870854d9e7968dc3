//! Detection throughput on a mixed English and Spanish text (`cargo bench -p obscura-detection`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use obscura_detection::DetectOptions;
use obscura_detection::catalog::Catalog;

/// The Presidio sentences and the first MEDDOCAN reports, as one text of about 1 MB.
fn corpus() -> String {
    let presidio = include_str!("../../datasets/presidio/synth_v2.jsonl");
    let meddocan = include_str!("../../datasets/meddocan/dev.jsonl");
    let mut texts = Vec::new();
    for line in presidio.lines().chain(meddocan.lines().take(60)) {
        let document: serde_json::Value = serde_json::from_str(line).unwrap();
        texts.push(document["text"].as_str().unwrap().to_owned());
    }
    texts.join("\n\n")
}

fn detection(criterion: &mut Criterion) {
    let text = corpus();
    let catalog = Catalog::load(None, Vec::new()).unwrap();
    let mut group = criterion.benchmark_group("detect");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.sample_size(10);
    for profile in ["minimal", "standard"] {
        let selection = catalog.select(Some(profile), None, None).unwrap();
        let mut options = DetectOptions::default();
        selection.apply_defaults(&mut options);
        group.bench_function(profile, |bencher| {
            bencher.iter(|| {
                selection
                    .detector
                    .detect(std::hint::black_box(&text), &options)
                    .unwrap()
                    .detections
            })
        });
    }
    group.finish();
}

criterion_group!(benches, detection);
criterion_main!(benches);
