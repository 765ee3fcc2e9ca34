#![no_main]
//! `cargo fuzz run trailer`: see ../targets.rs for what it checks.

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::trailer(data));
