//! The fuzzing suite's library: the seam every embedder implements
//! ([`embedder`]), the description of its ABI that drives generators and
//! oracles ([`abi`]), the four layers and their oracles, and what the fuzz
//! targets and the driver share (replay, shrinking). It depends on no
//! command-line, report or time-formatting crate and prints nothing: it
//! returns what it has to say, and an oracle that fires panics.
//!
//! Each layer is a function `run(subject, data) -> Report`, called by a
//! few-line cargo-fuzz target and by `harness repro`, so a finding replays
//! through the exact same path on the stable toolchain. An oracle that sees
//! the embedder misbehave without crashing panics with a message that
//! starts with `oracle:`.
//!
//! Folders stand above what they use: the vocabulary ([`embedder`],
//! [`abi`], [`commands`], [`subject`]) and the shrinking helpers
//! ([`shrink`]) below the layers; the layers below [`targets`]. Campaigns,
//! triage, coverage and the bench live in the `driver` crate above.

pub mod abi;
pub mod alloc;
pub mod bare;
pub mod between_calls;
pub mod commands;
pub mod embedder;
pub mod exclusive;
pub mod forms;
pub mod history;
pub mod host_calls;
pub mod invalid_module;
pub mod limits;
pub mod memory_probe;
pub mod messages;
pub mod minimize;
pub mod phase;
pub mod raw_bytes;
pub mod replay;
pub mod report;
pub mod resident;
pub mod sample;
pub mod scratch;
pub mod selftest;
pub mod shrink;
pub mod subject;
pub mod targets;
#[cfg(test)]
mod test_abi;

pub use report::Report;
pub use subject::Subject;
pub use targets::{Layer, Target};
