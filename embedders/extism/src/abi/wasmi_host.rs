//! The five kernel functions generated modules call (through the glue), on
//! wasmi, for the layer-3 differential: written from Extism's documentation
//! of what they mean (a block of `n` bytes, a byte stored at an offset, the
//! output set to a range), not from its kernel. Offsets differ from Extism's
//! allocator; the glue only passes them back, so the response does not.
//!
//! What the kernel's memory costs is followed, though: it shares the
//! plugin's `max_pages` with the plugin's own memory. Before the call the
//! kernel takes one page for its root and the request's block, and each
//! block that does not fit grows it by the pages it lacks (its documented
//! bump allocator: a 12-byte header per block, 64 bytes of root).

use harness::abi::{ReferenceHost, WasmiState};
use wasmi::{Caller, Linker};

use super::ENV;

/// Where this model's blocks start: any offset will do, as long as 0 stays "no block".
const FIRST_BLOCK: u64 = 1 << 16;

/// The kernel's memory as far as the glue uses it.
#[derive(Default)]
struct Kernel {
    bytes: Vec<u8>,
    /// The bump allocator's position and the bytes it may use, as the kernel counts them.
    position: u64,
    length: u64,
}

/// A Wasm page.
const PAGE: u64 = 65_536;
/// The kernel's root, before its blocks.
const ROOT_BYTES: u64 = 64;
/// The header of each block.
const HEADER: u64 = 12;

impl Kernel {
    /// Takes `n` bytes from the bump allocator; returns the memory the kernel grew by.
    fn take(&mut self, n: u64) -> u64 {
        let with_header = n.saturating_add(HEADER);
        let left = self.length.saturating_sub(self.position).saturating_sub(ROOT_BYTES);
        let mut grown = 0;
        if with_header >= left {
            grown = (with_header - left).div_ceil(PAGE) * PAGE;
            self.length = self.length.saturating_add(grown);
        }
        self.position = self.position.saturating_add(with_header);
        grown
    }
}

/// The glue's kernel functions.
pub struct KernelHost;

fn kernel<'a>(caller: &'a mut Caller<'_, WasmiState>) -> Option<&'a mut Kernel> {
    caller.data_mut().host.downcast_mut::<Kernel>()
}

impl ReferenceHost for KernelHost {
    fn define(&self, linker: &mut Linker<WasmiState>) -> Result<(), wasmi::Error> {
        linker.func_wrap(ENV, "input_length", |caller: Caller<'_, WasmiState>| caller.data().request.len() as i64)?;
        linker.func_wrap(ENV, "input_load_u8", |caller: Caller<'_, WasmiState>, offset: i64| {
            let request = &caller.data().request;
            usize::try_from(offset).ok().and_then(|offset| request.get(offset)).map_or(0, |byte| i32::from(*byte))
        })?;
        linker.func_wrap(ENV, "alloc", |mut caller: Caller<'_, WasmiState>, length: i64| {
            let Some(kernel) = kernel(&mut caller) else { return 0 };
            let Ok(length) = usize::try_from(length) else { return 0 };
            if length == 0 || length > 1 << 20 {
                return 0;
            }
            let offset = FIRST_BLOCK + kernel.bytes.len() as u64;
            kernel.bytes.resize(kernel.bytes.len() + length, 0);
            let grown = kernel.take(length as u64);
            caller.data_mut().limits.charge(grown);
            offset as i64
        })?;
        linker.func_wrap(ENV, "store_u8", |mut caller: Caller<'_, WasmiState>, offset: i64, byte: i32| {
            let Some(kernel) = kernel(&mut caller) else { return };
            let index = (offset as u64).checked_sub(FIRST_BLOCK).and_then(|index| usize::try_from(index).ok());
            if let Some(slot) = index.and_then(|index| kernel.bytes.get_mut(index)) {
                *slot = byte as u8;
            }
        })?;
        linker.func_wrap(ENV, "output_set", |mut caller: Caller<'_, WasmiState>, offset: i64, length: i64| {
            let Some(kernel) = kernel(&mut caller) else { return };
            let start = (offset as u64).checked_sub(FIRST_BLOCK).and_then(|start| usize::try_from(start).ok());
            let end = start.and_then(|start| start.checked_add(usize::try_from(length).ok()?));
            let output = start.zip(end).and_then(|(start, end)| kernel.bytes.get(start..end)).map(<[u8]>::to_vec);
            if let Some(output) = output {
                caller.data_mut().response = output;
            }
        })?;
        Ok(())
    }

    fn new_state(&self) -> Box<dyn std::any::Any + Send> {
        Box::new(Kernel::default())
    }

    fn start(&self, state: &mut WasmiState) {
        let request = state.request.len() as u64;
        let Some(kernel) = state.host.downcast_mut::<Kernel>() else { return };
        // The kernel's first page: its root, and what is left for blocks.
        kernel.length = PAGE - ROOT_BYTES;
        let mut grown = PAGE;
        if request > 0 {
            grown += kernel.take(request);
        }
        state.limits.charge(grown);
    }
}
