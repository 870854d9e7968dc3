//! The harness the document fuzz targets share: any bytes, under a file name that picks the
//! format, give a processed document or an error, never a panic.

use std::sync::LazyLock;

use obscura_detection::DetectOptions;
use obscura_anonymization::vault::{MemoryVault, VaultKeys};
use obscura_anonymization::{Level, Policy, Scope, ScopeSecrets};
use obscura_detection::catalog::{Catalog, Selection};
use obscura_documents::{ExportFormat, Limits, Request, process};

static SELECTION: LazyLock<Selection> = LazyLock::new(|| {
    let catalog = Catalog::load(None, Vec::new()).expect("the built-in packs load");
    catalog.select(Some("minimal"), None, None).expect("the minimal profile exists")
});

/// Reads, detects, anonymizes, writes and checks `bytes` as the file `name`.
pub fn process_as(name: &str, bytes: &[u8]) {
    let mut options = DetectOptions {
        language: Some("es".into()),
        ..DetectOptions::default()
    };
    SELECTION.apply_defaults(&mut options);
    let policy = Policy::level(Level::Intermediate);
    let keys = VaultKeys::new("k", &[1; 32]).expect("a 32-byte key");
    let secrets = ScopeSecrets::new(b"fuzz");
    let mut vault = MemoryVault::for_request();
    let mut scope = Scope {
        vault: &mut vault,
        keys: &keys,
        secrets: &secrets,
        language: "es".into(),
    };
    let limits = Limits {
        max_uncompressed_bytes: 64 << 20,
        ..Limits::default()
    };
    let request = Request {
        detector: &SELECTION.detector,
        detect_options: &options,
        given: None,
        policy: &policy,
        limits: &limits,
        export: ExportFormat::Original,
        observer: None,
    };
    let _ = process(bytes, Some(name), &request, &mut scope);
}
