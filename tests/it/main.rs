//! The integration tests, in one binary: the real `git-session` against real repositories made
//! with real git.

mod adversarial;
mod cache;
mod check;
mod core;
mod differential;
mod docs;
mod eco;
mod fuzz;
mod harness;
mod hooks;
mod memo;
mod track;
mod trailer_cases;

#[path = "../../benches/support/synth.rs"]
mod synth;
