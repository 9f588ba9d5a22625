//! The host's resident memory while a closure runs: how far the process's
//! resident set rose above where it stood before. Linear memories, tables an
//! engine maps rather than allocates, and stacks never show in the heap
//! count ([`crate::alloc`]); they show here once their pages are touched.
//!
//! Linux only: the peak is the kernel's high-water mark (`VmHWM` in
//! `/proc/self/status`), reset before the closure by writing `5` to
//! `/proc/self/clear_refs`. Pages mapped and unmapped within the closure
//! count, as the kernel updates the mark on unmap; pages an engine keeps
//! mapped and returns with `madvise` (a pooling allocator) may not. Where
//! either file cannot be used, [`measure`] reports nothing.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::sync::{Mutex, OnceLock, PoisonError};

/// The two procfs files, opened once per process.
struct Procfs {
    clear_refs: File,
    status: File,
}

/// The files, or `None` where this kernel does not offer them.
fn procfs() -> Option<&'static Mutex<Procfs>> {
    static PROCFS: OnceLock<Option<Mutex<Procfs>>> = OnceLock::new();
    PROCFS
        .get_or_init(|| {
            let clear_refs = File::options().write(true).open("/proc/self/clear_refs").ok()?;
            let status = File::open("/proc/self/status").ok()?;
            let procfs = Procfs { clear_refs, status };
            procfs.read().map(|_| Mutex::new(procfs))
        })
        .as_ref()
}

impl Procfs {
    /// Resets the high-water mark to the current resident set.
    fn reset_peak(&mut self) -> Option<()> {
        self.clear_refs.write_all(b"5").ok()
    }

    /// The resident set and its high-water mark, in bytes.
    fn read(&self) -> Option<Resident> {
        let mut buffer = [0u8; 4096];
        let read = self.status.read_at(&mut buffer, 0).ok()?;
        let text = std::str::from_utf8(buffer.get(..read)?).ok()?;
        let kib = |field: &str| -> Option<u64> {
            let line = text.lines().find(|line| line.starts_with(field))?;
            let value = line.get(field.len()..)?.trim().strip_suffix("kB")?.trim();
            value.parse::<u64>().ok()?.checked_mul(1024)
        };
        Some(Resident { now: kib("VmRSS:")?, peak: kib("VmHWM:")? })
    }
}

/// The resident set at one moment.
#[derive(Clone, Copy, Debug)]
struct Resident {
    now: u64,
    peak: u64,
}

/// Runs `run`, and by how many bytes the process's resident set peaked
/// above where it stood before (`None` where it cannot be measured).
/// Measurements do not nest: one at a time per process.
pub fn measure<T>(run: impl FnOnce() -> T) -> (T, Option<u64>) {
    let Some(procfs) = procfs() else { return (run(), None) };
    let before = {
        let mut procfs = procfs.lock().unwrap_or_else(PoisonError::into_inner);
        procfs.reset_peak().and_then(|()| procfs.read())
    };
    let value = run();
    let after = procfs.lock().unwrap_or_else(PoisonError::into_inner).read();
    let rise = before.zip(after).map(|(before, after)| after.peak.saturating_sub(before.now));
    (value, rise)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_pages_touched_and_freed_within_the_closure() {
        const TOUCHED: usize = 64 << 20;
        let ((), rise) = measure(|| {
            let mut pages = vec![0u8; TOUCHED];
            for page in pages.chunks_mut(4096) {
                page[0] = 1;
            }
            std::hint::black_box(&pages);
        });
        let rise = rise.expect("this kernel offers clear_refs and VmHWM");
        assert!(rise >= (TOUCHED as u64) * 9 / 10, "rose by {rise} bytes");
        let ((), quiet) = measure(|| drop(std::hint::black_box(vec![0u8; 4096])));
        assert!(quiet.expect("measured") < (TOUCHED as u64) / 2, "the mark was not reset: {quiet:?}");
    }
}
