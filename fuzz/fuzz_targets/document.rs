//! Fuzzes the document readers and writers: any bytes, named as any format, give a processed
//! document or an error, never a panic. The first byte picks the name's extension; seeds
//! (`corpus/document`, not kept in the repository) start from the document fixtures: the
//! Word file, the PDFs (the scanned one holds a JPEG, deflated samples and a fax) and images.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use obscura_engine::DetectOptions;
use obscura_engine::anonymize::vault::{MemoryVault, VaultKeys};
use obscura_engine::anonymize::{Level, Policy, Scope, ScopeSecrets};
use obscura_engine::catalog::{Catalog, Selection};
use obscura_engine::document::{ExportFormat, Limits, Request, process};

static SELECTION: LazyLock<Selection> = LazyLock::new(|| {
    let catalog = Catalog::load(None, Vec::new()).expect("the built-in packs load");
    catalog.select(Some("minimal"), None, None).expect("the minimal profile exists")
});

const NAMES: [&str; 10] = [
    "f.docx", "f.txt", "f.csv", "f.json", "f.html", "f.md", "f.pdf", "f", "f.png", "f.tif",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let name = NAMES[usize::from(selector) % NAMES.len()];
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
        policy: &policy,
        limits: &limits,
        export: ExportFormat::Original,
    };
    let _ = process(bytes, Some(name), &request, &mut scope);
});
