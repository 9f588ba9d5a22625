//! The description of an embedder's ABI that drives the generators and the
//! oracles: which imports a module may use, which exports it must have and
//! which function is its entry point, how generated code reads its request
//! and writes its response ([`GuestIo`]), the limits the embedder declares,
//! the Wasm features it accepts, and a host for the wasmi differential that
//! implements the ABI independently ([`ReferenceHost`]).
//!
//! Each embedder writes its own description from its documentation; nothing
//! here calls the embedder's code, so a bug in the embedder cannot hide in
//! its own description.

pub mod io;
pub mod known;
pub mod rules;
pub mod wasi;
pub mod wasmi_host;

use std::time::Duration;

use contract::Stage;
use wasmparser::{ValType, WasmFeatures};

pub use io::{GuestIo, Helper, Scratch};
pub use known::KnownDefect;
pub use wasmi_host::{ReferenceHost, WasmiState};

/// Bytes in one Wasm page.
pub const PAGE_BYTES: u64 = 65_536;

/// Everything the layers need to know about an embedder's ABI.
pub struct Abi {
    /// The embedder's name (`reference`, `extism`).
    pub name: &'static str,
    /// The functions a module may import, with their exact signatures.
    pub imports: Vec<Import>,
    /// The exports a module must have (the entry point among them).
    pub exports: Vec<Export>,
    /// The name of the function the embedder calls per request.
    pub entry: &'static str,
    /// Where the embedder refuses a module that breaks each kind of ABI rule.
    pub enforced_at: Enforcement,
    /// The limits the embedder declares.
    pub limits: Limits,
    /// The Wasm features the embedder accepts.
    pub features: WasmFeatures,
    /// How generated code reads its request and writes its response.
    pub io: Box<dyn GuestIo>,
    /// The ABI for the wasmi differential, implemented independently.
    pub reference_host: Box<dyn ReferenceHost>,
    /// Its defects already written up, which the oracles pass over.
    pub known_defects: Vec<KnownDefect>,
}

impl Abi {
    /// The id of the known defect [`KnownDefect::RefusesDeclaredMaximum`], if listed.
    pub fn refuses_declared_maximum(&self) -> Option<&'static str> {
        self.known_defects.iter().find(|defect| matches!(defect, KnownDefect::RefusesDeclaredMaximum { .. })).map(KnownDefect::id)
    }

    /// The id of the known defect [`KnownDefect::TablesUncapped`], if listed.
    pub fn tables_uncapped(&self) -> Option<&'static str> {
        self.known_defects.iter().find(|defect| matches!(defect, KnownDefect::TablesUncapped { .. })).map(KnownDefect::id)
    }

    /// The id of the known defect [`KnownDefect::OpenFilesUncapped`], if listed.
    pub fn open_files_uncapped(&self) -> Option<&'static str> {
        self.known_defects.iter().find(|defect| matches!(defect, KnownDefect::OpenFilesUncapped { .. })).map(KnownDefect::id)
    }

    /// The id of the known defect [`KnownDefect::SandboxEntriesUncapped`], if listed.
    pub fn sandbox_entries_uncapped(&self) -> Option<&'static str> {
        self.known_defects.iter().find(|defect| matches!(defect, KnownDefect::SandboxEntriesUncapped { .. })).map(KnownDefect::id)
    }

    /// The id of the known defect [`KnownDefect::UnlimitedAtLoad`], if listed.
    pub fn unlimited_at_load(&self) -> Option<&'static str> {
        self.known_defects.iter().find(|defect| matches!(defect, KnownDefect::UnlimitedAtLoad { .. })).map(KnownDefect::id)
    }

    /// The id of the known defect [`KnownDefect::CapExcludesInitialMemory`], if listed.
    pub fn cap_excludes_initial_memory(&self) -> Option<&'static str> {
        self.known_defects.iter().find(|defect| matches!(defect, KnownDefect::CapExcludesInitialMemory { .. })).map(KnownDefect::id)
    }
}

/// A function a module may import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Import {
    /// The import module (`host`, `extism:host/env`, `wasi_snapshot_preview1`).
    pub module: &'static str,
    /// The function's name.
    pub name: &'static str,
    /// Its exact signature.
    pub signature: Signature,
    /// Whether generated modules (wasm-smith's) may call it with arbitrary
    /// arguments; off for functions whose effects the oracles do not model.
    pub for_generators: bool,
}

/// A function signature.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Signature {
    /// Parameter types.
    pub params: Vec<ValType>,
    /// Result types.
    pub results: Vec<ValType>,
}

impl Signature {
    /// A signature of `params` and `results`.
    pub fn new(params: &[ValType], results: &[ValType]) -> Signature {
        Signature { params: params.to_vec(), results: results.to_vec() }
    }
}

/// An export a module must have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Export {
    /// A function with exactly this signature.
    Func {
        /// Its name.
        name: &'static str,
        /// Its signature.
        signature: Signature,
    },
    /// A linear memory.
    Memory {
        /// Its name.
        name: &'static str,
    },
}

impl Export {
    /// The export's name.
    pub fn name(&self) -> &'static str {
        match self {
            Export::Func { name, .. } | Export::Memory { name } => name,
        }
    }
}

/// The kinds of ABI rule, which an embedder may enforce at different stages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Only allowed imports, with their exact signatures.
    Imports,
    /// The required exports, with their kinds and signatures.
    Exports,
    /// Declared memories and tables within the limits.
    Limits,
}

/// The stage at which the embedder refuses a module breaking each kind of rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Enforcement {
    /// Imports (the loader's ABI check; Extism's link step).
    pub imports: Stage,
    /// Exports (Extism finds a missing entry point when it calls it).
    pub exports: Stage,
    /// Declared limits (Extism's memory limiter refuses at instantiation).
    pub limits: Stage,
    /// Whether the embedder looks for the required exports only once the
    /// module is instantiated (Extism instantiates a plugin's module when it
    /// creates the plugin, and looks the entry point up when it calls it): a
    /// module that ends while instantiating (a start function that traps, a
    /// segment out of bounds) then ends before its exports are checked.
    pub exports_after_instantiation: bool,
}

impl Enforcement {
    /// The stage for `rule`.
    pub fn stage(&self, rule: Rule) -> Stage {
        match rule {
            Rule::Imports => self.imports,
            Rule::Exports => self.exports,
            Rule::Limits => self.limits,
        }
    }
}

/// The limits an embedder declares; `None` where it sets none (or cannot
/// report what the limit bounds, such as stdio Extism does not capture).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest module it accepts, in bytes.
    pub max_module_bytes: Option<usize>,
    /// Largest linear memory a module may have or grow to, in bytes.
    pub max_memory_bytes: Option<u64>,
    /// Largest table, in elements.
    pub max_table_elements: Option<u64>,
    /// Most memories a module may declare.
    pub max_memories: Option<usize>,
    /// Most tables a module may declare.
    pub max_tables: Option<usize>,
    /// Whether memories must be 32-bit and unshared.
    pub memory32_unshared_only: bool,
    /// Largest response, in bytes.
    pub max_response_bytes: Option<u64>,
    /// Most bytes of log lines per invocation.
    pub max_log_bytes: Option<u64>,
    /// Most bytes kept of each of stdout and stderr.
    pub max_stdio_bytes: Option<u64>,
    /// Most host calls per invocation.
    pub max_host_calls: Option<u64>,
    /// Wall-clock budget of an invocation.
    pub deadline: Option<Duration>,
    /// The largest buffer the ABI lets a guest (or a stored value) make the
    /// host hold at once, in bytes: what bounds a single host allocation.
    pub max_host_buffer: Option<u64>,
    /// Whether loading a module runs guest code (Extism instantiates the
    /// plugin, start function included, when it creates it): loads are then
    /// held to the host-memory budget as invocations are.
    pub load_runs_guest_code: bool,
    /// Most bytes on disk a run may leave in its WASI sandbox.
    pub max_sandbox_bytes: Option<u64>,
    /// Most files, directories and links a run may leave in its WASI sandbox.
    pub max_sandbox_entries: Option<u64>,
    /// Most files and directories a guest may hold open at once through WASI.
    pub max_open_files: Option<u64>,
}

/// Memories the suite lets a module use where its embedder promises no cap.
pub const MEMORIES_CEILING: u64 = 4;
/// Tables the suite lets a module use where its embedder promises no cap.
pub const TABLES_CEILING: u64 = 4;
/// Host bytes one table element may take (a function reference and the
/// engine's bookkeeping for it).
pub const TABLE_ELEMENT_BYTES: u64 = 16;
/// Entries a run may leave in its sandbox where the embedder promises no cap.
pub const SANDBOX_ENTRIES_CEILING: u64 = 1024;
/// Files and directories a guest may hold open at once where its embedder
/// promises no cap: the soft limit on a process's open descriptors that most
/// Linux hosts start with (`ulimit -n`). Each one a guest holds is a host
/// descriptor; a guest holding this many can leave a host so configured
/// unable to open a file or accept a connection while it runs.
pub const OPEN_FILES_CEILING: u64 = 1024;
/// The memory cap the suite assumes where an embedder promises none: 4 GiB,
/// all a 32-bit memory can address.
pub const MEMORY_CEILING_BYTES: u64 = 1 << 32;

impl Limits {
    /// The memory cap in whole pages, if there is one.
    pub fn max_memory_pages(&self) -> Option<u64> {
        self.max_memory_bytes.map(|bytes| bytes / PAGE_BYTES)
    }

    /// The largest linear memory, or the suite's ceiling of 4 GiB.
    pub fn memory_bytes_or_ceiling(&self) -> u64 {
        self.max_memory_bytes.unwrap_or(MEMORY_CEILING_BYTES)
    }

    /// The most memories, or the suite's ceiling [`MEMORIES_CEILING`].
    pub fn memories_or_ceiling(&self) -> u64 {
        self.max_memories.map_or(MEMORIES_CEILING, |count| count as u64)
    }

    /// The most tables, or the suite's ceiling [`TABLES_CEILING`].
    pub fn tables_or_ceiling(&self) -> u64 {
        self.max_tables.map_or(TABLES_CEILING, |count| count as u64)
    }

    /// The most bytes on disk a run may leave in its sandbox, or the suite's
    /// ceiling: what the memory cap lets a guest hold.
    pub fn sandbox_bytes_or_ceiling(&self) -> u64 {
        self.max_sandbox_bytes.unwrap_or(self.memory_bytes_or_ceiling())
    }

    /// The most sandbox entries, or the suite's ceiling [`SANDBOX_ENTRIES_CEILING`].
    pub fn sandbox_entries_or_ceiling(&self) -> u64 {
        self.max_sandbox_entries.unwrap_or(SANDBOX_ENTRIES_CEILING)
    }

    /// The most files a guest may hold open at once, or the suite's ceiling
    /// [`OPEN_FILES_CEILING`].
    pub fn open_files_or_ceiling(&self) -> u64 {
        self.max_open_files.unwrap_or(OPEN_FILES_CEILING)
    }

    /// The largest table in elements, or the suite's ceiling: as many
    /// elements as make the host hold what the memory cap lets a linear
    /// memory hold ([`TABLE_ELEMENT_BYTES`] each).
    pub fn table_elements_or_ceiling(&self) -> u64 {
        self.max_table_elements.unwrap_or(self.memory_bytes_or_ceiling() / TABLE_ELEMENT_BYTES)
    }
}

/// The independent validator the verdict oracles use: wasmparser's with
/// `features`, and the one check of the custom-descriptors proposal that
/// wasmparser 0.254 leaves out: an exact function import (external kind
/// `0x20`) needs the feature (wasmparser 0.261 checks it; wasmtime 48 and
/// Extism's wasmtime 43 refuse such an import after validating).
pub fn validate(module: &[u8], features: WasmFeatures) -> Result<(), String> {
    wasmparser::Validator::new_with_features(features).validate_all(module).map_err(|error| error.to_string())?;
    if features.contains(WasmFeatures::CUSTOM_DESCRIPTORS) {
        return Ok(());
    }
    let exact_import = wasmparser::Parser::new(0).parse_all(module).filter_map(Result::ok).any(|payload| match payload {
        wasmparser::Payload::ImportSection(imports) => {
            imports.into_imports().filter_map(Result::ok).any(|import| matches!(import.ty, wasmparser::TypeRef::FuncExact(_)))
        }
        _ => false,
    });
    if exact_import { Err("custom descriptors required for exact function imports".to_owned()) } else { Ok(()) }
}

/// A wasm-smith configuration that generates exactly the Wasm features in
/// `features` (wasm-smith always generates Wasm 1.0 and mutable globals).
/// Generators set their own shapes and sizes on top with `..smith_config(features)`.
pub fn smith_config(features: WasmFeatures) -> wasm_smith::Config {
    use WasmFeatures as F;
    wasm_smith::Config {
        bulk_memory_enabled: features.contains(F::BULK_MEMORY),
        multi_value_enabled: features.contains(F::MULTI_VALUE),
        saturating_float_to_int_enabled: features.contains(F::SATURATING_FLOAT_TO_INT),
        sign_extension_ops_enabled: features.contains(F::SIGN_EXTENSION),
        reference_types_enabled: features.contains(F::REFERENCE_TYPES),
        simd_enabled: features.contains(F::SIMD),
        relaxed_simd_enabled: features.contains(F::RELAXED_SIMD),
        gc_enabled: features.contains(F::GC) && features.contains(F::FUNCTION_REFERENCES),
        exceptions_enabled: features.contains(F::EXCEPTIONS),
        threads_enabled: features.contains(F::THREADS),
        shared_everything_threads_enabled: features.contains(F::SHARED_EVERYTHING_THREADS),
        tail_call_enabled: features.contains(F::TAIL_CALL),
        memory64_enabled: features.contains(F::MEMORY64),
        custom_page_sizes_enabled: features.contains(F::CUSTOM_PAGE_SIZES),
        wide_arithmetic_enabled: features.contains(F::WIDE_ARITHMETIC),
        extended_const_enabled: features.contains(F::EXTENDED_CONST),
        custom_descriptors_enabled: features.contains(F::CUSTOM_DESCRIPTORS),
        ..wasm_smith::Config::default()
    }
}

/// A wasm-smith module of `config` that validates with `features`.
/// wasm-smith cannot leave `externref` out once reference types are on, and
/// an engine built without GC refuses it (no `GC_TYPES`); a module that
/// uses it is made again, from the rest of `u`, without reference types.
pub fn smith_module(
    config: &wasm_smith::Config,
    features: WasmFeatures,
    u: &mut arbitrary::Unstructured<'_>,
) -> arbitrary::Result<wasm_smith::Module> {
    let module = wasm_smith::Module::new(config.clone(), u)?;
    if features.contains(WasmFeatures::GC_TYPES) || wasmparser::Validator::new_with_features(features).validate_all(&module.to_bytes()).is_ok() {
        return Ok(module);
    }
    wasm_smith::Module::new(wasm_smith::Config { reference_types_enabled: false, gc_enabled: false, ..config.clone() }, u)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module importing `m.f` as an exact function of type `[] -> []`.
    const EXACT_IMPORT: &[u8] = b"\0asm\x01\0\0\0\x01\x04\x01\x60\0\0\x02\x07\x01\x01m\x01f\x20\0";

    #[test]
    fn an_exact_function_import_needs_custom_descriptors() {
        let wasm2 = WasmFeatures::WASM2;
        assert!(wasmparser::Validator::new_with_features(wasm2).validate_all(EXACT_IMPORT).is_ok(), "wasmparser now checks it: drop the workaround");
        assert_eq!(validate(EXACT_IMPORT, wasm2), Err("custom descriptors required for exact function imports".to_owned()));
        let with_descriptors = wasm2 | WasmFeatures::CUSTOM_DESCRIPTORS | WasmFeatures::GC | WasmFeatures::FUNCTION_REFERENCES;
        assert_eq!(validate(EXACT_IMPORT, with_descriptors), Ok(()));
    }

    #[test]
    fn smith_modules_validate_without_gc_types() {
        let features = WasmFeatures::WASM3 - WasmFeatures::GC_TYPES - WasmFeatures::EXCEPTIONS - WasmFeatures::THREADS;
        let config = smith_config(features);
        let mut remade = 0;
        for seed in 0..100u32 {
            let data: Vec<u8> = (0..2000u32).map(|i| (i.wrapping_mul(seed * 2 + 7) ^ (i >> 3)) as u8).collect();
            let first = wasm_smith::Module::new(config.clone(), &mut arbitrary::Unstructured::new(&data)).unwrap();
            remade += usize::from(wasmparser::Validator::new_with_features(features).validate_all(&first.to_bytes()).is_err());
            let Ok(module) = smith_module(&config, features, &mut arbitrary::Unstructured::new(&data)) else { continue };
            let bytes = module.to_bytes();
            wasmparser::Validator::new_with_features(features).validate_all(&bytes).unwrap_or_else(|error| panic!("seed {seed}: {error}"));
        }
        assert!(remade > 0, "wasm-smith always left externref out: the second try is never needed");
    }

    #[test]
    fn smith_needs_no_feature_beyond_the_ones_it_is_given() {
        let wasm2 = WasmFeatures::WASM1
            | WasmFeatures::BULK_MEMORY
            | WasmFeatures::SIGN_EXTENSION
            | WasmFeatures::SATURATING_FLOAT_TO_INT
            | WasmFeatures::MULTI_VALUE;
        for features in [wasm2, WasmFeatures::WASM2, WasmFeatures::WASM2 | WasmFeatures::TAIL_CALL | WasmFeatures::MEMORY64] {
            // wasm-smith always claims GC_TYPES (part of its Wasm 1.0 set): with
            // reference types off it emits only `funcref` tables.
            let needed = smith_config(features).features() - WasmFeatures::GC_TYPES;
            let missing = needed - features;
            assert!(missing.is_empty(), "wasm-smith would need {missing:?} beyond {features:?}");
        }
    }
}
