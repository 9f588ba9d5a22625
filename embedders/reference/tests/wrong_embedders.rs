//! Embedders that are deliberately wrong in one way each, plugged in through
//! the same public seam a user implements (`Embedder`, `Loaded`), and the
//! layer meant to catch each one catching it within a short run of inputs:
//! - layer 1: one accepts a module the validator rejects;
//! - layer 3: one lets memory grow one page past its declared cap;
//! - layer 4: one returns a wrong status from a host call;
//! - layer 4: one lets a path escape the sandbox;
//! - layer 4: one sizes a host buffer from a guest's length before checking it;
//! - layer 4: one ignores the stdio cap;
//! - layer 1: one runs a module's start function once more, unmetered;
//! - layer 3: one keeps its response buffer across calls (between-calls oracle);
//! - layer 4: one names the sandbox to the guest by its host path (host-data oracle);
//! - layer 3: one whose tables grow without a cap, and says nothing of it
//!   (the cap oracle on what the guest saw);
//! - layer 1: one that holds 256 MiB of host memory at each instantiation
//!   (the host-memory budget oracle);
//! - layer 4: one that leaves a file past the sandbox ceiling in the
//!   sandbox after each call (the sandbox-use oracle);
//! - layer 4: one that records a host call when it returns, so a call
//!   re-entered from the guest's `alloc` callback comes before the call it
//!   serves (the model oracle, on re-entry).
//!
//! Each new one has a control: the same inputs on the loader itself stay quiet.
//!
//! The test binary counts the host heap, as the fuzz targets do, and runs
//! one layer at a time (the count is per process).

use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use contract::{End, Outcome, Policy, Rejection, Stage};
use harness::commands::{Command, codec};
use harness::embedder::{Embedder, Loaded, Store};
use harness::{Layer, Subject};
use reference::embedder::Reference;
use reference::host_api::calls::{AllocMode, Call, LOG, WRITE_RESPONSE};

#[global_allocator]
static HEAP: harness::alloc::Counting = harness::alloc::Counting;

/// A flaw: what the wrong embedder does differently from the loader.
#[derive(Clone, Copy)]
enum Flaw {
    /// Accepts a module the loader rejects at validation.
    AcceptsInvalid,
    /// Reports a wrong status for the first `storage_get` that returned not-found.
    WrongStatus,
    /// Preopens the directory an escaping symlink of the sandbox points to.
    FollowsEscape,
    /// Makes the buffer for `write_response` and `log` as long as the guest
    /// says, before checking the range against its memory (`vec![0; len]`).
    GuestSizedBuffer,
    /// Runs each module's start function once more before the call, in an
    /// instance of its own without fuel or the deadline (stopped after
    /// [`UNMETERED_FOR`] so that the test ends).
    UnmeteredInstantiation,
    /// Appends each call's response to a buffer it never clears, and
    /// answers with the buffer.
    KeepsResponse,
    /// Adds the sandbox's host path to every response, as an embedder that
    /// names the preopened directory by its host path would let a guest.
    NamesSandbox,
    /// Clears the table peak from the outcome: with a larger table cap as
    /// the actual policy, a table that grows without the declared cap.
    SilentTables,
    /// Holds a linear memory of [`HELD_PAGES`], every page touched, in an
    /// instance of its own while each instance exists: host memory an
    /// engine maps rather than allocates, which only the resident set shows.
    HoldsMemory,
    /// Leaves a file of the memory cap plus a page in the sandbox after each
    /// call, as an embedder whose host writes into it unbounded would.
    FillsSandbox,
    /// Records each host call when it returns rather than when it starts:
    /// a call made from inside `alloc` is listed before the `read_request`
    /// it was made from.
    RecordsCallsAsTheyEnd,
    /// None but the inner loader's own policy (a larger memory cap).
    None,
}

/// The pages of the memory [`Flaw::HoldsMemory`] holds per instance (256 MiB).
const HELD_PAGES: u32 = 4096;

/// How long the unmetered instantiation may run before the test stops it.
const UNMETERED_FOR: Duration = Duration::from_secs(3);

/// The loader, wrong in one way, declaring `declared` as its policy.
struct Wrong {
    inner: Reference,
    declared: Policy,
    flaw: Flaw,
    /// The engine of the unmetered instantiation, its epoch ticking every
    /// 100 ms ([`Flaw::UnmeteredInstantiation`]), or of the held memory
    /// ([`Flaw::HoldsMemory`]).
    engine: Option<wasmtime::Engine>,
}

impl Embedder for Wrong {
    fn policy(&self) -> &Policy {
        &self.declared
    }

    fn load(&self, module: &[u8], store: &Store) -> Result<Box<dyn Loaded>, Rejection> {
        match self.inner.load(module, store) {
            Err(rejection) if rejection.stage == Stage::Validate && matches!(self.flaw, Flaw::AcceptsInvalid) => Ok(Box::new(Accepted)),
            Err(rejection) => Err(rejection),
            Ok(loaded) => {
                let unmetered = self.engine.as_ref().filter(|_| matches!(self.flaw, Flaw::UnmeteredInstantiation));
                let module = unmetered.and_then(|engine| wasmtime::Module::new(engine, module).ok());
                Ok(Box::new(WrongLoaded { inner: loaded, flaw: self.flaw, module, engine: self.engine.clone(), kept: Mutex::default() }))
            }
        }
    }
}

/// A module the wrong embedder accepted although it is invalid.
struct Accepted;

impl Loaded for Accepted {
    fn invoke(&self, _: &[u8], _: Option<&Path>) -> Outcome {
        Outcome::ended(Stage::Execute, End::Ok)
    }
}

struct WrongLoaded {
    inner: Box<dyn Loaded>,
    flaw: Flaw,
    /// The module, compiled for the unmetered instantiation.
    module: Option<wasmtime::Module>,
    /// The engine of the held memory.
    engine: Option<wasmtime::Engine>,
    /// The response buffer of [`Flaw::KeepsResponse`].
    kept: Mutex<Vec<u8>>,
}

impl Loaded for WrongLoaded {
    fn invoke(&self, request: &[u8], sandbox: Option<&Path>) -> Outcome {
        match self.flaw {
            Flaw::GuestSizedBuffer => {
                for (op, length) in guest_lengths(request) {
                    let mut buffer: Vec<u8> = Vec::new();
                    // `try_reserve`, not `vec![0; len]`: the same allocation, without
                    // aborting this test process where the system refuses 4 GiB.
                    if buffer.try_reserve_exact(length).is_ok() {
                        std::hint::black_box((op, &buffer));
                    }
                }
                self.inner.invoke(request, sandbox)
            }
            Flaw::UnmeteredInstantiation => {
                if let Some(module) = &self.module {
                    instantiate_unmetered(module);
                }
                self.inner.invoke(request, sandbox)
            }
            Flaw::FollowsEscape => self.inner.invoke(request, sandbox.map(|dir| dir.join("dir_escape")).as_deref()),
            Flaw::WrongStatus => {
                let mut outcome = self.inner.invoke(request, sandbox);
                let not_found = Some(2);
                if let Some(call) = outcome.host_calls.iter_mut().find(|call| call.function == "storage_get" && call.result == not_found) {
                    call.result = Some(0);
                }
                outcome
            }
            Flaw::KeepsResponse => {
                let mut outcome = self.inner.invoke(request, sandbox);
                let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
                kept.extend_from_slice(&outcome.response);
                outcome.response.clone_from(&kept);
                outcome
            }
            Flaw::NamesSandbox => {
                let mut outcome = self.inner.invoke(request, sandbox);
                if let Some(dir) = sandbox {
                    outcome.response.extend_from_slice(dir.as_os_str().as_encoded_bytes());
                }
                outcome
            }
            Flaw::FillsSandbox => {
                let outcome = self.inner.invoke(request, sandbox);
                if let Some(dir) = sandbox {
                    let cap = reference::abi::abi(&Policy::fuzzing()).limits.memory_bytes_or_ceiling();
                    // Written a page at a time, as a host streaming guest data would.
                    let mut filler = std::fs::File::create(dir.join("filler")).unwrap();
                    let page = [1u8; 65_536];
                    for _ in 0..=cap / 65_536 {
                        std::io::Write::write_all(&mut filler, &page).unwrap();
                    }
                }
                outcome
            }
            Flaw::SilentTables => {
                let mut outcome = self.inner.invoke(request, sandbox);
                outcome.peak_table_elements = None;
                outcome
            }
            Flaw::HoldsMemory => {
                let held = self.engine.as_ref().map(hold_memory);
                let outcome = self.inner.invoke(request, sandbox);
                drop(held);
                outcome
            }
            Flaw::RecordsCallsAsTheyEnd => {
                let mut outcome = self.inner.invoke(request, sandbox);
                for at in reentered_reads(request) {
                    if at + 1 < outcome.host_calls.len() {
                        outcome.host_calls.swap(at, at + 1);
                    }
                }
                outcome
            }
            Flaw::AcceptsInvalid | Flaw::None => self.inner.invoke(request, sandbox),
        }
    }
}

/// The length argument of each `write_response` and `log` a layer-4 request asks for.
fn guest_lengths(request: &[u8]) -> Vec<(u32, usize)> {
    let Ok(commands) = codec::decode(request, &reference::host_api::OakHostApi) else { return Vec::new() };
    commands
        .iter()
        .filter_map(|command| match command {
            Command::Host { op, args } if [WRITE_RESPONSE, LOG].contains(op) => Some((*op, (args[1] & 0xffff_ffff) as usize)),
            _ => None,
        })
        .collect()
}

/// Where in the host-call record of a layer-4 request each `read_request`
/// served by an `alloc` that re-enters the host is (the re-entered call
/// follows it), as far as the commands tell: up to the first `storage_get`
/// while `alloc` re-enters, which calls `alloc` only for a key it finds.
fn reentered_reads(request: &[u8]) -> Vec<usize> {
    let Ok(commands) = codec::decode(request, &reference::host_api::OakHostApi) else { return Vec::new() };
    // Record #0 is the interpreter's own read of its command list.
    let mut at = 1;
    let mut reentering = false;
    let mut found = Vec::new();
    for command in &commands {
        let Command::Host { op, args } = command else { continue };
        match Call::of(*op, args) {
            Some(Call::SetAlloc(mode)) => reentering = matches!(mode, AllocMode::Reenter(_)),
            Some(Call::ReadRequest { .. }) if reentering => {
                found.push(at);
                at += 2;
                reentering = false;
            }
            Some(Call::StorageGet { .. }) if reentering => break,
            Some(_) => at += 1,
            None => {}
        }
    }
    found
}

/// Instantiates `module` with every import a trap, no fuel and no deadline
/// but [`UNMETERED_FOR`].
fn instantiate_unmetered(module: &wasmtime::Module) {
    let mut linker = wasmtime::Linker::new(module.engine());
    if linker.define_unknown_imports_as_traps(module).is_err() {
        return;
    }
    let mut store = wasmtime::Store::new(module.engine(), ());
    let ticks = UNMETERED_FOR.as_millis() / TICK.as_millis();
    store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX));
    let _ = linker.instantiate(&mut store, module);
}

/// A store holding a memory of [`HELD_PAGES`], every page touched.
fn hold_memory(engine: &wasmtime::Engine) -> wasmtime::Store<()> {
    let mut store = wasmtime::Store::new(engine, ());
    let memory = wasmtime::Memory::new(&mut store, wasmtime::MemoryType::new(HELD_PAGES, None)).unwrap();
    for page in memory.data_mut(&mut store).chunks_mut(4096) {
        page[0] = 1;
    }
    store
}

/// How often the unmetered engine's epoch ticks.
const TICK: Duration = Duration::from_millis(100);

/// An engine whose epoch a thread of its own advances every [`TICK`].
fn ticking_engine() -> wasmtime::Engine {
    let mut config = wasmtime::Config::new();
    config.epoch_interruption(true).cranelift_opt_level(wasmtime::OptLevel::None);
    let engine = wasmtime::Engine::new(&config).unwrap();
    let ticking = engine.clone();
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(TICK);
            ticking.increment_epoch();
        }
    });
    engine
}

/// The reference ABI and layer-4 half over a wrong embedder: `actual` is the
/// policy the loader enforces, `declared` the one the embedder claims.
fn subject(flaw: Flaw, actual: Policy, declared: Policy) -> Subject {
    let abi = reference::abi::abi(&declared);
    let inner = Reference::new(actual).unwrap();
    let engine = match flaw {
        Flaw::UnmeteredInstantiation => Some(ticking_engine()),
        Flaw::HoldsMemory => Some(wasmtime::Engine::default()),
        _ => None,
    };
    Subject::new(Box::new(Wrong { inner, declared, flaw, engine }), abi, Box::new(reference::host_api::OakHostApi))
}

/// Pseudo-random inputs (xorshift) of varied lengths, then the layer's seeds.
fn inputs(layer: Layer, count: usize) -> Vec<Vec<u8>> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join(layer.name());
    let seeds = harness::replay::collect_inputs(&[seeds]).unwrap().into_iter().map(|path| std::fs::read(path).unwrap());
    let random = (0..count).map(|_| {
        let len = 16 + (next() % 1500) as usize;
        (0..len).map(|_| next() as u8).collect::<Vec<u8>>()
    });
    seeds.chain(random).collect()
}

/// The first oracle message the layer raises on `subject` over its inputs.
fn first_oracle(layer: Layer, subject: &Subject, count: usize) -> Option<String> {
    first_oracle_of(layer, subject, inputs(layer, count))
}

/// The first oracle message the layer raises on `subject` over `inputs`.
fn first_oracle_of(layer: Layer, subject: &Subject, inputs: Vec<Vec<u8>>) -> Option<String> {
    static ONE_LAYER_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _alone = ONE_LAYER_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    inputs.into_iter().find_map(|data| {
        let result = panic::catch_unwind(AssertUnwindSafe(|| layer.run(subject, &data)));
        let payload = result.err()?;
        let message = payload.downcast_ref::<String>().cloned().or_else(|| payload.downcast_ref::<&str>().map(|text| (*text).to_owned()))?;
        message.starts_with("oracle:").then_some(message)
    })
}

#[test]
fn layer_1_catches_an_embedder_that_accepts_an_invalid_module() {
    let wrong = subject(Flaw::AcceptsInvalid, Policy::fuzzing(), Policy::fuzzing());
    let message = first_oracle(Layer::RawBytes, &wrong, 200).expect("layer 1 catches it");
    assert!(message.starts_with("oracle: the embedder accepted a module wasmparser rejects"), "{message}");
}

#[test]
fn layer_3_catches_an_embedder_that_lets_memory_grow_a_page_past_its_cap() {
    let declared = Policy::fuzzing();
    let actual = Policy { max_memory_bytes: declared.max_memory_bytes + 65_536, ..declared.clone() };
    let wrong = subject(Flaw::None, actual, declared);
    let message = first_oracle(Layer::MemoryProbe, &wrong, 3000).expect("layer 3 catches it");
    assert!(
        message.contains("the memory limit did not hold") || message.contains("past the declared cap") || message.contains("pages of memory"),
        "{message}"
    );
}

#[test]
fn layer_4_catches_an_embedder_that_returns_a_wrong_status() {
    let wrong = subject(Flaw::WrongStatus, Policy::fuzzing(), Policy::fuzzing());
    let message = first_oracle(Layer::HostCalls, &wrong, 2000).expect("layer 4 catches it");
    assert!(message.contains("host.storage_get returned Some(Ok), the model predicts Some(NotFound)"), "{message}");
}

#[test]
fn layer_4_catches_an_embedder_that_lets_a_path_escape_the_sandbox() {
    let wrong = subject(Flaw::FollowsEscape, Policy::fuzzing(), Policy::fuzzing());
    let message = first_oracle(Layer::HostCalls, &wrong, 2000).expect("layer 4 catches it");
    assert!(message.contains("oracle: canary") || message.contains("oracle: the content of canary"), "{message}");
}

#[test]
fn layer_4_catches_an_embedder_that_sizes_a_host_buffer_from_the_guest() {
    let wrong = subject(Flaw::GuestSizedBuffer, Policy::fuzzing(), Policy::fuzzing());
    let message = first_oracle(Layer::HostCalls, &wrong, 2000).expect("layer 4 catches it");
    assert!(message.starts_with("oracle: a host allocation of"), "{message}");
}

#[test]
fn layer_4_catches_an_embedder_that_ignores_the_stdio_cap() {
    let declared = Policy { max_stdio_bytes: 64, ..Policy::fuzzing() };
    let actual = Policy { max_stdio_bytes: 1 << 30, ..declared.clone() };
    let wrong = subject(Flaw::None, actual, declared.clone());
    let message = first_oracle(Layer::HostCalls, &wrong, 2000).expect("layer 4 catches it");
    assert!(
        message.starts_with("oracle: the stdout limit did not hold") || message.starts_with("oracle: the stderr limit did not hold"),
        "{message}"
    );
    let keeping_the_cap = subject(Flaw::None, declared.clone(), declared);
    assert_eq!(first_oracle(Layer::HostCalls, &keeping_the_cap, 2000), None);
}

#[test]
fn layer_1_catches_an_embedder_that_does_not_meter_instantiation() {
    let wrong = subject(Flaw::UnmeteredInstantiation, Policy::fuzzing(), Policy::fuzzing());
    let message = first_oracle(Layer::RawBytes, &wrong, 200).expect("layer 1 catches it");
    assert!(message.starts_with("oracle: the deadline did not hold"), "{message}");
}

/// Layer 3's inputs that go to the resource generator.
fn resource_inputs(count: usize) -> Vec<Vec<u8>> {
    inputs(Layer::MemoryProbe, count * 8).into_iter().filter(|data| harness::memory_probe::uses_resources(data)).take(count).collect()
}

/// The loader itself, quiet on the same inputs: the control of each test below.
fn quiet_on_the_loader(layer: Layer, inputs: Vec<Vec<u8>>) {
    let right = subject(Flaw::None, Policy::fuzzing(), Policy::fuzzing());
    assert_eq!(first_oracle_of(layer, &right, inputs), None);
}

#[test]
fn layer_3_catches_an_embedder_that_keeps_its_response_across_calls() {
    let wrong = subject(Flaw::KeepsResponse, Policy::fuzzing(), Policy::fuzzing());
    let message = first_oracle_of(Layer::MemoryProbe, &wrong, resource_inputs(50)).expect("layer 3 catches it");
    assert!(message.starts_with("oracle: state survived between calls: response of the same request"), "{message}");
    quiet_on_the_loader(Layer::MemoryProbe, resource_inputs(50));
}

#[test]
fn layer_4_catches_an_embedder_that_names_the_sandbox_by_its_host_path() {
    let wrong = subject(Flaw::NamesSandbox, Policy::fuzzing(), Policy::fuzzing());
    let message = first_oracle(Layer::HostCalls, &wrong, 200).expect("layer 4 catches it");
    assert!(message.starts_with("oracle: the guest can see host data: the sandbox's host path"), "{message}");
    quiet_on_the_loader(Layer::HostCalls, inputs(Layer::HostCalls, 200));
}

#[test]
fn layer_4_catches_an_embedder_that_fills_its_sandbox_past_the_ceiling() {
    let wrong = subject(Flaw::FillsSandbox, Policy::fuzzing(), Policy::fuzzing());
    let message = first_oracle(Layer::HostCalls, &wrong, 20).expect("layer 4 catches it");
    assert!(message.starts_with("oracle: the sandbox holds"), "{message}");
    assert!(message.contains("the suite's ceiling"), "{message}");
    quiet_on_the_loader(Layer::HostCalls, inputs(Layer::HostCalls, 20));
}

#[test]
fn layer_4_catches_an_embedder_that_records_host_calls_as_they_end() {
    let wrong = subject(Flaw::RecordsCallsAsTheyEnd, Policy::fuzzing(), Policy::fuzzing());
    let message = first_oracle(Layer::HostCalls, &wrong, 2000).expect("layer 4 catches it");
    assert!(message.starts_with("oracle: host call #") && message.ends_with(", the model predicts host.read_request"), "{message}");
    quiet_on_the_loader(Layer::HostCalls, inputs(Layer::HostCalls, 2000));
}

#[test]
fn layer_3_catches_an_embedder_whose_tables_grow_without_a_cap() {
    // Table operations need reference types: the production profile's features.
    let declared = Policy::production();
    let actual = Policy { max_table_elements: 10_000_000, ..declared.clone() };
    let wrong = subject(Flaw::SilentTables, actual, declared.clone());
    let message = first_oracle_of(Layer::MemoryProbe, &wrong, resource_inputs(300)).expect("layer 3 catches it");
    assert!(message.starts_with("oracle: table 0 holds"), "{message}");
    assert!(message.ends_with("past the cap of 10000"), "{message}");
    let right = subject(Flaw::None, declared.clone(), declared);
    assert_eq!(first_oracle_of(Layer::MemoryProbe, &right, resource_inputs(300)), None);
}

#[test]
fn layer_3_catches_an_embedder_that_lets_a_guest_hold_files_open_past_its_cap() {
    let declared = Policy::fuzzing();
    let actual = Policy { max_open_files: 100_000, ..declared.clone() };
    let wrong = subject(Flaw::None, actual, declared.clone());
    let message = first_oracle_of(Layer::MemoryProbe, &wrong, resource_inputs(300)).expect("layer 3 catches it");
    assert!(message.starts_with("oracle: the guest held") && message.ends_with("past the cap of 64"), "{message}");
    quiet_on_the_loader(Layer::MemoryProbe, resource_inputs(300));
}

#[test]
fn layer_3_catches_an_embedder_that_lets_a_guest_make_folders_past_its_cap() {
    let declared = Policy::fuzzing();
    let actual = Policy { max_sandbox_entries: 1_000_000, ..declared.clone() };
    let wrong = subject(Flaw::None, actual, declared);
    let message = first_oracle_of(Layer::MemoryProbe, &wrong, resource_inputs(300)).expect("layer 3 catches it");
    // The guest's count of the folders it made, or the host's of what the
    // sandbox holds, the five entries it was made with among them.
    let guest_saw =
        message.starts_with("oracle: the guest held") && message.contains("folders in the sandbox") && message.ends_with("past the cap of 1024");
    let host_saw = message.starts_with("oracle: the sandbox holds") && message.ends_with("past 1024 (the declared cap)");
    assert!(guest_saw || host_saw, "{message}");
    quiet_on_the_loader(Layer::MemoryProbe, resource_inputs(300));
}

#[test]
fn layers_1_and_4_catch_an_embedder_that_holds_host_memory_past_its_budget_while_an_instance_lives() {
    let wrong = subject(Flaw::HoldsMemory, Policy::fuzzing(), Policy::fuzzing());
    for (layer, count) in [(Layer::RawBytes, 200), (Layer::HostCalls, 50)] {
        let message = first_oracle(layer, &wrong, count).unwrap_or_else(|| panic!("{} catches it", layer.name()));
        let resident = "oracle: the host-memory budget did not hold during an invocation: the resident set rose by";
        assert!(message.starts_with(resident), "{}: {message}", layer.name());
        quiet_on_the_loader(layer, inputs(layer, count));
    }
}

#[test]
fn the_same_layers_stay_quiet_on_the_loader_itself() {
    let right = subject(Flaw::None, Policy::fuzzing(), Policy::fuzzing());
    for layer in Layer::ALL {
        assert_eq!(first_oracle(layer, &right, 100), None, "{}", layer.name());
    }
}
