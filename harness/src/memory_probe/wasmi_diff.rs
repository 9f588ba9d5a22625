//! The same module on wasmi, an independent interpreter, for the
//! differential oracle. The ABI's imports come from its description's
//! [`crate::abi::ReferenceHost`], written independently of the embedder.
//! wasmi gets fuel and the declared memory and table caps through its own
//! `StoreLimits`.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use wasmi::{Config, Engine, Linker, Module, Store, StoreLimitsBuilder, TrapCode};
use wasmparser::WasmFeatures;

use crate::abi::wasmi_host::WatchedLimits;
use crate::abi::{Abi, WasmiState};

/// Fuel for one wasmi invocation: generous, since wasmi and wasmtime count
/// fuel differently and runs that exhaust it are skipped anyway.
pub const WASMI_FUEL: u64 = 20_000_000;

/// How a wasmi invocation ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WasmiEnd {
    /// The entry function returned.
    Ok,
    /// Instantiation or the entry function trapped, with wasmi's trap message.
    Trap(String),
    /// Fuel, the stack or a resource limit ended it: not comparable.
    Limited(String),
}

/// What one wasmi invocation produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WasmiRun {
    /// How it ended.
    pub end: WasmiEnd,
    /// The last response written.
    pub response: Vec<u8>,
    /// Whether the module asked for memory past the cap, which a host may
    /// refuse by ending the run.
    pub asked_past_cap: bool,
}

/// The wasmi engine for a set of Wasm features, built once per set.
fn engine(features: WasmFeatures) -> Engine {
    static ENGINES: Mutex<BTreeMap<u64, Engine>> = Mutex::new(BTreeMap::new());
    let mut engines = ENGINES.lock().unwrap_or_else(PoisonError::into_inner);
    engines
        .entry(features.bits())
        .or_insert_with(|| {
            use WasmFeatures as F;
            let mut config = Config::default();
            config
                .consume_fuel(true)
                .wasm_mutable_global(true)
                .wasm_multi_value(features.contains(F::MULTI_VALUE))
                .wasm_bulk_memory(features.contains(F::BULK_MEMORY))
                .wasm_sign_extension(features.contains(F::SIGN_EXTENSION))
                .wasm_saturating_float_to_int(features.contains(F::SATURATING_FLOAT_TO_INT))
                .wasm_reference_types(features.contains(F::REFERENCE_TYPES))
                .wasm_multi_memory(features.contains(F::MULTI_MEMORY))
                .wasm_tail_call(features.contains(F::TAIL_CALL))
                .wasm_extended_const(features.contains(F::EXTENDED_CONST))
                .wasm_custom_page_sizes(features.contains(F::CUSTOM_PAGE_SIZES))
                .wasm_memory64(features.contains(F::MEMORY64))
                .wasm_wide_arithmetic(features.contains(F::WIDE_ARITHMETIC));
            Engine::new(&config)
        })
        .clone()
}

/// A module compiled for wasmi once, invoked any number of times.
pub struct WasmiModule {
    module: Module,
}

impl WasmiModule {
    /// Compiles `bytes` with the features of `abi`; an error means wasmi
    /// refuses a module the embedder accepted (a feature wasmi lacks).
    pub fn new(bytes: &[u8], abi: &Abi) -> Result<WasmiModule, String> {
        Module::new(&engine(abi.features), bytes).map(|module| WasmiModule { module }).map_err(|error| error.to_string())
    }

    /// Runs the entry function once in a fresh store with `request`, under
    /// the caps `abi` declares.
    pub fn invoke(&self, request: &[u8], abi: &Abi) -> WasmiRun {
        let mut limits = StoreLimitsBuilder::new();
        if let Some(bytes) = abi.limits.max_memory_bytes.and_then(|bytes| usize::try_from(bytes).ok()) {
            limits = limits.memory_size(bytes);
        }
        if let Some(elements) = abi.limits.max_table_elements.and_then(|elements| usize::try_from(elements).ok()) {
            limits = limits.table_elements(elements);
        }
        if let Some(tables) = abi.limits.max_tables {
            limits = limits.tables(tables);
        }
        if let Some(memories) = abi.limits.max_memories {
            limits = limits.memories(memories);
        }
        let mut state = WasmiState {
            request: request.to_vec(),
            response: Vec::new(),
            limits: WatchedLimits::new(limits.build(), abi.limits.max_memory_bytes),
            host: abi.reference_host.new_state(),
        };
        abi.reference_host.start(&mut state);
        let mut store = Store::new(self.module.engine(), state);
        store.limiter(|state| &mut state.limits);
        let mut linker = Linker::new(self.module.engine());
        let result = abi.reference_host.define(&mut linker).and_then(|()| store.set_fuel(WASMI_FUEL)).and_then(|()| {
            let instance = linker.instantiate_and_start(&mut store, &self.module)?;
            let entry = instance.get_func(&store, abi.entry).ok_or_else(|| wasmi::Error::new(format!("no {} export", abi.entry)))?;
            let mut results = vec![wasmi::Val::I32(0); entry.ty(&store).results().len()];
            entry.call(&mut store, &[], &mut results)
        });
        let end = match result {
            Ok(()) => WasmiEnd::Ok,
            Err(error) => match error.as_trap_code() {
                Some(TrapCode::OutOfFuel | TrapCode::StackOverflow | TrapCode::GrowthOperationLimited) => WasmiEnd::Limited(error.to_string()),
                _ => WasmiEnd::Trap(error.to_string()),
            },
        };
        let state = store.into_data();
        WasmiRun { end, response: state.response, asked_past_cap: state.limits.asked_past_cap }
    }
}
