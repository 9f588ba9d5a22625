//! Layer 3, `memory_probe`: well-formed modules that probe the bounds of
//! linear memory, from two generators the input chooses between
//! (`generator:probes` and `generator:wasm-smith`).
//!
//! Oracles (in [`oracles`]): every probe traps exactly when the specification
//! says it must, computed from the address arithmetic in [`spec`]; memory
//! never grows past the policy cap; and wasmi, run on the same module with the
//! same request, agrees on trap or no trap and on the digest of the final
//! memory, unless either side ran out of fuel or hit a limit.
//!
//! The loader only ever calls `main`, so a probe module's `main` reads a
//! probe number from the request and runs that probe; the harness invokes the
//! same loaded function once per probe (at most [`probes::MAX_PROBES`]), each
//! in a fresh store. A wasm-smith module is invoked once. Compiling dominates
//! the cost of an input, so [`cache`] keeps the last few compiled modules.

pub mod cache;
pub mod oracles;
pub mod probes;
pub mod smith;
pub mod spec;
pub mod wasmi_diff;

use std::sync::Arc;

use arbitrary::Unstructured;
use loader::{Function, Outcome, Rejection, Storage};

use crate::report::Report;
use crate::shared_loader::loader;

use probes::ProbeModule;
use wasmi_diff::WasmiModule;

/// The module an input builds, from the generator the input chooses.
enum Built {
    /// A probe module, whose probes the spec oracle follows.
    Probes(ProbeModule),
    /// A wasm-smith module.
    Smith(Vec<u8>),
}

fn build(data: &[u8]) -> Built {
    let cap = loader().policy().max_memory_bytes as u64;
    let mut u = Unstructured::new(data);
    let choice = u.arbitrary::<u8>().unwrap_or_default();
    if choice.is_multiple_of(2) {
        Built::Probes(ProbeModule::generate(&mut u, cap).unwrap_or_else(|_| ProbeModule {
            minimum: 1,
            maximum: None,
            segment: Vec::new(),
            probes: vec![Vec::new()],
        }))
    } else {
        Built::Smith(smith::generate(&mut u, cap).unwrap_or_else(|_| {
            ProbeModule { minimum: 1, maximum: None, segment: Vec::new(), probes: Vec::new() }.encode()
        }))
    }
}

/// Runs one input of this layer.
pub fn run(data: &[u8]) -> Report {
    match build(data) {
        Built::Probes(module) => run_probes(&module),
        Built::Smith(bytes) => run_smith(bytes),
    }
}

/// The structured form of an input: the module it builds.
pub fn module_of(data: &[u8]) -> Vec<u8> {
    match build(data) {
        Built::Probes(module) => module.encode(),
        Built::Smith(bytes) => bytes,
    }
}

/// Runs an explicit module through the oracles that hold for any module: it
/// is invoked with the empty request (as a wasm-smith module is) and with
/// each probe number (as a probe module is), each call checked against the
/// memory cap and wasmi. The spec oracle needs the probes and is skipped.
pub fn run_module(module: &[u8]) -> Report {
    let policy = loader().policy();
    let mut labels = vec!["generator:explicit-module".to_owned()];
    let compiled = match load(module, &mut labels) {
        Ok(compiled) => compiled,
        Err(rejection) => return report(Outcome::rejected(rejection), labels, module.to_vec()),
    };
    let mut call = |index: usize, request: &[u8]| {
        let outcome = invoke(&compiled.function, request);
        oracles::check_memory_cap(&outcome, policy.max_memory_bytes);
        differential(&compiled.wasmi, index, request, &outcome, &mut labels);
        outcome
    };
    let mut outcome = call(0, b"");
    for probe in 0..probes::MAX_PROBES {
        outcome = call(probe + 1, &u32::try_from(probe).unwrap_or(u32::MAX).to_le_bytes());
    }
    report(outcome, labels, module.to_vec())
}

/// The probe generator: one invocation per probe, each checked by all three oracles.
fn run_probes(module: &ProbeModule) -> Report {
    let policy = loader().policy();
    let cap = policy.max_memory_bytes as u64;
    let bytes = module.encode();
    let mut labels = vec!["generator:probes".to_owned()];
    let compiled = match load(&bytes, &mut labels) {
        Ok(compiled) => compiled,
        Err(rejection) => {
            let outcome = Outcome::rejected(rejection);
            oracles::check_accepted(&outcome);
            return report(outcome, labels, bytes);
        }
    };
    let (function, wasmi) = (&compiled.function, &compiled.wasmi);
    let mut last = None;
    for (index, probe) in module.probes.iter().enumerate() {
        let request = u32::try_from(index).unwrap_or(u32::MAX).to_le_bytes();
        let outcome = invoke(function, &request);
        oracles::check_memory_cap(&outcome, policy.max_memory_bytes);
        oracles::check_spec(index, spec::expect(module.model(cap), probe), &outcome);
        differential(wasmi, index, &request, &outcome, &mut labels);
        last = Some(outcome);
    }
    match last {
        Some(outcome) => report(outcome, labels, bytes),
        None => report(invoke(function, &0u32.to_le_bytes()), labels, bytes),
    }
}

/// The wasm-smith generator: one invocation, checked for the cap and against wasmi.
fn run_smith(bytes: Vec<u8>) -> Report {
    let policy = loader().policy();
    let mut labels = vec!["generator:wasm-smith".to_owned()];
    let compiled = match load(&bytes, &mut labels) {
        Ok(compiled) => compiled,
        Err(rejection) => return report(Outcome::rejected(rejection), labels, bytes),
    };
    let outcome = invoke(&compiled.function, b"");
    oracles::check_memory_cap(&outcome, policy.max_memory_bytes);
    differential(&compiled.wasmi, 0, b"", &outcome, &mut labels);
    report(outcome, labels, bytes)
}

/// Loads `bytes` through the cache, labelling cache hits `compile:cached`.
fn load(bytes: &[u8], labels: &mut Vec<String>) -> Result<Arc<cache::Compiled>, Rejection> {
    let (compiled, cached) = cache::load(bytes)?;
    if cached {
        labels.push("compile:cached".to_owned());
    }
    Ok(compiled)
}

fn invoke(function: &Function, request: &[u8]) -> Outcome {
    static STORAGE: std::sync::OnceLock<Arc<Storage>> = std::sync::OnceLock::new();
    function.invoke_in(request, STORAGE.get_or_init(Arc::default), None)
}

/// Runs the same call on wasmi and compares; labels the calls it could not compare.
fn differential(
    wasmi: &Result<WasmiModule, String>,
    call: usize,
    request: &[u8],
    outcome: &Outcome,
    labels: &mut Vec<String>,
) {
    let Ok(module) = wasmi else {
        labels.push("differential:wasmi-refused".to_owned());
        return;
    };
    let run = module.invoke(request, loader().policy());
    if !oracles::check_differential(call, outcome, &run) {
        labels.push("differential:skipped".to_owned());
    }
}

fn report(outcome: Outcome, labels: Vec<String>, module: Vec<u8>) -> Report {
    Report { outcome, labels, module: Some(module) }
}
