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
//! The loader only ever calls `main`, so the probe generator's module is an
//! interpreter (one per memory shape, compiled once per process) whose `main`
//! reads a probe's steps from the request and runs them; the harness invokes
//! it once per probe (at most [`probes::MAX_PROBES`]), each in a fresh store.
//! A wasm-smith module is invoked once. Compiling dominates the cost of a
//! wasm-smith input, so [`cache`] also keeps the last few of those.

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

use probes::{ProbeModule, ProbeShape};
use wasmi_diff::WasmiModule;

/// One input in this many goes to wasm-smith, the others to the probe generator.
pub const SMITH_ONE_IN: u8 = 8;

/// Runs one input of this layer. The generator is chosen by the sum of all
/// input bytes, so that almost any mutation re-rolls it: the mix of
/// generators stays at one wasm-smith input in [`SMITH_ONE_IN`] however the
/// corpus grows (wasm-smith inputs cost ten times more and would otherwise
/// take over the corpus, since every new module covers new compiler paths).
pub fn run(data: &[u8]) -> Report {
    let mut u = Unstructured::new(data);
    if uses_smith(data) { run_smith(smith_module(&mut u)) } else { run_probes(&mut u) }
}

/// Whether `data` goes to the wasm-smith generator.
pub fn uses_smith(data: &[u8]) -> bool {
    data.iter().fold(0u8, |sum, byte| sum.wrapping_add(*byte)) % SMITH_ONE_IN == 0
}

/// The structured form of an input: the module it runs. For a probe input
/// that is its shape's interpreter, whose steps come in the request, so the
/// module alone rarely reproduces a probe finding and triage then minimizes
/// the fuzz bytes instead.
pub fn module_of(data: &[u8]) -> Vec<u8> {
    let mut u = Unstructured::new(data);
    if uses_smith(data) {
        smith_module(&mut u)
    } else {
        let module = probe_module(&mut u);
        module.annotated(&cache::interpreter(module.shape).0)
    }
}

/// Runs an explicit module through the oracles that hold for any module: it
/// is invoked once with the empty request, as a wasm-smith module is, and
/// checked against the memory cap and wasmi. The spec oracle needs probes and
/// is skipped.
pub fn run_module(module: &[u8]) -> Report {
    run_module_as(module.to_vec(), "generator:explicit-module")
}

/// The probe generator: one invocation of the shape's interpreter per probe,
/// each checked by all three oracles.
fn run_probes(u: &mut Unstructured<'_>) -> Report {
    let policy = loader().policy();
    let cap = policy.max_memory_bytes as u64;
    let module = probe_module(u);
    let mut labels = vec!["generator:probes".to_owned()];
    let (interpreter, loaded) = cache::interpreter(module.shape);
    let bytes = module.annotated(&interpreter);
    let compiled = match label_cached(loaded, &mut labels) {
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
        let request = probes::request(probe);
        let outcome = invoke(function, &request);
        oracles::check_memory_cap(&outcome, policy.max_memory_bytes);
        oracles::check_spec(index, spec::expect(module.model(cap), probe), &outcome);
        differential(wasmi, index, &request, &outcome, &mut labels);
        last = Some(outcome);
    }
    match last {
        Some(outcome) => report(outcome, labels, bytes),
        None => report(invoke(function, b""), labels, bytes),
    }
}

/// A probe module from the input; an input too short for one gets a single empty probe.
fn probe_module(u: &mut Unstructured<'_>) -> ProbeModule {
    let cap = loader().policy().max_memory_bytes as u64;
    ProbeModule::generate(u, cap).unwrap_or_else(|_| ProbeModule { shape: ProbeShape { minimum: 1, maximum: None }, probes: vec![Vec::new()] })
}

/// A wasm-smith module from the input; an input wasm-smith cannot use gets a bare memory.
fn smith_module(u: &mut Unstructured<'_>) -> Vec<u8> {
    let cap = loader().policy().max_memory_bytes as u64;
    smith::generate(u, cap).unwrap_or_else(|_| ProbeShape { minimum: 1, maximum: None }.encode())
}

/// The wasm-smith generator: one invocation, checked for the cap and against wasmi.
fn run_smith(bytes: Vec<u8>) -> Report {
    run_module_as(bytes, "generator:wasm-smith")
}

/// One invocation with the empty request, checked for the cap and against wasmi.
fn run_module_as(bytes: Vec<u8>, generator: &str) -> Report {
    let policy = loader().policy();
    let mut labels = vec![generator.to_owned()];
    let compiled = match label_cached(cache::load(&bytes), &mut labels) {
        Ok(compiled) => compiled,
        Err(rejection) => return report(Outcome::rejected(rejection), labels, bytes),
    };
    let outcome = invoke(&compiled.function, b"");
    oracles::check_memory_cap(&outcome, policy.max_memory_bytes);
    differential(&compiled.wasmi, 0, b"", &outcome, &mut labels);
    report(outcome, labels, bytes)
}

/// The compiled module, labelling cache hits `compile:cached`.
fn label_cached(loaded: cache::Loaded, labels: &mut Vec<String>) -> Result<Arc<cache::Compiled>, Rejection> {
    let (compiled, cached) = loaded?;
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

/// The layer's report, after the message oracle every layer applies.
fn report(outcome: Outcome, labels: Vec<String>, module: Vec<u8>) -> Report {
    crate::messages::check(&outcome);
    Report { outcome, labels, module: Some(module) }
}
