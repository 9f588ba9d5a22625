//! The interpreter's linear memory as a model follows it: bytes the
//! commands and the host write are known, bytes a WASI call may write are
//! unknown. A reference model reads it to predict what a host call sees.

use std::ops::Range;

use super::command::ARGS;
use super::wasi::{FUNCTIONS, Param};

/// Iovec entries read before giving up on tracking a call's writes.
const MAX_IOVECS: u64 = 1024;

/// Whether `[ptr, ptr + len)` lies in a memory of `size` bytes (no wrapping).
pub fn in_bounds(ptr: u32, len: u64, size: u64) -> bool {
    u64::from(ptr) + len <= size
}

/// Linear memory as a list of writes over zeros; a write of unknown bytes has no data.
#[derive(Debug)]
pub struct GuestMemory {
    /// Its size in bytes.
    pub size: u64,
    pieces: Vec<Piece>,
}

#[derive(Debug)]
struct Piece {
    range: Range<u64>,
    bytes: Option<Vec<u8>>,
}

impl GuestMemory {
    /// A memory of `size` zero bytes.
    pub fn new(size: u64) -> GuestMemory {
        GuestMemory { size, pieces: Vec::new() }
    }

    /// How many writes it has seen, for [`GuestMemory::touched_since`].
    pub fn writes(&self) -> usize {
        self.pieces.len()
    }

    /// Writes known bytes (the caller checked the bounds).
    pub fn store(&mut self, at: u64, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.pieces.push(Piece { range: at..at + bytes.len() as u64, bytes: Some(bytes.to_vec()) });
        }
    }

    /// Marks `[at, at + len)`, clipped to memory, as unknown.
    pub fn taint(&mut self, at: u32, len: u32) {
        let end = (u64::from(at) + u64::from(len)).min(self.size);
        if u64::from(at) < end {
            self.pieces.push(Piece { range: u64::from(at)..end, bytes: None });
        }
    }

    /// The bytes of `[at, at + len)`, or `None` if any of them is unknown.
    pub fn load(&self, at: u64, len: u64) -> Option<Vec<u8>> {
        let end = at + len;
        let mut bytes = vec![0u8; usize::try_from(len).ok()?];
        let overlaps = |piece: &&Piece| piece.range.start < end && at < piece.range.end;
        if self.pieces.iter().filter(overlaps).all(|piece| piece.bytes.is_some()) {
            for piece in self.pieces.iter().filter(overlaps) {
                let (start, stop) = (piece.range.start.max(at), piece.range.end.min(end));
                let source = (start - piece.range.start) as usize..(stop - piece.range.start) as usize;
                if let Some(data) = &piece.bytes {
                    bytes[(start - at) as usize..(stop - at) as usize].copy_from_slice(&data[source]);
                }
            }
            return Some(bytes);
        }
        let mut known = vec![true; bytes.len()];
        for piece in &self.pieces {
            let (start, stop) = (piece.range.start.max(at), piece.range.end.min(end));
            if start >= stop {
                continue;
            }
            let target = (start - at) as usize..(stop - at) as usize;
            match &piece.bytes {
                Some(data) => {
                    let source = (start - piece.range.start) as usize..(stop - piece.range.start) as usize;
                    bytes[target.clone()].copy_from_slice(&data[source]);
                    known[target].fill(true);
                }
                None => known[target].fill(false),
            }
        }
        known.iter().all(|known| *known).then_some(bytes)
    }

    /// Whether a write since piece `index` touched `range`.
    pub fn touched_since(&self, index: usize, range: Range<u64>) -> bool {
        self.pieces[index..].iter().any(|piece| piece.range.start < range.end && range.start < piece.range.end)
    }

    /// Marks the bytes a WASI call may write as unknown.
    pub fn wasi_writes(&mut self, function: usize, args: &[u64; ARGS]) {
        let Some(function) = FUNCTIONS.get(function) else { return };
        let arg = |index: usize| args.get(index).map_or(0, |value| *value as u32);
        for (index, param) in function.params.iter().enumerate() {
            match param {
                Param::Out(bytes) => self.taint(arg(index), *bytes),
                Param::Buf => self.taint(arg(index), arg(index + 1)),
                Param::Iovs => self.iovec_writes(arg(index), arg(index + 1)),
                Param::Events => self.taint(arg(index), arg(index + 1).saturating_mul(32)),
                _ => {}
            }
        }
    }

    /// Marks the buffers of an iovec array as unknown, as far as the array is
    /// in bounds; all of memory if the array itself is not known.
    fn iovec_writes(&mut self, array: u32, count: u32) {
        let mut buffers = Vec::new();
        for entry in 0..u64::from(count) {
            let at = u64::from(array) + 8 * entry;
            if at + 8 > self.size {
                break;
            }
            match self.load(at, 8).filter(|_| entry < MAX_IOVECS) {
                Some(bytes) => {
                    let word = |range: Range<usize>| bytes.get(range).and_then(|b| b.try_into().ok()).map_or(0, u32::from_le_bytes);
                    buffers.push((word(0..4), word(4..8)));
                }
                None => {
                    self.taint(0, u32::MAX);
                    return;
                }
            }
        }
        for (buffer, len) in buffers {
            self.taint(buffer, len);
        }
    }
}
