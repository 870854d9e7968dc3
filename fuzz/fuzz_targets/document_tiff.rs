//! Fuzzes the TIFF reader and writer: any bytes named `f.tif` give a processed document or an
//! error, never a panic.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| obscura_fuzz::process_as("f.tif", data));
