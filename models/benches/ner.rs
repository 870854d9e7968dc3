//! NER inference speed of the installed default model (`cargo bench -p obscura-models`).
//!
//! The model is read from `$OBSCURA_TEST_MODELS_DIR/rampart`, where `scripts/test` installs
//! it (under `~/.cache/obscura/models/`), or where `obscura models install rampart
//! --models-dir DIR` put it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use obscura_models::NerModel;

/// The allocator of the `obscura` binary, which keeps big tensors' pages between windows.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn model() -> NerModel {
    let dir = std::env::var_os("OBSCURA_TEST_MODELS_DIR")
        .map(PathBuf::from)
        .expect("OBSCURA_TEST_MODELS_DIR names a models directory holding rampart");
    NerModel::load(&dir.join("rampart")).expect("the default model is installed (scripts/test installs it)")
}

/// English and Spanish text from the datasets, about 60,000 characters.
fn text() -> String {
    let mut text = String::new();
    for line in include_str!("../../datasets/meddocan/dev.jsonl").lines().take(30) {
        let document: serde_json::Value = serde_json::from_str(line).unwrap();
        text.push_str(document["text"].as_str().unwrap());
        text.push('\n');
    }
    text
}

fn inference(criterion: &mut Criterion) {
    let model = model();
    let text = text();
    let mut group = criterion.benchmark_group("ner");
    group.sample_size(10);
    for window in [512, 128] {
        let tokens = model.count_tokens(&text).unwrap();
        group.throughput(Throughput::Elements(tokens as u64));
        group.bench_function(format!("window_{window}"), |bencher| {
            bencher.iter(|| {
                model
                    .predict_windowed(&[std::hint::black_box(&text)], window, window / 8)
                    .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, inference);
criterion_main!(benches);
