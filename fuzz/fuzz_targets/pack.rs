//! Fuzzes the pattern-pack parser: any bytes give a pack or an error, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = obscura_detection::pack::parse_pack(text, "fuzz.yaml");
        let _ = obscura_detection::pack::parse_pack(text, "fuzz.json");
    }
});
