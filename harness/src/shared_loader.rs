//! The one loader every layer drives, built once per process with the
//! fuzzing policy.

use std::sync::OnceLock;

use loader::{Loader, Policy};

/// The policy the layers fuzz under: the defaults, with less fuel and a smaller
/// memory so that endless or greedy guests end quickly. Every limit is still on.
///
/// Cranelift does not optimize: compiling is most of the cost of a layer-3
/// input, and `OptLevel::None` compiles faster. This fuzzes the unoptimized
/// pipeline, not the optimizing one production runs (see `Policy::optimize_code`).
pub fn fuzzing_policy() -> Policy {
    Policy {
        fuel: 1_000_000,
        max_memory_bytes: 16 << 20,
        optimize_code: false,
        ..Policy::default()
    }
}

/// The process-wide loader with [`fuzzing_policy`].
///
/// # Panics
/// If wasmtime cannot build an engine at all, which is a broken setup, not a finding.
pub fn loader() -> &'static Loader {
    static LOADER: OnceLock<Loader> = OnceLock::new();
    LOADER.get_or_init(|| match Loader::new(fuzzing_policy()) {
        Ok(loader) => loader,
        Err(error) => panic!("setup: cannot build the loader: {error:#}"),
    })
}
