//! The commands an interpreter module performs, and their encoding in the
//! request: one record per command, `op: u32` and nine `u64` arguments, a
//! write's payload right after its record.

/// Arguments per record.
pub const ARGS: usize = 9;
/// Bytes of one encoded record: `op: u32` and [`ARGS`] `u64` arguments.
pub const RECORD_BYTES: usize = 4 + 8 * ARGS;
/// Op of [`Command::Write`].
pub const WRITE_OP: u32 = 4;
/// Op of [`Command::Grow`].
pub const GROW_OP: u32 = 5;
/// Op of the first WASI function; WASI function `k` of [`super::wasi::FUNCTIONS`] is `WASI_OP + k`.
pub const WASI_OP: u32 = 16;
/// Ops an ABI may give its host commands: below [`WASI_OP`] (but for
/// [`WRITE_OP`] and [`GROW_OP`]), or from this one on.
pub const HIGH_HOST_OPS: u32 = 64;

/// One step of the interpreter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// One of the ABI's host commands (a call of a host function, or a change
    /// to how the interpreter answers the host, such as its `alloc` mode):
    /// its op and arguments as the ABI numbers them.
    Host {
        /// The ABI's op.
        op: u32,
        /// Its arguments; the ones the op does not use are 0.
        args: [u64; ARGS],
    },
    /// Copies `bytes` to `address` of the interpreter's memory (skipped if they do not fit).
    Write {
        /// Where.
        address: u32,
        /// What.
        bytes: Vec<u8>,
    },
    /// `memory.grow(pages)`.
    Grow {
        /// Pages to add.
        pages: u32,
    },
    /// Calls WASI function [`super::wasi::FUNCTIONS`]`[function]` with `args`.
    Wasi {
        /// Its index in the table.
        function: usize,
        /// Its arguments (an `i32` parameter takes the low 32 bits).
        args: [u64; ARGS],
    },
}

impl Command {
    /// A host command whose first arguments are `values`, the rest 0.
    pub fn host(op: u32, values: &[u64]) -> Command {
        Command::Host { op, args: args(values) }
    }

    /// The command's op, arguments and payload, as encoded.
    pub fn record(&self) -> (u32, [u64; ARGS], &[u8]) {
        match self {
            Command::Host { op, args } => (*op, *args, &[]),
            Command::Write { address, bytes } => {
                let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
                (WRITE_OP, args(&[u64::from(*address), len]), bytes)
            }
            Command::Grow { pages } => (GROW_OP, args(&[u64::from(*pages)]), &[]),
            Command::Wasi { function, args } => (WASI_OP.saturating_add(u32::try_from(*function).unwrap_or(u32::MAX)), *args, &[]),
        }
    }
}

/// A record's arguments: `values`, then zeros.
pub fn args(values: &[u64]) -> [u64; ARGS] {
    let mut args = [0u64; ARGS];
    for (slot, value) in args.iter_mut().zip(values) {
        *slot = *value;
    }
    args
}
