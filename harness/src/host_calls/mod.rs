//! Layer 4, `host_calls`: a fixed interpreter module, loaded once per process,
//! performs a command list derived from the input: `host` and WASI calls with
//! boundary arguments, writes into its memory, `memory.grow`, and an `alloc`
//! that misbehaves on demand.
//!
//! Oracles: the reference model of the host ABI ([`model::check`]) predicts
//! every `host` call's status, the response and the logs; the isolation check
//! ([`isolation::Canaries::check`]) sees that nothing outside the per-run
//! sandbox directory was read, changed or leaked.
//!
//! Labels: `call:host.<name>` and `call:wasi.<name>` for every function the
//! run called.

pub mod command;
pub mod interpreter;
pub mod isolation;
pub mod model;

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

use loader::{End, Outcome, Storage};

use crate::report::Report;
use crate::shared_loader::loader;
use command::Command;

/// The lookup store of every run: keys from [`command::STORAGE_KEYS`], one
/// value larger than the interpreter's initial memory.
pub fn storage() -> &'static Arc<Storage> {
    static STORAGE: OnceLock<Arc<Storage>> = OnceLock::new();
    STORAGE.get_or_init(|| {
        let values: [Vec<u8>; 5] = [
            b"value".to_vec(),
            b"value of the empty key".to_vec(),
            Vec::new(),
            vec![b'B'; 200_000],
            b"\xff not utf-8".to_vec(),
        ];
        Arc::new(command::STORAGE_KEYS.iter().map(|key| key.to_vec()).zip(values).collect())
    })
}

/// Runs one input: derives the commands, runs the interpreter in a fresh
/// sandbox, and checks the model and isolation oracles.
///
/// # Panics
/// With `oracle:` when an oracle fires; with `setup:` if no sandbox can be made.
pub fn run(data: &[u8]) -> Report {
    run_commands(&command::generate(data))
}

/// The structured form of an input: its command list, encoded as the request.
pub fn commands_of(data: &[u8]) -> Vec<u8> {
    command::encode(&command::generate(data))
}

/// Whether `file` is a command list in the request encoding.
pub fn check_command_list(file: &[u8]) -> Result<(), String> {
    command::decode(file).map(drop).map_err(|error| format!("not a host_calls command list: {error}"))
}

/// Runs an encoded command list as [`run`] runs the list it derives.
///
/// # Panics
/// As [`run`]; with `setup:` if `file` is not a command list
/// ([`check_command_list`] says so first).
pub fn run_command_list(file: &[u8]) -> Report {
    match command::decode(file) {
        Ok(commands) => run_commands(&commands),
        Err(error) => panic!("setup: not a host_calls command list: {error}"),
    }
}

/// Runs `commands` in a fresh sandbox and checks the model and isolation oracles.
fn run_commands(commands: &[Command]) -> Report {
    let request = command::encode(commands);
    let canaries = isolation::canaries();
    let outcome = match canaries.sandbox() {
        Ok(sandbox) => interpreter::function().invoke_in(&request, storage(), Some(sandbox.path())),
        Err(error) => panic!("setup: cannot create a sandbox in {}: {error}", canaries.base().display()),
    };
    let prediction = model::predict(commands, &request, storage(), model::Limits::of(loader().policy()));
    model::check(&prediction, &outcome);
    canaries.check(&outcome, &request);
    crate::messages::check(&outcome);
    let mut report = Report::new(outcome);
    report.labels = labels(commands, &report.outcome);
    report.module = Some(interpreter::bytes().to_vec());
    report
}

/// `call:host.<name>` and `call:wasi.<name>` for each function called, once
/// each. A run cut short (fuel, deadline, a trap) ran the commands up to its
/// last recorded `host` call; after that only the first WASI call is counted,
/// since it surely ran (a trap comes from a WASI call), the later ones may not.
pub fn labels(commands: &[Command], outcome: &Outcome) -> Vec<String> {
    let mut labels: BTreeSet<String> = outcome.host_calls.iter().map(|call| format!("call:host.{}", call.function)).collect();
    let recorded = outcome.host_calls.len();
    let cut_short = outcome.end != End::Ok;
    let hung = outcome.host_calls.last().is_some_and(|call| call.status.is_none());
    // The bootstrap `read_request` is host call 0.
    let mut host_calls = 1;
    for command in commands {
        let Some(label) = command.label() else { continue };
        let is_host = label.starts_with("call:host.");
        if cut_short && host_calls >= recorded {
            if !is_host && !hung {
                labels.insert(label);
            }
            break;
        }
        host_calls += usize::from(is_host);
        labels.insert(label);
    }
    labels.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use command::{AllocMode, Command};
    use loader::{End, HostCall, Stage, Status};

    fn run_commands(commands: &[Command]) -> (model::Prediction, Outcome) {
        let request = command::encode(commands);
        let canaries = isolation::canaries();
        let sandbox = canaries.sandbox().unwrap();
        let outcome = interpreter::function().invoke_in(&request, storage(), Some(sandbox.path()));
        let prediction = model::predict(commands, &request, storage(), model::Limits::of(loader().policy()));
        (prediction, outcome)
    }

    fn lookup() -> Vec<Command> {
        vec![
            Command::Write { address: 200, bytes: b"key".to_vec() },
            Command::StorageGet { key_ptr: 200, key_len: 3, value_ptr_ptr: 8, value_len_ptr: 12 },
            Command::Write { address: 300, bytes: b"hello".to_vec() },
            Command::Log { ptr: 300, len: 5 },
            Command::WriteResponse { ptr: 300, len: 5 },
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
        assert!(outcome.host_calls.iter().all(|call| call.status == Some(Status::Ok)));
        model::check(&prediction, &outcome);
    }

    #[test]
    fn a_looping_alloc_ends_in_a_timeout_the_model_foresees() {
        let mut commands = vec![Command::SetAlloc(AllocMode::Loop)];
        commands.extend(lookup());
        let (prediction, outcome) = run_commands(&commands);
        assert!(outcome.is_timeout(), "{}", outcome.end);
        assert!(prediction.loops());
        model::check(&prediction, &outcome);
        assert_eq!(labels(&commands, &outcome), ["call:host.read_request", "call:host.storage_get"]);
    }

    #[test]
    #[should_panic(expected = "oracle: host call #1 host.storage_get returned Some(NotFound), the model predicts Some(Ok)")]
    fn the_model_oracle_fires_on_a_wrong_status() {
        let (prediction, mut outcome) = run_commands(&lookup());
        outcome.host_calls[1].status = Some(Status::NotFound);
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
        outcome.host_calls.push(HostCall { function: "log", status: Some(Status::Ok) });
        model::check(&prediction, &outcome);
    }

    #[test]
    #[should_panic(expected = "oracle: the invocation ended with limit-exceeded: Memory, the model predicts ok")]
    fn the_model_oracle_fires_on_a_wrong_end() {
        let (prediction, mut outcome) = run_commands(&lookup());
        outcome.end = End::LimitExceeded(loader::Resource::Memory);
        model::check(&prediction, &outcome);
    }

    #[test]
    #[should_panic(expected = "oracle: the invocation trapped after host call #3 with no WASI call in between")]
    fn the_model_oracle_fires_on_a_trap_outside_wasi() {
        let (prediction, mut outcome) = run_commands(&lookup());
        outcome.end = End::Trap(loader::TrapCode::MemoryOutOfBounds);
        model::check(&prediction, &outcome);
    }

    #[test]
    fn a_wasi_call_with_an_out_of_bounds_pointer_traps_and_the_model_accepts_it() {
        let fd_write = command::WASI.iter().position(|function| function.name == "fd_write").unwrap();
        let mut commands = lookup();
        commands.push(Command::Wasi { function: fd_write, args: [1, u64::from(u32::MAX), 1, 8, 0, 0, 0, 0, 0] });
        commands.extend(lookup());
        let (prediction, outcome) = run_commands(&commands);
        assert!(matches!(outcome.end, End::Trap(_)), "{}", outcome.end);
        model::check(&prediction, &outcome);
    }

    #[test]
    #[should_panic(expected = "oracle: alloc loops forever, but the invocation ended with ok")]
    fn the_model_oracle_fires_when_a_looping_alloc_returns() {
        let commands = [Command::SetAlloc(AllocMode::Loop), Command::ReadRequest { ptr_ptr: 8, len_ptr: 12 }];
        let (prediction, mut outcome) = run_commands(&commands);
        outcome.end = End::Ok;
        outcome.host_calls[1].status = None;
        model::check(&prediction, &outcome);
    }

    #[test]
    fn labels_name_every_function_called() {
        let data: Vec<u8> = (0..4000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
        let report = run(&data);
        assert!(report.labels.iter().any(|label| label == "call:host.read_request"));
        assert!(report.labels.iter().any(|label| label.starts_with("call:wasi.")), "{:?}", report.labels);
    }
}
