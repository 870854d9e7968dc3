//! The text and the measurements of the anonymization benchmarks: detection alone, then
//! detection and each operator, on text with about one entity per 100 bytes.

use criterion::{Criterion, Throughput};
use obscura_anonymization::operator::{MaskOptions, Operator, Template};
use obscura_anonymization::vault::{MemoryVault, VaultKeys};
use obscura_anonymization::{Policy, Scope, ScopeSecrets, anonymize_text};
use obscura_detection::validate::spain::dni_letter;
use obscura_detection::{DetectOptions, Detector};

/// Benchmarks `group` on `text` with `detector`: detection only, then detection and
/// `replace`, `mask` and `surrogate` with a request's vault.
pub fn bench_operators(
    criterion: &mut Criterion,
    group: &str,
    samples: usize,
    detector: &Detector,
    options: &DetectOptions,
    text: &str,
) {
    let keys = VaultKeys::new("bench", &[3; 32]).unwrap();
    let secrets = ScopeSecrets::new(b"benchmark secret key");
    let mut group = criterion.benchmark_group(group);
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.sample_size(samples);
    group.bench_function("detect_only", |bencher| {
        bencher.iter(|| detector.detect(std::hint::black_box(text), options).unwrap().detections)
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
                let detections = detector.detect(std::hint::black_box(text), options).unwrap().detections;
                let mut vault = MemoryVault::for_request();
                let mut scope = Scope {
                    vault: &mut vault,
                    keys: &keys,
                    secrets: &secrets,
                    language: "es".into(),
                };
                anonymize_text(text, &detections, &policy, &mut scope).unwrap()
            })
        });
    }
    group.finish();
}

/// About 100 KB of Spanish and English sentences, each of about 100 bytes with one entity;
/// a tenth of the values repeat, as names and ids do in real documents.
pub fn corpus() -> String {
    let mut lines = Vec::new();
    for index in 0..1000_u32 {
        let unique = if index % 10 == 0 { 7 } else { index };
        let line = match index % 5 {
            0 => format!("El paciente fue atendido y se le puede escribir a p{unique}.garcia@example.com para citas."),
            1 => format!(
                "Para cualquier consulta sobre el expediente llame al teléfono +34 612 {:03} {:03}.",
                unique % 1000,
                (unique * 7) % 1000
            ),
            2 => {
                "The customer paid with the card on file and asked for a refund to IBAN ES91 2100 0418 4502 0005 1332."
                    .to_owned()
            }
            3 => format!(
                "Según el informe, su documento de identidad es el DNI {:08}{} y consta en el registro.",
                10_000_000 + unique,
                dni_letter(u64::from(10_000_000 + unique))
            ),
            _ => format!(
                "The server at 10.{}.{}.{} answered slowly this morning and was restarted by the on-call team.",
                unique % 250,
                (unique / 250) % 250,
                1 + unique % 200
            ),
        };
        lines.push(line);
    }
    lines.join("\n")
}
