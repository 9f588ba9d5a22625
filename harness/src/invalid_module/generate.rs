//! The valid, ABI-conformant modules the defects start from: wasm-smith
//! limited to the loader's features, with the ABI's imports and exports.

use std::sync::OnceLock;

use arbitrary::Unstructured;
use wasm_smith::Config;

/// The imports a generated module may use: the `host` ABI functions.
const AVAILABLE_IMPORTS: &str = r#"(module
    (import "host" "read_request" (func (param i32 i32) (result i32)))
    (import "host" "write_response" (func (param i32 i32) (result i32)))
    (import "host" "log" (func (param i32 i32) (result i32)))
    (import "host" "storage_get" (func (param i32 i32 i32 i32) (result i32))))"#;

/// The exports every generated module has, as the ABI demands.
const EXPORTS: &str = r#"(module
    (memory (export "memory") 1 4)
    (func (export "main"))
    (func (export "alloc") (param i32) (result i32) local.get 0))"#;

/// The wasm-smith configuration, built once: exactly the loader's features,
/// few and small functions (the modules are rejected before compiling, so
/// generating and validating them is the cost).
fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let wat = |source: &str| match wat::parse_str(source) {
            Ok(bytes) => bytes,
            Err(error) => panic!("setup: the ABI shape module does not parse: {error}"),
        };
        Config {
            available_imports: Some(wat(AVAILABLE_IMPORTS)),
            exports: Some(wat(EXPORTS)),
            max_funcs: 3,
            max_instructions: 6,
            max_types: 3,
            max_type_size: 16,
            max_imports: 4,
            max_globals: 2,
            max_tables: 1,
            max_table_elements: 16,
            // The exported memory is the one memory; wasm-smith adds it beyond this maximum.
            max_memories: 0,
            max_memory32_bytes: 4 * loader::abi::WASM_PAGE_BYTES,
            max_data_segments: 1,
            max_element_segments: 1,
            max_elements: 4,
            ..crate::smith_features::loader_features()
        }
    })
}

/// Input bytes wasm-smith may use: past this it generates from zeros, which
/// bounds the time one input takes.
pub const MAX_GENERATOR_BYTES: usize = 112;

/// A valid module that follows the ABI, generated from at most `max_bytes`
/// of `u`. If wasm-smith gives up on the input, the module generated from no
/// input at all.
pub fn valid_module(u: &mut Unstructured<'_>, max_bytes: usize) -> Vec<u8> {
    let len = u.len().min(max_bytes);
    let Ok(bytes) = u.bytes(len) else { return minimal_module() };
    match wasm_smith::Module::new(config().clone(), &mut Unstructured::new(bytes)) {
        Ok(module) => module.to_bytes(),
        Err(_) => minimal_module(),
    }
}

/// The module wasm-smith generates from empty input: the ABI's bare minimum.
fn minimal_module() -> Vec<u8> {
    static MINIMAL: OnceLock<Vec<u8>> = OnceLock::new();
    MINIMAL
        .get_or_init(|| match wasm_smith::Module::new(config().clone(), &mut Unstructured::new(&[])) {
            Ok(module) => module.to_bytes(),
            Err(error) => panic!("setup: wasm-smith cannot generate from empty input: {error}"),
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every generated module validates with the loader's features and
    /// passes the ABI rules, so each defect alone is what makes it invalid.
    #[test]
    fn undefected_modules_are_valid_and_follow_the_abi() {
        let mut seed = 0x2545_f491_u64;
        for _ in 0..300 {
            let data: Vec<u8> = (0..400)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as u8
                })
                .collect();
            let module = valid_module(&mut Unstructured::new(&data), MAX_GENERATOR_BYTES);
            let verdict = super::super::oracle::reference_verdict(&module);
            assert_eq!(verdict, super::super::oracle::Verdict::Valid, "{}", wasmprinter::print_bytes(&module).unwrap());
        }
    }
}
