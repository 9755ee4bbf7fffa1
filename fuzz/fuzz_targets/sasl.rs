//! Fuzz target `sasl`: see `fuzz/targets.rs` for the property (shared with the bounded run on
//! stable, `tests/fuzz.rs`).
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::sasl(data));
