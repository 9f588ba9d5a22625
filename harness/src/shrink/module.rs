//! Shrinking a Wasm module that keeps failing: wasm-shrink where the module
//! is valid, then whole sections, then bytes.

use super::delta_debug;
use super::sections;

/// Minimizes a module: wasm-shrink, then whole sections, then bytes, each
/// candidate kept only while `still_fails` says so.
pub fn minimize(module: Vec<u8>, still_fails: &mut dyn FnMut(&[u8]) -> bool) -> Vec<u8> {
    let module = drop_sections(shrink(module, still_fails), still_fails);
    delta_debug(module, still_fails)
}

/// Shrinks a Wasm module with wasm-shrink; returns the input unchanged if it
/// is not a module wasm-shrink can work on (it takes valid modules only).
pub fn shrink(module: Vec<u8>, still_fails: &mut dyn FnMut(&[u8]) -> bool) -> Vec<u8> {
    if wasmparser::Validator::new().validate_all(&module).is_err() {
        return module;
    }
    let shrink = wasm_shrink::WasmShrink::default().allow_empty(true);
    match shrink.run(module.clone(), |candidate| Ok(still_fails(candidate))) {
        Ok(info) => info.output,
        Err(_) => module,
    }
}

/// Delta debugging over a module's sections, kept byte for byte (so a
/// module wasm-shrink cannot take, such as an invalid one, loses whole
/// sections); returns the input unchanged if its section sizes do not split it.
pub fn drop_sections(module: Vec<u8>, still_fails: &mut dyn FnMut(&[u8]) -> bool) -> Vec<u8> {
    let Some((header, sections)) = sections::split(&module) else { return module };
    let encoded: Vec<&[u8]> = sections.iter().map(|section| section.encoded).collect();
    let kept = delta_debug(encoded, &mut |candidate| still_fails(&[header, &candidate.concat()].concat()));
    [header, &kept.concat()].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_sections_keeps_the_rest_intact() {
        let module = wat::parse_str(r#"(module (memory 1) (func) (data (i32.const 0) "hello"))"#).unwrap();
        let (header, split) = sections::split(&module).unwrap();
        let data = split[4].encoded.to_vec();
        // Keeps exactly the data section (id 11), whole.
        let kept = drop_sections(module.clone(), &mut |candidate| candidate.windows(5).any(|window| window == b"hello"));
        assert_eq!(kept, [header, data.as_slice()].concat());
    }

    #[test]
    fn wasm_shrink_reduces_a_module_that_keeps_failing() {
        let module = wat::parse_str(
            r#"(module (memory (export "memory") 1) (func (export "alloc") (param i32) (result i32) i32.const 0)
                (func (export "main") nop nop nop) (func $unused (result i32) i32.const 7))"#,
        )
        .unwrap();
        let before = module.len();
        let shrunk = shrink(module, &mut |candidate| {
            wasmparser::Parser::new(0).parse_all(candidate).any(|payload| matches!(payload, Ok(wasmparser::Payload::MemorySection(_))))
        });
        assert!(shrunk.len() < before, "{} -> {}", before, shrunk.len());
    }
}
