//! Fuzzes the document pipeline under any name: the first byte picks the name's extension,
//! so that bytes of one format named as another (a mislabeled file) are covered too. Each
//! format also has its own target (`document_pdf`, `document_docx`, ...).

#![no_main]

use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 11] = [
    "f.docx", "f.txt", "f.csv", "f.json", "f.html", "f.md", "f.pdf", "f", "f.png", "f.tif", "f.jpg",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    obscura_fuzz::process_as(NAMES[usize::from(selector) % NAMES.len()], bytes);
});
