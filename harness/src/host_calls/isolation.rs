//! The sandbox each run gets, the canaries around it, and the isolation oracle.
//!
//! One base folder per process holds the canaries (`canary.txt` and
//! `canary_dir/secret.txt`) and, per run, a fresh numbered sandbox
//! `run-<n>/` that WASI sees as `/`. Each sandbox holds `file.txt`, `dir/`
//! and symlinks that point out of it: `escape -> ../canary.txt`,
//! `abs_escape -> <base>/canary.txt`, `dir_escape -> ../canary_dir`.
//!
//! Canaries get access and modification times far in the past, so that on a
//! `relatime` or `strictatime` file system any read bumps the access time. The
//! oracle compares each canary's metadata (size, inode, access, modification
//! and change times) with a snapshot taken at creation, so reading, changing,
//! replacing or removing one is seen without the oracle reading it.

use std::fs::{self, File, FileTimes};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use contract::Outcome;

/// Content of the regular file every sandbox starts with.
pub const SANDBOX_FILE: &[u8] = b"sandbox file\n";

/// The canaries next to the sandboxes of one base folder.
#[derive(Debug)]
pub struct Canaries {
    base: PathBuf,
    canaries: Vec<Canary>,
    next_run: AtomicU64,
}

#[derive(Debug)]
struct Canary {
    path: PathBuf,
    content: Option<Vec<u8>>,
    snapshot: Snapshot,
}

/// What the oracle compares of a canary.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Snapshot {
    is_dir: bool,
    len: u64,
    inode: u64,
    accessed: (i64, i64),
    modified: (i64, i64),
    changed: (i64, i64),
}

impl Snapshot {
    fn of(path: &Path) -> io::Result<Snapshot> {
        let meta = fs::symlink_metadata(path)?;
        Ok(Snapshot {
            is_dir: meta.is_dir(),
            len: meta.len(),
            inode: meta.ino(),
            accessed: (meta.atime(), meta.atime_nsec()),
            modified: (meta.mtime(), meta.mtime_nsec()),
            changed: (meta.ctime(), meta.ctime_nsec()),
        })
    }
}

/// A sandbox directory for one run, removed when dropped.
#[derive(Debug)]
pub struct Sandbox {
    path: PathBuf,
}

impl Sandbox {
    /// The directory WASI preopens as `/`.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Sandbox {
    /// Removes the entries [`Canaries::sandbox`] made one by one (a third of
    /// the system calls of a recursive removal); if a run added, replaced or
    /// removed any, the whole tree goes. Symlinks are removed, never
    /// followed; what cannot be removed stays in the base folder.
    fn drop(&mut self) {
        let as_made = ["file.txt", "escape", "abs_escape", "dir_escape"]
            .iter()
            .all(|name| fs::remove_file(self.path.join(name)).is_ok())
            && fs::remove_dir(self.path.join("dir")).is_ok()
            && fs::remove_dir(&self.path).is_ok();
        if !as_made {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

impl Default for Canaries {
    /// Canaries in a fresh folder `host_calls-<pid>-<n>` under `/dev/shm` if
    /// there is one, else under the system temp dir; one set per subject, so
    /// that one embedder's escape never shows in another's runs. (A memory
    /// file system keeps a run's sandbox cheap: removing one from an ext4
    /// mounted with `discard` takes ms.)
    ///
    /// # Panics
    /// If the folder cannot be created: a broken setup, not a finding.
    fn default() -> Self {
        static SETS: AtomicU64 = AtomicU64::new(0);
        let shm = Path::new("/dev/shm");
        let parent = if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() };
        crate::scratch::remove_stale(&parent, BASE_PREFIX);
        let base = parent.join(format!("{}{}", crate::scratch::name_prefix(BASE_PREFIX), SETS.fetch_add(1, Ordering::Relaxed)));
        let _ = fs::remove_dir_all(&base);
        match Canaries::create(&base) {
            Ok(canaries) => canaries,
            Err(error) => panic!("setup: cannot create the canaries in {}: {error}", base.display()),
        }
    }
}

/// The start of the name of a canary set's base folder.
const BASE_PREFIX: &str = "host_calls-";

impl Canaries {
    /// Creates `base` with the canaries in it and snapshots them.
    pub fn create(base: &Path) -> io::Result<Canaries> {
        fs::create_dir_all(base.join("canary_dir"))?;
        let base = base.canonicalize()?;
        let marker = format!("host_calls canary {}", base.display());
        let files = [
            (base.join("canary.txt"), format!("{marker} canary.txt\n").into_bytes()),
            (base.join("canary_dir/secret.txt"), format!("{marker} secret.txt\n").into_bytes()),
        ];
        let long_ago = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        let times = FileTimes::new().set_accessed(long_ago).set_modified(long_ago);
        for (path, content) in &files {
            fs::write(path, content)?;
            File::options().write(true).open(path)?.set_times(times)?;
        }
        File::open(base.join("canary_dir"))?.set_times(times)?;
        let mut canaries = Vec::new();
        for (path, content) in files {
            canaries.push(Canary { snapshot: Snapshot::of(&path)?, path, content: Some(content) });
        }
        let dir = base.join("canary_dir");
        canaries.push(Canary { snapshot: Snapshot::of(&dir)?, path: dir, content: None });
        Ok(Canaries { base, canaries, next_run: AtomicU64::new(0) })
    }

    /// The folder holding the canaries and the sandboxes.
    pub fn base(&self) -> &Path {
        &self.base
    }

    /// The contents of the canary files, which must never leak.
    pub fn contents(&self) -> impl Iterator<Item = &[u8]> {
        self.canaries.iter().filter_map(|canary| canary.content.as_deref())
    }

    /// A fresh sandbox directory with its file, folder and escaping symlinks.
    pub fn sandbox(&self) -> io::Result<Sandbox> {
        let run = self.next_run.fetch_add(1, Ordering::Relaxed);
        let sandbox = Sandbox { path: self.base.join(format!("run-{run}")) };
        fs::create_dir(sandbox.path())?;
        fs::write(sandbox.path().join("file.txt"), SANDBOX_FILE)?;
        fs::create_dir(sandbox.path().join("dir"))?;
        std::os::unix::fs::symlink("../canary.txt", sandbox.path().join("escape"))?;
        std::os::unix::fs::symlink(self.base.join("canary.txt"), sandbox.path().join("abs_escape"))?;
        std::os::unix::fs::symlink("../canary_dir", sandbox.path().join("dir_escape"))?;
        Ok(sandbox)
    }

    /// The oracle: no canary was read, changed or removed, nothing new appeared
    /// next to the sandboxes, and no canary content is in the response, the
    /// logs, stdout or stderr (unless the request itself carries it).
    pub fn check(&self, outcome: &Outcome, request: &[u8]) {
        for canary in &self.canaries {
            match Snapshot::of(&canary.path) {
                Ok(now) => assert!(
                    now == canary.snapshot,
                    "oracle: canary {} was read or changed: {:?} became {now:?}",
                    canary.path.display(),
                    canary.snapshot
                ),
                Err(error) => panic!("oracle: canary {} is gone: {error}", canary.path.display()),
            }
            let Some(content) = &canary.content else { continue };
            if contains(request, content) {
                continue;
            }
            let logs = outcome.logs.iter().map(String::as_bytes);
            let outputs = [("response", outcome.response.as_slice()), ("stdout", &outcome.stdout), ("stderr", &outcome.stderr)]
                .into_iter()
                .chain(logs.map(|line| ("logs", line)));
            for (name, output) in outputs {
                assert!(!contains(output, content), "oracle: the content of canary {} is in the {name}", canary.path.display());
            }
        }
        if let Ok(entries) = fs::read_dir(&self.base) {
            for entry in entries.flatten() {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                let known = name == "canary.txt" || name == "canary_dir" || name.starts_with("run-");
                assert!(known, "oracle: {} appeared next to the sandboxes", entry.path().display());
            }
        }
    }
}

/// Whether `needle` occurs in `haystack`. Slices are compared only where the
/// first byte matches: libFuzzer hooks every `memcmp`, which makes a naive
/// window-by-window search over a 1 MiB response dominate a run. A response
/// without the first byte at all is rejected by one `memchr`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    let Some((first, rest)) = needle.split_first() else { return false };
    haystack.contains(first)
        && haystack
        .iter()
        .enumerate()
        .any(|(index, byte)| byte == first && haystack.get(index + 1..index + 1 + rest.len()) == Some(rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use contract::{End, Stage};

    fn outcome() -> Outcome {
        Outcome::ended(Stage::HostCall, End::Ok)
    }

    fn canaries() -> (tempfile::TempDir, Canaries) {
        let dir = tempfile::tempdir().unwrap();
        let canaries = Canaries::create(dir.path()).unwrap();
        (dir, canaries)
    }

    #[test]
    fn the_isolation_oracle_stays_quiet_on_an_untouched_sandbox() {
        let (_dir, canaries) = canaries();
        let sandbox = canaries.sandbox().unwrap();
        std::fs::write(sandbox.path().join("new.txt"), b"inside").unwrap();
        assert_eq!(std::fs::read_link(sandbox.path().join("escape")).unwrap(), Path::new("../canary.txt"));
        canaries.check(&outcome(), b"");
    }

    #[test]
    fn a_dropped_sandbox_is_gone_whatever_the_run_did_and_the_canaries_stay() {
        let (dir, canaries) = canaries();
        let untouched = canaries.sandbox().unwrap();
        let path = untouched.path().to_path_buf();
        drop(untouched);
        assert!(!path.exists());
        let changed = canaries.sandbox().unwrap();
        let path = changed.path().to_path_buf();
        std::fs::write(path.join("dir/new.txt"), b"inside").unwrap();
        std::fs::remove_dir(path.join("dir")).unwrap_err();
        std::fs::remove_file(path.join("file.txt")).unwrap();
        std::os::unix::fs::symlink("../canary_dir", path.join("file.txt")).unwrap();
        drop(changed);
        assert!(!path.exists());
        assert!(dir.path().join("canary_dir/secret.txt").exists());
        canaries.check(&outcome(), b"");
    }

    #[test]
    #[should_panic(expected = "oracle: the content of canary")]
    fn the_isolation_oracle_fires_on_canary_content_in_a_log() {
        let (_dir, canaries) = canaries();
        let content = String::from_utf8(canaries.contents().next().unwrap().to_vec()).unwrap();
        let mut outcome = outcome();
        outcome.logs.push(format!("leaked: {content}"));
        canaries.check(&outcome, b"");
    }

    #[test]
    fn canary_content_the_request_carries_itself_is_no_leak() {
        let (_dir, canaries) = canaries();
        let content = canaries.contents().last().unwrap().to_vec();
        let mut outcome = outcome();
        outcome.stdout = content.clone();
        canaries.check(&outcome, &content);
    }

    #[test]
    #[should_panic(expected = "was read or changed")]
    fn the_isolation_oracle_fires_on_a_changed_canary() {
        let (dir, canaries) = canaries();
        std::fs::write(dir.path().join("canary_dir/secret.txt"), b"changed").unwrap();
        canaries.check(&outcome(), b"");
    }

    #[test]
    #[should_panic(expected = "was read or changed")]
    fn the_isolation_oracle_fires_on_a_read_canary() {
        let (dir, canaries) = canaries();
        let _ = std::fs::read(dir.path().join("canary.txt")).unwrap();
        canaries.check(&outcome(), b"");
    }

    #[test]
    #[should_panic(expected = "is gone")]
    fn the_isolation_oracle_fires_on_a_removed_canary() {
        let (dir, canaries) = canaries();
        std::fs::remove_file(dir.path().join("canary.txt")).unwrap();
        canaries.check(&outcome(), b"");
    }

    #[test]
    #[should_panic(expected = "appeared next to the sandboxes")]
    fn the_isolation_oracle_fires_on_a_file_created_outside_the_sandbox() {
        let (dir, canaries) = canaries();
        std::fs::write(dir.path().join("escaped.txt"), b"out").unwrap();
        canaries.check(&outcome(), b"");
    }
}
