//! The integration tests, in one binary: the real `git-session` against real repositories made
//! with real git.

mod core;
mod differential;
mod harness;
mod hooks;
mod trailer_cases;
