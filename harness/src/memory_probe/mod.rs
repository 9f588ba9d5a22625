//! Layer 3, `memory_probe`: well-formed modules that probe the bounds of
//! linear memory and of every other resource a module can make its host
//! hold, from three generators the input chooses between
//! (`generator:probes`, `generator:resources` and `generator:wasm-smith`),
//! built for the embedder's ABI (its glue reads the request and writes the
//! response). One wasm-smith module in [`MAY_NOT_END_ONE_IN`] may never end
//! (`generator:wasm-smith-may-not-end`): the embedder's fuel and deadline
//! must stop it wherever it runs, and the differential skips it.
//!
//! Oracles (in [`oracles`]): every probe traps exactly when the specification
//! says it must, computed from the address arithmetic in [`spec`]; memory
//! never grows past the declared cap; and wasmi, running the same module
//! with the same request against the ABI's independent reference host,
//! agrees on trap or no trap and on the digest of the final memory, unless
//! either side ran out of fuel or hit a limit. A resource module
//! ([`resources`]) is checked against the caps on what its guest saw
//! ([`resources::check_sizes`]); one that opens files or makes folders is
//! called with a sandbox directory, made as layer 4 makes its own, a fresh
//! one each call. Both the probe and the resource generator
//! run their first request again after the others, on the same loaded
//! module, for the between-calls oracle ([`crate::between_calls`]).
//!
//! An embedder only ever calls the entry function, so the probe generator's
//! module is an interpreter (one per memory shape, compiled once per
//! subject) whose entry reads a probe's steps from the request and runs
//! them; the harness invokes it once per probe (at most
//! [`probes::MAX_PROBES`]), each in a fresh instance. A wasm-smith module is
//! invoked once. Compiling dominates the cost of a wasm-smith input, so
//! [`cache`] also keeps the last few of those.

pub mod cache;
pub mod oracles;
pub mod probes;
pub mod resources;
pub mod smith;
pub mod spec;
pub mod wasmi_diff;

use std::sync::Arc;

use arbitrary::Unstructured;
use contract::{End, Outcome, Rejection, Resource};

use crate::abi::{Abi, known};
use crate::embedder::Store;
use crate::host_calls::isolation::Canaries;
use crate::phase;
use crate::report::Report;
use crate::subject::Subject;

use cache::{Cache, Compiled, Lookup};
use probes::{ProbeModule, ProbeShape};
use smith::SmithModule;
use spec::MAX_PAGES_32;
use wasmi_diff::WasmiModule;

/// One input in this many goes to wasm-smith.
pub const SMITH_ONE_IN: u8 = 8;
/// One input in this many goes to the resource generator, whose module,
/// new for every input, is compiled every time as wasm-smith's are.
pub const RESOURCES_ONE_IN: u8 = 16;

/// The phase of the specification oracle.
const ORACLE_SPEC: &str = "oracle:spec";
/// The phase of the between-calls oracle.
const ORACLE_BETWEEN_CALLS: &str = "oracle:between-calls";
/// The phase of the cap oracle on what a resource module's guest saw.
const ORACLE_RESOURCE_CAPS: &str = "oracle:resource-caps";
/// The phase of the wasmi differential, compiling for wasmi included.
pub const ORACLE_DIFFERENTIAL: &str = "oracle:differential";
/// One wasm-smith module in this many may never end (see [`smith`]).
pub const MAY_NOT_END_ONE_IN: u8 = 4;

/// Runs one input of this layer. The generator is chosen by the sum of all
/// input bytes, so that almost any mutation re-rolls it: the mix of
/// generators stays at one wasm-smith input in [`SMITH_ONE_IN`] and one
/// resource input in [`RESOURCES_ONE_IN`] however the corpus grows
/// (wasm-smith inputs cost ten times more and would otherwise take over the
/// corpus, since every new module covers new compiler paths).
pub fn run(subject: &Subject, data: &[u8]) -> Report {
    crate::exclusive::run(|| {
        let mut u = Unstructured::new(data);
        if let Some(may_not_end) = smith_choice(data) {
            let module = phase::timed(phase::GENERATE, || smith_module(&subject.abi, &mut u, may_not_end));
            let generator = if module.may_not_end { "generator:wasm-smith-may-not-end" } else { "generator:wasm-smith" };
            run_module_as(subject, module.bytes, generator, module.may_not_end)
        } else if uses_resources(data) {
            run_resources(subject, &mut u)
        } else {
            run_probes(subject, &mut u)
        }
    })
}

/// Whether `data` goes to the resource generator: one input in
/// [`RESOURCES_ONE_IN`], chosen by the sum of its bytes as wasm-smith's are
/// (a sum of 9 modulo 16, which is never 0 modulo 8).
pub fn uses_resources(data: &[u8]) -> bool {
    byte_sum(data) % RESOURCES_ONE_IN == 9
}

/// The sum of the input's bytes, wrapping: what chooses the generator.
fn byte_sum(data: &[u8]) -> u8 {
    data.iter().fold(0u8, |sum, byte| sum.wrapping_add(*byte))
}

/// Whether `data` goes to the wasm-smith generator.
pub fn uses_smith(data: &[u8]) -> bool {
    smith_choice(data).is_some()
}

/// For an input that goes to wasm-smith, whether its module is left without
/// termination fuel; `None` for a probe input. Both are chosen by the sum of
/// the input bytes, so that no bytes are drawn for them.
fn smith_choice(data: &[u8]) -> Option<bool> {
    let sum = byte_sum(data);
    sum.is_multiple_of(SMITH_ONE_IN).then_some((sum / SMITH_ONE_IN).is_multiple_of(MAY_NOT_END_ONE_IN))
}

/// The structured form of an input: the module it runs. For a probe input
/// that is its shape's interpreter, whose steps come in the request, so the
/// module alone rarely reproduces a probe finding and triage then minimizes
/// the fuzz bytes instead.
pub fn module_of(subject: &Subject, data: &[u8]) -> Vec<u8> {
    let mut u = Unstructured::new(data);
    if let Some(may_not_end) = smith_choice(data) {
        smith_module(&subject.abi, &mut u, may_not_end).bytes
    } else if uses_resources(data) {
        resource_module(&subject.abi, &mut u).encode(&subject.abi)
    } else {
        let module = probe_module(&subject.abi, &mut u);
        module.annotated(&module.shape.encode(&*subject.abi.io, subject.abi.entry))
    }
}

/// Runs an explicit module through the oracles that hold for any module: it
/// is invoked once with the empty request, as a wasm-smith module is, and
/// checked against the memory cap and wasmi. The spec oracle needs probes and
/// is skipped.
pub fn run_module(subject: &Subject, module: &[u8]) -> Report {
    crate::exclusive::run(|| run_module_as(subject, module.to_vec(), "generator:explicit-module", false))
}

/// The memory cap the generators aim at: the declared one, or 4 GiB.
fn cap_bytes(abi: &Abi) -> u64 {
    abi.limits.max_memory_bytes.unwrap_or(MAX_PAGES_32 * spec::PAGE)
}

/// The memory the embedder grants a module that starts with `initial_bytes`,
/// beyond the declared cap: its initial memory where the ABI lists
/// [`crate::abi::KnownDefect::CapExcludesInitialMemory`], else nothing.
fn uncapped_bytes(abi: &Abi, initial_bytes: u64) -> u64 {
    abi.cap_excludes_initial_memory().map_or(0, |_| initial_bytes)
}

/// Checks the cap oracle against the cap the embedder keeps, and labels a
/// run that went past the declared cap as far as a known defect lets it.
fn check_cap(abi: &Abi, outcome: &Outcome, uncapped: u64, labels: &mut Vec<String>) {
    phase::timed("oracle:memory-cap", || check_cap_of(abi, outcome, uncapped, labels));
}

fn check_cap_of(abi: &Abi, outcome: &Outcome, uncapped: u64, labels: &mut Vec<String>) {
    let declared = abi.limits.max_memory_bytes;
    oracles::check_memory_cap(outcome, declared.map(|cap| cap + uncapped));
    let seen = oracles::response_pages(&outcome.response).map(|pages| pages * spec::PAGE);
    if let (Some(id), Some(cap), Some(seen)) = (abi.cap_excludes_initial_memory(), declared, seen)
        && seen > cap
    {
        add_label(labels, known::label(id));
    }
}

/// The probe generator: one invocation of the shape's interpreter per probe,
/// each checked by all three oracles.
fn run_probes(subject: &Subject, u: &mut Unstructured<'_>) -> Report {
    let abi = &subject.abi;
    let module = phase::timed(phase::GENERATE, || probe_module(abi, u));
    let mut labels = vec!["generator:probes".to_owned()];
    let (interpreter, lookup) = subject.kept::<Cache>().interpreter(subject, module.shape);
    let bytes = module.annotated(&interpreter);
    let compiled = match label_cached(lookup, &mut labels) {
        Ok(compiled) => compiled,
        Err(rejection) => {
            let outcome = Outcome::rejected(rejection);
            oracles::check_accepted(&outcome);
            return report(outcome, labels, bytes);
        }
    };
    let uncapped = uncapped_bytes(abi, module.shape.minimum * spec::PAGE);
    let mut last = None;
    let mut first = None;
    for (index, probe) in module.probes.iter().enumerate() {
        let request = probes::request(probe);
        let outcome = crate::limits::invoke_checked(&*compiled.loaded, &request, None, &abi.limits);
        check_cap(abi, &outcome, uncapped, &mut labels);
        let refusal_allowed = phase::timed(ORACLE_SPEC, || {
            let model = module.model(cap_bytes(abi) + uncapped);
            let refusal_allowed = spec::asks_for_refused_growth(model, probe);
            let known = known::refusal_of_maximum(abi, &outcome, || !refusal_allowed && spec::asks_for_declared_maximum(model, probe));
            oracles::check_spec(index, spec::expect(model, probe), refusal_allowed || known.is_some(), &outcome);
            if let Some(id) = known {
                add_label(&mut labels, known::label(id));
            }
            refusal_allowed
        });
        let call = Call { index, request: &request, asks_past_cap: refusal_allowed };
        differential(abi, &compiled.wasmi, &bytes, &call, &outcome, &mut labels);
        first.get_or_insert_with(|| (request, outcome.clone()));
        last = Some(outcome);
    }
    if let Some((request, outcome)) = first.filter(|_| module.probes.len() > 1) {
        let again = crate::limits::invoke_checked(&*compiled.loaded, &request, None, &abi.limits);
        phase::timed(ORACLE_BETWEEN_CALLS, || crate::between_calls::check(&outcome, &again, "the input's other probes"));
    }
    match last {
        Some(outcome) => report(outcome, labels, bytes),
        None => report(crate::limits::invoke_checked(&*compiled.loaded, b"", None, &abi.limits), labels, bytes),
    }
}

/// The resource generator: a module from the input, run as
/// [`run_resource_module`] runs it.
fn run_resources(subject: &Subject, u: &mut Unstructured<'_>) -> Report {
    let module = phase::timed(phase::GENERATE, || resource_module(&subject.abi, u));
    run_resource_module(subject, &module)
}

/// A resource module as the layer runs it: loaded, called with
/// [`resources::REQUEST`], with the empty request, and with the first
/// again; each call checked for the caps on what the guest saw, and the
/// first against the third for the between-calls oracle.
pub fn run_resource_module(subject: &Subject, module: &resources::ResourceModule) -> Report {
    crate::exclusive::run(|| check_resource_module(subject, module))
}

fn check_resource_module(subject: &Subject, module: &resources::ResourceModule) -> Report {
    let abi = &subject.abi;
    let bytes = phase::timed(phase::GENERATE, || module.encode(abi));
    let mut labels = vec!["generator:resources".to_owned(), format!("resource:{}", module.resource.name()), format!("place:{}", module.place.name())];
    let accepted = match crate::limits::load_checked(&*subject.embedder, abi, &bytes, &Store::new()) {
        Ok(accepted) => accepted,
        Err(rejection) => return report(Outcome::rejected(rejection), labels, bytes),
    };
    if let Some(id) = accepted.known {
        add_label(&mut labels, known::label(id));
    }
    let uncapped = uncapped_bytes(abi, module.memory.minimum * spec::PAGE);
    // A probe that opens files or makes folders works in the sandbox
    // directory: each call gets one as made, so that the folders one call
    // leaves (which the sandbox is there to keep) do not change the next.
    let canaries = module.uses_sandbox().then(|| subject.kept::<Canaries>());
    let mut call = |request: &[u8]| {
        let sandbox = match canaries.as_deref().map(Canaries::sandbox).transpose() {
            Ok(sandbox) => sandbox,
            Err(error) => panic!("setup: cannot create a sandbox for the {} probe: {error}", module.resource.name()),
        };
        let sandbox_dir = sandbox.as_ref().map(|sandbox| sandbox.path());
        let (outcome, excused) = crate::limits::invoke_checked_excusing(&*accepted.loaded, request, sandbox_dir, &abi.limits, accepted.excuse);
        if let Some(id) = excused {
            add_label(&mut labels, known::label(id));
        }
        // The memory cap is checked on the memory sizes the guest answers
        // with; the probes' own cap oracle reads a response of theirs.
        for id in phase::timed(ORACLE_RESOURCE_CAPS, || resources::check_sizes(abi, module, &outcome, uncapped)) {
            add_label(&mut labels, known::label(id));
        }
        // What the call left, as the host sees it: the folders made and
        // what the sandbox was made with.
        if let Some(sandbox) = sandbox.as_ref().filter(|sandbox| !sandbox.is_untouched())
            && let Some(id) = phase::timed(crate::host_calls::sandbox_use::PHASE, || crate::host_calls::sandbox_use::check(sandbox.path(), abi))
        {
            add_label(&mut labels, known::label(id));
        }
        outcome
    };
    let first = call(resources::REQUEST);
    call(b"");
    let again = call(resources::REQUEST);
    phase::timed(ORACLE_BETWEEN_CALLS, || crate::between_calls::check(&first, &again, "the empty request"));
    report(first, labels, bytes)
}

/// A resource module from the input; an input too short for one gets one
/// global, probed at the entry point.
fn resource_module(abi: &Abi, u: &mut Unstructured<'_>) -> resources::ResourceModule {
    use resources::{Declared, Place, Resource, ResourceModule};
    ResourceModule::generate(u, abi).unwrap_or(ResourceModule {
        resource: Resource::Globals { count: 1 },
        place: Place::Entry,
        table: Declared { minimum: 1, maximum: None },
        memory: Declared { minimum: 1, maximum: None },
        table_ops: false,
    })
}

/// A probe module from the input; an input too short for one gets a single empty probe.
fn probe_module(abi: &Abi, u: &mut Unstructured<'_>) -> ProbeModule {
    ProbeModule::generate(u, cap_bytes(abi))
        .unwrap_or_else(|_| ProbeModule { shape: ProbeShape { minimum: 1, maximum: None }, probes: vec![Vec::new()] })
}

/// A wasm-smith module from the input; an input wasm-smith cannot use gets
/// the probe interpreter of a bare memory.
fn smith_module(abi: &Abi, u: &mut Unstructured<'_>, may_not_end: bool) -> SmithModule {
    smith::generate(u, abi, may_not_end)
        .unwrap_or_else(|_| SmithModule { bytes: ProbeShape { minimum: 1, maximum: None }.encode(&*abi.io, abi.entry), may_not_end: false })
}

/// One invocation with the empty request, checked for the cap and against
/// wasmi; a module that may not end is not run on wasmi (labelled
/// `differential:skipped-may-not-end`), whose fuel would only run out.
fn run_module_as(subject: &Subject, bytes: Vec<u8>, generator: &str, may_not_end: bool) -> Report {
    let abi = &subject.abi;
    let mut labels = vec![generator.to_owned()];
    let compiled = match label_cached(subject.kept::<Cache>().module(subject, &bytes), &mut labels) {
        Ok(compiled) => compiled,
        Err(rejection) => return report(Outcome::rejected(rejection), labels, bytes),
    };
    let (outcome, excused) = crate::limits::invoke_checked_excusing(&*compiled.loaded, b"", None, &abi.limits, compiled.excuse);
    if let Some(id) = excused {
        add_label(&mut labels, known::label(id));
    }
    check_cap(abi, &outcome, uncapped_bytes(abi, known::initial_memory_bytes(&bytes)), &mut labels);
    if may_not_end {
        labels.push("differential:skipped-may-not-end".to_owned());
    } else {
        differential(abi, &compiled.wasmi, &bytes, &Call { index: 0, request: b"", asks_past_cap: false }, &outcome, &mut labels);
    }
    report(outcome, labels, bytes)
}

/// The compiled module, labelling cache hits `compile:cached`.
fn label_cached(lookup: Lookup, labels: &mut Vec<String>) -> Result<Arc<Compiled>, Rejection> {
    let (compiled, cached) = lookup?;
    if cached {
        labels.push("compile:cached".to_owned());
    }
    if let Some(id) = compiled.known {
        add_label(labels, known::label(id));
    }
    Ok(compiled)
}

/// One call of a module, for the differential.
struct Call<'a> {
    /// Its number in the input's calls.
    index: usize,
    /// Its request.
    request: &'a [u8],
    /// Whether the spec model knows it asks for growth past the cap or past
    /// 4 GiB, which wasmi refuses before its limiter sees it.
    asks_past_cap: bool,
}

/// Runs the same call of `module` on wasmi and compares; labels the calls
/// it could not compare. wasmi does not show growth past a declared maximum
/// (it refuses that before asking its limiter), so a known refusal of
/// declared maxima excuses any memory refusal of a module that declares one;
/// with the cap known to exclude the initial memory, runs that asked wasmi
/// for more than the cap are not compared; nor are calls the spec model
/// knows ask past the cap that the embedder ended at its memory limit.
fn differential(abi: &Abi, wasmi: &Result<WasmiModule, String>, module: &[u8], call: &Call<'_>, outcome: &Outcome, labels: &mut Vec<String>) {
    phase::timed(ORACLE_DIFFERENTIAL, || differential_of(abi, wasmi, module, call, outcome, labels));
}

fn differential_of(abi: &Abi, wasmi: &Result<WasmiModule, String>, module: &[u8], call: &Call<'_>, outcome: &Outcome, labels: &mut Vec<String>) {
    let Ok(wasmi) = wasmi else {
        labels.push("differential:wasmi-refused".to_owned());
        return;
    };
    if call.asks_past_cap && outcome.end == End::LimitExceeded(Resource::Memory) {
        return;
    }
    let run = wasmi.invoke(call.request, abi);
    if let Some(id) = known::refusal_of_maximum(abi, outcome, || !run.asked_past_cap && known::declares_maximum(module)) {
        add_label(labels, known::label(id));
        return;
    }
    // The embedder may grant what wasmi refused at the cap: not comparable.
    if let Some(id) = abi.cap_excludes_initial_memory().filter(|_| run.asked_past_cap) {
        add_label(labels, known::label(id));
        return;
    }
    if !oracles::check_differential(call.index, outcome, &run) {
        add_label(labels, "differential:skipped".to_owned());
    }
}

/// Adds `label` unless it is there already.
fn add_label(labels: &mut Vec<String>, label: String) {
    if !labels.contains(&label) {
        labels.push(label);
    }
}

/// The layer's report, after the message oracle every layer applies.
fn report(outcome: Outcome, labels: Vec<String>, module: Vec<u8>) -> Report {
    crate::messages::check(&outcome);
    Report { outcome, labels, module: Some(module) }
}
