//! The `host` ABI: `read_request`, `write_response`, `log` and `storage_get`,
//! and the guest `alloc` protocol they share.
//!
//! Every guest pointer and length is checked, with checked arithmetic, against
//! the current memory size before any slice is taken or any host buffer is
//! sized. Order of checks, which the status codes follow: first every range is
//! in bounds (else `OutOfBounds`), then policy caps (`TooLarge`), then content
//! (`BadUtf8`, `NotFound`). A host call the policy does not allow any more ends
//! the invocation with `LimitExceeded(HostCalls)`.
//!
//! The alloc protocol (`read_request`, `storage_get`): the host checks that the
//! two 4-byte out-slots are in bounds, calls the guest's `alloc(len)`, checks
//! that `[ptr, ptr + len)` is in bounds of the memory as it is after `alloc`,
//! then writes the data, then `ptr` (u32 LE) at `ptr_ptr`, then `len` at
//! `len_ptr`, in that order. An `alloc` that traps or returns a bad range gives
//! `AllocFailed`; one that runs out of fuel or time ends the invocation.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use wasmtime::{Caller, Extern, Linker, Memory, Trap};
use wasmtime_wasi::p1::WasiP1Ctx;

use contract::HostCall;

use crate::limiter::Limiter;
use crate::sandbox_entries::SandboxEntries;
use crate::status::Status;

/// The read-only lookup store a guest reads with `storage_get`.
pub type Storage = HashMap<Vec<u8>, Vec<u8>>;

/// Caps the host functions enforce, copied from the policy.
#[derive(Clone, Copy, Debug)]
pub struct HostCaps {
    /// Largest response, in bytes.
    pub max_response_bytes: usize,
    /// Largest total of log bytes.
    pub max_log_bytes: usize,
    /// Most `host` calls per invocation.
    pub max_host_calls: u32,
}

/// Everything one store holds: the request, what the guest produced, and limits.
pub struct HostState {
    /// The request body `read_request` hands out.
    pub request: Vec<u8>,
    /// The lookup store `storage_get` reads.
    pub storage: Arc<Storage>,
    /// The last response written.
    pub response: Vec<u8>,
    /// Log lines written.
    pub logs: Vec<String>,
    /// Total bytes of `logs`.
    pub log_bytes: usize,
    /// Every `host` call made.
    pub host_calls: Vec<HostCall>,
    /// Caps enforced by the host functions.
    pub caps: HostCaps,
    /// The store's resource limiter.
    pub limiter: Limiter,
    /// WASI preview1 state.
    pub wasi: WasiP1Ctx,
    /// What the guest may still make in its sandbox.
    pub sandbox_entries: SandboxEntries,
}

/// The error that ends an invocation from inside a host call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostAbort {
    /// More `host` calls than the policy allows.
    TooManyHostCalls,
    /// The caller has no exported memory or `alloc` (impossible after the ABI check).
    MissingExport(&'static str),
}

impl std::fmt::Display for HostAbort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HostAbort::TooManyHostCalls => f.write_str("too many host calls"),
            HostAbort::MissingExport(name) => write!(f, "guest has no export {name}"),
        }
    }
}

impl std::error::Error for HostAbort {}

/// Defines the four `host` functions in `linker`.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap("host", "read_request", |mut caller: Caller<'_, HostState>, ptr_ptr: i32, len_ptr: i32| {
        host_call(&mut caller, "read_request", |caller| {
            let request = caller.data().request.clone();
            place_in_guest(caller, &request, ptr_ptr, len_ptr)
        })
    })?;
    linker.func_wrap("host", "write_response", |mut caller: Caller<'_, HostState>, ptr: i32, len: i32| {
        host_call(&mut caller, "write_response", |caller| {
            let Some(range) = guest_range(caller, ptr, len)? else { return Ok(Status::OutOfBounds) };
            if range.len() > caller.data().caps.max_response_bytes {
                return Ok(Status::TooLarge);
            }
            let bytes = read_guest(caller, range)?;
            caller.data_mut().response = bytes;
            Ok(Status::Ok)
        })
    })?;
    linker.func_wrap("host", "log", |mut caller: Caller<'_, HostState>, ptr: i32, len: i32| {
        host_call(&mut caller, "log", |caller| {
            let Some(range) = guest_range(caller, ptr, len)? else { return Ok(Status::OutOfBounds) };
            let state = caller.data();
            let total = state.log_bytes.checked_add(range.len());
            if total.is_none_or(|total| total > state.caps.max_log_bytes) {
                return Ok(Status::TooLarge);
            }
            let Ok(line) = String::from_utf8(read_guest(caller, range)?) else { return Ok(Status::BadUtf8) };
            let state = caller.data_mut();
            state.log_bytes += line.len();
            state.logs.push(line);
            Ok(Status::Ok)
        })
    })?;
    linker.func_wrap(
        "host",
        "storage_get",
        |mut caller: Caller<'_, HostState>, key_ptr: i32, key_len: i32, value_ptr_ptr: i32, value_len_ptr: i32| {
            host_call(&mut caller, "storage_get", |caller| {
                let Some(range) = guest_range(caller, key_ptr, key_len)? else { return Ok(Status::OutOfBounds) };
                if !slots_in_bounds(caller, value_ptr_ptr, value_len_ptr)? {
                    return Ok(Status::OutOfBounds);
                }
                // Looked up where it lies in guest memory: a copy would be a host
                // buffer as large as the guest's memory, which no cap bounds.
                let memory = memory(caller)?;
                let (data, state) = memory.data_and_store_mut(&mut *caller);
                let key = data.get(range).ok_or_else(|| wasmtime::format_err!("guest range checked in bounds is out of bounds"))?;
                let Some(value) = state.storage.get(key).cloned() else { return Ok(Status::NotFound) };
                place_in_guest(caller, &value, value_ptr_ptr, value_len_ptr)
            })
        },
    )?;
    Ok(())
}

/// Counts and records one host call around its body.
fn host_call(
    caller: &mut Caller<'_, HostState>,
    function: &'static str,
    body: impl FnOnce(&mut Caller<'_, HostState>) -> wasmtime::Result<Status>,
) -> wasmtime::Result<i32> {
    let state = caller.data_mut();
    let made = u32::try_from(state.host_calls.len()).unwrap_or(u32::MAX);
    if made >= state.caps.max_host_calls {
        return Err(wasmtime::Error::new(HostAbort::TooManyHostCalls));
    }
    state.host_calls.push(HostCall { function, result: None });
    let index = state.host_calls.len() - 1;
    let status = body(caller)?;
    if let Some(call) = caller.data_mut().host_calls.get_mut(index) {
        call.result = Some(i64::from(status.code()));
    }
    Ok(status.code())
}

fn memory(caller: &mut Caller<'_, HostState>) -> wasmtime::Result<Memory> {
    match caller.get_export("memory") {
        Some(Extern::Memory(memory)) => Ok(memory),
        _ => Err(wasmtime::Error::new(HostAbort::MissingExport("memory"))),
    }
}

/// `[ptr, ptr + len)` as host indices, if it lies inside the guest's memory.
/// Both are read as unsigned 32-bit values; the sum is computed without wrapping.
pub(crate) fn checked_range(ptr: i32, len: i32, memory_len: usize) -> Option<Range<usize>> {
    let start = usize::try_from(ptr.cast_unsigned()).ok()?;
    let end = start.checked_add(usize::try_from(len.cast_unsigned()).ok()?)?;
    (end <= memory_len).then_some(start..end)
}

fn guest_range(caller: &mut Caller<'_, HostState>, ptr: i32, len: i32) -> wasmtime::Result<Option<Range<usize>>> {
    let memory_len = memory(caller)?.data_size(&*caller);
    Ok(checked_range(ptr, len, memory_len))
}

fn slots_in_bounds(caller: &mut Caller<'_, HostState>, ptr_ptr: i32, len_ptr: i32) -> wasmtime::Result<bool> {
    Ok(guest_range(caller, ptr_ptr, 4)?.is_some() && guest_range(caller, len_ptr, 4)?.is_some())
}

/// Copies an in-bounds range out of guest memory.
fn read_guest(caller: &mut Caller<'_, HostState>, range: Range<usize>) -> wasmtime::Result<Vec<u8>> {
    let memory = memory(caller)?;
    let bytes = memory.data(&*caller).get(range).map(<[u8]>::to_vec);
    bytes.ok_or_else(|| wasmtime::format_err!("guest range checked in bounds is out of bounds"))
}

/// Writes at a guest address; `false` if it does not fit.
fn write_guest(caller: &mut Caller<'_, HostState>, address: usize, bytes: &[u8]) -> wasmtime::Result<bool> {
    let memory = memory(caller)?;
    Ok(memory.write(&mut *caller, address, bytes).is_ok())
}

/// The alloc protocol: asks the guest for a buffer, copies `bytes` there and
/// writes its pointer and length to the two out-slots.
fn place_in_guest(caller: &mut Caller<'_, HostState>, bytes: &[u8], ptr_ptr: i32, len_ptr: i32) -> wasmtime::Result<Status> {
    if !slots_in_bounds(caller, ptr_ptr, len_ptr)? {
        return Ok(Status::OutOfBounds);
    }
    let Ok(len) = i32::try_from(bytes.len()) else { return Ok(Status::TooLarge) };
    let alloc = match caller.get_export("alloc") {
        Some(Extern::Func(func)) => func.typed::<i32, i32>(&*caller)?,
        _ => return Err(wasmtime::Error::new(HostAbort::MissingExport("alloc"))),
    };
    let ptr = match alloc.call(&mut *caller, len) {
        Ok(ptr) => ptr,
        Err(error) if ends_invocation(&error) => return Err(error),
        Err(_) => return Ok(Status::AllocFailed),
    };
    let Some(range) = guest_range(caller, ptr, len)? else { return Ok(Status::AllocFailed) };
    // The slots were in bounds before `alloc`, and memory never shrinks.
    let (ptr_slot, len_slot) = (ptr_ptr.cast_unsigned() as usize, len_ptr.cast_unsigned() as usize);
    let written = write_guest(caller, range.start, bytes)?
        && write_guest(caller, ptr_slot, &ptr.to_le_bytes())?
        && write_guest(caller, len_slot, &len.to_le_bytes())?;
    Ok(if written { Status::Ok } else { Status::OutOfBounds })
}

/// Whether an error from a nested guest call must end the whole invocation
/// (the guest is out of fuel or time, or a host cap was hit) rather than be
/// reported to the guest as a status.
fn ends_invocation(error: &wasmtime::Error) -> bool {
    matches!(error.downcast_ref::<Trap>(), Some(Trap::OutOfFuel | Trap::Interrupt)) || error.downcast_ref::<HostAbort>().is_some()
}

#[cfg(test)]
mod tests {
    use super::checked_range;

    #[test]
    fn checked_range_accepts_in_bounds_and_empty_ranges() {
        assert_eq!(checked_range(0, 10, 10), Some(0..10));
        assert_eq!(checked_range(10, 0, 10), Some(10..10));
        assert_eq!(checked_range(0, 0, 0), Some(0..0));
    }

    #[test]
    fn checked_range_refuses_out_of_bounds_and_wrapping_ranges() {
        assert_eq!(checked_range(5, 6, 10), None);
        assert_eq!(checked_range(11, 0, 10), None);
        // ptr + len wraps past 2^32 in 32-bit arithmetic.
        assert_eq!(checked_range(-16, 32, 65536), None);
        assert_eq!(checked_range(1, -1, 65536), None);
        assert_eq!(checked_range(-1, -1, usize::MAX), Some(0xFFFF_FFFF..0x1_FFFF_FFFE));
    }
}
