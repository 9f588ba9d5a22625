//! Extism's half of layer 4: the interpreter plugin's Extism-specific WAT
//! (`interpreter.wat`), every kernel and host function as a command with
//! boundary arguments ([`calls`]), the manifest config the plugin runs
//! with, and the reference model of Extism's documented behaviour
//! ([`model`], over the kernel's in [`kernel`]).

pub mod calls;
pub mod kernel;
pub mod model;

use crate::abi::READS_OUTSIDE;

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::OnceLock;

use arbitrary::Unstructured;
use contract::{End, Outcome, Policy};
use harness::commands::{self, Command, Fragments, Generator, HostApi, HostOp, Step, codec};
use harness::embedder::Store;

/// Passes of [`HostApi::defuse`] before it gives up on a list and runs none of it.
const DEFUSE_PASSES: usize = 8;

/// The interpreter's Extism half, split at its `;;@` markers into [`Fragments`].
const INTERPRETER: &str = include_str!("interpreter.wat");

/// The model's prediction for `commands`, encoded as `request`, under
/// `policy`. Layer 4 asks twice for the list it runs, once to defuse it and
/// once to check its outcome; the thread's last prediction answers the
/// second time.
fn predict(commands: &[Command], request: &[u8], policy: &Policy) -> Rc<model::Prediction> {
    /// What a prediction was made for, and the prediction.
    type Predicted = (Vec<Command>, Vec<u8>, Policy, Rc<model::Prediction>);
    thread_local! {
        static LAST: RefCell<Option<Predicted>> = const { RefCell::new(None) };
    }
    LAST.with_borrow_mut(|last| match last {
        Some((last_commands, last_request, last_policy, prediction))
            if last_request == request && last_commands == commands && last_policy == policy =>
        {
            Rc::clone(prediction)
        }
        _ => {
            let prediction = Rc::new(model::predict(commands, request, store(), policy));
            *last = Some((commands.to_vec(), request.to_vec(), policy.clone(), Rc::clone(&prediction)));
            prediction
        }
    })
}

/// The layer-4 half of Extism's ABI.
pub struct ExtismHostApi;

impl HostApi for ExtismHostApi {
    fn ops(&self) -> &'static [HostOp] {
        calls::ops()
    }

    fn mix(&self) -> &'static [(Step, u8)] {
        static MIX: OnceLock<Vec<(Step, u8)>> = OnceLock::new();
        MIX.get_or_init(|| {
            // Kernel functions twice as often as host ones; a refused HTTP
            // request ends the run, so it is rare; `put` comes with the keys.
            let weight = |name: &str| match name {
                "http_request" => 1,
                "alloc" | "free" | "store_u8" | "store_u64" | "output_set" | "length" => 6,
                "config_get" | "var_get" | "var_set" | "error_set" | "load_u8" | "load_u64" => 4,
                _ => 2,
            };
            let ops = calls::ops().iter().filter(|op| op.op != calls::PUT);
            let mut mix: Vec<(Step, u8)> = ops.map(|op| (Step::Host(op.op), weight(op.name))).collect();
            mix.extend([(Step::Host(calls::PUT), 3), (Step::Write, 3), (Step::Grow, 2), (Step::Wasi, 6)]);
            mix
        })
    }

    fn generate(&self, op: u32, generator: &mut Generator, u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
        calls::generate(op, generator, u)
    }

    fn fragments(&self) -> Fragments {
        Fragments::from_marked(INTERPRETER)
    }

    fn wasi(&self) -> bool {
        true
    }

    fn store(&self) -> &Store {
        store()
    }

    fn check(&self, commands: &[Command], request: &[u8], outcome: &Outcome, policy: &Policy) {
        model::check(&predict(commands, request, policy), outcome);
    }

    /// Extism reads outside its kernel's memory when a block it reads (a
    /// key, a value, a log line, the output, the error) does not fit in it.
    /// Defused: the commands before the call that reads, or, when the output
    /// or the error is read after the call, all of them and then both
    /// cleared. Where the model loses track, what follows might read outside
    /// too: the commands before that point, then both cleared.
    fn defuse(&self, commands: &[Command], policy: &Policy) -> Option<(Vec<Command>, &'static str)> {
        let mut defused = commands.to_vec();
        let mut changed = false;
        // Each pass cuts the list or clears the output, which moves the
        // blocks, so that another read may come earlier: a few passes end it.
        for _ in 0..DEFUSE_PASSES {
            let request = codec::encode(&defused);
            let prediction = predict(&defused, &request, policy);
            let Some(stop) = prediction.stopped_at else {
                return changed.then_some((defused, READS_OUTSIDE));
            };
            changed = true;
            if stop < defused.len() {
                defused.truncate(stop);
                if prediction.reads_outside.is_none() {
                    defused.extend(calls::clear_output_and_error());
                }
            } else {
                // Read after the call: also when a WASI call ends the run
                // early, with an error the model does not predict, so both
                // are cleared before each WASI call too.
                defused = clear_before_wasi(&defused);
                defused.extend(calls::clear_output_and_error());
            }
        }
        Some((Vec::new(), READS_OUTSIDE))
    }

    fn labels(&self, commands: &[Command], outcome: &Outcome) -> Vec<String> {
        // The interpreter reports once it read the request, then every host
        // op once it returned: the first `reported` host ops ran, and WASI
        // calls among them; a call that failed (a host function's error, a
        // trap) ran too, without reporting.
        let mut reported = outcome.host_calls.len().saturating_sub(1);
        let mut labels = BTreeSet::new();
        for command in commands {
            let Some(label) = commands::label(self, command) else { continue };
            if matches!(command, Command::Host { .. }) {
                if reported == 0 {
                    if outcome.end != End::Ok {
                        labels.insert(label);
                    }
                    break;
                }
                reported -= 1;
            }
            labels.insert(label);
        }
        labels.into_iter().collect()
    }
}

/// The manifest config every interpreter runs with: keys of [`calls::KEYS`].
pub fn store() -> &'static Store {
    static STORE: OnceLock<Store> = OnceLock::new();
    STORE.get_or_init(|| {
        [(&b"key"[..], &b"value"[..]), (b"user", b"a config value of forty bytes, for reads"), (b"empty", b"")]
            .into_iter()
            .map(|(key, value)| (key.to_vec(), value.to_vec()))
            .collect()
    })
}

/// `commands` with the output and the error cleared before each WASI call
/// (once: a clearing already there is not repeated).
fn clear_before_wasi(commands: &[Command]) -> Vec<Command> {
    let clear = calls::clear_output_and_error();
    let mut cleared = Vec::with_capacity(commands.len());
    for command in commands {
        if matches!(command, Command::Wasi { .. }) && !cleared.ends_with(&clear) {
            cleared.extend(clear.iter().cloned());
        }
        cleared.push(command.clone());
    }
    cleared
}
