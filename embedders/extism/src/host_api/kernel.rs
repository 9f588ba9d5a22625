//! A model of Extism's kernel: the wasm32 module with its own memory that
//! holds every block a plugin and its host share, written from the kernel's
//! documentation (its doc comments and the layout they describe), not run.
//!
//! Layout: a root at address 1 (`initialized: u8` at 1, then `u64` fields
//! `position` at 9, `length` at 17, `error` at 25, `input_offset` at 33,
//! `input_length` at 41, `output_offset` at 49, `output_length` at 57); blocks
//! from 65, each a 12-byte header (`status: u8` at +0: 0 unused, 1 active,
//! 2 free; `size: u32` at +4; `used: u32` at +8) and its data. The allocator
//! bumps `position`; when a block would not fit in `length` bytes it first
//! looks for a free block (splitting one with 128 bytes or more to spare),
//! then grows memory. Addresses are 32-bit, the arithmetic on handles 64-bit
//! and wrapping, as a wasm32 build of the kernel does it.

/// The root's address and fields.
const INITIALIZED: u32 = 1;
const POSITION: u32 = 9;
const LENGTH: u32 = 17;
const ERROR: u32 = 25;
const INPUT_OFFSET: u32 = 33;
const INPUT_LENGTH: u32 = 41;
const OUTPUT_OFFSET: u32 = 49;
const OUTPUT_LENGTH: u32 = 57;
/// Bytes of the root.
const ROOT_BYTES: u64 = 64;
/// The first block.
const BLOCKS: u64 = 65;
/// Bytes of a block header.
const HEADER: u64 = 12;
/// Block states.
const UNUSED: u8 = 0;
const ACTIVE: u8 = 1;
const FREE: u8 = 2;
const PAGE: u64 = 65_536;
/// Block-list steps the model walks before it calls a walk endless: a walk
/// that long costs the guest more fuel than a run has.
const MAX_WALK: u64 = 200_000;

/// Why a kernel call did not return.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// An access outside the kernel's memory: a trap.
    Trap,
    /// A growth the host's memory limiter refuses: Extism ends the call with `oom`.
    Oom,
    /// A walk of the block list that does not end (or takes all the fuel).
    Endless,
}

/// The kernel's memory and the host's memory limiter it grows under.
#[derive(Clone, Debug)]
pub struct Kernel {
    memory: Vec<u8>,
    /// Bytes the limiter still lets memories grow by (shared with the plugin's memory).
    pub budget: u64,
}

impl Kernel {
    /// A fresh kernel instance: `pages` pages of zeros (the kernel declares
    /// 16), under a limiter with `budget` bytes of growth left.
    pub fn new(pages: u64, budget: u64) -> Kernel {
        Kernel { memory: vec![0; usize::try_from(pages * PAGE).unwrap_or(0)], budget }
    }

    /// Its memory's size in bytes.
    pub fn size(&self) -> u64 {
        self.memory.len() as u64
    }

    /// The bytes of `[start, start + len)`, if they are in memory.
    pub fn bytes(&self, start: u64, len: u64) -> Option<&[u8]> {
        let start = usize::try_from(start).ok()?;
        let end = start.checked_add(usize::try_from(len).ok()?)?;
        self.memory.get(start..end)
    }

    fn read(&self, address: u32, width: u64) -> Result<u64, Stop> {
        let bytes = self.bytes(u64::from(address), width).ok_or(Stop::Trap)?;
        Ok(bytes.iter().rev().fold(0u64, |value, byte| value << 8 | u64::from(*byte)))
    }

    fn write(&mut self, address: u32, width: u64, value: u64) -> Result<(), Stop> {
        let start = usize::try_from(address).map_err(|_| Stop::Trap)?;
        let end = start.checked_add(usize::try_from(width).map_err(|_| Stop::Trap)?).ok_or(Stop::Trap)?;
        let slot = self.memory.get_mut(start..end).ok_or(Stop::Trap)?;
        for (index, byte) in slot.iter_mut().enumerate() {
            *byte = (value >> (8 * index)) as u8;
        }
        Ok(())
    }

    /// Host-side writes (the input Extism copies in): no trap, the range is checked by the caller.
    pub fn fill(&mut self, start: u64, bytes: &[u8]) {
        let Ok(start) = usize::try_from(start) else { return };
        if let Some(slot) = start.checked_add(bytes.len()).and_then(|end| self.memory.get_mut(start..end)) {
            slot.copy_from_slice(bytes);
        }
    }

    fn root(&self, field: u32) -> Result<u64, Stop> {
        self.read(field, 8)
    }

    fn set_root(&mut self, field: u32, value: u64) -> Result<(), Stop> {
        self.write(field, 8, value)
    }

    /// The root, initialized on first use (or again if its flag was cleared).
    fn init(&mut self) -> Result<(), Stop> {
        if self.read(INITIALIZED, 1)? != 0 {
            return Ok(());
        }
        self.write(INITIALIZED, 1, 1)?;
        for field in [INPUT_OFFSET, INPUT_LENGTH, OUTPUT_OFFSET, OUTPUT_LENGTH, ERROR] {
            self.set_root(field, 0)?;
        }
        self.set_root(LENGTH, PAGE - ROOT_BYTES)?;
        self.set_root(POSITION, 0)?;
        for offset in 0..HEADER {
            self.write((BLOCKS + offset) as u32, 1, u64::from(UNUSED))?;
        }
        Ok(())
    }

    /// Whether `p` is at least the root's size and at most the end of memory.
    fn in_bounds_fast(&self, p: u64) -> bool {
        p >= ROOT_BYTES && p <= self.size()
    }

    /// Whether `p` lies in the allocator's `length` bytes from the first block.
    fn in_bounds(&self, p: u64) -> Result<bool, Stop> {
        let length = self.root(LENGTH)?;
        Ok(p >= BLOCKS && p < BLOCKS.wrapping_add(length))
    }

    fn status(&self, block: u32) -> Result<u8, Stop> {
        Ok(self.read(block, 1)? as u8)
    }

    fn block_size(&self, block: u32) -> Result<u32, Stop> {
        Ok(self.read(block.wrapping_add(4), 4)? as u32)
    }

    fn next(&self, block: u32) -> Result<u32, Stop> {
        Ok(block.wrapping_add(HEADER as u32).wrapping_add(self.block_size(block)?))
    }

    /// `memory.grow` by `pages` under the limiter: the old size in pages, or
    /// `oom` (Extism's limiter refuses growth by failing the call).
    fn grow(&mut self, pages: u32) -> Result<(), Stop> {
        if pages == 0 {
            return Ok(());
        }
        let desired = self.size() + u64::from(pages) * PAGE;
        let grown = desired - self.size();
        if desired >= 1 << 32 || grown > self.budget {
            return Err(Stop::Oom);
        }
        self.budget -= grown;
        self.memory.resize(usize::try_from(desired).map_err(|_| Stop::Oom)?, 0);
        Ok(())
    }

    /// The block whose data starts at `offs`, walking the list.
    fn find_block(&self, offs: u64) -> Result<Option<u32>, Stop> {
        if !self.in_bounds_fast(offs) {
            return Ok(None);
        }
        let mut block = BLOCKS as u32;
        let mut steps = 0;
        while u64::from(block) < BLOCKS.wrapping_add(offs) {
            if self.status(block)? == ACTIVE && u64::from(block.wrapping_add(HEADER as u32)) == offs {
                return Ok(Some(block));
            }
            block = self.next(block)?;
            steps += 1;
            if steps > MAX_WALK {
                return Err(Stop::Endless);
            }
        }
        Ok(None)
    }

    fn find_free_block(&mut self, length: u64, position: u64) -> Result<Option<u32>, Stop> {
        let mut block = BLOCKS as u32;
        let mut steps = 0;
        while u64::from(block) < BLOCKS.wrapping_add(position) {
            let status = self.status(block)?;
            if status == UNUSED {
                return Ok(Some(block));
            }
            let size = self.block_size(block)?;
            let wanted = length as u32;
            if status == FREE && size >= wanted {
                if size - wanted >= 128 {
                    let kept = size.wrapping_sub(wanted.wrapping_add(HEADER as u32));
                    self.write(block.wrapping_add(4), 4, u64::from(kept))?;
                    self.write(block.wrapping_add(8), 4, 0)?;
                    let split = block.wrapping_add(HEADER as u32).wrapping_add(kept);
                    self.write(split.wrapping_add(4), 4, u64::from(wanted))?;
                    self.write(split.wrapping_add(8), 4, 0)?;
                    self.write(split, 1, u64::from(FREE))?;
                    return Ok(Some(split));
                }
                return Ok(Some(block));
            }
            block = self.next(block)?;
            steps += 1;
            if steps > MAX_WALK {
                return Err(Stop::Endless);
            }
        }
        Ok(None)
    }

    /// `alloc(n)`: the handle of a block of `n` bytes, or 0.
    pub fn alloc(&mut self, n: u64) -> Result<u64, Stop> {
        if n == 0 {
            return Ok(0);
        }
        self.init()?;
        let position = self.root(POSITION)?;
        let length = self.root(LENGTH)?;
        let current = BLOCKS.wrapping_add(position);
        let left = length.wrapping_sub(position).wrapping_sub(ROOT_BYTES);
        let with_header = n.wrapping_add(HEADER);
        if with_header >= left {
            if with_header <= position
                && let Some(block) = self.find_free_block(n, position)?
            {
                self.write(block.wrapping_add(8), 4, u64::from(n as u32))?;
                self.write(block, 1, u64::from(ACTIVE))?;
                return Ok(u64::from(block.wrapping_add(HEADER as u32)));
            }
            let needed = with_header - left;
            let pages = needed.div_ceil(PAGE) as u32;
            self.grow(pages)?;
            self.set_root(LENGTH, length.wrapping_add(u64::from(pages) * PAGE))?;
        }
        self.set_root(POSITION, position.wrapping_add(with_header))?;
        let block = current as u32;
        self.write(block, 1, u64::from(ACTIVE))?;
        self.write(block.wrapping_add(4), 4, u64::from(n as u32))?;
        self.write(block.wrapping_add(8), 4, u64::from(n as u32))?;
        Ok(u64::from(block.wrapping_add(HEADER as u32)))
    }

    /// `free(p)`.
    pub fn free(&mut self, p: u64) -> Result<(), Stop> {
        if p == 0 {
            return Ok(());
        }
        self.init()?;
        if let Some(block) = self.find_block(p)? {
            self.write(block, 1, u64::from(FREE))?;
            if p == self.root(INPUT_OFFSET)? {
                self.set_root(INPUT_LENGTH, 0)?;
            }
        }
        Ok(())
    }

    /// `length(p)`: the bytes used of the active block at `p`, or 0.
    pub fn length(&mut self, p: u64) -> Result<u64, Stop> {
        if p == 0 {
            return Ok(0);
        }
        self.init()?;
        match self.find_block(p)? {
            Some(block) => self.read(block.wrapping_add(8), 4),
            None => Ok(0),
        }
    }

    /// `length_unsafe(p)`: the header before `p` read without a walk.
    pub fn length_unsafe(&mut self, p: u64) -> Result<u64, Stop> {
        if p == 0 || !self.in_bounds_fast(p) {
            return Ok(0);
        }
        let block = p.wrapping_sub(HEADER) as u32;
        if self.status(block)? != ACTIVE {
            return Ok(0);
        }
        self.read(block.wrapping_add(8), 4)
    }

    /// `load_u8(p)` and `load_u64(p)`.
    pub fn load(&mut self, p: u64, width: u64) -> Result<u64, Stop> {
        if !self.in_bounds_fast(p.wrapping_add(width - 1)) {
            return Ok(0);
        }
        self.read(p as u32, width)
    }

    /// `store_u8(p, x)` and `store_u64(p, x)`.
    pub fn store(&mut self, p: u64, width: u64, value: u64) -> Result<(), Stop> {
        if !self.in_bounds_fast(p.wrapping_add(width - 1)) {
            return Ok(());
        }
        self.write(p as u32, width, value)
    }

    /// `input_load_u8(offset)` and `input_load_u64(offset)`.
    pub fn input_load(&mut self, offset: u64, width: u64) -> Result<u64, Stop> {
        self.init()?;
        let length = self.root(INPUT_LENGTH)?;
        let outside = if width == 1 { offset >= length } else { offset.wrapping_add(width) > length };
        if outside {
            return Ok(0);
        }
        let input = self.root(INPUT_OFFSET)?;
        self.read(input.wrapping_add(offset) as u32, width)
    }

    /// `input_set(h, len)` (`output == false`) or `output_set(p, len)`.
    pub fn set_range(&mut self, output: bool, p: u64, len: u64) -> Result<(), Stop> {
        self.init()?;
        if !self.in_bounds(p)? || !self.in_bounds(p.wrapping_add(len).wrapping_sub(1))? {
            return Ok(());
        }
        let (offset, length) = if output { (OUTPUT_OFFSET, OUTPUT_LENGTH) } else { (INPUT_OFFSET, INPUT_LENGTH) };
        self.set_root(offset, p)?;
        self.set_root(length, len)
    }

    /// The getters: `input_length`, `input_offset`, `output_length`,
    /// `output_offset`, `error_get`, `memory_bytes`.
    pub fn get(&mut self, name: &str) -> Result<u64, Stop> {
        self.init()?;
        let field = match name {
            "input_length" => INPUT_LENGTH,
            "input_offset" => INPUT_OFFSET,
            "output_length" => OUTPUT_LENGTH,
            "output_offset" => OUTPUT_OFFSET,
            "error_get" => ERROR,
            _ => LENGTH,
        };
        self.root(field)
    }

    /// `reset()`: every block cleared, the position, error, input and output back to 0.
    pub fn reset(&mut self) -> Result<(), Stop> {
        self.init()?;
        let position = self.root(POSITION)?;
        self.set_root(POSITION, 0)?;
        self.memset(BLOCKS as u32, UNUSED, position as u32)?;
        for field in [ERROR, INPUT_OFFSET, INPUT_LENGTH, OUTPUT_OFFSET, OUTPUT_LENGTH] {
            self.set_root(field, 0)?;
        }
        Ok(())
    }

    /// The kernel's `memset(dest, value, n)` as compiled to Wasm, whose
    /// 32-bit address arithmetic wraps: bytes up to a 4-byte boundary, then
    /// words while the word count is positive as an `i32`, then the last
    /// bytes after the words' (wrapped) end, each loop running while its
    /// address is below its (wrapped) end. So a huge `n` (a position that
    /// wrapped below zero) writes a few bytes and does not trap.
    fn memset(&mut self, dest: u32, value: u8, n: u32) -> Result<(), Stop> {
        let value = u64::from(value);
        let (mut tail_start, tail) = (dest, n);
        let tail = if n >= 16 {
            let align = dest.wrapping_neg() & 3;
            let words_start = dest.wrapping_add(align);
            self.write_bytes(dest, words_start, value)?;
            let rest = n.wrapping_sub(align);
            let words = rest & !3;
            tail_start = words_start.wrapping_add(words);
            if words as i32 >= 1 {
                let end = u64::from(words_start) + u64::from(words);
                if end > self.size() {
                    return Err(Stop::Trap);
                }
                self.write_bytes(words_start, tail_start, value)?;
            }
            rest & 3
        } else {
            tail
        };
        if tail != 0 {
            // A do-while loop: the first byte is written even if the end wrapped.
            self.write(tail_start, 1, value)?;
            self.write_bytes(tail_start.wrapping_add(1), tail_start.wrapping_add(tail), value)?;
        }
        Ok(())
    }

    /// Writes `value` to every byte from `start` while below `end`.
    fn write_bytes(&mut self, start: u32, end: u32, value: u64) -> Result<(), Stop> {
        for address in start..end {
            self.write(address, 1, value)?;
        }
        Ok(())
    }

    /// `error_set(h)`.
    pub fn error_set(&mut self, h: u64) -> Result<(), Stop> {
        self.init()?;
        if h != 0 && !self.in_bounds(h)? {
            return Ok(());
        }
        self.set_root(ERROR, h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kernel() -> Kernel {
        Kernel::new(16, 16 << 20)
    }

    #[test]
    fn the_first_block_is_at_77_and_blocks_follow_each_other() {
        let mut kernel = kernel();
        assert_eq!(kernel.alloc(5), Ok(77));
        assert_eq!(kernel.alloc(3), Ok(77 + 5 + 12));
        assert_eq!(kernel.length(77), Ok(5));
        assert_eq!(kernel.length(78), Ok(0));
        assert_eq!(kernel.length_unsafe(94), Ok(3));
        assert_eq!(kernel.alloc(0), Ok(0));
    }

    #[test]
    fn a_freed_block_is_reused_once_the_first_page_is_full_and_split_when_large() {
        let mut kernel = kernel();
        let big = kernel.alloc(1000).unwrap();
        let _rest = kernel.alloc(65_536 - 64 - 1012 - 100).unwrap();
        kernel.free(big).unwrap();
        assert_eq!(kernel.length(big), Ok(0));
        // Does not fit in what is left of the first page: the freed block is split.
        let reused = kernel.alloc(200).unwrap();
        assert_eq!(reused, big + 1000 - 200);
        assert_eq!(kernel.length(reused), Ok(200));
    }

    #[test]
    fn growth_past_the_budget_is_oom_and_loads_at_the_end_of_memory_trap() {
        let mut kernel = Kernel::new(16, 2 * PAGE);
        assert_eq!(kernel.alloc(3 * PAGE), Err(Stop::Oom));
        let end = kernel.size();
        assert_eq!(kernel.load(end + 1, 1), Ok(0));
        assert_eq!(kernel.load(end, 1), Err(Stop::Trap));
        assert_eq!(kernel.load(u64::MAX, 8), Ok(0));
    }

    #[test]
    fn output_ranges_are_checked_with_wrapping_arithmetic() {
        let mut kernel = kernel();
        let block = kernel.alloc(10).unwrap();
        kernel.set_range(true, block, 10).unwrap();
        assert_eq!((kernel.get("output_offset"), kernel.get("output_length")), (Ok(block), Ok(10)));
        kernel.set_range(true, block, 0).unwrap();
        assert_eq!(kernel.get("output_length"), Ok(0));
        // An end that wraps past 2^64 lands back in bounds: accepted.
        kernel.set_range(true, 1000, u64::MAX - 499).unwrap();
        assert_eq!(kernel.get("output_length"), Ok(u64::MAX - 499));
    }
}
