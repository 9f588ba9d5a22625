//! The reference ABI's host commands: the four `host` calls and the
//! interpreter's `alloc` modes, typed, with their boundary arguments.

use arbitrary::{Result, Unstructured};
use harness::commands::{ARGS, Command, Content, Generator, HostOp};

/// Op of each host command in the request encoding.
pub const READ_REQUEST: u32 = 0;
/// `host.write_response`.
pub const WRITE_RESPONSE: u32 = 1;
/// `host.log`.
pub const LOG: u32 = 2;
/// `host.storage_get`.
pub const STORAGE_GET: u32 = 3;
/// Switching the interpreter's `alloc` mode.
pub const SET_ALLOC: u32 = 6;

/// The host commands, for decoding and labels.
pub const OPS: &[HostOp] = &[
    HostOp { op: READ_REQUEST, name: "read_request", label: Some("host.read_request"), args: 2, narrow: true },
    HostOp { op: WRITE_RESPONSE, name: "write_response", label: Some("host.write_response"), args: 2, narrow: true },
    HostOp { op: LOG, name: "log", label: Some("host.log"), args: 2, narrow: true },
    HostOp { op: STORAGE_GET, name: "storage_get", label: Some("host.storage_get"), args: 4, narrow: true },
    HostOp { op: SET_ALLOC, name: "set_alloc", label: None, args: 2, narrow: true },
];

/// Keys of the lookup store the interpreter runs with (see [`super::store`]).
pub const STORAGE_KEYS: &[&[u8]] = &[b"key", b"", b"empty", b"big", b"\xff\xfe"];

/// What the interpreter's exported `alloc` does when the host calls it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AllocMode {
    /// Returns a bump pointer (starting at the request) and advances it by `len`.
    Bump,
    /// Returns this pointer whatever `len` is.
    Fixed(u32),
    /// Traps.
    Trap,
    /// Loops until the invocation runs out of fuel.
    Loop,
    /// Grows memory by this many pages and returns the old end of memory.
    Grow(u32),
    /// Switches back to [`AllocMode::Bump`], performs this `host` op (one
    /// of the four calls) with the arguments of the call being served, then
    /// allocates as `Bump` does: a host call re-entered from its callback.
    Reenter(u32),
}

/// One host command, typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    /// `host.read_request(ptr_ptr, len_ptr)`.
    ReadRequest {
        /// Where the host writes the request's address.
        ptr_ptr: u32,
        /// Where the host writes its length.
        len_ptr: u32,
    },
    /// `host.write_response(ptr, len)`.
    WriteResponse {
        /// The response's address.
        ptr: u32,
        /// Its length.
        len: u32,
    },
    /// `host.log(ptr, len)`.
    Log {
        /// The line's address.
        ptr: u32,
        /// Its length.
        len: u32,
    },
    /// `host.storage_get(key_ptr, key_len, value_ptr_ptr, value_len_ptr)`.
    StorageGet {
        /// The key's address.
        key_ptr: u32,
        /// Its length.
        key_len: u32,
        /// Where the host writes the value's address.
        value_ptr_ptr: u32,
        /// Where the host writes its length.
        value_len_ptr: u32,
    },
    /// Switches `alloc` to a mode.
    SetAlloc(AllocMode),
}

impl Call {
    /// The call a host command of the reference ABI makes, if it is one.
    pub fn of(op: u32, args: &[u64; ARGS]) -> Option<Call> {
        let arg = |index: usize| u32::try_from(args[index]).unwrap_or(u32::MAX);
        Some(match op {
            READ_REQUEST => Call::ReadRequest { ptr_ptr: arg(0), len_ptr: arg(1) },
            WRITE_RESPONSE => Call::WriteResponse { ptr: arg(0), len: arg(1) },
            LOG => Call::Log { ptr: arg(0), len: arg(1) },
            STORAGE_GET => Call::StorageGet { key_ptr: arg(0), key_len: arg(1), value_ptr_ptr: arg(2), value_len_ptr: arg(3) },
            SET_ALLOC => Call::SetAlloc(match (arg(0), arg(1)) {
                (0, _) => AllocMode::Bump,
                (1, ptr) => AllocMode::Fixed(ptr),
                (2, _) => AllocMode::Trap,
                (3, _) => AllocMode::Loop,
                (5, op) => AllocMode::Reenter(op),
                (_, pages) => AllocMode::Grow(pages),
            }),
            _ => return None,
        })
    }

    /// The host command that makes this call.
    pub fn command(&self) -> Command {
        let words = |values: &[u32]| values.iter().map(|value| u64::from(*value)).collect::<Vec<_>>();
        match *self {
            Call::ReadRequest { ptr_ptr, len_ptr } => Command::host(READ_REQUEST, &words(&[ptr_ptr, len_ptr])),
            Call::WriteResponse { ptr, len } => Command::host(WRITE_RESPONSE, &words(&[ptr, len])),
            Call::Log { ptr, len } => Command::host(LOG, &words(&[ptr, len])),
            Call::StorageGet { key_ptr, key_len, value_ptr_ptr, value_len_ptr } => {
                Command::host(STORAGE_GET, &words(&[key_ptr, key_len, value_ptr_ptr, value_len_ptr]))
            }
            Call::SetAlloc(mode) => {
                let (code, param) = match mode {
                    AllocMode::Bump => (0, 0),
                    AllocMode::Fixed(ptr) => (1, ptr),
                    AllocMode::Trap => (2, 0),
                    AllocMode::Loop => (3, 0),
                    AllocMode::Grow(pages) => (4, pages),
                    AllocMode::Reenter(op) => (5, op),
                };
                Command::host(SET_ALLOC, &words(&[code, param]))
            }
        }
    }
}

/// Refuses an `alloc` mode record the generator never writes.
pub fn validate(op: u32, args: &[u64; ARGS]) -> std::result::Result<(), String> {
    match (op, args[0], args[1]) {
        (SET_ALLOC, 1 | 4, _) | (SET_ALLOC, 0 | 2 | 3, 0) => Ok(()),
        (SET_ALLOC, 5, op) if op <= u64::from(STORAGE_GET) => Ok(()),
        (SET_ALLOC, 5, op) => Err(format!("alloc mode 5 re-enters one of the host calls 0 to 3, not op {op}")),
        (SET_ALLOC, mode @ 0..=4, _) => Err(format!("alloc mode {mode} takes no parameter")),
        (SET_ALLOC, mode, _) => Err(format!("unknown alloc mode {mode}")),
        _ => Ok(()),
    }
}

/// Draws host command `op` with boundary arguments and pushes it.
pub fn generate(op: u32, generator: &mut Generator, u: &mut Unstructured<'_>) -> Result<()> {
    let call = match op {
        READ_REQUEST => {
            let (ptr_ptr, len_ptr) = generator.slots(u)?;
            Call::ReadRequest { ptr_ptr, len_ptr }
        }
        WRITE_RESPONSE => {
            let (ptr, len) = generator.range(u, Content::Any)?;
            Call::WriteResponse { ptr, len }
        }
        LOG => {
            let (ptr, len) = generator.range(u, Content::Text)?;
            Call::Log { ptr, len }
        }
        STORAGE_GET => {
            let (key_ptr, key_len) = generator.range(u, Content::Key(STORAGE_KEYS))?;
            let (value_ptr_ptr, value_len_ptr) = generator.slots(u)?;
            Call::StorageGet { key_ptr, key_len, value_ptr_ptr, value_len_ptr }
        }
        _ => Call::SetAlloc(alloc_mode(generator, u)?),
    };
    generator.push(call.command());
    Ok(())
}

fn alloc_mode(generator: &Generator, u: &mut Unstructured<'_>) -> Result<AllocMode> {
    // A looping alloc burns all the fuel of its run: rare.
    Ok(match u.int_in_range(0u8..=63)? {
        0 => AllocMode::Loop,
        1..=12 => AllocMode::Trap,
        13..=32 => AllocMode::Fixed(generator.pointer(u)?),
        33..=44 => AllocMode::Grow(*u.choose(&[0, 1, 2, 4, 300, u32::MAX])?),
        45..=54 => AllocMode::Reenter(*u.choose(&[READ_REQUEST, WRITE_RESPONSE, LOG, STORAGE_GET])?),
        _ => AllocMode::Bump,
    })
}
