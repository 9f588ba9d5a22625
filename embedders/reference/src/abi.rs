//! The reference loader's ABI, as its documentation (`embedders/reference/README.md`, "Host
//! ABI") states it: import module `host` with four functions over `i32`s,
//! WASI preview1, exports `main: [] -> []`, `alloc: [i32] -> [i32]` and
//! `memory`, every rule checked at the ABI check, and the policy's caps.
//! Written here, not read from the loader, so that the oracles do not trust
//! what they judge.

use contract::{Policy, Stage, WasmFeatureSet};
use harness::abi::{Abi, Enforcement, Export, GuestIo, Helper, Import, Limits, Scratch, Signature, wasi};
use wasm_encoder::{Function, InstructionSink, MemArg};
use wasmparser::{ValType, WasmFeatures};

use crate::wasmi_host::OakHost;

/// The import module of the host ABI.
pub const HOST: &str = "host";

/// The host functions, with their parameter counts (all `i32`, one `i32` result).
pub const HOST_FUNCTIONS: [(&str, usize); 4] = [("read_request", 2), ("write_response", 2), ("log", 2), ("storage_get", 4)];

/// The Wasm features a loader built from `policy` accepts.
pub fn features(policy: &Policy) -> WasmFeatures {
    match policy.wasm_features {
        WasmFeatureSet::Documented => documented_features(),
        WasmFeatureSet::EngineDefaults => wasmtime_default_features(),
    }
}

/// The Wasm features the loader's documentation promises: Wasm 1.0 plus
/// bulk memory, sign extension, saturating conversions and multi-value; no
/// reference types or SIMD (and so no GC types).
fn documented_features() -> WasmFeatures {
    use WasmFeatures as F;
    (F::WASM1 | F::BULK_MEMORY | F::SIGN_EXTENSION | F::SATURATING_FLOAT_TO_INT | F::MULTI_VALUE) - F::GC_TYPES
}

/// The Wasm features wasmtime 48 enables when a server leaves them alone,
/// as its documentation lists them: the Wasm 3.0 set, less what needs a
/// cargo feature this build of wasmtime leaves off (`gc`: GC types and
/// exceptions; `threads`).
fn wasmtime_default_features() -> WasmFeatures {
    use WasmFeatures as F;
    F::WASM3 - F::GC_TYPES - F::EXCEPTIONS - F::THREADS
}

/// The ABI of a loader built from `policy`.
pub fn abi(policy: &Policy) -> Abi {
    let host = HOST_FUNCTIONS.iter().map(|(name, params)| host_import(name, *params, true));
    Abi {
        name: "reference",
        imports: host.chain(wasi::imports()).collect(),
        exports: vec![
            Export::Func { name: "main", signature: Signature::new(&[], &[]) },
            Export::Func { name: "alloc", signature: Signature::new(&[ValType::I32], &[ValType::I32]) },
            Export::Memory { name: "memory" },
        ],
        entry: "main",
        enforced_at: Enforcement { imports: Stage::AbiCheck, exports: Stage::AbiCheck, limits: Stage::AbiCheck, exports_after_instantiation: false },
        limits: Limits {
            max_module_bytes: Some(policy.max_module_bytes),
            max_memory_bytes: Some(u64::try_from(policy.max_memory_bytes).unwrap_or(u64::MAX)),
            max_table_elements: Some(u64::try_from(policy.max_table_elements).unwrap_or(u64::MAX)),
            max_memories: Some(policy.max_memories),
            max_tables: Some(policy.max_tables),
            memory32_unshared_only: true,
            max_response_bytes: Some(wide(policy.max_response_bytes)),
            max_log_bytes: Some(wide(policy.max_log_bytes)),
            max_stdio_bytes: Some(wide(policy.max_stdio_bytes)),
            max_host_calls: Some(u64::from(policy.max_host_calls)),
            deadline: Some(policy.deadline),
            max_host_buffer: Some(max_host_buffer(policy)),
            // The loader compiles and links at load; it instantiates per call.
            load_runs_guest_code: false,
            // The loader caps the entries a guest makes in the sandbox, not
            // the bytes it writes: the suite's ceiling applies to those.
            max_sandbox_bytes: None,
            max_sandbox_entries: Some(wide(policy.max_sandbox_entries)),
            // The WASI context's resource table holds at most this many
            // descriptors and streams, stdio and the sandbox among them.
            max_open_files: Some(wide(policy.max_open_files)),
        },
        features: features(policy),
        io: Box::new(OakIo),
        reference_host: Box::new(OakHost { max_response_bytes: policy.max_response_bytes }),
        known_defects: Vec::new(),
    }
}

/// A `usize` limit as `u64`.
fn wide(value: usize) -> u64 {
    u64::try_from(value).unwrap_or(u64::MAX)
}

/// The largest buffer the loader's ABI lets a guest make it hold: a
/// response, a log line, captured stdio, random bytes, a stored value (at
/// most [`MAX_STORED_VALUE`]), or a table's elements (16 bytes each).
pub fn max_host_buffer(policy: &Policy) -> u64 {
    let buffers = [policy.max_response_bytes, policy.max_log_bytes, policy.max_stdio_bytes, policy.max_random_bytes, MAX_STORED_VALUE];
    let tables = wide(policy.max_table_elements) * 16;
    buffers.into_iter().map(wide).chain([tables]).max().unwrap_or(0)
}

/// The largest value the suite puts in a lookup store (layer 4's `big`).
pub const MAX_STORED_VALUE: usize = 200_000;

/// `host.<name>` over `params` `i32`s returning an `i32` status.
fn host_import(name: &'static str, params: usize, for_generators: bool) -> Import {
    Import { module: HOST, name, signature: Signature::new(&vec![ValType::I32; params], &[ValType::I32]), for_generators }
}

/// The glue of generated modules: `read_request` through an exported
/// `alloc` that returns the address the request goes to, `write_response`.
struct OakIo;

/// Where `read_request` writes the request's pointer and length.
const SLOTS: (i32, i32) = (0, 4);
/// The glue's imports, as functions of a generated module.
const WRITE_RESPONSE: u32 = 0;
const READ_REQUEST: u32 = 1;

impl GuestIo for OakIo {
    fn imports(&self) -> Vec<Import> {
        vec![host_import("write_response", 2, true), host_import("read_request", 2, false)]
    }

    fn helpers(&self, request_at: u32) -> Vec<Helper> {
        let mut body = Function::new([]);
        body.instructions().i32_const(request_at.cast_signed()).end();
        vec![Helper { export: "alloc", signature: Signature::new(&[ValType::I32], &[ValType::I32]), body }]
    }

    fn entry_results(&self) -> Vec<ValType> {
        Vec::new()
    }

    fn read_request(&self, code: &mut InstructionSink<'_>, _request_at: u32, _scratch: Scratch) {
        code.i32_const(SLOTS.0).i32_const(SLOTS.1).call(READ_REQUEST).drop();
        code.i32_const(SLOTS.1).i32_load(MemArg { offset: 0, align: 2, memory_index: 0 });
    }

    fn respond(&self, code: &mut InstructionSink<'_>, ptr: u32, len: u32, _scratch: Scratch) {
        code.i32_const(ptr.cast_signed()).i32_const(len.cast_signed()).call(WRITE_RESPONSE).drop();
    }

    fn finish(&self, _code: &mut InstructionSink<'_>) {}
}
