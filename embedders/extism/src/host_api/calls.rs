//! Extism's host commands: every kernel and host function as an op, and
//! `put`, with arguments that lean to the boundaries Extism's documentation
//! names (offset 0, freed blocks, the inside of a block, past the kernel's
//! memory, `u64::MAX`; lengths 0, huge and wrapping; unknown keys, values
//! over `max_var_bytes`, an HTTP request that must be refused).

use arbitrary::{Result, Unstructured};
use harness::commands::{ARGS, Command, Content, Generator, HostOp};

use crate::abi::{HOST, KERNEL};
use crate::embedder::MAX_VAR_BYTES;

/// Op of the first kernel function; kernel function `k` of
/// [`KERNEL`] is `FIRST_OP + k`, host function `h` of [`HOST`] follows them.
pub const FIRST_OP: u32 = 64;
/// `put(address, length)`: copies interpreter memory into a fresh kernel block.
pub const PUT: u32 = FIRST_OP + 32;
/// The argument naming a host op's result register.
pub const DEST: usize = 7;
/// The argument whose bit `i` makes argument `i` a register reference.
pub const MASK: usize = 8;
/// The register the generator uses for handles it builds for the next call.
const SCRATCH_REGISTER: u64 = 7;

/// The op of the Extism function `name`.
pub fn op_of(name: &str) -> Option<u32> {
    let index = KERNEL.iter().chain(HOST.iter()).position(|(known, _, _)| *known == name)?;
    u32::try_from(index).ok().map(|index| FIRST_OP + index)
}

/// The Extism function of `op`, or `put`.
pub fn name_of(op: u32) -> Option<&'static str> {
    if op == PUT {
        return Some("put");
    }
    let index = usize::try_from(op.checked_sub(FIRST_OP)?).ok()?;
    KERNEL.iter().chain(HOST.iter()).nth(index).map(|(name, _, _)| *name)
}

/// `output_set(0, 0)` and `error_set(0)`: after them Extism reads no block after the call.
pub fn clear_output_and_error() -> [Command; 2] {
    let call = |name: &str| Command::Host { op: op_of(name).unwrap_or(PUT), args: [0; ARGS] };
    [call("output_set"), call("error_set")]
}

/// The host ops: each function of the kernel and the host, then `put`.
pub fn ops() -> &'static [HostOp] {
    static OPS: std::sync::OnceLock<Vec<HostOp>> = std::sync::OnceLock::new();
    OPS.get_or_init(|| {
        let kernel = KERNEL.iter().map(|(name, params, _)| (*name, "kernel", params.len()));
        let host = HOST.iter().map(|(name, params, _)| (*name, "host", params.len()));
        let mut ops: Vec<HostOp> = kernel
            .chain(host)
            .zip(FIRST_OP..)
            .map(|((name, group, _), op)| HostOp { op, name, label: Some(label(group, name)), args: ARGS, narrow: false })
            .collect();
        ops.push(HostOp { op: PUT, name: "put", label: Some("kernel.put"), args: ARGS, narrow: false });
        ops
    })
}

/// `kernel.<name>` or `host.<name>`, leaked once per function (the table is built once).
fn label(group: &str, name: &str) -> &'static str {
    Box::leak(format!("{group}.{name}").into_boxed_str())
}

/// Keys the generator asks `config_get` and `var_*` for: the store's, and unknown ones.
pub const KEYS: &[&[u8]] = &[b"key", b"user", b"empty", b"missing", b"", b"\xff\xfe"];

/// Kernel offsets at the edges the documentation names, for a kernel memory
/// of `16` pages: 0, the root and its fields, the first block's header and
/// data, the end of memory and around it, past 2^32 (where a 32-bit kernel
/// reads the same address), `u64::MAX`.
const OFFSETS: [u64; 18] = [
    0,
    1,
    9,
    57,
    64,
    65,
    76,
    77,
    78,
    1 << 16,
    (16 << 16) - 8,
    (16 << 16) - 1,
    16 << 16,
    (16 << 16) + 1,
    u32::MAX as u64,
    (1 << 32) + 77,
    u64::MAX - 11,
    u64::MAX,
];

/// Lengths: none, small, a page, past the kernel's memory, past 2^32, and
/// ones that wrap an offset past 2^64.
const LENGTHS: [u64; 12] = [0, 1, 8, 12, 64, 1 << 16, 1 << 20, u32::MAX as u64, 1 << 32, u64::MAX - 499, u64::MAX - 11, u64::MAX];

/// Draws host op `op`'s arguments and pushes it, after the writes and
/// `put`s its keys and values need.
pub fn generate(op: u32, generator: &mut Generator, u: &mut Unstructured<'_>) -> Result<()> {
    let name = name_of(op).unwrap_or("alloc");
    let mut args = [0u64; ARGS];
    args[DEST] = u64::from(u.int_in_range(0u8..=6)?);
    let mut mask = 0u64;
    let handle = |u: &mut Unstructured<'_>, index: usize, mask: &mut u64| -> Result<u64> {
        // Half the time an earlier result (a handle), maybe plus a little:
        // a live block, a freed one, the inside of one.
        if u.ratio(1u8, 2)? {
            *mask |= 1 << index;
            let register = u64::from(u.int_in_range(0u8..=6)?);
            let plus = *u.choose(&[0u64, 0, 0, 1, 4, 12])?;
            return Ok(register | plus << 8);
        }
        Ok(if u.ratio(3u8, 4)? { *u.choose(&OFFSETS)? } else { u.arbitrary()? })
    };
    let length = |u: &mut Unstructured<'_>| -> Result<u64> { if u.ratio(3u8, 4)? { Ok(*u.choose(&LENGTHS)?) } else { u.arbitrary() } };
    match name {
        "alloc" => args[0] = length(u)?,
        "free" | "length" | "length_unsafe" | "load_u8" | "load_u64" | "error_set" => args[0] = handle(u, 0, &mut mask)?,
        "store_u8" | "store_u64" => {
            args[0] = handle(u, 0, &mut mask)?;
            args[1] = if u.ratio(1u8, 2)? { *u.choose(&[0, 1, 2, 0xff, 12, 1 << 31, u64::MAX])? } else { u.arbitrary()? };
        }
        "input_load_u8" | "input_load_u64" => args[0] = length(u)?,
        "input_set" | "output_set" => {
            args[0] = handle(u, 0, &mut mask)?;
            args[1] = length(u)?;
        }
        "config_get" | "var_get" | "log_warn" | "log_info" | "log_debug" | "log_error" | "log_trace" => {
            args[0] = key(generator, u, name.starts_with("log"), &mut mask, 0)?;
        }
        "var_set" => {
            args[0] = key(generator, u, false, &mut mask, 0)?;
            args[1] = if u.ratio(1u8, 6)? { 0 } else { value(generator, u, &mut mask, 1)? };
        }
        "http_request" => {
            let request: &[u8] = u.choose(&[&br#"{"url":"https://example.com/","method":"GET"}"#[..], b"{}", b"not json"])?;
            args[0] = put(generator, request.to_vec(), &mut mask, 0);
            args[1] = 0;
        }
        "put" => {
            let bytes = Content::Any.bytes(u)?;
            let (address, len) = generator.place(bytes);
            (args[0], args[1]) = (u64::from(address), u64::from(len));
        }
        _ => {}
    }
    args[MASK] = mask;
    generator.push(Command::Host { op, args });
    Ok(())
}

/// A key argument: mostly a fresh block holding one of [`KEYS`] (or a log
/// line), sometimes any handle.
fn key(generator: &mut Generator, u: &mut Unstructured<'_>, text: bool, mask: &mut u64, index: usize) -> Result<u64> {
    if u.ratio(1u8, 8)? {
        return Ok(*u.choose(&OFFSETS)?);
    }
    let bytes = if text { Content::Text.bytes(u)? } else { Content::Key(KEYS).bytes(u)? };
    Ok(put(generator, bytes, mask, index))
}

/// A value argument: a fresh block of a few bytes, or of more than `max_var_bytes`.
fn value(generator: &mut Generator, u: &mut Unstructured<'_>, mask: &mut u64, index: usize) -> Result<u64> {
    let bytes = if u.ratio(1u8, 4)? { vec![b'V'; MAX_VAR_BYTES as usize + 64] } else { Content::Any.bytes(u)? };
    Ok(put(generator, bytes, mask, index))
}

/// Pushes the write and `put` that make a block of `bytes` in a register,
/// and returns the argument that refers to it.
fn put(generator: &mut Generator, bytes: Vec<u8>, mask: &mut u64, index: usize) -> u64 {
    let register = SCRATCH_REGISTER - u64::try_from(index).unwrap_or(0);
    let (address, len) = generator.place(bytes);
    let mut args = [0u64; ARGS];
    (args[0], args[1], args[DEST]) = (u64::from(address), u64::from(len), register);
    generator.push(Command::Host { op: PUT, args });
    *mask |= 1 << index;
    register
}
