//! The sandbox-use oracle: what a run leaves in its sandbox directory (bytes
//! on disk and entries: files, directories, links) stays within the caps its
//! ABI declares ([`Limits::max_sandbox_bytes`], [`Limits::max_sandbox_entries`]),
//! or within the suite's ceilings where the embedder promises none.
//!
//! Bytes are the blocks the files take on disk, not their lengths: a guest
//! that seeks far and writes one byte leaves a sparse file the host does not
//! hold. A folder the guest made unreadable is counted as one entry.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::abi::Abi;

/// The phase this oracle's time is attributed to.
pub const PHASE: &str = "oracle:sandbox-use";

/// What a sandbox holds, itself not counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SandboxUse {
    /// Bytes its entries take on disk.
    pub bytes: u64,
    /// Files, directories and links in it, at any depth.
    pub entries: u64,
}

/// Measures the tree under `dir` without following links.
pub fn measure(dir: &Path) -> SandboxUse {
    let mut used = SandboxUse::default();
    let mut folders: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else { continue };
        for entry in entries.flatten() {
            let Ok(metadata) = entry.path().symlink_metadata() else { continue };
            used.entries += 1;
            used.bytes = used.bytes.saturating_add(metadata.blocks().saturating_mul(512));
            if metadata.is_dir() {
                folders.push(entry.path());
            }
        }
    }
    used
}

/// Panics with `oracle:` when `dir` holds more than `abi`'s limits let a
/// run leave. Entries past the suite's ceiling that
/// [`crate::abi::KnownDefect::SandboxEntriesUncapped`] explains are passed
/// over: its id comes back.
pub fn check(dir: &Path, abi: &Abi) -> Option<&'static str> {
    let limits = &abi.limits;
    let used = measure(dir);
    let (max_bytes, max_entries) = (limits.sandbox_bytes_or_ceiling(), limits.sandbox_entries_or_ceiling());
    let whose = |declared: Option<u64>| if declared.is_some() { "the declared cap" } else { "the suite's ceiling: no cap promised" };
    assert!(
        used.bytes <= max_bytes,
        "oracle: the sandbox holds {} bytes on disk after the call, past {max_bytes} ({})",
        used.bytes,
        whose(limits.max_sandbox_bytes)
    );
    if used.entries <= max_entries {
        return None;
    }
    let known = abi.sandbox_entries_uncapped().filter(|_| limits.max_sandbox_entries.is_none());
    assert!(
        known.is_some(),
        "oracle: the sandbox holds {} entries after the call, past {max_entries} ({})",
        used.entries,
        whose(limits.max_sandbox_entries)
    );
    known
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::{KnownDefect, SANDBOX_ENTRIES_CEILING};
    use crate::test_abi::abi;

    #[test]
    fn counts_entries_at_every_depth_and_the_blocks_they_take() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::write(dir.path().join("a/b/file"), vec![7u8; 100_000]).unwrap();
        std::os::unix::fs::symlink("/", dir.path().join("root")).unwrap();
        let used = measure(dir.path());
        assert_eq!(used.entries, 4);
        assert!(used.bytes >= 100_000, "{used:?}");
    }

    /// `dir` with `count` empty files in it.
    fn holding(count: u64) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for name in 0..count {
            std::fs::write(dir.path().join(name.to_string()), b"").unwrap();
        }
        dir
    }

    #[test]
    #[should_panic(expected = "oracle: the sandbox holds 3 entries after the call, past 2 (the declared cap)")]
    fn fires_past_the_declared_entries_even_with_the_known_defect_listed() {
        let mut abi = abi(1024);
        abi.limits.max_sandbox_entries = Some(2);
        abi.known_defects.push(KnownDefect::SandboxEntriesUncapped { id: "uncapped" });
        check(holding(3).path(), &abi);
    }

    #[test]
    fn passes_over_entries_past_the_ceiling_that_a_known_defect_explains() {
        let dir = holding(SANDBOX_ENTRIES_CEILING + 1);
        let result = std::panic::catch_unwind(|| check(dir.path(), &abi(1024)));
        assert!(result.is_err(), "the ceiling holds without the known defect");
        let mut abi = abi(1024);
        abi.known_defects.push(KnownDefect::SandboxEntriesUncapped { id: "uncapped" });
        assert_eq!(check(dir.path(), &abi), Some("uncapped"));
        assert_eq!(check(holding(SANDBOX_ENTRIES_CEILING).path(), &abi), None);
    }

    #[test]
    #[should_panic(expected = "oracle: the sandbox holds")]
    fn fires_past_the_ceiling_on_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let abi = abi(1024);
        std::fs::write(dir.path().join("big"), vec![1u8; abi.limits.sandbox_bytes_or_ceiling() as usize + 4096]).unwrap();
        check(dir.path(), &abi);
    }

    #[test]
    fn stays_quiet_within_the_caps() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("small"), b"hello").unwrap();
        assert_eq!(check(dir.path(), &abi(1024)), None);
    }
}
