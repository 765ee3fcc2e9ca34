//! git-session: long-running units of work inside a git repository, with progress derived from
//! commit-message trailers.
//!
//! The library knows nothing of the terminal or of clap. Only [`repo`] touches git; [`session`],
//! [`trailer`], [`links`] and [`progress`] do no I/O and take the time as a value.

pub mod aggregate;
pub mod cache;
pub mod chart;
mod codec;
pub mod command;
pub mod config;
pub mod context;
pub mod criteria;
pub mod doctor;
pub mod duration;
pub mod error;
pub mod gate;
pub mod history;
pub mod hooks;
pub mod html;
pub mod lifecycle;
pub mod links;
pub mod memo;
pub mod name;
pub mod overview;
mod par;
pub mod progress;
pub mod repo;
pub mod report;
pub mod session;
pub mod store;
pub mod trailer;
pub mod trust;

pub use error::{Error, Kind, Result};
