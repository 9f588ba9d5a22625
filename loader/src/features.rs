//! The Wasm features the loader accepts.

/// The Wasm features the loader accepts: Wasm 1.0 plus the 2.0 additions that
/// need no reference types or SIMD (bulk memory, sign extension, saturating
/// conversions, multi-value).
///
/// GC types are off (wasmtime is built without its GC); `funcref` tables do
/// not need them.
pub fn wasm_features() -> wasmparser::WasmFeatures {
    use wasmparser::WasmFeatures as F;
    let wasm2_without_references = F::WASM1 | F::BULK_MEMORY | F::SIGN_EXTENSION | F::SATURATING_FLOAT_TO_INT | F::MULTI_VALUE;
    wasm2_without_references - F::GC_TYPES
}
