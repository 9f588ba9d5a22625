//! How generated code talks to its embedder: reading the request into
//! linear memory and answering with a response, emitted as Wasm instructions
//! for the layer-3 generators (the probe interpreter, the wasm-smith wrapper).

use wasm_encoder::{Function, InstructionSink};
use wasmparser::ValType;

use super::{Import, Signature};

/// Locals the glue code may use, which the function holding it declares:
/// two `i32`s and one `i64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scratch {
    /// Two `i32` locals.
    pub i32s: [u32; 2],
    /// One `i64` local.
    pub i64: u32,
}

/// A function the ABI needs a generated module to define and export besides
/// its entry point (the reference ABI's `alloc`).
#[derive(Clone, Debug)]
pub struct Helper {
    /// The export name.
    pub export: &'static str,
    /// Its signature.
    pub signature: Signature,
    /// Its body.
    pub body: Function,
}

/// The request and response glue of one ABI.
///
/// A generated module imports exactly [`GuestIo::imports`] first, in order,
/// so import `i` is function `i`; those marked `for_generators` come first
/// and wasm-smith's own code may call them too. Its memory is memory 0.
pub trait GuestIo: Send + Sync {
    /// The function imports the glue calls, those for generators first.
    fn imports(&self) -> Vec<Import>;

    /// Functions to define and export besides the entry point, given the
    /// address where [`GuestIo::read_request`] puts the request.
    fn helpers(&self, request_at: u32) -> Vec<Helper>;

    /// The entry function's results (it takes no parameters).
    fn entry_results(&self) -> Vec<ValType>;

    /// Emits code that copies the request to `request_at` in memory 0 and
    /// leaves its length (`i32`) on the stack.
    fn read_request(&self, code: &mut InstructionSink<'_>, request_at: u32, scratch: Scratch);

    /// Emits code that answers with the `len` bytes at `ptr` of memory 0.
    fn respond(&self, code: &mut InstructionSink<'_>, ptr: u32, len: u32, scratch: Scratch);

    /// Emits the entry function's return values for a successful run.
    fn finish(&self, code: &mut InstructionSink<'_>);
}

/// `ty` for wasm-encoder; ABI signatures use number types only, and any
/// other type reads as `i32`.
pub fn encoder_type(ty: ValType) -> wasm_encoder::ValType {
    match ty {
        ValType::I64 => wasm_encoder::ValType::I64,
        ValType::F32 => wasm_encoder::ValType::F32,
        ValType::F64 => wasm_encoder::ValType::F64,
        ValType::V128 => wasm_encoder::ValType::V128,
        _ => wasm_encoder::ValType::I32,
    }
}

/// `types` for wasm-encoder.
pub fn encoder_types(types: &[ValType]) -> Vec<wasm_encoder::ValType> {
    types.iter().copied().map(encoder_type).collect()
}

/// The glue of an ABI without host functions: a module reads an empty
/// request and answers nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadsNothing;

impl GuestIo for ReadsNothing {
    fn imports(&self) -> Vec<Import> {
        Vec::new()
    }

    fn helpers(&self, _: u32) -> Vec<Helper> {
        Vec::new()
    }

    fn entry_results(&self) -> Vec<ValType> {
        Vec::new()
    }

    fn read_request(&self, code: &mut InstructionSink<'_>, _: u32, _: Scratch) {
        code.i32_const(0);
    }

    fn respond(&self, _: &mut InstructionSink<'_>, _: u32, _: u32, _: Scratch) {}

    fn finish(&self, _: &mut InstructionSink<'_>) {}
}
