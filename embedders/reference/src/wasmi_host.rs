//! The loader's `host` functions that generated modules call, on wasmi, for
//! the layer-3 differential: written from the ABI's documentation (bounds,
//! status codes, the alloc protocol, the response cap), sharing no code
//! with the loader.

use harness::abi::{ReferenceHost, WasmiState};
use wasmi::{Caller, Extern, Linker, TrapCode};

/// Status codes of the ABI.
const OK: i32 = 0;
const OUT_OF_BOUNDS: i32 = 1;
const TOO_LARGE: i32 = 3;
const ALLOC_FAILED: i32 = 5;

/// `read_request` and `write_response` with a response cap.
pub struct OakHost {
    /// The policy's `max_response_bytes`.
    pub max_response_bytes: usize,
}

impl ReferenceHost for OakHost {
    fn define(&self, linker: &mut Linker<WasmiState>) -> Result<(), wasmi::Error> {
        linker.func_wrap("host", "read_request", |mut caller: Caller<'_, WasmiState>, ptr_ptr: i32, len_ptr: i32| {
            let request = caller.data().request.clone();
            place_in_guest(&mut caller, &request, ptr_ptr, len_ptr)
        })?;
        let max_response_bytes = self.max_response_bytes;
        linker.func_wrap("host", "write_response", move |mut caller: Caller<'_, WasmiState>, ptr: i32, len: i32| {
            let Some(memory) = memory(&caller) else { return Ok(OUT_OF_BOUNDS) };
            let Some((start, end)) = in_bounds(ptr, len, memory.data_size(&caller)) else { return Ok(OUT_OF_BOUNDS) };
            if end - start > max_response_bytes {
                return Ok(TOO_LARGE);
            }
            let bytes = memory.data(&caller).get(start..end).map(<[u8]>::to_vec).unwrap_or_default();
            caller.data_mut().response = bytes;
            Ok::<i32, wasmi::Error>(OK)
        })?;
        Ok(())
    }
}

fn memory(caller: &Caller<'_, WasmiState>) -> Option<wasmi::Memory> {
    match caller.get_export("memory") {
        Some(Extern::Memory(memory)) => Some(memory),
        _ => None,
    }
}

/// `[ptr, ptr + len)` as host offsets, both read as unsigned 32-bit values
/// and added in 64 bits, if it ends within `size` bytes.
fn in_bounds(ptr: i32, len: i32, size: usize) -> Option<(usize, usize)> {
    let start = u64::from(ptr.cast_unsigned());
    let end = start + u64::from(len.cast_unsigned());
    (end <= size as u64).then_some((start as usize, end as usize))
}

/// The alloc protocol: check the out-slots, call `alloc`, check its range
/// against memory as it is after `alloc`, write data, then ptr, then len.
fn place_in_guest(caller: &mut Caller<'_, WasmiState>, bytes: &[u8], ptr_ptr: i32, len_ptr: i32) -> Result<i32, wasmi::Error> {
    let Some(memory) = memory(caller) else { return Ok(OUT_OF_BOUNDS) };
    let size = memory.data_size(&*caller);
    if in_bounds(ptr_ptr, 4, size).is_none() || in_bounds(len_ptr, 4, size).is_none() {
        return Ok(OUT_OF_BOUNDS);
    }
    let Ok(len) = i32::try_from(bytes.len()) else { return Ok(TOO_LARGE) };
    let Some(Extern::Func(alloc)) = caller.get_export("alloc") else { return Ok(ALLOC_FAILED) };
    let alloc = alloc.typed::<i32, i32>(&*caller)?;
    let ptr = match alloc.call(&mut *caller, len) {
        Ok(ptr) => ptr,
        Err(error) if error.as_trap_code() == Some(TrapCode::OutOfFuel) => return Err(error),
        Err(_) => return Ok(ALLOC_FAILED),
    };
    let Some((start, _)) = in_bounds(ptr, len, memory.data_size(&*caller)) else { return Ok(ALLOC_FAILED) };
    let (ptr_slot, len_slot) = (ptr_ptr.cast_unsigned() as usize, len_ptr.cast_unsigned() as usize);
    let written = memory.write(&mut *caller, start, bytes).is_ok()
        && memory.write(&mut *caller, ptr_slot, &ptr.to_le_bytes()).is_ok()
        && memory.write(&mut *caller, len_slot, &len.to_le_bytes()).is_ok();
    Ok(if written { OK } else { OUT_OF_BOUNDS })
}

#[cfg(test)]
mod tests {
    use super::in_bounds;

    #[test]
    fn ranges_are_checked_without_wrapping() {
        assert_eq!(in_bounds(0, 10, 10), Some((0, 10)));
        assert_eq!(in_bounds(10, 0, 10), Some((10, 10)));
        assert_eq!(in_bounds(5, 6, 10), None);
        assert_eq!(in_bounds(-16, 32, 65536), None);
        assert_eq!(in_bounds(1, -1, 65536), None);
    }
}
