//! Layer 4 (`host_calls`) on the reference loader: the seeds replay quietly
//! and cover the host API, random inputs keep both oracles quiet, and the
//! model oracle fires on a wrong status, response, log, call or end.
//!
//! `UPDATE_SEEDS=1 cargo test --workspace --test host_calls` regenerates the
//! seeds in `corpus/host_calls/`: a few pseudo-random inputs, chosen greedily
//! until every function the interpreter can call is covered.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use contract::{End, HostCall, Outcome, Resource, Stage, TrapCode};
use harness::commands::{ARGS, Command, codec, wasi};
use harness::host_calls;
use harness::host_calls::isolation;
use reference::host_api::calls::{AllocMode, Call, LOG, STORAGE_GET};
use reference::host_api::model;
use reference::host_api::status::Status;
use reference::subject;

fn seed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/host_calls")
}

fn every_call_label() -> BTreeSet<String> {
    let host = ["read_request", "write_response", "log", "storage_get"].map(|name| format!("call:host.{name}"));
    let wasi = wasi::FUNCTIONS.iter().map(|function| format!("call:wasi.{}", function.name));
    host.into_iter().chain(wasi).collect()
}

#[test]
fn seeds_replay_quietly_and_call_every_host_function_and_most_wasi_ones() {
    if std::env::var_os("UPDATE_SEEDS").is_some() {
        write_seeds();
    }
    let mut labels = BTreeSet::new();
    let files = harness::replay::collect_inputs(&[seed_dir()]).unwrap();
    assert!((10..=20).contains(&files.len()), "{} seeds", files.len());
    for file in files {
        let report = host_calls::run(subject(), &std::fs::read(&file).unwrap());
        assert_eq!(report.outcome.stage, Stage::HostCall, "{}", file.display());
        labels.extend(report.labels);
    }
    for host in ["read_request", "write_response", "log", "storage_get"] {
        assert!(labels.contains(&format!("call:host.{host}")), "no seed calls host.{host}");
    }
    let wasi = labels.iter().filter(|label| label.starts_with("call:wasi.")).count();
    assert!(wasi >= 25, "the seeds call only {wasi} WASI functions: {labels:?}");
}

/// Picks inputs greedily until every call label and every way of ending is
/// covered by at least 12 seeds, and writes them.
fn write_seeds() {
    let wanted = every_call_label();
    let mut covered = BTreeSet::new();
    let mut ends = BTreeSet::new();
    let dir = seed_dir();
    std::fs::create_dir_all(&dir).unwrap();
    for old in std::fs::read_dir(&dir).unwrap() {
        std::fs::remove_file(old.unwrap().path()).unwrap();
    }
    let mut written = 0;
    for input in harness::sample::inputs(4000, 0x5eed) {
        let report = host_calls::run(subject(), &input);
        let new_labels = report.labels.iter().any(|label| wanted.contains(label) && !covered.contains(label));
        let new_end = !ends.contains(report.outcome.end.class());
        let many_calls = report.outcome.host_calls.len() >= 12;
        if new_labels || new_end || (many_calls && written < 12) {
            covered.extend(report.labels.iter().cloned());
            ends.insert(report.outcome.end.class());
            std::fs::write(dir.join(format!("seed-{written:02}.bin")), &input).unwrap();
            written += 1;
        }
        if (covered.is_superset(&wanted) && written >= 12 && ends.len() >= 3) || written == 20 {
            break;
        }
    }
}

#[test]
fn random_inputs_keep_both_oracles_quiet_and_always_reach_a_host_call() {
    let mut ended = BTreeSet::new();
    for input in harness::sample::inputs(200, 42) {
        let report = host_calls::run(subject(), &input);
        assert_eq!(report.outcome.stage, Stage::HostCall);
        ended.insert(report.outcome.end.class());
    }
    assert!(ended.contains("ok"), "{ended:?}");
}

/// Runs `commands` through the interpreter in a fresh sandbox, and what the model predicts.
fn run_commands(commands: &[Command]) -> (model::Prediction, Outcome) {
    let request = codec::encode(commands);
    let canaries = subject().kept::<isolation::Canaries>();
    let sandbox = canaries.sandbox().unwrap();
    let outcome = interpreter().invoke(&request, Some(sandbox.path()));
    let prediction = model::predict(commands, &request, reference::host_api::store(), model::Limits::of(subject().embedder.policy()));
    (prediction, outcome)
}

/// The interpreter, loaded by the reference loader.
fn interpreter() -> Box<dyn harness::embedder::Loaded> {
    let api = subject().host_api();
    let bytes = harness::commands::interpreter::module(api).unwrap();
    subject().embedder.load(&bytes, api.store()).unwrap()
}

fn code(status: Status) -> Option<i64> {
    Some(i64::from(status.code()))
}

fn lookup() -> Vec<Command> {
    vec![
        Command::Write { address: 200, bytes: b"key".to_vec() },
        Call::StorageGet { key_ptr: 200, key_len: 3, value_ptr_ptr: 8, value_len_ptr: 12 }.command(),
        Command::Write { address: 300, bytes: b"hello".to_vec() },
        Call::Log { ptr: 300, len: 5 }.command(),
        Call::WriteResponse { ptr: 300, len: 5 }.command(),
    ]
}

#[test]
fn the_interpreter_loads_and_the_model_agrees_on_a_lookup() {
    let (prediction, outcome) = run_commands(&lookup());
    assert_eq!(outcome.end, End::Ok);
    assert_eq!(outcome.stage, Stage::HostCall);
    assert_eq!(outcome.response, b"hello");
    assert_eq!(outcome.logs, ["hello"]);
    assert_eq!(outcome.host_calls.len(), 4);
    assert!(outcome.host_calls.iter().all(|call| call.result == code(Status::Ok)));
    model::check(&prediction, &outcome);
}

#[test]
fn a_looping_alloc_ends_in_a_timeout_the_model_foresees() {
    let mut commands = vec![Call::SetAlloc(AllocMode::Loop).command()];
    commands.extend(lookup());
    let (prediction, outcome) = run_commands(&commands);
    assert!(outcome.is_timeout(), "{}", outcome.end);
    assert!(prediction.loops());
    model::check(&prediction, &outcome);
    let labels = reference::host_api::labels(subject().host_api(), &commands, &outcome);
    assert_eq!(labels, ["call:host.read_request", "call:host.storage_get"]);
}

/// `read_request` served by an `alloc` that first calls `host.log`, then one
/// whose `alloc` calls `host.storage_get`: host calls made from inside the
/// host's own callback.
fn reentry() -> Vec<Command> {
    vec![
        Command::Write { address: 200, bytes: b"hello".to_vec() },
        Call::SetAlloc(AllocMode::Reenter(LOG)).command(),
        Call::ReadRequest { ptr_ptr: 200, len_ptr: 5 }.command(),
        Command::Write { address: 300, bytes: b"key".to_vec() },
        Call::SetAlloc(AllocMode::Reenter(STORAGE_GET)).command(),
        Call::StorageGet { key_ptr: 300, key_len: 3, value_ptr_ptr: 8, value_len_ptr: 12 }.command(),
        Call::WriteResponse { ptr: 300, len: 3 }.command(),
    ]
}

#[test]
fn a_host_call_made_from_alloc_is_recorded_after_the_call_it_serves_and_the_model_agrees() {
    let (prediction, outcome) = run_commands(&reentry());
    assert_eq!(outcome.end, End::Ok);
    let names: Vec<&str> = outcome.host_calls.iter().map(|call| call.function).collect();
    assert_eq!(names, ["read_request", "read_request", "log", "storage_get", "storage_get", "write_response"]);
    assert!(outcome.host_calls.iter().all(|call| call.result == code(Status::Ok)), "{:?}", outcome.host_calls);
    assert_eq!(outcome.logs, ["hello"]);
    model::check(&prediction, &outcome);
}

#[test]
#[should_panic(expected = "oracle: host call #1 is host.log, the model predicts host.read_request")]
fn the_model_oracle_fires_on_calls_recorded_as_they_end() {
    let (prediction, mut outcome) = run_commands(&reentry());
    // A host that records each call when it returns lists the call made
    // from `alloc` before the one it was made from.
    outcome.host_calls.swap(1, 2);
    model::check(&prediction, &outcome);
}

#[test]
#[should_panic(expected = "oracle: host call #1 host.storage_get returned Some(NotFound), the model predicts Some(Ok)")]
fn the_model_oracle_fires_on_a_wrong_status() {
    let (prediction, mut outcome) = run_commands(&lookup());
    outcome.host_calls[1].result = code(Status::NotFound);
    model::check(&prediction, &outcome);
}

#[test]
#[should_panic(expected = "oracle: the response (5 bytes) differs from the model's")]
fn the_model_oracle_fires_on_a_wrong_response() {
    let (prediction, mut outcome) = run_commands(&lookup());
    outcome.response = b"HELLO".to_vec();
    model::check(&prediction, &outcome);
}

#[test]
#[should_panic(expected = "oracle: log line #0 is")]
fn the_model_oracle_fires_on_a_wrong_log() {
    let (prediction, mut outcome) = run_commands(&lookup());
    outcome.logs[0] = "hellO".to_owned();
    model::check(&prediction, &outcome);
}

#[test]
#[should_panic(expected = "oracle: the loader recorded 5 host calls, the model predicts 4")]
fn the_model_oracle_fires_on_an_extra_call() {
    let (prediction, mut outcome) = run_commands(&lookup());
    outcome.host_calls.push(HostCall { function: "log", result: code(Status::Ok) });
    model::check(&prediction, &outcome);
}

#[test]
#[should_panic(expected = "oracle: the invocation ended with limit-exceeded: Memory, the model predicts ok")]
fn the_model_oracle_fires_on_a_wrong_end() {
    let (prediction, mut outcome) = run_commands(&lookup());
    outcome.end = End::LimitExceeded(Resource::Memory);
    model::check(&prediction, &outcome);
}

#[test]
#[should_panic(expected = "oracle: the invocation trapped after host call #3 with no WASI call in between")]
fn the_model_oracle_fires_on_a_trap_outside_wasi() {
    let (prediction, mut outcome) = run_commands(&lookup());
    outcome.end = End::Trap(TrapCode::MemoryOutOfBounds);
    model::check(&prediction, &outcome);
}

#[test]
fn a_wasi_call_with_an_out_of_bounds_pointer_traps_and_the_model_accepts_it() {
    let fd_write = wasi::FUNCTIONS.iter().position(|function| function.name == "fd_write").unwrap();
    let mut args = [0u64; ARGS];
    args[..4].copy_from_slice(&[1, u64::from(u32::MAX), 1, 8]);
    let mut commands = lookup();
    commands.push(Command::Wasi { function: fd_write, args });
    commands.extend(lookup());
    let (prediction, outcome) = run_commands(&commands);
    assert!(matches!(outcome.end, End::Trap(_)), "{}", outcome.end);
    model::check(&prediction, &outcome);
}

#[test]
#[should_panic(expected = "oracle: alloc loops forever, but the invocation ended with ok")]
fn the_model_oracle_fires_when_a_looping_alloc_returns() {
    let commands = [Call::SetAlloc(AllocMode::Loop).command(), Call::ReadRequest { ptr_ptr: 8, len_ptr: 12 }.command()];
    let (prediction, mut outcome) = run_commands(&commands);
    outcome.end = End::Ok;
    outcome.host_calls[1].result = None;
    model::check(&prediction, &outcome);
}

#[test]
fn labels_name_every_function_called() {
    let data: Vec<u8> = (0..4000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
    let report = host_calls::run(subject(), &data);
    assert!(report.labels.iter().any(|label| label == "call:host.read_request"));
    assert!(report.labels.iter().any(|label| label.starts_with("call:wasi.")), "{:?}", report.labels);
}

#[test]
fn the_same_bytes_give_the_same_commands_and_decoding_inverts_encoding() {
    let api = subject().host_api();
    for seed in 0..50u32 {
        let data: Vec<u8> = (0..3000u32).map(|i| (i.wrapping_add(seed * 7919).wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        let commands = harness::commands::generator::generate(&data, api);
        assert_eq!(commands, harness::commands::generator::generate(&data, api));
        assert_eq!(codec::decode(&codec::encode(&commands), api), Ok(commands), "seed {seed}");
    }
    assert!(harness::commands::generator::generate(&[], api).is_empty());
}

#[test]
fn decoding_names_the_bad_command() {
    let api = subject().host_api();
    let good = codec::encode(&[Command::Grow { pages: 1 }, Command::Write { address: 7, bytes: vec![1, 2, 3] }]);
    let truncated = codec::decode(&good[..good.len() - 1], api).unwrap_err();
    assert!(truncated.starts_with("command #1 at byte 76: a write of 3 bytes, but 2 follow"), "{truncated}");
    let error = codec::decode(&good[..50], api).unwrap_err();
    assert!(error.contains("50 bytes left"), "{error}");
    let mut unknown = good.clone();
    unknown[0] = 9;
    assert!(codec::decode(&unknown, api).unwrap_err().contains("unknown op 9"));
    let mut unused = good.clone();
    unused[4 + 8] = 1;
    assert!(codec::decode(&unused, api).unwrap_err().contains("unused ones must be 0"));
    let mut wide = good;
    wide[4 + 7] = 1;
    assert!(codec::decode(&wide, api).unwrap_err().contains("argument 0 of op 5 is past u32"));
    let alloc = codec::encode(&[Command::host(6, &[9, 0])]);
    assert!(codec::decode(&alloc, api).unwrap_err().contains("unknown alloc mode 9"));
}
