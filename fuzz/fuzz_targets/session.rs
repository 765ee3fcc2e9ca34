#![no_main]
//! `cargo fuzz run session`: see ../targets.rs for what it checks.

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::session(data));
