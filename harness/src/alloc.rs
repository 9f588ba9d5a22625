//! Counting the host heap while an embedder runs a guest: the largest single
//! allocation and the peak of live bytes, whether or not the pages are ever
//! touched. A buffer the host sizes from a guest's length before checking it
//! (`vec![0; len]`) shows here even when its zeroed pages never move the RSS.
//!
//! The fuzz targets and the `harness` binary install [`Counting`] as their
//! global allocator; where it is not installed, [`measure`] reports nothing
//! and the oracle that reads it stays silent.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The system allocator, counting while [`measure`] runs.
pub struct Counting;

/// Whether the global allocator is [`Counting`] (set on its first allocation).
static INSTALLED: AtomicBool = AtomicBool::new(false);
/// Whether [`measure`] is running: outside it, allocations are not counted,
/// so that fuzzing pays for counting only while a guest runs.
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// Bytes allocated minus bytes freed since [`measure`] began (frees of
/// older allocations count too, so this may go below zero: wrapping).
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static LARGEST: AtomicUsize = AtomicUsize::new(0);

impl Counting {
    fn grew(size: usize) {
        if !INSTALLED.load(Ordering::Relaxed) {
            INSTALLED.store(true, Ordering::Relaxed);
        }
        if !ACTIVE.load(Ordering::Relaxed) {
            return;
        }
        let live = LIVE.fetch_add(size, Ordering::Relaxed).wrapping_add(size);
        if live < isize::MAX as usize && live > PEAK.load(Ordering::Relaxed) {
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        if size > LARGEST.load(Ordering::Relaxed) {
            LARGEST.fetch_max(size, Ordering::Relaxed);
        }
    }

    fn shrank(size: usize) {
        if ACTIVE.load(Ordering::Relaxed) {
            LIVE.fetch_sub(size, Ordering::Relaxed);
        }
    }
}

// SAFETY: every call goes to `System` unchanged; the counters are atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Counting::grew(layout.size());
        // SAFETY: the caller's contract for `layout` is passed on to `System`.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Counting::grew(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        Counting::shrank(layout.size());
        // SAFETY: `ptr` came from `System` with this `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        Counting::shrank(layout.size());
        Counting::grew(new_size);
        // SAFETY: as for `dealloc` and `alloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// What the host heap did while a closure ran (all threads count).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Heap {
    /// The largest single allocation, in bytes.
    pub largest: usize,
    /// The peak of bytes allocated and not yet freed meanwhile.
    pub peak: usize,
}

/// Runs `run`, and what the heap did meanwhile if [`Counting`] is the
/// global allocator (`None` otherwise). Measurements do not nest: one at a
/// time per process, which the fuzz targets and replays are.
pub fn measure<T>(run: impl FnOnce() -> T) -> (T, Option<Heap>) {
    LIVE.store(0, Ordering::Relaxed);
    PEAK.store(0, Ordering::Relaxed);
    LARGEST.store(0, Ordering::Relaxed);
    ACTIVE.store(true, Ordering::Relaxed);
    let value = run();
    ACTIVE.store(false, Ordering::Relaxed);
    let heap = Heap { largest: LARGEST.load(Ordering::Relaxed), peak: PEAK.load(Ordering::Relaxed) };
    (value, INSTALLED.load(Ordering::Relaxed).then_some(heap))
}
