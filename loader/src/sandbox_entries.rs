//! The cap on what a guest makes in its sandbox: files, folders and links.
//!
//! wasmtime-wasi counts nothing a guest makes, so the loader's wrappers of
//! the WASI calls that make an entry (in `wasi.rs`) ask this budget
//! first. The count starts, at the first such call of an invocation, from
//! what the sandbox already holds (earlier invocations' entries, and the
//! host's), and goes up by one for each call that succeeded. It never goes
//! down: a removal does not give an entry back within the invocation, and a
//! `path_open` with `O_CREAT` counts whether or not the file was new.

use std::path::{Path, PathBuf};

/// The entries one invocation's sandbox may hold, as far as the loader knows.
#[derive(Debug)]
pub struct SandboxEntries {
    /// The sandbox directory, if the invocation has one.
    sandbox: Option<PathBuf>,
    /// The most entries it may hold.
    cap: u64,
    /// What it holds: counted at the first entry made, then kept up.
    held: Option<u64>,
}

impl SandboxEntries {
    /// The budget of a sandbox at `sandbox` holding at most `cap` entries.
    pub fn new(sandbox: Option<&Path>, cap: usize) -> SandboxEntries {
        SandboxEntries { sandbox: sandbox.map(Path::to_path_buf), cap: u64::try_from(cap).unwrap_or(u64::MAX), held: None }
    }

    /// Whether one more entry fits; the first time, the sandbox is counted.
    pub fn admits_one(&mut self) -> bool {
        let cap = self.cap;
        let held = *self.held.get_or_insert_with(|| self.sandbox.as_deref().map_or(0, |sandbox| count(sandbox, cap)));
        held < cap
    }

    /// Counts an entry made.
    pub fn made_one(&mut self) {
        if let Some(held) = self.held.as_mut() {
            *held = held.saturating_add(1);
        }
    }
}

/// The entries under `dir` at any depth, links not followed, counted up to
/// `cap`: a tree that cannot be read whole (a folder made unreadable, a
/// path past `PATH_MAX`) counts as full.
fn count(dir: &Path, cap: u64) -> u64 {
    let mut held = 0u64;
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else { return cap };
        for entry in entries {
            let Ok(entry) = entry else { return cap };
            held += 1;
            if held >= cap {
                return cap;
            }
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => folders.push(entry.path()),
                Ok(_) => {}
                Err(_) => return cap,
            }
        }
    }
    held
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_what_the_sandbox_holds_then_each_entry_made_up_to_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::write(dir.path().join("a/b/file"), b"").unwrap();
        std::os::unix::fs::symlink("/", dir.path().join("root")).unwrap();
        let mut entries = SandboxEntries::new(Some(dir.path()), 6);
        for _ in 0..2 {
            assert!(entries.admits_one());
            entries.made_one();
        }
        assert!(!entries.admits_one(), "4 held, 2 made: the cap of 6");
    }

    #[test]
    fn a_tree_it_cannot_read_whole_counts_as_full() {
        let dir = tempfile::tempdir().unwrap();
        let mut entries = SandboxEntries::new(Some(&dir.path().join("gone")), 100);
        assert!(!entries.admits_one());
        let mut no_sandbox = SandboxEntries::new(None, 1);
        assert!(no_sandbox.admits_one());
        no_sandbox.made_one();
        assert!(!no_sandbox.admits_one());
    }
}
