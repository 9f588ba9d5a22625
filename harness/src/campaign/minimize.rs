//! Minimizing a finding's input while it keeps its signature: wasm-shrink for
//! inputs that are modules, then delta debugging over the bytes for any input.

/// Shrinks a Wasm module with wasm-shrink; returns the input unchanged if it
/// is not a module wasm-shrink can work on.
pub fn shrink_module(module: Vec<u8>, still_fails: &mut dyn FnMut(&[u8]) -> bool) -> Vec<u8> {
    if wasmparser::Validator::new().validate_all(&module).is_err() {
        return module;
    }
    let shrink = wasm_shrink::WasmShrink::default().attempts(200).allow_empty(true);
    match shrink.run(module.clone(), |candidate| Ok(still_fails(candidate))) {
        Ok(info) => info.output,
        Err(_) => module,
    }
}

/// Delta debugging (ddmin) over bytes: removes ever smaller chunks while the
/// input still fails. Stops when no chunk can go or `still_fails` says no to all.
pub fn delta_debug(mut input: Vec<u8>, still_fails: &mut dyn FnMut(&[u8]) -> bool) -> Vec<u8> {
    let mut chunks = 2;
    while input.len() >= 2 && chunks <= input.len() {
        let size = input.len().div_ceil(chunks);
        let mut reduced = false;
        for start in (0..input.len()).step_by(size) {
            let end = (start + size).min(input.len());
            let candidate: Vec<u8> = input[..start].iter().chain(&input[end..]).copied().collect();
            if still_fails(&candidate) {
                input = candidate;
                chunks = (chunks - 1).max(2);
                reduced = true;
                break;
            }
        }
        if !reduced {
            if chunks == input.len() {
                break;
            }
            chunks = (chunks * 2).min(input.len());
        }
    }
    input
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delta_debugging_keeps_only_what_makes_it_fail() {
        let input = b"xxxxcxxrxxxaxxsxxhxxxx".to_vec();
        let mut tries = 0;
        let minimized = delta_debug(input, &mut |candidate| {
            tries += 1;
            let text = String::from_utf8_lossy(candidate);
            let mut wanted = "crash".chars();
            let mut next = wanted.next();
            for character in text.chars() {
                if Some(character) == next {
                    next = wanted.next();
                }
            }
            next.is_none()
        });
        assert_eq!(minimized, b"crash");
        assert!(tries < 200, "{tries} tries");
    }

    #[test]
    fn a_prefix_failure_shrinks_to_the_prefix() {
        let minimized = delta_debug(b"crash and a long tail".to_vec(), &mut |candidate| candidate.starts_with(b"crash"));
        assert_eq!(minimized, b"crash");
    }

    #[test]
    fn wasm_shrink_reduces_a_module_that_keeps_failing() {
        let module = wat::parse_str(
            r#"(module (memory (export "memory") 1) (func (export "alloc") (param i32) (result i32) i32.const 0)
                (func (export "main") nop nop nop) (func $unused (result i32) i32.const 7))"#,
        )
        .unwrap();
        let before = module.len();
        let shrunk = shrink_module(module, &mut |candidate| {
            wasmparser::Parser::new(0).parse_all(candidate).any(|payload| matches!(payload, Ok(wasmparser::Payload::MemorySection(_))))
        });
        assert!(shrunk.len() < before, "{} -> {}", before, shrunk.len());
    }
}
