//! Driving cargo-fuzz and libFuzzer, below both campaigns and coverage:
//! building the targets, fuzzing one for a time budget, merging a corpus,
//! coverage builds, and reading libFuzzer's output.

pub mod libfuzzer;
pub mod log;

pub use libfuzzer::{Build, FuzzJob, FuzzResult, Limits, Sanitizer, history_dir};
pub use log::{FindingKind, FuzzerLog, Status};
