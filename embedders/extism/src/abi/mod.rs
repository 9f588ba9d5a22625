//! Extism's ABI, as its crate and kernel document it: import module
//! `extism:host/env` with the kernel's functions (memory blocks, input,
//! output, errors) and the host's (config, vars, logs, HTTP), WASI preview1,
//! the adapter's one host function `extism:host/user.report`, and an
//! exported entry function `run: [] -> [i32]`. Imports are checked when a
//! plugin is linked, the entry point when it is called, and the memory cap
//! (`max_pages`) when memory is instantiated or grown. Written here from
//! that documentation, not read from Extism.
//!
//! Not listed: `wasi_unstable` (preview0), which Extism links too; no
//! generator imports it.

use contract::{Policy, Stage};
use harness::abi::{Abi, Enforcement, Export, GuestIo, Helper, Import, KnownDefect, Limits, Scratch, Signature, wasi};
use wasm_encoder::{BlockType, InstructionSink, MemArg};
use wasmparser::{ValType, WasmFeatures};

use crate::embedder::{ENTRY, Extism, REPORT};
use wasmi_host::KernelHost;

pub mod wasmi_host;

/// The import module of Extism's kernel and host functions.
pub const ENV: &str = "extism:host/env";

/// The kernel's functions (wasm code with its own memory), with their
/// parameter and result types (`I` is `i64`, `i` is `i32`).
pub const KERNEL: [(&str, &str, &str); 20] = [
    ("alloc", "I", "I"),
    ("free", "I", ""),
    ("length", "I", "I"),
    ("length_unsafe", "I", "I"),
    ("load_u8", "I", "i"),
    ("load_u64", "I", "I"),
    ("input_load_u8", "I", "i"),
    ("input_load_u64", "I", "I"),
    ("store_u8", "Ii", ""),
    ("store_u64", "II", ""),
    ("input_set", "II", ""),
    ("output_set", "II", ""),
    ("input_length", "", "I"),
    ("input_offset", "", "I"),
    ("output_length", "", "I"),
    ("output_offset", "", "I"),
    ("reset", "", ""),
    ("error_set", "I", ""),
    ("error_get", "", "I"),
    ("memory_bytes", "", "I"),
];

/// The host's functions (Rust in Extism).
pub const HOST: [(&str, &str, &str); 12] = [
    ("config_get", "I", "I"),
    ("var_get", "I", "I"),
    ("var_set", "II", ""),
    ("http_request", "II", "I"),
    ("http_status_code", "", "i"),
    ("http_headers", "", "I"),
    ("log_warn", "I", ""),
    ("log_info", "I", ""),
    ("log_debug", "I", ""),
    ("log_error", "I", ""),
    ("log_trace", "I", ""),
    ("get_log_level", "", "i"),
];

/// The Wasm features Extism's engine enables: wasmtime 43's defaults
/// (Wasm 2.0, multi-memory, relaxed SIMD, tail calls, extended constants,
/// memory64, threads, GC types) plus function references and GC, which
/// Extism turns on. Not enabled: exceptions, custom page sizes, wide
/// arithmetic, stack switching. (The component model is on in wasmtime, but
/// Extism loads core modules only.)
pub fn features() -> WasmFeatures {
    use WasmFeatures as F;
    F::WASM2
        | F::MULTI_MEMORY
        | F::RELAXED_SIMD
        | F::TAIL_CALL
        | F::EXTENDED_CONST
        | F::MEMORY64
        | F::GC_TYPES
        | F::THREADS
        | F::FUNCTION_REFERENCES
        | F::GC
}

/// `codes` as types: `I` is `i64`, anything else `i32`.
fn types(codes: &str) -> Vec<ValType> {
    codes.chars().map(|code| if code == 'I' { ValType::I64 } else { ValType::I32 }).collect()
}

/// An `extism:host/env` import.
pub fn env_import(name: &'static str, for_generators: bool) -> Import {
    let (_, params, results) = KERNEL.iter().chain(HOST.iter()).find(|(known, _, _)| *known == name).copied().unwrap_or((name, "", ""));
    Import { module: ENV, name, signature: Signature { params: types(params), results: types(results) }, for_generators }
}

/// What the oracles pass over in Extism 1.30, so that campaigns find the next
/// one, each written up in `embedders/extism/findings/`: its four defects,
/// `max-pages-excludes-initial-memory`, a note on a deliberate budget rule of
/// Extism (not a defect) that the cap oracle would otherwise report, and
/// `open-files-uncapped` and `sandbox-entries-uncapped`, notes on caps
/// Extism does not promise.
pub const KNOWN_DEFECTS: [KnownDefect; 7] = [
    KnownDefect::RefusesDeclaredMaximum { id: "declared-maximum-refused" },
    KnownDefect::CapExcludesInitialMemory { id: "max-pages-excludes-initial-memory" },
    KnownDefect::TablesUncapped { id: "table-growth-uncapped" },
    KnownDefect::OpenFilesUncapped { id: "open-files-uncapped" },
    KnownDefect::SandboxEntriesUncapped { id: "sandbox-entries-uncapped" },
    KnownDefect::UnlimitedAtLoad { id: "memory-unlimited-at-plugin-creation" },
    KnownDefect::CrashesHost { id: READS_OUTSIDE },
];

/// The finding of Extism's host reading outside its kernel's memory.
pub const READS_OUTSIDE: &str = "unchecked-memory-bytes";

/// The ABI of an Extism host built from `policy`.
pub fn abi(policy: &Policy) -> Abi {
    let env = KERNEL.iter().chain(HOST.iter()).map(|(name, _, _)| env_import(name, true));
    let report = Import { module: REPORT.0, name: REPORT.1, signature: Signature::new(&[ValType::I64], &[]), for_generators: true };
    Abi {
        name: "extism",
        imports: env.chain([report]).chain(wasi::imports()).collect(),
        exports: vec![Export::Func { name: ENTRY, signature: Signature::new(&[], &[ValType::I32]) }],
        entry: ENTRY,
        enforced_at: Enforcement {
            imports: Stage::AbiCheck,
            exports: Stage::AbiCheck,
            limits: Stage::Instantiate,
            exports_after_instantiation: true,
        },
        limits: Limits {
            max_module_bytes: None,
            max_memory_bytes: Some(u64::from(Extism::max_pages(policy)) * 65_536),
            max_table_elements: None,
            max_memories: None,
            max_tables: None,
            memory32_unshared_only: false,
            // Extism caps no response, log or host calls, and does not capture stdio.
            max_response_bytes: None,
            max_log_bytes: None,
            max_stdio_bytes: None,
            max_host_calls: None,
            deadline: Some(policy.deadline),
            // The output, a var or a config value, a log line: all live in the
            // kernel's memory, which the memory cap bounds.
            max_host_buffer: Some(u64::from(Extism::max_pages(policy)) * 65_536),
            // `Plugin::new` instantiates the plugin, start function included.
            load_runs_guest_code: true,
            // Extism caps nothing written in the allowed paths: the suite's ceilings apply.
            max_sandbox_bytes: None,
            max_sandbox_entries: None,
            // Extism caps no descriptors a plugin holds open: the suite's ceiling applies.
            max_open_files: None,
        },
        features: features(),
        io: Box::new(ExtismIo),
        reference_host: Box::new(KernelHost),
        known_defects: KNOWN_DEFECTS.to_vec(),
    }
}

/// The glue of generated modules: the request through `input_length` and
/// `input_load_u8`, the response through `alloc`, `store_u8` and `output_set`.
struct ExtismIo;

/// The glue's imports, as functions of a generated module.
const INPUT_LENGTH: u32 = 0;
const INPUT_LOAD_U8: u32 = 1;
const ALLOC: u32 = 2;
const STORE_U8: u32 = 3;
const OUTPUT_SET: u32 = 4;

impl GuestIo for ExtismIo {
    fn imports(&self) -> Vec<Import> {
        ["input_length", "input_load_u8", "alloc", "store_u8", "output_set"].into_iter().map(|name| env_import(name, false)).collect()
    }

    fn helpers(&self, _request_at: u32) -> Vec<Helper> {
        Vec::new()
    }

    fn entry_results(&self) -> Vec<ValType> {
        vec![ValType::I32]
    }

    fn read_request(&self, code: &mut InstructionSink<'_>, request_at: u32, scratch: Scratch) {
        let [len, index] = scratch.i32s;
        code.call(INPUT_LENGTH).i32_wrap_i64().local_set(len);
        code.i32_const(0).local_set(index);
        code.block(BlockType::Empty).loop_(BlockType::Empty);
        code.local_get(index).local_get(len).i32_ge_u().br_if(1);
        code.local_get(index).local_get(index).i64_extend_i32_u().call(INPUT_LOAD_U8);
        code.i32_store8(MemArg { offset: u64::from(request_at), align: 0, memory_index: 0 });
        code.local_get(index).i32_const(1).i32_add().local_set(index).br(0);
        code.end().end();
        code.local_get(len);
    }

    fn respond(&self, code: &mut InstructionSink<'_>, ptr: u32, len: u32, scratch: Scratch) {
        let [_, index] = scratch.i32s;
        let block = scratch.i64;
        code.i64_const(i64::from(len)).call(ALLOC).local_set(block);
        code.i32_const(0).local_set(index);
        code.block(BlockType::Empty).loop_(BlockType::Empty);
        code.local_get(index).i32_const(len.cast_signed()).i32_ge_u().br_if(1);
        code.local_get(block).local_get(index).i64_extend_i32_u().i64_add();
        code.local_get(index).i32_load8_u(MemArg { offset: u64::from(ptr), align: 0, memory_index: 0 });
        code.call(STORE_U8);
        code.local_get(index).i32_const(1).i32_add().local_set(index).br(0);
        code.end().end();
        code.local_get(block).i64_const(i64::from(len)).call(OUTPUT_SET);
    }

    fn finish(&self, code: &mut InstructionSink<'_>) {
        code.i32_const(0);
    }
}
