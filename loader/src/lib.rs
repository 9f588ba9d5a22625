//! A Wasm function loader on wasmtime, in the shape of Oak Functions: load a
//! module once, run it per request with a small host API, behind strict limits.
//!
//! ```no_run
//! use loader::{Loader, Policy};
//! let loader = Loader::new(Policy::default()).unwrap();
//! let function = loader.load(&std::fs::read("handler.wasm").unwrap()).unwrap();
//! let outcome = function.invoke(b"request", &Default::default());
//! println!("{} {}", outcome.stage, outcome.end);
//! ```
//!
//! Nothing a module or request does makes the loader panic: every failure is
//! a [`Rejection`] from [`Loader::load`] or an [`End`] in the [`Outcome`] of
//! [`Function::invoke`]. The policy and outcome types are the fuzzing suite's
//! shared vocabulary (the `contract` crate), re-exported here.

pub mod abi;
mod features;
mod host;
mod limiter;
pub mod module_summary;
mod sandbox_entries;
mod status;
mod ticker;
mod wasi;

use std::path::Path;
use std::sync::Arc;

use wasmtime::{Config, Engine, InstancePre, Linker, Module, OptLevel, Store, Trap};

pub use abi::AllowedImports;
pub use contract::{End, HostCall, MAX_MESSAGE_BYTES, Outcome, Policy, Rejection, Resource, Stage, TrapCode, WasmFeatureSet, printable_message};
pub use features::wasm_features;
pub use host::{HostAbort, Storage};
pub use status::Status;

use host::{HostCaps, HostState};
use limiter::Limiter;
use module_summary::Signature;
use ticker::EpochTicker;

/// An engine, its linker and its policy: loads modules into [`Function`]s.
pub struct Loader {
    engine: Engine,
    linker: Linker<HostState>,
    allowed: AllowedImports,
    shared: Arc<Shared>,
}

/// What every function of a loader shares with it.
struct Shared {
    policy: Policy,
    _ticker: EpochTicker,
}

/// A module that passed every check of `load`, compiled and linked, ready to run.
pub struct Function {
    instance_pre: InstancePre<HostState>,
    shared: Arc<Shared>,
}

impl Loader {
    /// Builds the engine, the epoch ticker and the linker for `policy`.
    pub fn new(policy: Policy) -> wasmtime::Result<Loader> {
        let mut config = Config::new();
        if policy.wasm_features == WasmFeatureSet::Documented {
            config.wasm_features(wasmparser::WasmFeatures::all(), false).wasm_features(wasm_features(), true);
        }
        config.consume_fuel(true).epoch_interruption(true).max_wasm_stack(policy.max_wasm_stack).cranelift_opt_level(if policy.optimize_code {
            OptLevel::Speed
        } else {
            OptLevel::None
        });
        let engine = Engine::new(&config)?;
        let ticker = EpochTicker::start(engine.clone(), policy.epoch_tick)?;
        let mut linker = Linker::new(&engine);
        host::add_to_linker(&mut linker)?;
        wasi::add_to_linker(&mut linker)?;
        let allowed = AllowedImports::new(wasi_signatures(&engine, &linker, &policy)?);
        Ok(Loader { engine, linker, allowed, shared: Arc::new(Shared { policy, _ticker: ticker }) })
    }

    /// The policy this loader enforces.
    pub fn policy(&self) -> &Policy {
        &self.shared.policy
    }

    /// The imports modules may use, with their signatures.
    pub fn allowed_imports(&self) -> &AllowedImports {
        &self.allowed
    }

    /// Checks and compiles a module: size, parse, validation, ABI, compile.
    /// A refusal names the stage and the reason.
    pub fn load(&self, bytes: &[u8]) -> Result<Function, Rejection> {
        let policy = &self.shared.policy;
        if bytes.len() > policy.max_module_bytes {
            let reason = format!("module is {} bytes, policy allows {}", bytes.len(), policy.max_module_bytes);
            return Err(Rejection::new(Stage::SizeCheck, &reason));
        }
        let summary = module_summary::parse(bytes)?;
        Module::validate(&self.engine, bytes).map_err(|error| rejection(Stage::Validate, &error))?;
        // wasmtime 48 validates with wasmparser 0.254, which lets an exact
        // function import through without the custom-descriptors proposal
        // (0.261 refuses it); the loader never enables that proposal.
        if let Some(import) = summary.exact_function_import() {
            let reason = format!("import {}.{} is an exact function import, which needs the custom-descriptors proposal", import.module, import.name);
            return Err(Rejection::new(Stage::Validate, &reason));
        }
        abi::check(&summary, &self.allowed, policy)?;
        let module = Module::from_binary(&self.engine, bytes).map_err(|error| rejection(Stage::Compile, &error))?;
        let instance_pre = self.linker.instantiate_pre(&module).map_err(|error| rejection(Stage::AbiCheck, &error))?;
        Ok(Function { instance_pre, shared: Arc::clone(&self.shared) })
    }

    /// Loads `bytes` and, if accepted, invokes it once: the outcome of one input.
    pub fn run(&self, bytes: &[u8], request: &[u8], storage: &Arc<Storage>) -> Outcome {
        match self.load(bytes) {
            Ok(function) => function.invoke(request, storage),
            Err(rejection) => Outcome::rejected(rejection),
        }
    }
}

impl Function {
    /// Runs `main` once in a fresh store, with the policy's sandbox directory.
    pub fn invoke(&self, request: &[u8], storage: &Arc<Storage>) -> Outcome {
        self.invoke_in(request, storage, self.shared.policy.sandbox_dir.as_deref())
    }

    /// Runs `main` once in a fresh store whose WASI sees only `sandbox_dir`.
    pub fn invoke_in(&self, request: &[u8], storage: &Arc<Storage>, sandbox_dir: Option<&Path>) -> Outcome {
        let policy = &self.shared.policy;
        let mut outcome = Outcome::rejected(Rejection::new(Stage::Instantiate, ""));
        let wasi = match wasi::setup(sandbox_dir, policy) {
            Ok(wasi) => wasi,
            Err(error) => {
                outcome.end = End::Trap(TrapCode::Other(printable_message(&format!("WASI setup failed: {error:#}"))));
                return outcome;
            }
        };
        let state = HostState {
            request: request.to_vec(),
            storage: Arc::clone(storage),
            response: Vec::new(),
            logs: Vec::new(),
            log_bytes: 0,
            host_calls: Vec::new(),
            caps: HostCaps {
                max_response_bytes: policy.max_response_bytes,
                max_log_bytes: policy.max_log_bytes,
                max_host_calls: policy.max_host_calls,
            },
            limiter: Limiter::new(policy),
            wasi: wasi.ctx,
            sandbox_entries: wasi.sandbox_entries,
        };
        let mut store = Store::new(self.instance_pre.module().engine(), state);
        store.limiter(|state| &mut state.limiter);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(policy.deadline_ticks());
        let result = store.set_fuel(policy.fuel).and_then(|()| {
            let instance = self.instance_pre.instantiate(&mut store)?;
            let main = instance.get_typed_func::<(), ()>(&mut store, "main")?;
            outcome.stage = Stage::Execute;
            main.call(&mut store, ())
        });
        let state = store.into_data();
        // A refused `memory.grow` only returns -1 to the guest; the limiter ends
        // an invocation only by refusing what instantiation asks for.
        let limit_hit = if outcome.stage < Stage::Execute { state.limiter.hit } else { None };
        outcome.end = match result {
            Ok(()) => End::Ok,
            Err(error) => classify(&error, limit_hit),
        };
        if !state.host_calls.is_empty() {
            outcome.stage = Stage::HostCall;
        }
        outcome.response = state.response;
        outcome.logs = state.logs;
        outcome.host_calls = state.host_calls;
        outcome.peak_memory_bytes = Some(state.limiter.peak_memory_bytes);
        outcome.peak_table_elements = Some(state.limiter.peak_table_elements);
        outcome.stdout = wasi.stdout.contents().to_vec();
        outcome.stderr = wasi.stderr.contents().to_vec();
        outcome
    }
}

fn rejection(stage: Stage, error: &wasmtime::Error) -> Rejection {
    Rejection::new(stage, &format!("{error:#}"))
}

/// Turns the error that ended an invocation into its [`End`]; `limit_hit` is
/// the cap that refused instantiation, if one did.
fn classify(error: &wasmtime::Error, limit_hit: Option<Resource>) -> End {
    if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return if exit.0 == 0 { End::Ok } else { End::Exit(exit.0) };
    }
    if let Some(HostAbort::TooManyHostCalls) = error.downcast_ref::<HostAbort>() {
        return End::LimitExceeded(Resource::HostCalls);
    }
    if wasi::is_open_files_cap(error) {
        return End::LimitExceeded(Resource::OpenFiles);
    }
    let code = match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => return End::OutOfFuel,
        Some(Trap::Interrupt) => return End::DeadlineExceeded,
        Some(Trap::UnreachableCodeReached) => TrapCode::Unreachable,
        Some(Trap::MemoryOutOfBounds) => TrapCode::MemoryOutOfBounds,
        Some(Trap::TableOutOfBounds) => TrapCode::TableOutOfBounds,
        Some(Trap::IndirectCallToNull) => TrapCode::IndirectCallToNull,
        Some(Trap::BadSignature) => TrapCode::BadSignature,
        Some(Trap::IntegerOverflow) => TrapCode::IntegerOverflow,
        Some(Trap::IntegerDivisionByZero) => TrapCode::IntegerDivisionByZero,
        Some(Trap::BadConversionToInteger) => TrapCode::BadConversionToInteger,
        Some(Trap::StackOverflow) => TrapCode::StackOverflow,
        Some(other) => TrapCode::Other(printable_message(&other.to_string())),
        None => match limit_hit {
            Some(resource) => return End::LimitExceeded(resource),
            None => TrapCode::Other(printable_message(&format!("{error:#}"))),
        },
    };
    End::Trap(code)
}

/// The WASI preview1 functions the linker defines, with their signatures.
fn wasi_signatures(engine: &Engine, linker: &Linker<HostState>, policy: &Policy) -> wasmtime::Result<Vec<(String, Signature)>> {
    let wasi = wasi::setup(None, policy)?;
    let state = HostState {
        request: Vec::new(),
        storage: Arc::default(),
        response: Vec::new(),
        logs: Vec::new(),
        log_bytes: 0,
        host_calls: Vec::new(),
        caps: HostCaps { max_response_bytes: 0, max_log_bytes: 0, max_host_calls: 0 },
        limiter: Limiter::new(policy),
        wasi: wasi.ctx,
        sandbox_entries: wasi.sandbox_entries,
    };
    let mut store = Store::new(engine, state);
    let definitions: Vec<(String, String, wasmtime::Extern)> =
        linker.iter(&mut store).map(|(module, name, item)| (module.to_owned(), name.to_owned(), item)).collect();
    let mut signatures = Vec::new();
    for (module, name, item) in definitions {
        if module != abi::WASI_MODULE {
            continue;
        }
        let Some(func) = item.into_func() else { continue };
        let ty = func.ty(&store);
        let convert = |types: &mut dyn Iterator<Item = wasmtime::ValType>| -> Option<Vec<wasmparser::ValType>> {
            types
                .map(|ty| match ty {
                    wasmtime::ValType::I32 => Some(wasmparser::ValType::I32),
                    wasmtime::ValType::I64 => Some(wasmparser::ValType::I64),
                    wasmtime::ValType::F32 => Some(wasmparser::ValType::F32),
                    wasmtime::ValType::F64 => Some(wasmparser::ValType::F64),
                    _ => None,
                })
                .collect()
        };
        if let (Some(params), Some(results)) = (convert(&mut ty.params()), convert(&mut ty.results())) {
            signatures.push((name, Signature { params, results }));
        }
    }
    Ok(signatures)
}
