//! The per-ABI half of layer 4: the interpreter's ABI-specific code, the
//! ABI's host commands with their boundary arguments, and the reference
//! model that predicts what each call returns.

use arbitrary::Unstructured;
use contract::{Outcome, Policy};

use super::command::{ARGS, Command};
use super::generator::Generator;
use crate::embedder::Store;

/// One of an ABI's host commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostOp {
    /// Its op in the request encoding.
    pub op: u32,
    /// What it is, for people (`read_request`, `set_alloc`).
    pub name: &'static str,
    /// The stats label of the call it makes (`host.read_request`), or `None`
    /// for a command that calls nothing (switching the `alloc` mode).
    pub label: Option<&'static str>,
    /// How many arguments it uses; the others must be 0.
    pub args: usize,
    /// Whether its arguments are 32-bit (else 64-bit).
    pub narrow: bool,
}

/// One kind of step the command generator draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The ABI's host command with this op.
    Host(u32),
    /// A write into the interpreter's memory.
    Write,
    /// A `memory.grow`.
    Grow,
    /// A WASI call.
    Wasi,
}

/// The ABI-specific parts of the interpreter's WAT, which
/// [`super::interpreter`] puts around the generic command loop.
#[derive(Clone, Copy, Debug)]
pub struct Fragments {
    /// The ABI's imports.
    pub imports: &'static str,
    /// Globals and functions: the ABI's exports besides `memory` (Oak's
    /// `alloc`) and `$host (param $op i32)`, which performs host command
    /// `$op` with the current record's arguments (`call $a`/`call $a64`).
    pub definitions: &'static str,
    /// The entry function: it puts the request in memory and calls
    /// `$run (param $cursor i32) (param $end i32)` over it.
    pub entry: &'static str,
}

impl Fragments {
    /// The three fragments of one WAT text marked by a line `;;@definitions`
    /// before the definitions and a line `;;@entry` before the entry (the
    /// imports come first); a missing marker leaves the fragments after it empty.
    pub fn from_marked(wat: &'static str) -> Fragments {
        let (imports, rest) = wat.split_once(";;@definitions\n").unwrap_or((wat, ""));
        let (definitions, entry) = rest.split_once(";;@entry\n").unwrap_or((rest, ""));
        Fragments { imports, definitions, entry }
    }
}

/// The per-ABI half of layer 4.
pub trait HostApi: Send + Sync {
    /// The ABI's host commands.
    fn ops(&self) -> &'static [HostOp];

    /// How often the generator draws each kind of step, as weights in order
    /// (at most 256 in all).
    fn mix(&self) -> &'static [(Step, u8)];

    /// Draws the arguments of host command `op`, leaning to boundaries, and
    /// pushes it (with any writes it needs first) onto `generator`.
    fn generate(&self, op: u32, generator: &mut Generator, u: &mut Unstructured<'_>) -> arbitrary::Result<()>;

    /// Refuses a decoded host record the generator could never have made,
    /// beyond the generic checks of argument count and width.
    fn validate(&self, _op: u32, _args: &[u64; ARGS]) -> Result<(), String> {
        Ok(())
    }

    /// The interpreter's ABI-specific WAT.
    fn fragments(&self) -> Fragments;

    /// Whether the interpreter imports WASI and runs [`Command::Wasi`].
    fn wasi(&self) -> bool;

    /// The store the interpreter is loaded with.
    fn store(&self) -> &Store;

    /// The model oracle: panics with `oracle:` when the `outcome` of running
    /// `commands` (encoded as `request`) under `policy` is not what the ABI's
    /// documented behaviour predicts.
    fn check(&self, commands: &[Command], request: &[u8], outcome: &Outcome, policy: &Policy);

    /// A command list doing what `commands` does as far as it can without
    /// triggering a defect of the embedder that would crash this process,
    /// with that defect's id; `None` when `commands` triggers none. Layer 4
    /// runs it instead when the ABI lists the defect as known
    /// ([`crate::abi::KnownDefect::CrashesHost`]).
    fn defuse(&self, _commands: &[Command], _policy: &Policy) -> Option<(Vec<Command>, &'static str)> {
        None
    }

    /// `call:<function>` labels of the functions the run called.
    fn labels(&self, commands: &[Command], outcome: &Outcome) -> Vec<String>;

    /// The op whose number is `op`, if the ABI has one.
    fn op(&self, op: u32) -> Option<&'static HostOp> {
        self.ops().iter().find(|host_op| host_op.op == op)
    }
}

/// The stats label of the call a command makes (`call:host.log`,
/// `call:wasi.fd_write`), if it makes one.
pub fn label(api: &dyn HostApi, command: &Command) -> Option<String> {
    match command {
        Command::Host { op, .. } => api.op(*op).and_then(|host_op| host_op.label).map(|label| format!("call:{label}")),
        Command::Wasi { function, .. } => super::wasi::FUNCTIONS.get(*function).map(|wasi| format!("call:wasi.{}", wasi.name)),
        Command::Write { .. } | Command::Grow { .. } => None,
    }
}
