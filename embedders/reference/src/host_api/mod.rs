//! The reference ABI's half of layer 4: the interpreter's `host` imports,
//! its `alloc` modes and its `main`, the four `host` calls and the mode
//! switch as commands with boundary arguments, the lookup store, and the
//! reference model that predicts every status, the response and the logs.

pub mod calls;
pub mod model;
pub mod status;

use std::collections::BTreeSet;
use std::sync::OnceLock;

use arbitrary::Unstructured;
use contract::{End, Outcome, Policy};
use harness::commands::{self, ARGS, Command, Fragments, Generator, HostApi, HostOp, Step};
use harness::embedder::Store;

/// The interpreter's reference half, split at its `;;@` markers into [`Fragments`].
const INTERPRETER: &str = include_str!("interpreter.wat");

/// The layer-4 half of the reference ABI.
pub struct OakHostApi;

impl HostApi for OakHostApi {
    fn ops(&self) -> &'static [HostOp] {
        calls::OPS
    }

    fn mix(&self) -> &'static [(Step, u8)] {
        &[
            (Step::Host(calls::READ_REQUEST), 3),
            (Step::Host(calls::WRITE_RESPONSE), 3),
            (Step::Host(calls::LOG), 3),
            (Step::Host(calls::STORAGE_GET), 3),
            (Step::Write, 2),
            (Step::Grow, 1),
            (Step::Host(calls::SET_ALLOC), 2),
            (Step::Wasi, 8),
        ]
    }

    fn generate(&self, op: u32, generator: &mut Generator, u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
        calls::generate(op, generator, u)
    }

    fn validate(&self, op: u32, args: &[u64; ARGS]) -> Result<(), String> {
        calls::validate(op, args)
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
        let prediction = model::predict(commands, request, store(), model::Limits::of(policy));
        model::check(&prediction, outcome);
    }

    fn labels(&self, commands: &[Command], outcome: &Outcome) -> Vec<String> {
        labels(self, commands, outcome)
    }
}

/// The lookup store of every run: keys from [`calls::STORAGE_KEYS`], one
/// value larger than the interpreter's initial memory.
pub fn store() -> &'static Store {
    static STORE: OnceLock<Store> = OnceLock::new();
    STORE.get_or_init(|| {
        let values: [Vec<u8>; 5] =
            [b"value".to_vec(), b"value of the empty key".to_vec(), Vec::new(), vec![b'B'; 200_000], b"\xff not utf-8".to_vec()];
        calls::STORAGE_KEYS.iter().map(|key| key.to_vec()).zip(values).collect()
    })
}

/// `call:host.<name>` and `call:wasi.<name>` for each function called, once
/// each. A run cut short (fuel, deadline, a trap) ran the commands up to its
/// last recorded `host` call; after that only the first WASI call is counted,
/// since it surely ran (a trap comes from a WASI call), the later ones may not.
pub fn labels(api: &dyn HostApi, commands: &[Command], outcome: &Outcome) -> Vec<String> {
    let mut labels: BTreeSet<String> = outcome.host_calls.iter().map(|call| format!("call:host.{}", call.function)).collect();
    let recorded = outcome.host_calls.len();
    let cut_short = outcome.end != End::Ok;
    let hung = outcome.host_calls.last().is_some_and(|call| call.result.is_none());
    // The bootstrap `read_request` is host call 0.
    let mut host_calls = 1;
    for command in commands {
        let Some(label) = commands::label(api, command) else { continue };
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
