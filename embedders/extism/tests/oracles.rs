//! Every layer's oracle on Extism: quiet on Extism's real results for the
//! seeds, and firing when fed an Extism result made deliberately wrong.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use contract::{End, Outcome, Resource, Stage, TrapCode};
use extism_embedder::host_api::calls::{DEST, MASK, PUT, op_of};
use extism_embedder::host_api::{model, store};
use extism_embedder::subject;
use harness::commands::{ARGS, Command, codec};
use harness::embedder::{self, Store};
use harness::host_calls::isolation::Canaries;
use harness::replay::{self, Limits, Verdict};
use harness::{Layer, Target};

fn corpus(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join(target)
}

fn target(layer: Layer) -> &'static Target {
    extism_embedder::TARGETS.iter().find(|target| target.layer() == Some(layer)).unwrap()
}

fn module(wat: &str) -> Vec<u8> {
    wat::parse_str(wat).unwrap()
}

#[test]
fn every_seed_replays_without_a_finding() {
    for target in &extism_embedder::TARGETS {
        let inputs = replay::collect_inputs(&[corpus(target.name)]).unwrap();
        assert!(inputs.len() >= 5, "{}: {} seeds", target.name, inputs.len());
        for input in inputs {
            let verdict = replay::replay_file(|data| target.run(data), &input, Limits::default()).unwrap();
            assert!(!verdict.is_finding(), "{}: {}", input.display(), verdict.summary());
        }
    }
}

#[test]
fn raw_bytes_seeds_reach_the_stages_they_were_written_for() {
    for input in replay::collect_inputs(&[corpus("extism_raw_bytes")]).unwrap() {
        let name = input.file_name().unwrap().to_string_lossy().into_owned();
        let verdict = replay::replay_file(|data| target(Layer::RawBytes).run(data), &input, Limits::default()).unwrap();
        let Verdict::Ran(report) = verdict else { panic!("{name}: {}", verdict.summary()) };
        let stage = report.outcome.stage;
        let expected = match name.split('_').next().unwrap_or_default() {
            "malformed" => Stage::Parse,
            "invalid" => Stage::Validate,
            "abi" => Stage::AbiCheck,
            "instantiate" => Stage::Instantiate,
            _ => Stage::Execute,
        };
        if expected == Stage::Execute {
            assert!(stage >= expected, "{name}: {stage} {}", report.outcome.end);
        } else {
            assert_eq!(stage, expected, "{name}: {}", report.outcome.end);
        }
    }
}

#[test]
fn a_call_that_ended_with_an_error_reached_a_host_call() {
    let failing = module(include_str!("../corpus/wat/error_set.wat"));
    let outcome = embedder::run(&*subject().embedder, &failing, b"", &Store::new());
    assert!(matches!(outcome.end, End::Error(_)), "{}", outcome.end);
    assert_eq!(outcome.stage, Stage::HostCall, "only an import (here error_set) ends a call with an error");
}

#[test]
fn extism_answers_echo_and_refuses_unknown_imports_and_a_missing_entry() {
    let echo = module(include_str!("../corpus/wat/echo.wat"));
    let outcome = embedder::run(&*subject().embedder, &echo, b"ping", &Store::new());
    assert_eq!((outcome.end, outcome.response.as_slice()), (End::Ok, &b"ping"[..]));
    let unknown = module(include_str!("../corpus/wat/abi_unknown_import.wat"));
    let rejection = subject().embedder.load(&unknown, &Store::new()).err().unwrap();
    assert_eq!(rejection.stage, Stage::AbiCheck, "{rejection}");
    let no_run = module(include_str!("../corpus/wat/abi_no_run.wat"));
    let outcome = embedder::run(&*subject().embedder, &no_run, b"", &Store::new());
    assert_eq!(outcome.stage, Stage::AbiCheck, "{}", outcome.end);
    let error = module(include_str!("../corpus/wat/error_set.wat"));
    assert_eq!(embedder::run(&*subject().embedder, &error, b"", &Store::new()).end, End::Error("no".to_owned()));
}

#[test]
#[should_panic(expected = "oracle: the embedder accepted a module wasmparser rejects")]
fn layer_1_fires_on_an_extism_that_accepts_an_invalid_module() {
    let invalid = std::fs::read(corpus("extism_raw_bytes").join("invalid_type_mismatch.bin")).unwrap();
    let mut outcome = embedder::run(&*subject().embedder, &invalid, b"", &Store::new());
    assert_eq!(outcome.stage, Stage::Validate);
    outcome.stage = Stage::Execute;
    outcome.end = End::Ok;
    harness::raw_bytes::check_verdict(&invalid, &outcome, &subject().abi);
}

#[test]
#[should_panic(expected = "oracle: the embedder let through a module that breaks the ABI")]
fn layer_2_fires_on_an_extism_that_links_an_unknown_import() {
    let unknown = module(include_str!("../corpus/wat/abi_unknown_import.wat"));
    let outcome = Outcome::ended(Stage::Execute, End::Ok);
    harness::invalid_module::oracle::check_verdict(&unknown, &[], &outcome, &subject().abi);
}

#[test]
fn layer_2_lets_a_plugin_without_run_end_while_it_is_instantiated() {
    // Extism instantiates a plugin's module when it creates the plugin and
    // looks `run` up only when it calls it, so the module's own trap (here an
    // element segment out of bounds) comes first.
    let no_run = module("(module (table 1 funcref) (func $f) (elem (i32.const 5) $f))");
    let outcome = embedder::run(&*subject().embedder, &no_run, b"", &Store::new());
    assert_eq!((outcome.stage, &outcome.end), (Stage::Instantiate, &End::Trap(TrapCode::TableOutOfBounds)));
    harness::invalid_module::oracle::check_verdict(&no_run, &[], &outcome, &subject().abi);
    // It ran, or was refused at its memory limit though it asks for no
    // memory: the embedder's mistakes.
    for wrong in [Outcome::ended(Stage::Execute, End::Ok), Outcome::ended(Stage::Instantiate, End::LimitExceeded(Resource::Memory))] {
        let fired = std::panic::catch_unwind(|| harness::invalid_module::oracle::check_verdict(&no_run, &[], &wrong, &subject().abi));
        assert!(fired.is_err(), "a plugin without run that ended {} at {} passed", wrong.end, wrong.stage);
    }
}

#[test]
#[should_panic(expected = "oracle: the embedder refused a valid, ABI-conformant module")]
fn layer_2_fires_on_an_extism_that_refuses_a_valid_plugin() {
    let echo = module(include_str!("../corpus/wat/echo.wat"));
    let outcome = Outcome::ended(Stage::Instantiate, End::LimitExceeded(Resource::Memory));
    harness::invalid_module::oracle::check_verdict(&echo, &[], &outcome, &subject().abi);
}

#[test]
#[should_panic(expected = "oracle: call 0: final memory digests differ")]
fn layer_3_fires_on_an_extism_whose_memory_differs_from_wasmi() {
    let shape = harness::memory_probe::probes::ProbeShape { minimum: 1, maximum: None };
    let probe = shape.encode(&*subject().abi.io, subject().abi.entry);
    let report = harness::memory_probe::run_module(subject(), &probe);
    let wasmi = harness::memory_probe::wasmi_diff::WasmiModule::new(&probe, &subject().abi).unwrap();
    let run = wasmi.invoke(b"", &subject().abi);
    assert_eq!(report.outcome.end, End::Ok, "{}", report.outcome.end);
    let mut wrong = report.outcome;
    wrong.response[0] ^= 1;
    harness::memory_probe::oracles::check_differential(0, &wrong, &run);
}

/// A host op of the interpreter.
fn call(name: &str, values: &[u64], dest: u64, mask: u64) -> Command {
    let mut args = [0u64; ARGS];
    args[..values.len()].copy_from_slice(values);
    (args[DEST], args[MASK]) = (dest, mask);
    Command::Host { op: op_of(name).unwrap(), args }
}

/// A kernel block in register `dest` with the bytes written at `address`.
fn put(address: u64, length: u64, dest: u64) -> Command {
    let mut args = [0u64; ARGS];
    (args[0], args[1], args[DEST]) = (address, length, dest);
    Command::Host { op: PUT, args }
}

/// Runs `commands` through the interpreter plugin in a fresh sandbox: the
/// model's prediction and Extism's outcome.
fn run_commands(commands: &[Command]) -> (model::Prediction, Outcome) {
    static CANARIES: std::sync::OnceLock<Arc<Canaries>> = std::sync::OnceLock::new();
    let request = codec::encode(commands);
    let api = subject().host_api();
    let interpreter = harness::commands::interpreter::module(api).unwrap();
    let loaded = subject().embedder.load(&interpreter, store()).unwrap();
    let canaries = CANARIES.get_or_init(|| Arc::new(Canaries::default()));
    let sandbox = canaries.sandbox().unwrap();
    let outcome = loaded.invoke(&request, Some(sandbox.path()));
    (model::predict(commands, &request, store(), subject().embedder.policy()), outcome)
}

fn greeting() -> Vec<Command> {
    vec![
        Command::Write { address: 0x1_0000, bytes: b"key".to_vec() },
        put(0x1_0000, 3, 7),
        call("config_get", &[7], 0, 1),
        call("length", &[0], 1, 1),
        call("output_set", &[0, 5], 2, 1),
        Command::Write { address: 0x1_0100, bytes: b"a log line".to_vec() },
        put(0x1_0100, 10, 6),
        call("log_info", &[6], 3, 1),
    ]
}

#[test]
fn the_model_agrees_with_extism_on_config_output_and_logs() {
    let (prediction, outcome) = run_commands(&greeting());
    assert_eq!(outcome.end, End::Ok, "{outcome:?}");
    assert_eq!(outcome.response, b"value");
    assert_eq!(outcome.logs, ["a log line"]);
    model::check(&prediction, &outcome);
}

#[test]
fn the_model_agrees_on_vars_over_the_cap_and_on_the_refused_http_request() {
    let mut commands = greeting();
    commands.extend([Command::Write { address: 0x1_1000, bytes: vec![b'V'; 1100] }, put(0x1_0000, 3, 7), put(0x1_1000, 1100, 6)]);
    commands.push(call("var_set", &[7, 6], 4, 3));
    let (prediction, outcome) = run_commands(&commands);
    assert_eq!(outcome.end, End::Error("Variable store is full".to_owned()), "{outcome:?}");
    model::check(&prediction, &outcome);
    let mut http = greeting();
    let request = br#"{"url":"https://example.com/"}"#;
    http.extend([Command::Write { address: 0x1_2000, bytes: request.to_vec() }, put(0x1_2000, request.len() as u64, 7)]);
    http.push(call("http_request", &[7, 0], 4, 1));
    let (prediction, outcome) = run_commands(&http);
    assert!(matches!(&outcome.end, End::Error(message) if message.contains("not allowed")), "{outcome:?}");
    model::check(&prediction, &outcome);
}

#[test]
#[should_panic(expected = "oracle: call #3 returned 0x6, the model of Extism predicts 0x5")]
fn the_model_oracle_fires_on_a_wrong_result() {
    let (prediction, mut outcome) = run_commands(&greeting());
    outcome.host_calls[3].result = Some(6);
    model::check(&prediction, &outcome);
}

#[test]
#[should_panic(expected = "oracle: the output (5 bytes) differs from the model's")]
fn the_model_oracle_fires_on_a_wrong_output() {
    let (prediction, mut outcome) = run_commands(&greeting());
    outcome.response = b"VALUE".to_vec();
    model::check(&prediction, &outcome);
}

#[test]
#[should_panic(expected = "oracle: log line #0 is")]
fn the_model_oracle_fires_on_a_wrong_log() {
    let (prediction, mut outcome) = run_commands(&greeting());
    outcome.logs[0] = "another line".to_owned();
    model::check(&prediction, &outcome);
}

#[test]
#[should_panic(expected = "oracle: the call ended with trap")]
fn the_model_oracle_fires_on_a_wrong_end() {
    let (prediction, mut outcome) = run_commands(&greeting());
    outcome.end = End::Trap(TrapCode::Unreachable);
    model::check(&prediction, &outcome);
}

#[test]
fn random_command_lists_keep_the_model_and_isolation_quiet() {
    for data in harness::sample::inputs(100, 0x5eed) {
        harness::host_calls::run(subject(), &data);
    }
}

/// The resource generator aims at Extism's 64-bit memories (its engine has
/// memory64 and multi-memory): a memory 1 declared 64-bit at one page grows
/// at the entry point by each boundary around the memory cap and the
/// engine's maxima, and runs through layer 3's oracles (the cap on what the
/// guest saw, between calls) without a finding: growth up to the cap is
/// granted and answered, growth past it ends the call. `max_pages` bounds growth,
/// not the initial page, so a memory grown by the cap holds a page more
/// than it (the known note `max-pages-excludes-initial-memory`, labelled).
#[test]
fn a_64_bit_memory_grows_within_the_cap_and_no_further() {
    use harness::memory_probe::resources::{Declared, Place, Resource as Probed, ResourceModule};
    let subject = subject();
    let abi = &subject.abi;
    let reached = (0..4000u32).any(|seed| {
        let data: Vec<u8> = (0..64u32).map(|index| (seed.wrapping_mul(2_654_435_761).rotate_left(index) >> 7) as u8).collect();
        ResourceModule::generate(&mut arbitrary::Unstructured::new(&data), abi)
            .is_ok_and(|module| matches!(module.resource, Probed::Memory64Grow { .. }))
    });
    assert!(reached, "the generator never aims at a 64-bit memory");
    let cap_pages = abi.limits.memory_bytes_or_ceiling() / 65_536;
    for delta in [1, cap_pages - 2, cap_pages - 1, cap_pages, 65_536, 1 << 32, 1 << 48, (1 << 48) + 1] {
        let module = ResourceModule {
            resource: Probed::Memory64Grow { delta },
            place: Place::Entry,
            table: Declared { minimum: 1, maximum: None },
            memory: Declared { minimum: 1, maximum: None },
            table_ops: true,
        };
        wasmparser::Validator::new_with_features(abi.features).validate_all(&module.encode(abi)).unwrap_or_else(|error| panic!("{module}: {error}"));
        let report = harness::memory_probe::run_resource_module(subject, &module);
        let answered = module.answer(&report.outcome.response);
        if delta > cap_pages {
            // Refused: Extism's limiter ends the call rather than have `memory.grow` return -1.
            let refused =
                report.outcome.end == End::LimitExceeded(Resource::Memory) || answered.is_some_and(|answer| answer.memories.get(1) == Some(&1));
            assert!(refused, "{module}: {:?}", report.outcome);
            continue;
        }
        let memories = answered.unwrap_or_else(|| panic!("{module}: {:?}", report.outcome)).memories;
        assert_eq!(memories.get(1), Some(&(1 + delta)), "{module}: {memories:?}");
        let labelled = report.labels.iter().any(|label| label == &harness::abi::known::label("max-pages-excludes-initial-memory"));
        assert_eq!(labelled, delta == cap_pages, "{module}: {:?}", report.labels);
    }
}

/// A run without a sandbox sees an empty folder, whatever a plugin's
/// creation at load or a run before made in it: after a module whose start
/// function makes ten folders is loaded, an entry point that makes the same
/// ten makes all ten in every run.
#[test]
fn runs_without_a_sandbox_see_no_folder_a_load_or_a_run_before_made() {
    use harness::memory_probe::resources::{Declared, Place, REQUEST, Resource as Probed, ResourceModule};
    let unbounded = Declared { minimum: 1, maximum: None };
    let making = |place| ResourceModule {
        resource: Probed::Directories { count: 10, nested: false },
        place,
        table: unbounded,
        memory: unbounded,
        table_ops: true,
    };
    let subject = subject();
    let _at_load = subject.embedder.load(&making(Place::Start).encode(&subject.abi), &Store::new()).unwrap();
    let module = making(Place::Entry);
    let loaded = subject.embedder.load(&module.encode(&subject.abi), &Store::new()).unwrap();
    for run in 0..2 {
        let outcome = loaded.invoke(REQUEST, None);
        let made = module.answer(&outcome.response).and_then(|answer| answer.held);
        assert_eq!(made, Some(10), "run {run}: {outcome:?}");
    }
}
