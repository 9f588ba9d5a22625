//! The fuzz layers over the loader, their oracles, and the machinery the CLI
//! and the fuzz targets share.
//!
//! Each layer is a function `run(data: &[u8]) -> Report`, called by a
//! three-line cargo-fuzz target and by `harness repro`, so a finding replays
//! through the exact same path on the stable toolchain. An oracle that sees
//! the loader misbehave without crashing panics with a message that starts
//! with `oracle:`.

pub mod campaign;
pub mod coverage;
pub mod forms;
pub mod host_calls;
pub mod invalid_module;
pub mod memory_probe;
pub mod messages;
pub mod raw_bytes;
pub mod replay;
pub mod report;
pub mod selftest;
pub mod shared_loader;
pub mod smith_features;
pub mod stats;
pub mod targets;

pub use report::Report;
pub use targets::{TARGETS, Target};
