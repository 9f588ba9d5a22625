//! The seam: what the layers need of an embedder, and nothing more.
//!
//! An embedder is built once per process from a [`contract::Policy`] (each
//! implementation has a constructor of its own), loads modules into
//! [`Loaded`] ones, and invokes those with a request and an optional
//! sandbox directory. Every layer, oracle, campaign and report works through
//! these two traits; the repository's loader implements them in the
//! `reference` crate, Extism in `extism-embedder`.

use std::collections::BTreeMap;
use std::path::Path;

use contract::{Outcome, Policy, Rejection};

/// The key-value store a module reads: the loader's lookup data, Extism's
/// manifest config. Keys and values are bytes; an embedder whose store holds
/// text skips entries that are not UTF-8.
pub type Store = BTreeMap<Vec<u8>, Vec<u8>>;

/// A Wasm runtime embedding under test.
pub trait Embedder: Send + Sync {
    /// The policy it was built from and enforces.
    fn policy(&self) -> &Policy;

    /// Checks, compiles and links `module`, reading `store` when it runs. A
    /// refusal names the stage and the reason. The store is fixed here, not
    /// per invocation, since some embedders (Extism) bake it into the
    /// compiled module.
    fn load(&self, module: &[u8], store: &Store) -> Result<Box<dyn Loaded>, Rejection>;
}

/// A module the embedder accepted, ready to run any number of times, each
/// time in a fresh instance.
pub trait Loaded: Send + Sync {
    /// Runs the entry function once with `request`; WASI, if the embedder
    /// offers it, sees only `sandbox` (or no files at all).
    fn invoke(&self, request: &[u8], sandbox: Option<&Path>) -> Outcome;
}

/// Loads `module` and, if accepted, invokes it once: the outcome of one input.
pub fn run(embedder: &dyn Embedder, module: &[u8], request: &[u8], store: &Store) -> Outcome {
    match embedder.load(module, store) {
        Ok(loaded) => loaded.invoke(request, None),
        Err(rejection) => Outcome::rejected(rejection),
    }
}
