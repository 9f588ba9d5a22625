//! A command list in the request encoding, and back.

use super::api::HostApi;
use super::command::{ARGS, Command, GROW_OP, RECORD_BYTES, WASI_OP, WRITE_OP};
use super::wasi;

/// The request: each command's record, followed by its payload for a write.
pub fn encode(commands: &[Command]) -> Vec<u8> {
    let mut request = Vec::with_capacity(commands.len() * RECORD_BYTES);
    for command in commands {
        let (op, args, payload) = command.record();
        request.extend_from_slice(&op.to_le_bytes());
        for arg in args {
            request.extend_from_slice(&arg.to_le_bytes());
        }
        request.extend_from_slice(payload);
    }
    request
}

/// The command list a request encodes, the inverse of [`encode`]. Anything
/// the generator cannot make (an op the ABI lacks, a truncated record or
/// payload, an argument out of its range, an unused argument that is not 0)
/// is an error naming the record.
pub fn decode(request: &[u8], api: &dyn HostApi) -> Result<Vec<Command>, String> {
    let mut commands = Vec::new();
    let mut at = 0;
    while let Some(rest) = request.get(at..).filter(|rest| !rest.is_empty()) {
        let (command, used) = decode_one(rest, api).map_err(|error| format!("command #{} at byte {at}: {error}", commands.len()))?;
        commands.push(command);
        at += used;
    }
    Ok(commands)
}

/// Decodes the command at the start of `bytes`: the command and the bytes it takes.
fn decode_one(bytes: &[u8], api: &dyn HostApi) -> Result<(Command, usize), String> {
    let header = bytes.get(..RECORD_BYTES).ok_or_else(|| format!("{} bytes left, but a record takes {RECORD_BYTES}", bytes.len()))?;
    let (op, rest) = header.split_at(4);
    let op = u32::from_le_bytes(op.try_into().map_err(|_| "short op")?);
    let mut args = [0u64; ARGS];
    for (arg, chunk) in args.iter_mut().zip(rest.chunks_exact(8)) {
        *arg = u64::from_le_bytes(chunk.try_into().map_err(|_| "short argument")?);
    }
    let (used, narrow) = match op {
        WRITE_OP | GROW_OP => (if op == WRITE_OP { 2 } else { 1 }, true),
        _ if wasi_function(op, api).is_some() => (ARGS, false),
        _ => match api.op(op) {
            Some(host_op) => (host_op.args, host_op.narrow),
            None => return Err(format!("unknown op {op}")),
        },
    };
    for (index, arg) in args.iter().enumerate() {
        if index >= used && *arg != 0 {
            return Err(format!("op {op} has arguments the generator never writes (unused ones must be 0)"));
        }
        if narrow && u32::try_from(*arg).is_err() {
            return Err(format!("argument {index} of op {op} is past u32"));
        }
    }
    let narrowed = |index: usize| u32::try_from(args[index]).unwrap_or(u32::MAX);
    let command = match op {
        WRITE_OP => {
            let len = usize::try_from(args[1]).map_err(|error| error.to_string())?;
            let payload = bytes
                .get(RECORD_BYTES..)
                .and_then(|after| after.get(..len))
                .ok_or_else(|| format!("a write of {len} bytes, but {} follow", bytes.len() - RECORD_BYTES))?;
            Command::Write { address: narrowed(0), bytes: payload.to_vec() }
        }
        GROW_OP => Command::Grow { pages: narrowed(0) },
        _ => match wasi_function(op, api) {
            Some(function) => Command::Wasi { function, args },
            None => {
                api.validate(op, &args)?;
                Command::Host { op, args }
            }
        },
    };
    let payload = if let Command::Write { bytes, .. } = &command { bytes.len() } else { 0 };
    Ok((command, RECORD_BYTES + payload))
}

/// The WASI function of `op`, if the ABI's interpreter calls WASI and `op` is one.
fn wasi_function(op: u32, api: &dyn HostApi) -> Option<usize> {
    let index = usize::try_from(op.checked_sub(WASI_OP)?).ok()?;
    (api.wasi() && index < wasi::FUNCTIONS.len()).then_some(index)
}
