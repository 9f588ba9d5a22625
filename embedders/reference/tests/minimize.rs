//! Triage's minimization on the reference targets: in each structured form
//! (a command list, a module, a module before its defects), and the fallback
//! to the fuzz bytes when the form loses the signature.

use contract::Stage;
use harness::commands::{codec, generator};
use harness::forms::InputKind;
use harness::minimize::minimize;
use harness::{Layer, Target};
use reference::subject;

fn target(layer: Layer) -> &'static Target {
    reference::TARGETS.iter().find(|target| target.layer() == Some(layer)).unwrap()
}

fn pseudo_random(len: u32, seed: u32) -> Vec<u8> {
    (0..len).map(|i| (i.wrapping_add(seed).wrapping_mul(2_654_435_761) >> 13) as u8).collect()
}

#[test]
fn a_command_list_shrinks_to_the_one_failing_command() {
    let api = subject().host_api();
    let data = pseudo_random(4000, 1);
    let commands = generator::generate(&data, api);
    assert!(commands.len() >= 10, "{} commands", commands.len());
    let culprit = commands[commands.len() / 2].clone();
    let mut fuzz_tries = 0;
    let minimized = minimize(target(Layer::HostCalls), &data, &mut |kind, candidate| match kind {
        InputKind::Commands => codec::decode(candidate, api).unwrap().contains(&culprit),
        _ => {
            fuzz_tries += 1;
            false
        }
    });
    assert_eq!(fuzz_tries, 0, "the structured form kept the signature: no fallback");
    assert_eq!(minimized.kind, InputKind::Commands);
    assert_eq!(codec::decode(&minimized.input, api).unwrap(), [culprit]);
    assert_eq!(minimized.commands, Some((commands.len(), 1)));
    assert_eq!(minimized.size_before, codec::encode(&commands).len());
}

#[test]
fn a_structured_form_that_loses_the_signature_falls_back_to_the_fuzz_bytes() {
    let mut data = b"crash".to_vec();
    data.extend(pseudo_random(300, 2));
    let minimized = minimize(target(Layer::HostCalls), &data, &mut |kind, candidate| kind == InputKind::Fuzz && candidate.starts_with(b"crash"));
    assert_eq!((minimized.kind, minimized.input.as_slice(), minimized.size_before), (InputKind::Fuzz, &b"crash"[..], 305));
}

#[test]
fn a_memory_probe_module_shrinks_under_the_layer_and_keeps_what_fails() {
    use harness::memory_probe::{module_of, run_module, uses_smith};
    let grows = |module: &[u8]| wasmprinter::print_bytes(module).is_ok_and(|text| text.contains("memory.grow"));
    // Stands in for a finding: the layer runs the module past the ABI check and it still grows memory.
    let mut still_fails = |kind: InputKind, candidate: &[u8]| {
        kind == InputKind::Module && grows(candidate) && run_module(subject(), candidate).outcome.stage >= Stage::Instantiate
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
            let module = module_of(subject(), &data);
            (data, module)
        })
        .find(|(_, module)| still_fails(InputKind::Module, module))
        .unwrap();
    let minimized = minimize(target(Layer::MemoryProbe), &data, &mut still_fails);
    assert_eq!(minimized.kind, InputKind::Module);
    assert_eq!(minimized.size_before, module.len());
    assert!(minimized.input.len() * 4 < module.len() * 3, "{} -> {} bytes", module.len(), minimized.input.len());
    assert!(still_fails(InputKind::Module, &minimized.input));
}

#[test]
fn an_invalid_module_shrinks_before_its_defects_and_keeps_its_validation_error() {
    use harness::invalid_module::{module_of, oracle, run_module};
    let verdict = |module: &[u8]| match oracle::reference_verdict(module, &subject().abi) {
        oracle::Verdict::Invalid(error) => Some(error.split(" (at offset").next().unwrap_or_default().to_owned()),
        _ => None,
    };
    // The first input whose module fails validation (not parsing), with its error.
    let (data, module, error) = (0..100)
        .map(|seed| pseudo_random(600, seed))
        .find_map(|data| {
            let module = module_of(subject(), &data);
            let error = verdict(&module)?;
            (run_module(subject(), &module).outcome.stage == Stage::Validate).then_some((data, module, error))
        })
        .unwrap();
    // Stands in for a finding: the loader still rejects at validation with the same error.
    let mut still_fails = |kind: InputKind, candidate: &[u8]| {
        kind == InputKind::Module && verdict(candidate).as_ref() == Some(&error) && run_module(subject(), candidate).outcome.stage == Stage::Validate
    };
    let minimized = minimize(target(Layer::InvalidModule), &data, &mut still_fails);
    assert_eq!(minimized.kind, InputKind::Module);
    assert!(minimized.input.len() * 2 < module.len(), "{} -> {} bytes ({error})", module.len(), minimized.input.len());
    assert!(still_fails(InputKind::Module, &minimized.input));
}
