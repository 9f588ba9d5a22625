//! What the fuzzing suite and every embedder it fuzzes agree on.
//!
//! An embedder (the repository's reference loader, Extism, a user's own
//! server) is built from a [`Policy`] of limits, loads a module (accepted, or
//! refused with a [`Rejection`]: the [`Stage`] that refused it and why), and
//! reports each invocation as an [`Outcome`]: the stage reached, how it
//! ended ([`End`]), the response, logs, host calls, peak memory and captured
//! stdio. The vocabulary belongs to the suite, not to one embedder: each
//! embedder maps its own results into it, and a stage an embedder cannot tell
//! apart (one call that parses, validates and compiles) maps to the coarsest
//! stage it can name.

mod message;
mod outcome;
mod policy;
mod profile;
mod stage;

pub use message::{MAX_MESSAGE_BYTES, Rejection, printable_message};
pub use outcome::{End, HostCall, Outcome, Resource, TrapCode};
pub use policy::{Policy, WasmFeatureSet};
pub use profile::{PROFILE_VAR, Profile};
pub use stage::Stage;
