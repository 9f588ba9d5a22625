//! Extism 1.30 behind the suite's embedder seam: a real plugin runtime on
//! wasmtime (43, its own) that no one here wrote, fuzzed by all four layers.
//!
//! - [`embedder`]: Extism configured as a careful host configures it for
//!   untrusted plugins, and its results mapped into the suite's vocabulary;
//! - [`abi`]: Extism's ABI (the kernel and host functions of
//!   `extism:host/env`, WASI, an exported `run`), the glue generated modules
//!   use, and an independent host for the wasmi differential ([`abi::wasmi_host`]);
//! - [`host_api`]: layer 4's Extism half: the interpreter plugin, every
//!   kernel and host function as a command, and a reference model of
//!   Extism's documented behaviour.
//!
//! [`subject`] builds it once per process under the policy of the profile
//! the process runs under; its targets carry the prefix `extism_`. Extism
//! configures its engine itself (Cranelift's optimizer, wasmtime's default
//! Wasm features) under either profile: a profile changes only its limits.

pub mod abi;
pub mod embedder;
pub mod host_api;

use std::sync::OnceLock;

use contract::{Policy, Profile};
use harness::{Subject, Target};

/// Extism under the policy of [`Profile::current`], built once per process.
///
/// # Panics
/// If the profile is unknown or the sandbox link folder cannot be made: a
/// broken setup, not a finding.
pub fn subject() -> &'static Subject {
    static SUBJECT: OnceLock<Subject> = OnceLock::new();
    SUBJECT.get_or_init(|| {
        let profile = Profile::current().unwrap_or_else(|error| panic!("setup: {error}"));
        subject_with(profile.policy()).unwrap_or_else(|error| panic!("setup: cannot build the Extism host: {error}"))
    })
}

/// Extism under `policy`.
pub fn subject_with(policy: Policy) -> Result<Subject, String> {
    let abi = abi::abi(&policy);
    let embedder = embedder::Extism::new(policy)?;
    Ok(Subject::new(Box::new(embedder), abi, Box::new(host_api::ExtismHostApi)))
}

/// Extism's fuzz targets, built by the cargo-fuzz package `embedders/extism/fuzz/`.
pub static TARGETS: [Target; 4] = Target::layers(
    ["extism_raw_bytes", "extism_invalid_module", "extism_memory_probe", "extism_host_calls"],
    "extism",
    subject,
    "embedders/extism/fuzz",
    &["extism-1.30.0/src/"],
    false,
);
