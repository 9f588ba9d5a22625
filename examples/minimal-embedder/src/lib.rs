//! A minimal embedder plugged into the fuzzing suite: a plain wasmtime
//! loader with no host functions. A module exports `main: [] -> []` and
//! `memory`, imports nothing, and runs on a fuel budget in a fresh store per
//! request. What a team writes for its own loader has the same three pieces:
//! the seam ([`Minimal`]), the ABI description ([`abi`]) and the targets
//! ([`TARGETS`]); layer 4 needs host functions, so there is none here.

use std::sync::OnceLock;

use contract::{End, Outcome, Policy, Profile, Rejection, Stage, TrapCode};
use harness::abi::{Abi, Enforcement, Export, Limits, Signature, io::ReadsNothing, wasmi_host::NoImports};
use harness::embedder::{Embedder, Loaded, Store};
use harness::{Layer, Subject, Target};
use wasmparser::WasmFeatures;
use wasmtime::{Config, Engine, ExternType, InstancePre, Linker, Module, StoreLimits, StoreLimitsBuilder, Trap};

/// The Wasm features the loader accepts: 1.0 with the 2.0 additions that need
/// no reference types or SIMD.
fn features() -> WasmFeatures {
    use WasmFeatures as F;
    (F::WASM1 | F::BULK_MEMORY | F::SIGN_EXTENSION | F::SATURATING_FLOAT_TO_INT | F::MULTI_VALUE) - F::GC_TYPES
}

/// The loader: one engine for every module.
pub struct Minimal {
    engine: Engine,
    linker: Linker<StoreLimits>,
    policy: Policy,
}

impl Minimal {
    /// An engine that meters fuel and accepts [`features`].
    pub fn new(policy: Policy) -> wasmtime::Result<Minimal> {
        let mut config = Config::new();
        config.wasm_features(WasmFeatures::all(), false).wasm_features(features(), true);
        config.consume_fuel(true).max_wasm_stack(policy.max_wasm_stack);
        let engine = Engine::new(&config)?;
        Ok(Minimal { linker: Linker::new(&engine), engine, policy })
    }

    /// The first declared memory or table over the policy's caps, if any.
    fn over_limits(&self, module: &[u8]) -> Option<String> {
        let max_pages = (self.policy.max_memory_bytes / 65_536) as u64;
        for payload in wasmparser::Parser::new(0).parse_all(module).flatten() {
            match payload {
                wasmparser::Payload::MemorySection(memories) => {
                    if let Some(memory) = memories.into_iter().flatten().find(|memory| memory.initial > max_pages) {
                        return Some(format!("memory of {} pages, the cap is {max_pages}", memory.initial));
                    }
                }
                wasmparser::Payload::TableSection(tables) => {
                    let max = self.policy.max_table_elements as u64;
                    if let Some(table) = tables.into_iter().flatten().find(|table| table.ty.initial > max) {
                        return Some(format!("table of {} elements, the cap is {max}", table.ty.initial));
                    }
                }
                _ => {}
            }
        }
        None
    }
}

/// A refusal at `stage` that carries wasmtime's error.
fn refused(stage: Stage, error: impl std::fmt::Display) -> Rejection {
    Rejection::new(stage, &error.to_string())
}

impl Embedder for Minimal {
    fn policy(&self) -> &Policy {
        &self.policy
    }

    fn load(&self, module: &[u8], _store: &Store) -> Result<Box<dyn Loaded>, Rejection> {
        if module.len() > self.policy.max_module_bytes {
            return Err(refused(Stage::SizeCheck, format!("{} bytes, the cap is {}", module.len(), self.policy.max_module_bytes)));
        }
        wasmparser::Parser::new(0).parse_all(module).try_for_each(|payload| payload.map(drop)).map_err(|error| refused(Stage::Parse, error))?;
        Module::validate(&self.engine, module).map_err(|error| refused(Stage::Validate, error))?;
        let compiled = Module::new(&self.engine, module).map_err(|error| refused(Stage::Compile, error))?;
        if let Some(import) = compiled.imports().next() {
            return Err(refused(Stage::AbiCheck, format!("import {}.{}: this loader offers none", import.module(), import.name())));
        }
        let main_ok = matches!(compiled.get_export("main"), Some(ExternType::Func(main)) if main.params().len() == 0 && main.results().len() == 0);
        let memory_ok = matches!(compiled.get_export("memory"), Some(ExternType::Memory(_)));
        if !main_ok || !memory_ok {
            return Err(refused(Stage::AbiCheck, "exports must be `main: [] -> []` and `memory`"));
        }
        if let Some(reason) = self.over_limits(module) {
            return Err(refused(Stage::AbiCheck, reason));
        }
        let instance_pre = self.linker.instantiate_pre(&compiled).map_err(|error| refused(Stage::AbiCheck, error))?;
        Ok(Box::new(Ready { instance_pre, policy: self.policy.clone() }))
    }
}

/// A module that passed every check, linked and ready to run.
struct Ready {
    instance_pre: InstancePre<StoreLimits>,
    policy: Policy,
}

impl Loaded for Ready {
    fn invoke(&self, _request: &[u8], _sandbox: Option<&std::path::Path>) -> Outcome {
        let limits =
            StoreLimitsBuilder::new().memory_size(self.policy.max_memory_bytes).table_elements(self.policy.max_table_elements).instances(1).build();
        let mut store = wasmtime::Store::new(self.instance_pre.module().engine(), limits);
        store.limiter(|limits| limits);
        let mut stage = Stage::Instantiate;
        let result = store.set_fuel(self.policy.fuel).and_then(|()| {
            let instance = self.instance_pre.instantiate(&mut store)?;
            let main = instance.get_typed_func::<(), ()>(&mut store, "main")?;
            stage = Stage::Execute;
            main.call(&mut store, ())
        });
        let end = match result {
            Ok(()) => End::Ok,
            Err(error) => end_of(&error),
        };
        Outcome::ended(stage, end)
    }
}

/// How a failed instantiation or call ended.
fn end_of(error: &wasmtime::Error) -> End {
    let code = match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => return End::OutOfFuel,
        Some(Trap::UnreachableCodeReached) => TrapCode::Unreachable,
        Some(Trap::MemoryOutOfBounds) => TrapCode::MemoryOutOfBounds,
        Some(Trap::TableOutOfBounds) => TrapCode::TableOutOfBounds,
        Some(Trap::IndirectCallToNull) => TrapCode::IndirectCallToNull,
        Some(Trap::BadSignature) => TrapCode::BadSignature,
        Some(Trap::IntegerOverflow) => TrapCode::IntegerOverflow,
        Some(Trap::IntegerDivisionByZero) => TrapCode::IntegerDivisionByZero,
        Some(Trap::BadConversionToInteger) => TrapCode::BadConversionToInteger,
        Some(Trap::StackOverflow) => TrapCode::StackOverflow,
        _ => TrapCode::Other(error.to_string()),
    };
    End::Trap(code)
}

/// The ABI description: what drives the generators and the oracles.
pub fn abi(policy: &Policy) -> Abi {
    Abi {
        name: "minimal",
        imports: Vec::new(),
        exports: vec![Export::Func { name: "main", signature: Signature::new(&[], &[]) }, Export::Memory { name: "memory" }],
        entry: "main",
        enforced_at: Enforcement { imports: Stage::AbiCheck, exports: Stage::AbiCheck, limits: Stage::AbiCheck, exports_after_instantiation: false },
        limits: Limits {
            max_module_bytes: Some(policy.max_module_bytes),
            max_memory_bytes: Some(policy.max_memory_bytes as u64),
            max_table_elements: Some(policy.max_table_elements as u64),
            max_memories: Some(1),
            max_tables: Some(1),
            memory32_unshared_only: true,
            max_response_bytes: None,
            max_log_bytes: None,
            max_stdio_bytes: None,
            max_host_calls: None,
            deadline: None,
            max_host_buffer: None,
            load_runs_guest_code: false,
            max_sandbox_bytes: None,
            max_sandbox_entries: None,
            max_open_files: None,
        },
        features: features(),
        io: Box::new(ReadsNothing),
        reference_host: Box::new(NoImports),
        known_defects: Vec::new(),
    }
}

/// The embedder under the policy of the profile the process runs under,
/// built once per process.
pub fn subject() -> &'static Subject {
    static SUBJECT: OnceLock<Subject> = OnceLock::new();
    SUBJECT.get_or_init(|| {
        let policy = Profile::current().unwrap_or_else(|error| panic!("setup: {error}")).policy();
        let embedder = Minimal::new(policy.clone()).unwrap_or_else(|error| panic!("setup: no engine: {error}"));
        Subject::without_host_calls(Box::new(embedder), abi(&policy))
    })
}

/// Its fuzz targets, built by the cargo-fuzz package `fuzz/`: layers 1 to 3.
pub static TARGETS: [Target; 3] = [
    Target::new("mini_raw_bytes", Layer::RawBytes, "minimal", subject, "fuzz", &["minimal-embedder/src/"], true),
    Target::new("mini_invalid_module", Layer::InvalidModule, "minimal", subject, "fuzz", &["minimal-embedder/src/"], true),
    Target::new("mini_memory_probe", Layer::MemoryProbe, "minimal", subject, "fuzz", &["minimal-embedder/src/"], true),
];
