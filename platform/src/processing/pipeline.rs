//! The document pipeline on a blocking thread, with its steps reported as it advances.

use obscura_anonymization::vault::{MemoryVault, VaultEntry};
use obscura_anonymization::{Policy, Scope};
use obscura_documents::{ExportFormat, Processed, Stage};
use uuid::Uuid;

use super::detect::{Reporter, Step};
use super::{Engine, ProcessingError};

/// What the pipeline reads and how.
pub(super) struct Pipeline {
    pub(super) bytes: bytes::Bytes,
    pub(super) filename: String,
    pub(super) selection: obscura_detection::catalog::Selection,
    pub(super) options: obscura_detection::DetectOptions,
    /// The entities to use in place of detection (a reviewed set).
    pub(super) given: Option<std::sync::Arc<obscura_anonymization::given::GivenSpans>>,
    pub(super) language: String,
    pub(super) policy: Policy,
    pub(super) tenant_id: Uuid,
}

/// Runs the pipeline on a blocking thread with `vault` as the scope's vault, reporting its
/// steps within `percent` (from, to); returns what it made and the vault's entries
/// afterwards. A parser's panic is the file's failure (`corrupt`), never the worker's.
pub(super) async fn run(
    pipeline: Pipeline,
    engine: &Engine,
    mut vault: MemoryVault,
    report: Reporter<'_>,
    percent: (u8, u8),
) -> Result<(Processed, Vec<VaultEntry>), ProcessingError> {
    let keys = engine.master_keys.vault_keys(pipeline.tenant_id);
    let secrets = engine.master_keys.scope_secrets(pipeline.tenant_id);
    let limits = engine.limits.clone();
    let span = tracing::Span::current();
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel::<obscura_documents::Step>();
    let work = tokio::task::spawn_blocking(move || {
        span.in_scope(|| {
            let mut scope = Scope {
                vault: &mut vault,
                keys: &keys,
                secrets: &secrets,
                language: pipeline.language,
            };
            let observe = move |step: obscura_documents::Step| {
                // The receiver is gone only when the job was dropped.
                let _ = sender.send(step);
            };
            let request = obscura_documents::Request {
                detector: &pipeline.selection.detector,
                detect_options: &pipeline.options,
                given: pipeline.given.as_deref(),
                policy: &pipeline.policy,
                limits: &limits,
                export: ExportFormat::Original,
                observer: Some(&observe),
            };
            let processed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                obscura_documents::process(&pipeline.bytes, Some(&pipeline.filename), &request, &mut scope)
            }))
            .map_err(|_| {
                ProcessingError::Failed(obscura_documents::DocumentError::Corrupt(
                    "the file could not be read (an internal error of the reader)".into(),
                ))
            })??;
            Ok((processed, vault.entries().to_vec()))
        })
    });
    // Steps go out as they come, one write per change of percent or stage.
    let forward = async {
        let mut last = None;
        while let Some(step) = receiver.recv().await {
            let step = describe(step, percent);
            if last != Some((step.code, step.percent)) {
                last = Some((step.code, step.percent));
                report(step).await;
            }
        }
    };
    let (result, ()) = tokio::join!(work, forward);
    result.map_err(|error| ProcessingError::Service(crate::services::ServiceError::Task(error)))?
}

/// A pipeline step as a job's progress within `(from, to)` percent: pages read take the
/// first tenth, OCR the next four, detection the rest.
fn describe(step: obscura_documents::Step, (from, to): (u8, u8)) -> Step {
    let share = |done: usize, total: usize| done as f64 / total.max(1) as f64;
    let (start, width, code, message) = match step.stage {
        Stage::PageRead => (
            0.0,
            0.1,
            "page_read",
            format!("page {} of {} read", step.done, step.total),
        ),
        Stage::OcrPage => (
            0.1,
            0.4,
            "ocr_page",
            format!("image {} of {} read with OCR", step.done, step.total),
        ),
        Stage::Detected => (
            0.5,
            0.5,
            "entities_detecting",
            format!("{} of {} parts searched for personal data", step.done, step.total),
        ),
    };
    let span = f64::from(to.saturating_sub(from));
    let percent = f64::from(from) + span * (start + width * share(step.done, step.total));
    Step {
        percent: percent.round().clamp(0.0, 100.0) as u8,
        code,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_fill_their_share_of_the_range() {
        let step = |stage, done, total| describe(obscura_documents::Step { stage, done, total }, (10, 90));
        assert_eq!(step(Stage::PageRead, 3, 10).percent, 12);
        assert_eq!(step(Stage::PageRead, 3, 10).message, "page 3 of 10 read");
        assert_eq!(step(Stage::OcrPage, 4, 4).percent, 50);
        assert_eq!(step(Stage::Detected, 10, 10).percent, 90);
        assert_eq!(step(Stage::Detected, 0, 0).percent, 50);
    }
}
