//! The integration tests, in one binary: the real `git-session` against real repositories made
//! with real git.

mod check;
mod core;
mod differential;
mod harness;
mod trailer_cases;
