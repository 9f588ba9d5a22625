//! Layer 3 end to end on the reference loader: random inputs reach
//! execution, wasm-smith modules are rarely rejected, the seed corpus
//! replays quietly through every oracle, and the probe interpreter does what
//! the specification says.

use std::collections::BTreeMap;
use std::path::Path;

use contract::{End, Stage, TrapCode};
use harness::embedder::Store;
use harness::memory_probe::oracles::response_pages;
use harness::memory_probe::probes::{ProbeShape, SEGMENT, request};
use harness::memory_probe::spec::{Access, Expected, MemoryModel, PAGE, Step, expect};
use reference::subject;

/// Deterministic pseudo-random inputs (xorshift), so the figures are reproducible.
fn inputs(count: usize, len: usize) -> Vec<Vec<u8>> {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    (0..count)
        .map(|_| {
            (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect()
        })
        .collect()
}

#[test]
fn random_inputs_reach_execution_and_wasm_smith_modules_are_rarely_rejected() {
    let mut stages: BTreeMap<String, usize> = BTreeMap::new();
    let (mut smith, mut smith_rejected, mut reached) = (0, 0, 0);
    let all = inputs(400, 512);
    let start = std::time::Instant::now();
    for data in &all {
        let report = harness::memory_probe::run(subject(), data);
        let generator = report.labels.first().cloned().unwrap_or_default();
        *stages.entry(format!("{generator} {} {}", report.outcome.stage, report.outcome.end)).or_default() += 1;
        if generator.starts_with("generator:wasm-smith") {
            smith += 1;
            if matches!(report.outcome.end, End::Rejected(_)) {
                smith_rejected += 1;
                eprintln!("rejected: {}", report.outcome.end);
            }
        }
        for label in report.labels.iter().filter(|label| label.starts_with("differential:")) {
            *stages.entry(format!("{generator} {label}")).or_default() += 1;
        }
        if report.outcome.stage >= Stage::Execute {
            reached += 1;
        }
    }
    let elapsed = start.elapsed();
    eprintln!(
        "{stages:#?}\nreached {reached}/{}; wasm-smith rejected {smith_rejected}/{smith}; {:?} per input",
        all.len(),
        elapsed / all.len() as u32
    );
    assert!(reached * 100 >= all.len() * 80, "only {reached} of {} reached execution", all.len());
    assert!(smith_rejected * 100 <= smith * 2, "{smith_rejected} of {smith} wasm-smith modules rejected");
}

#[test]
fn seeds_replay_quietly_through_every_oracle_and_reach_execution() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/memory_probe");
    let mut generators = BTreeMap::<String, usize>::new();
    let mut seeds = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let report = harness::memory_probe::run(subject(), &std::fs::read(&path).unwrap());
        let stage = report.outcome.stage;
        assert!(stage >= Stage::Execute, "{}: stopped at {stage}: {}", path.display(), report.outcome.end);
        let generator = report.labels.iter().find(|label| label.starts_with("generator:")).cloned().unwrap_or_default();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let expected = match name.split('_').next() {
            Some("probes") => "generator:probes",
            Some("resources") => "generator:resources",
            _ => "generator:wasm-smith",
        };
        assert!(generator.starts_with(expected), "{name}: {generator}");
        *generators.entry(generator).or_default() += 1;
        seeds += 1;
    }
    assert!((10..=20).contains(&seeds), "{seeds} seeds");
    assert_eq!(generators.len(), 4, "probes, resources, wasm-smith, and wasm-smith that may not end: {generators:?}");
}

/// Loads the interpreter of `shape` for the reference loader.
fn interpreter(shape: ProbeShape) -> Box<dyn harness::embedder::Loaded> {
    let abi = &subject().abi;
    subject().embedder.load(&shape.encode(&*abi.io, abi.entry), &Store::new()).unwrap()
}

#[test]
fn the_interpreter_does_what_the_specification_says() {
    let loaded = interpreter(ProbeShape { minimum: 1, maximum: Some(2) });
    let size = PAGE as u32;
    let i64_load = Access::Load(1);
    let f32_store = Access::Store(2);
    let probes = [
        vec![Step::Access { access: i64_load, base: size - 8, offset: 0, value: 0 }],
        vec![Step::Access { access: i64_load, base: size - 15, offset: 8, value: 0 }],
        vec![Step::Access { access: i64_load, base: 16, offset: 0xffff_fff8, value: 0 }],
        vec![Step::Grow { delta: 1 }, Step::Access { access: f32_store, base: size, offset: 4, value: 0x7fc0_0001 }],
        vec![Step::Grow { delta: 2 }, Step::Fill { dst: size - 4, byte: 7, len: 5 }],
        vec![Step::Init { dst: 0, src: 30, len: 2 }, Step::DataDrop, Step::Init { dst: 0, src: 0, len: 1 }],
        vec![Step::Copy { dst: 0, src: size - 2, len: 2 }, Step::Grow { delta: 1 }, Step::Grow { delta: 1 }],
        // Overwrites the request: the next step must still run as encoded.
        vec![Step::Fill { dst: 0, byte: 0xff, len: size }, Step::Access { access: i64_load, base: size - 8, offset: 0, value: 0 }],
    ];
    let model = MemoryModel { pages: 1, maximum: Some(2), cap_bytes: 16 << 20, segment_len: SEGMENT.len() as u64 };
    for probe in probes {
        let outcome = loaded.invoke(&request(&probe), None);
        match expect(model, &probe) {
            Expected::Trap { .. } => assert_eq!(outcome.end, End::Trap(TrapCode::MemoryOutOfBounds), "{probe:?}"),
            Expected::Completes { pages } => {
                assert_eq!(outcome.end, End::Ok, "{probe:?}");
                assert_eq!(response_pages(&outcome.response), Some(pages), "{probe:?}");
            }
        }
    }
}

#[test]
fn an_offset_the_interpreter_lacks_traps_unreachable() {
    let loaded = interpreter(ProbeShape { minimum: 1, maximum: None });
    let step = Step::Access { access: Access::Load(0), base: 0, offset: 5, value: 0 };
    assert_eq!(loaded.invoke(&request(&[step]), None).end, End::Trap(TrapCode::Unreachable));
}

/// The resource generator's modules validate under the ABI's features
/// (but those past one of the engine's maxima), aim
/// at every resource from every place, and, loaded and invoked on the
/// loader, answer with the sizes the cap oracle reads.
#[test]
fn resource_modules_validate_reach_every_resource_at_every_place_and_answer_their_sizes() {
    use harness::memory_probe::resources::ResourceModule;
    use std::collections::BTreeSet;
    let subject = subject();
    let abi = &subject.abi;
    let (mut resources, mut places, mut answered) = (BTreeSet::new(), BTreeSet::new(), 0);
    for data in inputs(600, 48) {
        let Ok(module) = ResourceModule::generate(&mut arbitrary::Unstructured::new(&data), abi) else { continue };
        let bytes = module.encode(abi);
        // Counts just past the engine's own maxima are meant to be refused.
        if let Err(error) = wasmparser::Validator::new_with_features(abi.features).validate_all(&bytes) {
            let past_a_maximum = ["exceed", "too many", "maximum"].iter().any(|words| error.message().contains(words));
            assert!(past_a_maximum, "{module}: {error}");
        }
        resources.insert(module.resource.name());
        places.insert(module.place.name());
        // Run alone, as the layer runs it: other tests measure resident sets.
        let run = || subject.embedder.load(&bytes, &Store::new()).map(|loaded| loaded.invoke(harness::memory_probe::resources::REQUEST, None));
        if let Ok(outcome) = harness::exclusive::run(run)
            && outcome.end == End::Ok
        {
            let answer = module.answer(&outcome.response).unwrap_or_else(|| panic!("{module}: {:?}", outcome.response));
            let (tables, memories) = (answer.tables, answer.memories);
            assert!(memories.first().is_some_and(|&pages| pages >= module.memory.minimum), "{module}: {memories:?}");
            assert!(tables.iter().all(|&elements| elements <= 10_000), "{module}: {tables:?}");
            answered += 1;
        }
    }
    let mut expected: BTreeSet<&str> = [
        "memory-grow",
        "globals",
        "functions",
        "locals",
        "data-segments",
        "exports",
        "imports",
        "types",
        "code-size",
        "recursion",
        "indirect-recursion",
        "operand-stack",
        "open-files",
        "directories",
        "directory-depth",
    ]
    .into();
    if abi.features.contains(wasmparser::WasmFeatures::REFERENCE_TYPES) {
        expected.extend(["table-grow", "tables", "element-segments"]);
    }
    assert!(resources.is_superset(&expected), "missing {:?}", expected.difference(&resources).collect::<Vec<_>>());
    assert_eq!(places, ["callback", "entry", "initialize", "start"].into());
    assert!(answered >= 50, "only {answered} modules ran to their answer");
}

/// The probes the host pays for at load: the ABI's first import again
/// 100,000 times fits within the loader's module cap and runs; a body padded
/// past the cap is refused at the size check, before anything is parsed.
#[test]
fn the_import_and_code_size_probes_load_within_the_module_cap_and_are_refused_past_it() {
    use harness::memory_probe::resources::{Declared, MANY_IMPORTS, Place, Resource as Probed, ResourceModule};
    let subject = subject();
    let cap = subject.abi.limits.max_module_bytes.unwrap() as u64;
    let probes =
        [(Probed::Imports { count: MANY_IMPORTS }, true), (Probed::CodeSize { bytes: 4096 }, true), (Probed::CodeSize { bytes: cap + 1 }, false)];
    for (resource, fits) in probes {
        let module = ResourceModule {
            resource,
            place: Place::Entry,
            table: Declared { minimum: 1, maximum: None },
            memory: Declared { minimum: 1, maximum: None },
            table_ops: subject.abi.features.contains(wasmparser::WasmFeatures::REFERENCE_TYPES),
        };
        let report = harness::memory_probe::run_resource_module(subject, &module);
        if fits {
            assert_eq!(report.outcome.end, End::Ok, "{module}: {:?}", report.outcome);
        } else {
            assert_eq!(report.outcome.stage, Stage::SizeCheck, "{module}: {:?}", report.outcome);
        }
    }
}

/// The open-files probe opens as many files as it asks for below the
/// loader's cap, and past the cap the loader ends the call at the limit,
/// from every place guest code runs.
#[test]
fn the_open_files_probe_holds_what_it_asks_for_and_the_loader_stops_it_at_the_cap() {
    use contract::Resource;
    use harness::memory_probe::resources::{Declared, Place, Resource as Probed, ResourceModule};
    let subject = subject();
    let cap = subject.abi.limits.open_files_or_ceiling();
    for place in [Place::Start, Place::Initialize, Place::Entry, Place::Callback] {
        for count in [10, cap + 1, 4 * cap] {
            let module = ResourceModule {
                resource: Probed::OpenFiles { count },
                place,
                table: Declared { minimum: 1, maximum: None },
                memory: Declared { minimum: 1, maximum: None },
                table_ops: subject.abi.features.contains(wasmparser::WasmFeatures::REFERENCE_TYPES),
            };
            let report = harness::memory_probe::run_resource_module(subject, &module);
            if place == Place::Initialize {
                // The loader calls no `_initialize`: the probe never runs.
                let held = module.answer(&report.outcome.response).and_then(|answer| answer.held);
                assert_eq!(held, Some(0), "{module}: {:?}", report.outcome);
            } else if count < cap {
                let held = module.answer(&report.outcome.response).and_then(|answer| answer.held);
                assert_eq!(held, Some(count), "{module}: {:?}", report.outcome);
            } else if place == Place::Callback {
                // The trap in `alloc` fails the `read_request` it serves
                // (alloc-failed, 5); the guest goes on holding what it got:
                // the cap less stdio's three streams and the sandbox.
                let held = module.answer(&report.outcome.response).and_then(|answer| answer.held);
                assert_eq!(held, Some(cap - 4), "{module}: {:?}", report.outcome);
                assert_eq!(report.outcome.host_calls.first().and_then(|call| call.result), Some(5), "{module}: {:?}", report.outcome);
            } else {
                assert_eq!(report.outcome.end, End::LimitExceeded(Resource::OpenFiles), "{module}: {:?}", report.outcome);
            }
        }
    }
}

/// The folder probes make every folder they ask for below the loader's cap
/// on sandbox entries, side by side and nested, at every place the loader
/// runs guest code; past it, the loader answers `dquot` and the guest has
/// made what fits beside the five entries the sandbox was made with.
#[test]
fn the_folder_probes_make_what_they_ask_for_up_to_the_loaders_cap() {
    use harness::memory_probe::resources::{Declared, Place, Resource as Probed, ResourceModule};
    let subject = subject();
    let cap = subject.abi.limits.max_sandbox_entries.unwrap();
    for place in [Place::Start, Place::Entry, Place::Callback] {
        for nested in [false, true] {
            for count in [10, 3_000] {
                let module = ResourceModule {
                    resource: Probed::Directories { count, nested },
                    place,
                    table: Declared { minimum: 1, maximum: None },
                    memory: Declared { minimum: 1, maximum: None },
                    table_ops: subject.abi.features.contains(wasmparser::WasmFeatures::REFERENCE_TYPES),
                };
                let report = harness::memory_probe::run_resource_module(subject, &module);
                assert_eq!(report.outcome.end, End::Ok, "{module}: {:?}", report.outcome);
                let made = module.answer(&report.outcome.response).and_then(|answer| answer.held);
                assert_eq!(made, Some(count.min(cap - 5)), "{module}: {:?}", report.outcome);
                assert!(!report.labels.iter().any(|label| label.starts_with("known:")), "{module}: {:?}", report.labels);
            }
        }
    }
}
