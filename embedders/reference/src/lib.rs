//! The repository's loader (`loader/`) behind the suite's embedder seam: the
//! reference embedder, and the worked example of plugging one in.
//!
//! Plugging an embedder in takes three pieces, each a module here:
//! - [`embedder`]: the [`harness::embedder::Embedder`] and
//!   [`harness::embedder::Loaded`] traits over the embedder's own API;
//! - [`abi`]: the ABI description ([`harness::abi::Abi`]) that drives the
//!   generators and oracles, with the glue generated modules use
//!   ([`harness::abi::GuestIo`]) and an independent host for the wasmi
//!   differential ([`wasmi_host`]);
//! - [`host_api`]: the per-ABI half of layer 4 ([`harness::commands::HostApi`]):
//!   the interpreter's ABI-specific WAT, the host commands and the reference model.
//!
//! [`subject`] puts them together once per process, with the policy of the
//! profile the process runs under, and [`TARGETS`] names the four fuzz targets.

pub mod abi;
pub mod embedder;
pub mod host_api;
pub mod wasmi_host;

use std::sync::OnceLock;

use contract::{Policy, Profile};
use harness::{Subject, Target};

/// The reference embedder under the policy of [`Profile::current`], built once per process.
///
/// # Panics
/// If the profile is unknown or wasmtime cannot build an engine at all,
/// which is a broken setup, not a finding.
pub fn subject() -> &'static Subject {
    static SUBJECT: OnceLock<Subject> = OnceLock::new();
    SUBJECT.get_or_init(|| {
        let profile = Profile::current().unwrap_or_else(|error| panic!("setup: {error}"));
        subject_with(profile.policy()).unwrap_or_else(|error| panic!("setup: cannot build the loader: {error}"))
    })
}

/// The reference embedder under `policy`.
pub fn subject_with(policy: Policy) -> Result<Subject, String> {
    let abi = abi::abi(&policy);
    let embedder = embedder::Reference::new(policy)?;
    Ok(Subject::new(Box::new(embedder), abi, Box::new(host_api::OakHostApi)))
}

/// The reference embedder's fuzz targets, built by the cargo-fuzz package `embedders/reference/fuzz/`.
pub static TARGETS: [Target; 4] = Target::layers(
    ["raw_bytes", "invalid_module", "memory_probe", "host_calls"],
    "reference",
    subject,
    "embedders/reference/fuzz",
    &["loader/src/"],
    true,
);
