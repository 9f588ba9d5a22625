//! What the Wasm specification says a memory probe does, computed from the
//! address arithmetic alone, never by asking an engine.
//!
//! A load or store of `width` bytes at base address `base` (an `i32` read as
//! unsigned) with memarg offset `offset` has the effective address
//! `base + offset`, computed without wrapping; it traps iff
//! `base + offset + width > size`. Bulk operations trap iff any range they
//! touch ends past its memory or data segment. `memory.grow` never traps: it
//! returns -1 when the module's maximum, the 4 GiB limit of 32-bit memories or
//! the host's policy refuses the new size.

/// Bytes in one Wasm page.
pub const PAGE: u64 = 65_536;

/// Most pages a 32-bit memory can ever have (4 GiB).
pub const MAX_PAGES_32: u64 = 65_536;

/// One memory instruction the probe generator emits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// A load: index into [`LOADS`].
    Load(usize),
    /// A store: index into [`STORES`].
    Store(usize),
}

/// The loads, by name and width in bytes.
pub const LOADS: [(&str, u64); 14] = [
    ("i32.load", 4),
    ("i64.load", 8),
    ("f32.load", 4),
    ("f64.load", 8),
    ("i32.load8_s", 1),
    ("i32.load8_u", 1),
    ("i32.load16_s", 2),
    ("i32.load16_u", 2),
    ("i64.load8_s", 1),
    ("i64.load8_u", 1),
    ("i64.load16_s", 2),
    ("i64.load16_u", 2),
    ("i64.load32_s", 4),
    ("i64.load32_u", 4),
];

/// The stores, by name and width in bytes.
pub const STORES: [(&str, u64); 9] = [
    ("i32.store", 4),
    ("i64.store", 8),
    ("f32.store", 4),
    ("f64.store", 8),
    ("i32.store8", 1),
    ("i32.store16", 2),
    ("i64.store8", 1),
    ("i64.store16", 2),
    ("i64.store32", 4),
];

impl Access {
    /// Bytes the instruction reads or writes.
    pub fn width(self) -> u64 {
        match self {
            Access::Load(index) => LOADS.get(index).map_or(1, |load| load.1),
            Access::Store(index) => STORES.get(index).map_or(1, |store| store.1),
        }
    }
}

/// One step of a probe, with its operands as constants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// `memory.grow` by `delta` pages (read as unsigned).
    Grow {
        /// Pages to add.
        delta: u32,
    },
    /// A load or store at `base` with memarg `offset` (both u32), storing `value` if a store.
    Access {
        /// Which load or store.
        access: Access,
        /// The address operand.
        base: u32,
        /// The memarg offset.
        offset: u32,
        /// The value a store stores.
        value: u64,
    },
    /// `memory.fill` of `len` bytes at `dst` with `byte`.
    Fill {
        /// Where.
        dst: u32,
        /// With what.
        byte: u8,
        /// How many bytes.
        len: u32,
    },
    /// `memory.copy` of `len` bytes from `src` to `dst`.
    Copy {
        /// Where to.
        dst: u32,
        /// Where from.
        src: u32,
        /// How many bytes.
        len: u32,
    },
    /// `memory.init` of `len` bytes from offset `src` of the passive segment to `dst`.
    Init {
        /// Where to.
        dst: u32,
        /// Offset in the segment.
        src: u32,
        /// How many bytes.
        len: u32,
    },
    /// `data.drop` of the passive segment: its length becomes 0.
    DataDrop,
}

/// The memory a probe runs against, as the module and the host declare it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryModel {
    /// Current size in pages.
    pub pages: u64,
    /// The module's declared maximum in pages, if any.
    pub maximum: Option<u64>,
    /// The host policy's cap on memory, in bytes.
    pub cap_bytes: u64,
    /// Current length of the passive data segment.
    pub segment_len: u64,
}

/// What the specification says one probe must do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expected {
    /// Step `step` traps (out of bounds); nothing after it runs.
    Trap {
        /// The step that traps.
        step: usize,
    },
    /// No step traps; memory ends with `pages` pages.
    Completes {
        /// Pages of memory at the end.
        pages: u64,
    },
}

/// Whether an access of `width` bytes at `base + offset` lies past `size` bytes.
pub fn access_traps(base: u32, offset: u32, width: u64, size: u64) -> bool {
    u64::from(base) + u64::from(offset) + width > size
}

/// Whether a range of `len` bytes at `start` ends past `size` bytes.
pub fn range_traps(start: u32, len: u32, size: u64) -> bool {
    u64::from(start) + u64::from(len) > size
}

impl MemoryModel {
    /// Size in bytes.
    pub fn bytes(&self) -> u64 {
        self.pages * PAGE
    }

    /// `memory.grow`: the new page count if the grow succeeds, applied to the model.
    pub fn grow(&mut self, delta: u32) -> Option<u64> {
        let wanted = self.pages + u64::from(delta);
        let limit = self.maximum.unwrap_or(MAX_PAGES_32).min(MAX_PAGES_32);
        if wanted > limit || wanted * PAGE > self.cap_bytes {
            return None;
        }
        self.pages = wanted;
        Some(wanted)
    }

    /// Whether `step` traps; applies its effect on the size and segment otherwise.
    pub fn step_traps(&mut self, step: &Step) -> bool {
        let size = self.bytes();
        match *step {
            Step::Grow { delta } => {
                self.grow(delta);
                false
            }
            Step::Access { access, base, offset, .. } => access_traps(base, offset, access.width(), size),
            Step::Fill { dst, len, .. } => range_traps(dst, len, size),
            Step::Copy { dst, src, len } => range_traps(dst, len, size) || range_traps(src, len, size),
            Step::Init { dst, src, len } => range_traps(dst, len, size) || range_traps(src, len, self.segment_len),
            Step::DataDrop => {
                self.segment_len = 0;
                false
            }
        }
    }
}

/// Whether a probe asks, before any step traps, for growth past the host's
/// cap (or the 4 GiB of a 32-bit memory): only then may an embedder end the
/// run at its memory limit. Growth past a declared maximum within the cap
/// must return -1.
pub fn asks_for_refused_growth(mut model: MemoryModel, steps: &[Step]) -> bool {
    for step in steps {
        if let Step::Grow { delta } = *step {
            let wanted = model.pages + u64::from(delta);
            if wanted > MAX_PAGES_32 || wanted * PAGE > model.cap_bytes {
                return true;
            }
        }
        if model.step_traps(step) {
            return false;
        }
    }
    false
}

/// Whether a probe's memory asks for at least its declared maximum: starts
/// at it, or grows to it or past it before any step traps.
pub fn asks_for_declared_maximum(mut model: MemoryModel, steps: &[Step]) -> bool {
    let Some(maximum) = model.maximum else { return false };
    if model.pages >= maximum {
        return true;
    }
    for step in steps {
        if let Step::Grow { delta } = *step
            && delta > 0
            && model.pages + u64::from(delta) >= maximum
        {
            return true;
        }
        if model.step_traps(step) {
            return false;
        }
    }
    false
}

/// Runs a probe's steps against the model: the first step that traps, or the final size.
pub fn expect(mut model: MemoryModel, steps: &[Step]) -> Expected {
    for (index, step) in steps.iter().enumerate() {
        if model.step_traps(step) {
            return Expected::Trap { step: index };
        }
    }
    Expected::Completes { pages: model.pages }
}

#[cfg(test)]
mod tests {
    use super::*;

    const I64_LOAD: Access = Access::Load(1);
    const I32_STORE8: Access = Access::Store(4);

    fn model(pages: u64, maximum: Option<u64>) -> MemoryModel {
        MemoryModel { pages, maximum, cap_bytes: 16 << 20, segment_len: 10 }
    }

    fn access(access: Access, base: u32, offset: u32) -> Step {
        Step::Access { access, base, offset, value: 0 }
    }

    fn grow(delta: u32) -> Step {
        Step::Grow { delta }
    }

    #[test]
    fn only_growth_past_the_cap_may_be_refused() {
        assert!(!asks_for_refused_growth(model(1, Some(2)), &[grow(1)]));
        assert!(!asks_for_refused_growth(model(1, Some(2)), &[grow(2)]));
        assert!(asks_for_refused_growth(model(1, Some(300)), &[grow(256)]));
        assert!(asks_for_refused_growth(model(1, None), &[grow(256)]));
        assert!(!asks_for_refused_growth(model(1, None), &[access(I64_LOAD, 1 << 20, 0), grow(300)]));
    }

    #[test]
    fn a_probe_asks_for_its_declared_maximum_at_the_start_or_by_growing_to_it_or_past() {
        assert!(asks_for_declared_maximum(model(2, Some(2)), &[]));
        assert!(asks_for_declared_maximum(model(1, Some(3)), &[grow(1), grow(1)]));
        assert!(asks_for_declared_maximum(model(1, Some(3)), &[grow(1), grow(5)]));
        assert!(!asks_for_declared_maximum(model(1, Some(3)), &[grow(1), grow(0)]));
        assert!(!asks_for_declared_maximum(model(1, None), &[grow(1)]));
        assert!(!asks_for_declared_maximum(model(1, Some(2)), &[access(I64_LOAD, 1 << 20, 0), grow(1)]));
    }

    #[test]
    fn i64_load_fits_at_size_minus_8_and_traps_at_size_minus_7() {
        let size = PAGE as u32;
        assert_eq!(expect(model(1, None), &[access(I64_LOAD, size - 8, 0)]), Expected::Completes { pages: 1 });
        assert_eq!(expect(model(1, None), &[access(I64_LOAD, size - 7, 0)]), Expected::Trap { step: 0 });
        assert_eq!(expect(model(1, None), &[access(I64_LOAD, 0, size - 7)]), Expected::Trap { step: 0 });
    }

    #[test]
    fn a_byte_store_at_size_traps_and_at_size_minus_1_does_not() {
        let size = PAGE as u32;
        assert!(!access_traps(size - 1, 0, I32_STORE8.width(), PAGE));
        assert!(access_traps(size, 0, I32_STORE8.width(), PAGE));
    }

    #[test]
    fn an_offset_that_carries_past_2_pow_32_traps_instead_of_wrapping() {
        // 0xFFFF_FFF8 + 16 wraps to 8 in 32-bit arithmetic, which would be in bounds.
        assert!(access_traps(0xFFFF_FFF8, 16, 1, PAGE));
        assert!(access_traps(u32::MAX, u32::MAX, 8, 4 << 30), "even the largest 32-bit memory");
        // The last byte of a full 4 GiB memory is in bounds; one byte less and it is not.
        assert!(!access_traps(u32::MAX, 0, 1, 4 << 30));
        assert!(access_traps(u32::MAX, 0, 1, (4 << 30) - 1));
    }

    #[test]
    fn grow_respects_the_module_maximum_the_4gib_limit_and_the_policy_cap() {
        let mut memory = model(1, Some(3));
        assert_eq!(memory.grow(2), Some(3));
        assert_eq!(memory.grow(1), None);
        assert_eq!(memory.grow(0), Some(3));
        let mut unbounded = model(1, None);
        assert_eq!(unbounded.grow(255), Some(256));
        assert_eq!(unbounded.grow(1), None, "the policy caps memory at 16 MiB");
        assert_eq!(model(1, None).grow(u32::MAX), None);
    }

    #[test]
    fn a_load_at_the_old_size_traps_before_a_grow_and_not_after() {
        let size = PAGE as u32;
        let before = [access(I64_LOAD, size, 0), Step::Grow { delta: 1 }];
        assert_eq!(expect(model(1, None), &before), Expected::Trap { step: 0 });
        let after = [Step::Grow { delta: 1 }, access(I64_LOAD, size, 0)];
        assert_eq!(expect(model(1, None), &after), Expected::Completes { pages: 2 });
        let refused = [Step::Grow { delta: 1 }, access(I64_LOAD, size, 0)];
        assert_eq!(expect(model(1, Some(1)), &refused), Expected::Trap { step: 1 });
    }

    #[test]
    fn bulk_operations_trap_when_any_range_straddles_the_end() {
        let size = PAGE as u32;
        let probes = [
            (Step::Fill { dst: size - 4, byte: 1, len: 4 }, false),
            (Step::Fill { dst: size - 4, byte: 1, len: 5 }, true),
            (Step::Fill { dst: size, byte: 1, len: 0 }, false),
            (Step::Fill { dst: size + 1, byte: 1, len: 0 }, true),
            (Step::Copy { dst: 0, src: size - 2, len: 3 }, true),
            (Step::Copy { dst: size - 2, src: 0, len: 3 }, true),
            (Step::Copy { dst: size - 3, src: 0, len: 3 }, false),
            (Step::Init { dst: 0, src: 5, len: 5 }, false),
            (Step::Init { dst: 0, src: 5, len: 6 }, true),
            (Step::Init { dst: size - 1, src: 0, len: 2 }, true),
        ];
        for (step, traps) in probes {
            assert_eq!(model(1, None).step_traps(&step), traps, "{step:?}");
        }
        let dropped = [Step::DataDrop, Step::Init { dst: 0, src: 0, len: 1 }];
        assert_eq!(expect(model(1, None), &dropped), Expected::Trap { step: 1 });
        let empty = [Step::DataDrop, Step::Init { dst: 0, src: 0, len: 0 }];
        assert_eq!(expect(model(1, None), &empty), Expected::Completes { pages: 1 });
    }
}
