//! A small ABI for the library's own tests, which run no embedder: modules
//! import nothing, export `main: [] -> []` and `memory`, read an empty
//! request and answer nothing.

use contract::Stage;
use wasmparser::WasmFeatures;

use crate::abi::io::ReadsNothing;
use crate::abi::wasmi_host::NoImports;
use crate::abi::{Abi, Enforcement, Export, Limits, Signature};

/// The test ABI, with modules of at most `max_module_bytes`.
pub fn abi(max_module_bytes: usize) -> Abi {
    let features = WasmFeatures::WASM1
        | WasmFeatures::BULK_MEMORY
        | WasmFeatures::SIGN_EXTENSION
        | WasmFeatures::SATURATING_FLOAT_TO_INT
        | WasmFeatures::MULTI_VALUE;
    Abi {
        name: "test",
        imports: Vec::new(),
        exports: vec![Export::Func { name: "main", signature: Signature::new(&[], &[]) }, Export::Memory { name: "memory" }],
        entry: "main",
        enforced_at: Enforcement { imports: Stage::AbiCheck, exports: Stage::AbiCheck, limits: Stage::AbiCheck, exports_after_instantiation: false },
        limits: Limits {
            max_module_bytes: Some(max_module_bytes),
            max_memory_bytes: Some(16 << 20),
            max_table_elements: Some(10_000),
            max_memories: Some(1),
            max_tables: Some(1),
            memory32_unshared_only: true,
            max_response_bytes: Some(1 << 20),
            max_log_bytes: Some(64 << 10),
            max_stdio_bytes: Some(64 << 10),
            max_host_calls: Some(10_000),
            deadline: Some(std::time::Duration::from_secs(1)),
            max_host_buffer: Some(1 << 20),
            load_runs_guest_code: false,
            max_sandbox_bytes: None,
            max_sandbox_entries: None,
            max_open_files: Some(64),
        },
        features: features - WasmFeatures::GC_TYPES,
        io: Box::new(ReadsNothing),
        reference_host: Box::new(NoImports),
        known_defects: Vec::new(),
    }
}
