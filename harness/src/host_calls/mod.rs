//! Layer 4, `host_calls`: a fixed interpreter module, loaded once per
//! process, performs a command list derived from the input: the ABI's host
//! calls and WASI calls with boundary arguments, writes into its memory and
//! `memory.grow` (see [`crate::commands`]).
//!
//! Oracles: the ABI's reference model ([`HostApi::check`]) predicts what
//! every host call returns, the response and the logs; the isolation check
//! ([`isolation::Canaries::check`]) sees that nothing outside the per-run
//! sandbox directory was read, changed or leaked; the host-data oracle
//! ([`host_data::HostData::check`]) that nothing the guest returns names
//! its host; the sandbox-use oracle ([`sandbox_use::check`]) that what the
//! run left in its sandbox stays within the ABI's caps.
//!
//! Labels: `call:<function>` for every function the run called.

pub mod host_data;
pub mod isolation;
pub mod sandbox_use;

use std::sync::OnceLock;

use crate::abi::{KnownDefect, known};
use crate::commands::{Command, HostApi, codec, generator, interpreter};
use crate::embedder::Loaded;
use crate::phase;
use crate::report::Report;
use crate::shrink::delta_debug;
use crate::subject::Subject;

/// The interpreter of a subject, loaded on first use.
#[derive(Default)]
struct Interpreter(OnceLock<(Vec<u8>, Box<dyn Loaded>)>);

impl Interpreter {
    /// The interpreter's bytes and the loaded module.
    ///
    /// # Panics
    /// With `setup:` if its WAT does not compile or the embedder refuses it:
    /// a broken setup, not a finding.
    fn get_or_load(&self, subject: &Subject) -> &(Vec<u8>, Box<dyn Loaded>) {
        self.0.get_or_init(|| {
            let bytes = interpreter::module(subject.host_api()).unwrap_or_else(|error| panic!("setup: {error}"));
            match subject.embedder.load(&bytes, subject.host_api().store()) {
                Ok(loaded) => (bytes, loaded),
                Err(rejection) => panic!("setup: the embedder refuses the interpreter: {rejection}"),
            }
        })
    }
}

/// Runs one input: derives the commands, runs the interpreter in a fresh
/// sandbox, and checks the model and isolation oracles.
///
/// # Panics
/// With `oracle:` when an oracle fires; with `setup:` if no sandbox can be made.
pub fn run(subject: &Subject, data: &[u8]) -> Report {
    crate::exclusive::run(|| run_commands(subject, &phase::timed(phase::GENERATE, || generator::generate(data, subject.host_api()))))
}

/// The structured form of an input: its command list, encoded as the request.
pub fn commands_of(subject: &Subject, data: &[u8]) -> Vec<u8> {
    codec::encode(&generator::generate(data, subject.host_api()))
}

/// The command list of an input as the layer runs it, encoded: with a known
/// defect that would crash the process defused, as [`run`] does. What
/// `harness bench` gives [`invoke_bare`].
pub fn request_of(subject: &Subject, data: &[u8]) -> Vec<u8> {
    let commands = generator::generate(data, subject.host_api());
    match defused(subject, &commands) {
        Some((defused, _)) => codec::encode(&defused),
        None => codec::encode(&commands),
    }
}

/// The bare work of an encoded command list, for `harness bench`: the
/// interpreter (loaded once) invoked with it, with no sandbox directory and
/// no oracle.
pub fn invoke_bare(subject: &Subject, request: &[u8]) -> contract::Outcome {
    let kept = subject.kept::<Interpreter>();
    let (_, loaded) = kept.get_or_load(subject);
    loaded.invoke(request, None)
}

/// Whether `file` is a command list in the request encoding of the subject's ABI.
pub fn check_command_list(subject: &Subject, file: &[u8]) -> Result<(), String> {
    codec::decode(file, subject.host_api()).map(drop).map_err(|error| format!("not a host_calls command list: {error}"))
}

/// Runs an encoded command list as [`run`] runs the list it derives.
///
/// # Panics
/// As [`run`]; with `setup:` if `file` is not a command list
/// ([`check_command_list`] says so first).
pub fn run_command_list(subject: &Subject, file: &[u8]) -> Report {
    match codec::decode(file, subject.host_api()) {
        Ok(commands) => crate::exclusive::run(|| run_commands(subject, &commands)),
        Err(error) => panic!("setup: not a host_calls command list: {error}"),
    }
}

/// Delta debugging over the commands of an encoded list while
/// `still_fails`: the smaller list, and the command counts before and after.
/// A file that is not a command list comes back unchanged.
pub fn minimize(subject: &Subject, file: Vec<u8>, still_fails: &mut dyn FnMut(&[u8]) -> bool) -> (Vec<u8>, Option<(usize, usize)>) {
    match codec::decode(&file, subject.host_api()) {
        Ok(commands) => {
            let before = commands.len();
            let kept = delta_debug(commands, &mut |candidate| still_fails(&codec::encode(candidate)));
            (codec::encode(&kept), Some((before, kept.len())))
        }
        Err(_) => (file, None),
    }
}

/// `commands` with the call that triggers a known defect crashing the host
/// defused, and the defect's id; `None` when they trigger none.
fn defused(subject: &Subject, commands: &[Command]) -> Option<(Vec<Command>, &'static str)> {
    // Only an ABI that lists a defect crashing the host pays for defusing.
    let crashes_host = subject.abi.known_defects.iter().any(|defect| matches!(defect, KnownDefect::CrashesHost { .. }));
    crashes_host
        .then(|| phase::timed("oracle:model-defuse", || subject.host_api().defuse(commands, subject.embedder.policy())))
        .flatten()
        .filter(|(_, id)| subject.abi.known_defects.contains(&KnownDefect::CrashesHost { id }))
}

/// Runs `commands` in a fresh sandbox and checks the model and isolation
/// oracles; a list that triggers a known defect crashing the process runs
/// defused (labelled `known:<id>`).
/// Runs `commands` and checks the oracles; its callers hold the one-input lock.
fn run_commands(subject: &Subject, commands: &[Command]) -> Report {
    let api: &dyn HostApi = subject.host_api();
    let policy = subject.embedder.policy();
    let defused = defused(subject, commands);
    let commands = defused.as_ref().map_or(commands, |(defused, _)| defused.as_slice());
    let request = codec::encode(commands);
    let canaries = subject.kept::<isolation::Canaries>();
    let kept = subject.kept::<Interpreter>();
    let (bytes, loaded) = kept.get_or_load(subject);
    let sandbox = match phase::timed(phase::SANDBOX, || canaries.sandbox()) {
        Ok(sandbox) => sandbox,
        Err(error) => panic!("setup: cannot create a sandbox in {}: {error}", canaries.base().display()),
    };
    let outcome = crate::limits::invoke_checked(&**loaded, &request, Some(sandbox.path()), &subject.abi.limits);
    phase::timed("oracle:host-data", || subject.kept::<host_data::HostData>().check(&outcome, &request, sandbox.path()));
    // A sandbox left as made holds what it was made with.
    let passed_over =
        if sandbox.is_untouched() { None } else { phase::timed(sandbox_use::PHASE, || sandbox_use::check(sandbox.path(), &subject.abi)) };
    phase::timed(phase::SANDBOX, || drop(sandbox));
    phase::timed("oracle:isolation", || canaries.check(&outcome, &request));
    phase::timed("oracle:model", || api.check(commands, &request, &outcome, policy));
    crate::messages::check(&outcome);
    let mut report = Report::new(outcome);
    report.labels = api.labels(commands, &report.outcome);
    if let Some((_, id)) = defused {
        report.labels.push(known::label(id));
    }
    if let Some(id) = passed_over {
        report.labels.push(known::label(id));
    }
    report.module = Some(bytes.clone());
    report
}
