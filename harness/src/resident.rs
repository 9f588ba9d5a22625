//! The host's resident memory while a closure runs: how far the process's
//! resident set rose above where it stood before. Linear memories, tables an
//! engine maps rather than allocates, and stacks never show in the heap
//! count ([`crate::alloc`]); they show here once their pages are touched.
//!
//! Linux only: the peak is the kernel's high-water mark, reset before the
//! closure by writing `5` to `/proc/self/clear_refs` and read after it from
//! `getrusage` (`ru_maxrss`); where the set stood before is
//! `/proc/self/statm`'s resident pages. Together they cost about 4 us, where
//! reading `/proc/self/status` costs 11 us or more. `ru_maxrss` is never
//! below the mark the process had before its `execve` (for a child spawned
//! with `vfork`, its parent's), which no reset clears. Where that stale mark
//! stands above the set at the reset, `ru_maxrss` is the peak only if the
//! closure passed it; otherwise the peak is read from `/proc/self/status`
//! (`VmHWM`). Pages mapped and unmapped within the closure count, as the
//! kernel updates the mark on unmap; pages an engine keeps mapped and
//! returns with `madvise` (a pooling allocator) may not. Where a file cannot
//! be used, [`measure`] reports nothing.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::sync::{Mutex, OnceLock, PoisonError};

/// The procfs files, opened once per process, and the page size.
struct Procfs {
    clear_refs: File,
    statm: File,
    status: File,
    page: u64,
}

/// The files, or `None` where this kernel does not offer them.
fn procfs() -> Option<&'static Mutex<Procfs>> {
    static PROCFS: OnceLock<Option<Mutex<Procfs>>> = OnceLock::new();
    PROCFS
        .get_or_init(|| {
            let clear_refs = File::options().write(true).open("/proc/self/clear_refs").ok()?;
            let statm = File::open("/proc/self/statm").ok()?;
            let status = File::open("/proc/self/status").ok()?;
            // SAFETY: sysconf reads a constant of the system; it has no preconditions.
            let page = u64::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).ok()?;
            let mut procfs = Procfs { clear_refs, statm, status, page };
            procfs.reset().map(|_| Mutex::new(procfs))
        })
        .as_ref()
}

/// Where the resident set stood just after the mark was reset, and
/// `ru_maxrss` then.
#[derive(Clone, Copy, Debug)]
struct Baseline {
    now: u64,
    max_resident: u64,
}

impl Procfs {
    /// Resets the high-water mark to the current resident set, and reads
    /// where the set stands.
    fn reset(&mut self) -> Option<Baseline> {
        self.clear_refs.write_all(b"5").ok()?;
        let now = self.resident()?;
        Some(Baseline { now, max_resident: max_resident()? })
    }

    /// The resident set, in bytes: `statm`'s second field, in pages.
    fn resident(&self) -> Option<u64> {
        let mut buffer = [0u8; 128];
        let read = self.statm.read_at(&mut buffer, 0).ok()?;
        let text = std::str::from_utf8(buffer.get(..read)?).ok()?;
        let pages = text.split_ascii_whitespace().nth(1)?.parse::<u64>().ok()?;
        pages.checked_mul(self.page)
    }

    /// The high-water mark since `baseline`'s reset, in bytes: `ru_maxrss`
    /// where it was no more than the set at the reset (no stale mark above
    /// it) or has risen since (past the stale mark), else `VmHWM`.
    fn peak(&self, baseline: Baseline) -> Option<u64> {
        let max_resident = max_resident()?;
        let fresh = baseline.max_resident <= baseline.now;
        if fresh || max_resident > baseline.max_resident { Some(max_resident) } else { self.status_mark() }
    }

    /// The high-water mark as `/proc/self/status` gives it (`VmHWM`).
    fn status_mark(&self) -> Option<u64> {
        let mut buffer = [0u8; 4096];
        let read = self.status.read_at(&mut buffer, 0).ok()?;
        let text = std::str::from_utf8(buffer.get(..read)?).ok()?;
        let line = text.lines().find_map(|line| line.strip_prefix("VmHWM:"))?;
        let kib = line.trim().strip_suffix("kB")?.trim().parse::<u64>().ok()?;
        kib.checked_mul(1024)
    }
}

/// `getrusage`'s `ru_maxrss`, in bytes: the larger of this process's
/// high-water mark and the one it had before `execve`.
fn max_resident() -> Option<u64> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` is a valid, writable `rusage`, which getrusage fills.
    let status = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    if status != 0 {
        return None;
    }
    // SAFETY: getrusage succeeded, so it filled `usage` (zeroed before, besides).
    let kib = unsafe { usage.assume_init() }.ru_maxrss;
    u64::try_from(kib).ok()?.checked_mul(1024)
}

/// Runs `run`, and by how many bytes the process's resident set peaked
/// above where it stood before (`None` where it cannot be measured).
/// Measurements do not nest, and another thread's pages count: one input
/// at a time per process ([`crate::exclusive`]).
pub fn measure<T>(run: impl FnOnce() -> T) -> (T, Option<u64>) {
    let Some(procfs) = procfs() else { return (run(), None) };
    let baseline = procfs.lock().unwrap_or_else(PoisonError::into_inner).reset();
    let value = run();
    let peak = baseline.and_then(|baseline| procfs.lock().unwrap_or_else(PoisonError::into_inner).peak(baseline));
    let rise = baseline.zip(peak).map(|(baseline, peak)| peak.saturating_sub(baseline.now));
    (value, rise)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Touches `bytes` of fresh pages, then frees them.
    fn touch(bytes: usize) {
        let mut pages = vec![0u8; bytes];
        for page in pages.chunks_mut(4096) {
            page[0] = 1;
        }
        std::hint::black_box(&pages);
    }

    const TOUCHED: usize = 64 << 20;

    /// The rise while `touched` bytes are touched and freed, checked to be
    /// at least 90% of them, and then the rise of a quiet closure, checked
    /// to be under half of them.
    fn sees_then_forgets(touched: usize) {
        let ((), rise) = measure(|| touch(touched));
        let rise = rise.expect("this kernel offers clear_refs and statm");
        assert!(rise >= (touched as u64) * 9 / 10, "rose by {rise} bytes for {touched}");
        let ((), quiet) = measure(|| drop(std::hint::black_box(vec![0u8; 4096])));
        assert!(quiet.expect("measured") < (touched as u64) / 2, "the mark was not reset: {quiet:?}");
    }

    #[test]
    fn sees_pages_touched_and_freed_within_the_closure() {
        crate::exclusive::run(|| sees_then_forgets(TOUCHED));
    }

    /// Set in the child [`a_mark_from_before_exec_does_not_count_as_a_rise`]
    /// spawns, which measures instead of spawning.
    const CHILD: &str = "HARNESS_RESIDENT_STALE_MARK_CHILD";

    #[test]
    fn a_mark_from_before_exec_does_not_count_as_a_rise() {
        crate::exclusive::run(checks_a_mark_from_before_exec);
    }

    fn checks_a_mark_from_before_exec() {
        if std::env::var_os(CHILD).is_some() {
            // Quiet, below the parent's mark, and past it.
            let ((), quiet) = measure(|| drop(std::hint::black_box(vec![0u8; 4096])));
            assert!(quiet.expect("measured") < (TOUCHED as u64) / 2, "read the mark from before exec: {quiet:?}");
            sees_then_forgets(TOUCHED);
            sees_then_forgets(4 * TOUCHED);
            return;
        }
        // The child starts with this process's mark, past the set it has.
        let held = vec![1u8; 2 * TOUCHED];
        let child = std::process::Command::new(std::env::current_exe().expect("the test binary"))
            .args(["--exact", "resident::tests::a_mark_from_before_exec_does_not_count_as_a_rise", "--nocapture"])
            .env(CHILD, "1")
            .output()
            .expect("the child ran");
        std::hint::black_box(&held);
        let output = String::from_utf8_lossy(&child.stdout);
        assert!(child.status.success() && output.contains("1 passed"), "{output}{}", String::from_utf8_lossy(&child.stderr));
    }
}
