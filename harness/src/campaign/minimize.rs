//! Minimizing a finding's input while it keeps its signature: in the
//! target's structured form when the form built from the input keeps the
//! signature (modules: the form's own reduction if any, wasm-shrink, whole
//! sections, then bytes; command lists: delta debugging over the commands),
//! else by delta debugging over the fuzz input's bytes.

use std::panic::{self, AssertUnwindSafe};

use crate::forms::InputKind;
use crate::host_calls::command;
use crate::targets::Target;

/// A minimized input and what it was minimized from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Minimized {
    /// The form of `input`.
    pub kind: InputKind,
    /// Bytes of the input in that form before minimizing.
    pub size_before: usize,
    /// The minimized input.
    pub input: Vec<u8>,
    /// Commands before and after, for a command list.
    pub commands: Option<(usize, usize)>,
}

/// Minimizes `original`, a fuzz input of `target`, while `still_fails` says
/// that an input of the given kind keeps the signature. Tries the target's
/// structured form first; falls back to the fuzz input when the form cannot
/// be built (its generator panics) or does not keep the signature.
pub fn minimize(target: &Target, original: &[u8], still_fails: &mut dyn FnMut(InputKind, &[u8]) -> bool) -> Minimized {
    if let Some(form) = target.structured
        && let Ok(derived) = panic::catch_unwind(AssertUnwindSafe(|| (form.derive)(original)))
        && (form.check)(&derived).is_ok()
        && still_fails(form.kind, &derived)
    {
        let mut in_form = |candidate: &[u8]| (form.check)(candidate).is_ok() && still_fails(form.kind, candidate);
        let size_before = derived.len();
        // The reduction's result passed `in_form` unless it is `derived` itself.
        let reduced = form
            .reduce
            .and_then(|reduce| panic::catch_unwind(AssertUnwindSafe(|| reduce(original, &mut in_form))).ok())
            .unwrap_or(derived);
        return Minimized { size_before, ..minimize_form(form.kind, reduced, &mut in_form) };
    }
    minimize_form(InputKind::Fuzz, original.to_vec(), &mut |candidate| still_fails(InputKind::Fuzz, candidate))
}

/// Minimizes `input`, of form `kind`, with the strategy of that form.
pub fn minimize_form(kind: InputKind, input: Vec<u8>, still_fails: &mut dyn FnMut(&[u8]) -> bool) -> Minimized {
    let size_before = input.len();
    let (input, commands) = match kind {
        InputKind::Fuzz => (delta_debug(input, still_fails), None),
        InputKind::Module => {
            let module = drop_sections(shrink_module(input, still_fails), still_fails);
            (delta_debug(module, still_fails), None)
        }
        InputKind::Commands => match command::decode(&input) {
            Ok(commands) => {
                let before = commands.len();
                let kept = delta_debug(commands, &mut |candidate| still_fails(&command::encode(candidate)));
                (command::encode(&kept), Some((before, kept.len())))
            }
            Err(_) => (input, None),
        },
    };
    Minimized { kind, size_before, input, commands }
}

/// Shrinks a Wasm module with wasm-shrink; returns the input unchanged if it
/// is not a module wasm-shrink can work on.
pub fn shrink_module(module: Vec<u8>, still_fails: &mut dyn FnMut(&[u8]) -> bool) -> Vec<u8> {
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
    let Some((header, sections)) = split_sections(&module) else { return module };
    let kept = delta_debug(sections, &mut |candidate| still_fails(&[header, &candidate.concat()].concat()));
    [header, &kept.concat()].concat()
}

/// The 8-byte header of a module and its sections, each with its id and size.
fn split_sections(module: &[u8]) -> Option<(&[u8], Vec<Vec<u8>>)> {
    let (header, mut rest) = (module.get(..8)?, module.get(8..)?);
    let mut sections = Vec::new();
    while !rest.is_empty() {
        let (size, leb_len) = read_u32_leb(rest.get(1..)?)?;
        let end = (1 + leb_len).checked_add(usize::try_from(size).ok()?)?;
        let (section, after) = (rest.get(..end)?, rest.get(end..)?);
        sections.push(section.to_vec());
        rest = after;
    }
    Some((header, sections))
}

/// An unsigned LEB128 `u32` at the start of `bytes`, and how many bytes it takes.
fn read_u32_leb(bytes: &[u8]) -> Option<(u32, usize)> {
    let mut value = 0u32;
    for (index, byte) in bytes.iter().take(5).enumerate() {
        value |= u32::from(byte & 0x7f).checked_shl(7 * index as u32)?;
        if byte & 0x80 == 0 {
            return Some((value, index + 1));
        }
    }
    None
}

/// Delta debugging (ddmin) over a list (bytes, commands): removes ever
/// smaller chunks while the list still fails. Stops when no chunk can go or
/// `still_fails` says no to all.
pub fn delta_debug<T: Clone>(mut input: Vec<T>, still_fails: &mut dyn FnMut(&[T]) -> bool) -> Vec<T> {
    let mut chunks = 2;
    while input.len() >= 2 && chunks <= input.len() {
        let size = input.len().div_ceil(chunks);
        let mut reduced = false;
        for start in (0..input.len()).step_by(size) {
            let end = (start + size).min(input.len());
            let candidate: Vec<T> = input[..start].iter().chain(&input[end..]).cloned().collect();
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

    fn pseudo_random(len: u32, seed: u32) -> Vec<u8> {
        (0..len).map(|i| (i.wrapping_add(seed).wrapping_mul(2_654_435_761) >> 13) as u8).collect()
    }

    #[test]
    fn a_command_list_shrinks_to_the_one_failing_command() {
        let host_calls = crate::targets::find("host_calls").unwrap();
        let data = pseudo_random(4000, 1);
        let commands = command::generate(&data);
        assert!(commands.len() >= 10, "{} commands", commands.len());
        let culprit = commands[commands.len() / 2].clone();
        let mut fuzz_tries = 0;
        let minimized = minimize(host_calls, &data, &mut |kind, candidate| match kind {
            InputKind::Commands => command::decode(candidate).unwrap().contains(&culprit),
            _ => {
                fuzz_tries += 1;
                false
            }
        });
        assert_eq!(fuzz_tries, 0, "the structured form kept the signature: no fallback");
        assert_eq!(minimized.kind, InputKind::Commands);
        assert_eq!(command::decode(&minimized.input).unwrap(), [culprit]);
        assert_eq!(minimized.commands, Some((commands.len(), 1)));
        assert_eq!(minimized.size_before, command::encode(&commands).len());
    }

    #[test]
    fn a_structured_form_that_loses_the_signature_falls_back_to_the_fuzz_bytes() {
        let host_calls = crate::targets::find("host_calls").unwrap();
        let mut data = b"crash".to_vec();
        data.extend(pseudo_random(300, 2));
        let minimized = minimize(host_calls, &data, &mut |kind, candidate| kind == InputKind::Fuzz && candidate.starts_with(b"crash"));
        assert_eq!((minimized.kind, minimized.input.as_slice(), minimized.size_before), (InputKind::Fuzz, &b"crash"[..], 305));
        let selftest = crate::targets::find("selftest").unwrap();
        let minimized = minimize(selftest, &data, &mut |kind, candidate| kind == InputKind::Fuzz && candidate.starts_with(b"crash"));
        assert_eq!((minimized.kind, minimized.input.as_slice()), (InputKind::Fuzz, &b"crash"[..]));
    }

    #[test]
    fn a_memory_probe_module_shrinks_under_the_layer_and_keeps_what_fails() {
        use crate::memory_probe::{module_of, run_module, uses_smith};
        let memory_probe = crate::targets::find("memory_probe").unwrap();
        let grows = |module: &[u8]| wasmprinter::print_bytes(module).is_ok_and(|text| text.contains("memory.grow"));
        // Stands in for a finding: the layer runs the module past the ABI check and it still grows memory.
        let mut still_fails = |kind: InputKind, candidate: &[u8]| {
            kind == InputKind::Module && grows(candidate) && run_module(candidate).outcome.stage >= loader::Stage::Instantiate
        };
        // The first wasm-smith module that grows memory: a leading byte makes
        // the input's byte sum a multiple of eight, which picks wasm-smith.
        let (data, module) = (0..100)
            .map(|seed| {
                let rest = pseudo_random(2000, seed);
                let sum = rest.iter().fold(0u8, |sum, byte| sum.wrapping_add(*byte));
                [vec![0u8.wrapping_sub(sum)], rest].concat()
            })
            .inspect(|data| assert!(uses_smith(data)))
            .map(|data| {
                let module = module_of(&data);
                (data, module)
            })
            .find(|(_, module)| still_fails(InputKind::Module, module))
            .unwrap();
        let minimized = minimize(memory_probe, &data, &mut still_fails);
        assert_eq!(minimized.kind, InputKind::Module);
        assert_eq!(minimized.size_before, module.len());
        assert!(minimized.input.len() * 4 < module.len() * 3, "{} -> {} bytes", module.len(), minimized.input.len());
        assert!(still_fails(InputKind::Module, &minimized.input));
    }

    #[test]
    fn an_invalid_module_shrinks_before_its_defects_and_keeps_its_validation_error() {
        use crate::invalid_module::{module_of, oracle, run_module};
        let invalid_module = crate::targets::find("invalid_module").unwrap();
        let verdict = |module: &[u8]| match oracle::reference_verdict(module) {
            oracle::Verdict::Invalid(error) => Some(error.split(" (at offset").next().unwrap_or_default().to_owned()),
            _ => None,
        };
        // The first input whose module fails validation (not parsing), with its error.
        let (data, module, error) = (0..100)
            .map(|seed| pseudo_random(600, seed))
            .find_map(|data| {
                let module = module_of(&data);
                let error = verdict(&module)?;
                (run_module(&module).outcome.stage == loader::Stage::Validate).then_some((data, module, error))
            })
            .unwrap();
        // Stands in for a finding: the loader still rejects at validation with the same error.
        let mut still_fails = |kind: InputKind, candidate: &[u8]| {
            kind == InputKind::Module
                && verdict(candidate).as_ref() == Some(&error)
                && run_module(candidate).outcome.stage == loader::Stage::Validate
        };
        let minimized = minimize(invalid_module, &data, &mut still_fails);
        assert_eq!(minimized.kind, InputKind::Module);
        assert!(minimized.input.len() * 2 < module.len(), "{} -> {} bytes ({error})", module.len(), minimized.input.len());
        assert!(still_fails(InputKind::Module, &minimized.input));
    }

    #[test]
    fn sections_split_where_their_sizes_say_and_dropping_them_keeps_the_rest_intact() {
        let module = wat::parse_str(r#"(module (memory 1) (func) (data (i32.const 0) "hello"))"#).unwrap();
        let (header, sections) = split_sections(&module).unwrap();
        assert_eq!(header, b"\0asm\x01\0\0\0");
        assert_eq!(sections.iter().map(|section| section[0]).collect::<Vec<_>>(), [1, 3, 5, 10, 11]);
        assert_eq!([header, &sections.concat()].concat(), module);
        // Keeps exactly the data section (id 11), whole.
        let kept = drop_sections(module.clone(), &mut |candidate| candidate.windows(5).any(|window| window == b"hello"));
        assert_eq!(kept, [header, sections[4].as_slice()].concat());
        let mut lying = module.clone();
        lying[9] = 0x7f;
        assert!(split_sections(&lying).is_none());
        assert_eq!(read_u32_leb(&[0xe5, 0x8e, 0x26]), Some((624_485, 3)));
        assert_eq!(read_u32_leb(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), None);
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
