//! The wasm-smith feature switches that match the loader, shared by every
//! generator built on wasm-smith.

use wasm_smith::Config;

/// A wasm-smith configuration that generates exactly the Wasm features the
/// loader accepts (`loader::wasm_features()`): Wasm 1.0 plus bulk memory,
/// multi-value, saturating conversions and sign extension. Generators set
/// their own shapes and sizes on top with `..loader_features()`.
pub fn loader_features() -> Config {
    Config {
        bulk_memory_enabled: true,
        multi_value_enabled: true,
        saturating_float_to_int_enabled: true,
        sign_extension_ops_enabled: true,
        reference_types_enabled: false,
        simd_enabled: false,
        relaxed_simd_enabled: false,
        gc_enabled: false,
        exceptions_enabled: false,
        threads_enabled: false,
        shared_everything_threads_enabled: false,
        tail_call_enabled: false,
        memory64_enabled: false,
        custom_page_sizes_enabled: false,
        wide_arithmetic_enabled: false,
        extended_const_enabled: false,
        custom_descriptors_enabled: false,
        ..Config::default()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn needs_no_feature_the_loader_lacks() {
        // wasm-smith always claims GC_TYPES (part of its Wasm 1.0 set); with
        // reference types off it emits only `funcref` tables, which the loader
        // accepts without GC types (see `loader::wasm_features`).
        let needed = super::loader_features().features() - wasmparser::WasmFeatures::GC_TYPES;
        let missing = needed - loader::wasm_features();
        assert!(missing.is_empty(), "wasm-smith would need {missing:?}");
    }
}
