//! The sandbox each run gets, the canaries around it, and the isolation oracle.
//!
//! One base folder per process holds the canaries (`canary.txt` and
//! `canary_dir/secret.txt`) and the numbered sandbox `run-<n>/` that WASI
//! sees as `/`. Each sandbox holds `file.txt`, `dir/` and symlinks that point
//! out of it: `escape -> ../canary.txt`, `abs_escape -> <base>/canary.txt`,
//! `dir_escape -> ../canary_dir`.
//!
//! Every run starts in a sandbox as made. A run that left its sandbox as it
//! found it hands it to the next run; any other sandbox is removed and the
//! next run gets a fresh one. "As found" compares the inode, mode, size,
//! modification and change times of the sandbox, `dir/` and `file.txt` with
//! a snapshot taken when it was made: adding, removing, renaming or replacing
//! an entry changes a folder's times, writing or truncating the file changes
//! its own, and no guest can set a change time. (On kernels with multigrain
//! time stamps, Linux 6.13 and later on tmpfs, a change right after a
//! snapshot gets a fine-grained change time; on older kernels a change in
//! the same clock tick as the sandbox's making, that also sets the
//! modification time back, would pass unseen.)
//!
//! Canaries get access and modification times far in the past, so that on a
//! `relatime` or `strictatime` file system any read bumps the access time. The
//! oracle compares each canary's metadata (size, inode, access, modification
//! and change times) with a snapshot taken at creation, so reading, changing,
//! replacing or removing one is seen without the oracle reading it.

use std::cell::OnceCell;
use std::fs::{self, File, FileTimes};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
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
    /// The sandbox the last run left as it found it, ready for the next.
    spare: Mutex<Option<Made>>,
}

#[derive(Debug)]
struct Canary {
    path: PathBuf,
    content: Option<Vec<u8>>,
    snapshot: Snapshot,
}

/// What the oracle compares of a canary, and the reuse of a sandbox
/// without its access time.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Snapshot {
    is_dir: bool,
    mode: u32,
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
            mode: meta.mode(),
            len: meta.len(),
            inode: meta.ino(),
            accessed: (meta.atime(), meta.atime_nsec()),
            modified: (meta.mtime(), meta.mtime_nsec()),
            changed: (meta.ctime(), meta.ctime_nsec()),
        })
    }
}

/// A sandbox directory as made, and the snapshot that tells whether a run
/// left it so.
#[derive(Debug, Clone)]
struct Made {
    path: PathBuf,
    snapshot: [Snapshot; 3],
}

impl Made {
    /// The snapshot of the sandbox at `path` (the folder, `dir/`,
    /// `file.txt`), without access times: reading is no change.
    fn snapshot(path: &Path) -> io::Result<[Snapshot; 3]> {
        let unread = |snapshot: Snapshot| Snapshot { accessed: (0, 0), ..snapshot };
        Ok([Snapshot::of(path)?, Snapshot::of(&path.join("dir"))?, Snapshot::of(&path.join("file.txt"))?].map(unread))
    }

    /// Whether the sandbox is as its snapshot saw it.
    fn is_untouched(&self) -> bool {
        Made::snapshot(&self.path).is_ok_and(|now| now == self.snapshot)
    }
}

/// The sandbox directory of one run. Dropped, it goes back to its
/// [`Canaries`] for the next run if the run left it as made, and is
/// removed otherwise.
#[derive(Debug)]
pub struct Sandbox<'a> {
    canaries: &'a Canaries,
    made: Made,
    /// Whether the run left it as made, once asked.
    untouched: OnceCell<bool>,
}

impl Sandbox<'_> {
    /// The directory WASI preopens as `/`.
    pub fn path(&self) -> &Path {
        &self.made.path
    }

    /// Whether the run left the sandbox as made; asked once, after the run.
    pub fn is_untouched(&self) -> bool {
        *self.untouched.get_or_init(|| self.made.is_untouched())
    }
}

impl Drop for Sandbox<'_> {
    /// Keeps an untouched sandbox as the spare, or removes the whole tree,
    /// however deep ([`crate::scratch::remove_tree`]):
    /// symlinks are removed, never followed; what cannot be removed stays in
    /// the base folder.
    fn drop(&mut self) {
        if self.is_untouched()
            && let Ok(mut spare) = self.canaries.spare.lock()
        {
            *spare = Some(self.made.clone());
            return;
        }
        let _ = crate::scratch::remove_tree(&self.made.path);
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
        let _ = crate::scratch::remove_tree(&base);
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
        Ok(Canaries { base, canaries, next_run: AtomicU64::new(0), spare: Mutex::new(None) })
    }

    /// The folder holding the canaries and the sandboxes.
    pub fn base(&self) -> &Path {
        &self.base
    }

    /// The contents of the canary files, which must never leak.
    pub fn contents(&self) -> impl Iterator<Item = &[u8]> {
        self.canaries.iter().filter_map(|canary| canary.content.as_deref())
    }

    /// A sandbox directory as made, with its file, folder and escaping
    /// symlinks: the one the last run left untouched, or a new one.
    pub fn sandbox(&self) -> io::Result<Sandbox<'_>> {
        let spare = self.spare.lock().ok().and_then(|mut spare| spare.take());
        let made = match spare {
            Some(made) => made,
            None => self.make_sandbox()?,
        };
        Ok(Sandbox { canaries: self, made, untouched: OnceCell::new() })
    }

    /// Makes a new numbered sandbox and snapshots it; one that cannot be
    /// made whole is removed.
    fn make_sandbox(&self) -> io::Result<Made> {
        let run = self.next_run.fetch_add(1, Ordering::Relaxed);
        let path = self.base.join(format!("run-{run}"));
        fs::create_dir(&path)?;
        let made = self.fill_sandbox(&path).and_then(|()| Made::snapshot(&path));
        match made {
            Ok(snapshot) => Ok(Made { path, snapshot }),
            Err(error) => {
                let _ = crate::scratch::remove_tree(&path);
                Err(error)
            }
        }
    }

    /// Puts the file, folder and escaping symlinks in the sandbox at `path`.
    fn fill_sandbox(&self, path: &Path) -> io::Result<()> {
        fs::write(path.join("file.txt"), SANDBOX_FILE)?;
        fs::create_dir(path.join("dir"))?;
        std::os::unix::fs::symlink("../canary.txt", path.join("escape"))?;
        std::os::unix::fs::symlink(self.base.join("canary.txt"), path.join("abs_escape"))?;
        std::os::unix::fs::symlink("../canary_dir", path.join("dir_escape"))
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

/// Whether `needle` occurs in `haystack`, by `memchr`'s substring search:
/// no `memcmp` per window, which libFuzzer would hook, and no cost that grows
/// with the needle on a 1 MiB response. An empty needle occurs nowhere.
pub(super) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && memchr::memmem::find(haystack, needle).is_some()
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
    fn an_untouched_sandbox_goes_to_the_next_run_even_after_reads() {
        let (_dir, canaries) = canaries();
        let first = canaries.sandbox().unwrap();
        let path = first.path().to_path_buf();
        assert_eq!(std::fs::read(path.join("file.txt")).unwrap(), SANDBOX_FILE);
        assert_eq!(std::fs::read_dir(path.join("dir")).unwrap().count(), 0);
        drop(first);
        let second = canaries.sandbox().unwrap();
        assert_eq!(second.path(), path);
    }

    /// Each change a run can make to its sandbox: the next run gets a new,
    /// complete sandbox, the changed one is gone, and the canaries stay.
    #[test]
    fn a_changed_sandbox_is_removed_and_the_next_run_gets_a_new_one() {
        type Change = fn(&Path);
        let changes: [(&str, Change); 6] = [
            ("a file in dir/", |path| std::fs::write(path.join("dir/new.txt"), b"inside").unwrap()),
            ("file.txt rewritten at its size", |path| std::fs::write(path.join("file.txt"), b"SANDBOX FILE\n").unwrap()),
            ("a symlink replaced", |path| {
                std::fs::remove_file(path.join("escape")).unwrap();
                std::os::unix::fs::symlink("dir", path.join("escape")).unwrap();
            }),
            ("file.txt made read-only", |path| {
                std::fs::set_permissions(path.join("file.txt"), std::os::unix::fs::PermissionsExt::from_mode(0o400)).unwrap();
            }),
            ("a file added and removed again", |path| {
                std::fs::write(path.join("new.txt"), b"").unwrap();
                std::fs::remove_file(path.join("new.txt")).unwrap();
            }),
            ("dir/ replaced by a symlink", |path| {
                std::fs::remove_dir(path.join("dir")).unwrap();
                std::os::unix::fs::symlink("../canary_dir", path.join("dir")).unwrap();
            }),
        ];
        let (dir, canaries) = canaries();
        for (change, make) in changes {
            let sandbox = canaries.sandbox().unwrap();
            let path = sandbox.path().to_path_buf();
            make(&path);
            drop(sandbox);
            assert!(!path.exists(), "after {change}");
            let next = canaries.sandbox().unwrap();
            assert_ne!(next.path(), path, "after {change}");
            assert_eq!(std::fs::read(next.path().join("file.txt")).unwrap(), SANDBOX_FILE, "after {change}");
            assert_eq!(std::fs::read_link(next.path().join("escape")).unwrap(), Path::new("../canary.txt"), "after {change}");
            assert!(next.path().join("dir").is_dir(), "after {change}");
        }
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
