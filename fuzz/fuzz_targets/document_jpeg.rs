//! Fuzzes the JPEG reader and writer: any bytes named `f.jpg` give a processed document or an
//! error, never a panic.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| obscura_fuzz::process_as("f.jpg", data));
