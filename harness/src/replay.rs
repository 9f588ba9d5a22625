//! Replaying inputs in-process, as `harness repro` and the regression tests
//! do: each input runs on its own thread, panics are caught so the rest still
//! run, and an input that runs past a wall-clock limit is reported as a hang.

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Once};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::forms::InputKind;
use crate::report::Report;
use crate::targets::Target;

/// How replaying one input ended.
#[derive(Debug)]
pub enum Verdict {
    /// The layer returned a report: no finding.
    Ran(Box<Report>),
    /// The layer panicked (an `oracle:` message is a panic too).
    Crashed {
        /// The panic message.
        message: String,
        /// `file:line:column` of the panic, if known.
        location: Option<String>,
    },
    /// The layer was still running when the limit passed.
    Hung(Duration),
    /// The process's resident memory went past the limit, in MB, while the input ran.
    OutOfMemory(u64),
}

impl Verdict {
    /// Whether this is a finding (crash or hang).
    pub fn is_finding(&self) -> bool {
        !matches!(self, Verdict::Ran(_))
    }

    /// One line for people.
    pub fn summary(&self) -> String {
        match self {
            Verdict::Ran(report) => report.summary(),
            Verdict::Crashed { message, location } => {
                let first_line = message.lines().next().unwrap_or_default();
                match location {
                    Some(location) => format!("CRASH        {first_line} (at {location})"),
                    None => format!("CRASH        {first_line}"),
                }
            }
            Verdict::Hung(limit) => format!("HANG         still running after {}s", limit.as_secs_f64()),
            Verdict::OutOfMemory(limit) => format!("OOM          resident memory past {limit} MB"),
        }
    }
}

/// The contents of the files [`collect_inputs`] finds under `paths`.
pub fn read_inputs(paths: &[PathBuf]) -> Result<Vec<Vec<u8>>> {
    collect_inputs(paths)?.iter().map(|path| std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))).collect()
}

/// The files named by `paths`: files as given, folders expanded to the files
/// they hold (not recursively, hidden files skipped), each folder sorted.
pub fn collect_inputs(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut inputs = Vec::new();
    for path in paths {
        let metadata = std::fs::metadata(path).with_context(|| format!("{}", path.display()))?;
        if metadata.is_file() {
            inputs.push(path.clone());
            continue;
        }
        let entries = std::fs::read_dir(path).with_context(|| format!("{}", path.display()))?;
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry.with_context(|| format!("{}", path.display()))?;
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            if !hidden && entry.file_type().is_ok_and(|kind| kind.is_file()) {
                files.push(entry.path());
            }
        }
        files.sort();
        inputs.extend(files);
    }
    Ok(inputs)
}

/// The limits an input runs under, in a replay and in libFuzzer (`-timeout`,
/// `-rss_limit_mb`): past them it is a hang or an oom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time per input; past it the input is a hang.
    pub time: Duration,
    /// Resident memory of the whole process, in MB; past it the input is an oom.
    pub rss_mb: u64,
}

impl Default for Limits {
    /// 10 s per input: far past any guest deadline of the fuzzing policy, so
    /// only an embedder whose own limits failed reaches it. 2048 MB: well under
    /// the machine's memory, well over what a guest may hold (16 MiB).
    fn default() -> Self {
        Limits { time: Duration::from_secs(10), rss_mb: 2048 }
    }
}

impl Limits {
    /// The time limit in whole seconds, rounded up and at least 1, as libFuzzer takes it.
    pub fn timeout_secs(&self) -> u64 {
        self.time.as_secs_f64().ceil().max(1.0) as u64
    }
}

/// Runs one input through `layer` on its own thread, within time and memory limits.
///
/// A hung or memory-hungry input keeps its thread: the process should report
/// it and, after an oom, stop replaying. It is [`abandon`](crate::exclusive::abandon)ed,
/// so that inputs after it are not kept waiting for it. Once the input has panicked, the
/// time limit no longer applies: printing the panic (a backtrace of a large
/// debug binary takes seconds to symbolize) is not the input hanging.
pub fn replay_within(layer: impl FnOnce(&[u8]) -> Report + Send + 'static, data: Vec<u8>, limits: Limits) -> Verdict {
    install_panic_hook();
    let panicked = Arc::new(AtomicBool::new(false));
    let panicked_on_thread = Arc::clone(&panicked);
    let (sender, receiver) = mpsc::channel();
    let spawned = std::thread::Builder::new().name("replay".to_owned()).stack_size(16 << 20).spawn(move || {
        PANICKED.with(|slot| *slot.borrow_mut() = Some(panicked_on_thread));
        let result = panic::catch_unwind(AssertUnwindSafe(|| layer(&data)));
        let verdict = match result {
            Ok(report) => Verdict::Ran(Box::new(report)),
            Err(payload) => Verdict::Crashed {
                message: panic_message(payload.as_ref()),
                location: LAST_PANIC_LOCATION.with(|location| location.borrow_mut().take()),
            },
        };
        // The receiver is gone only if the input was declared hung.
        let _ = sender.send(verdict);
    });
    let thread = match spawned {
        Ok(handle) => handle.thread().id(),
        Err(error) => return Verdict::Crashed { message: format!("cannot start a replay thread: {error}"), location: None },
    };
    let given_up = |verdict: Verdict| {
        crate::exclusive::abandon(thread);
        verdict
    };
    let started = std::time::Instant::now();
    loop {
        match receiver.recv_timeout(POLL) {
            Ok(verdict) => return verdict,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Verdict::Crashed { message: "replay thread vanished".to_owned(), location: None };
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if resident_mb().is_some_and(|rss| rss > limits.rss_mb) {
            return given_up(Verdict::OutOfMemory(limits.rss_mb));
        }
        if started.elapsed() >= limits.time && !panicked.load(Ordering::Relaxed) {
            return given_up(Verdict::Hung(limits.time));
        }
    }
}

/// How often a replay checks its input's time and memory.
const POLL: Duration = Duration::from_millis(10);

/// This process's resident memory in MB, from `/proc/self/statm`.
pub fn resident_mb() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096 / (1 << 20))
}

/// Replays the regression inputs of `target` in the repository at `repo`
/// ([`Target::regressions`]): fuzz inputs in that folder, inputs in its
/// structured form in `<form>/` below it (what `harness promote` writes);
/// returns each with its verdict. An input not in the form its folder names
/// is an error.
pub fn replay_regressions(target: &'static Target, repo: &Path) -> Result<Vec<(PathBuf, Verdict)>> {
    let dir = repo.join(target.regressions());
    let mut verdicts = Vec::new();
    for kind in std::iter::once(InputKind::Fuzz).chain(target.structured()) {
        let dir = if kind == InputKind::Fuzz { dir.clone() } else { dir.join(kind.name()) };
        if !dir.is_dir() {
            continue;
        }
        for path in collect_inputs(&[dir])? {
            let data = std::fs::read(&path).with_context(|| format!("{}", path.display()))?;
            target.check(kind, &data).map_err(|error| anyhow::anyhow!("{}: {error}", path.display()))?;
            let verdict = replay_within(move |data| target.run_as(kind, data), data, Limits::default());
            verdicts.push((path, verdict));
        }
    }
    Ok(verdicts)
}

/// Reads and replays one file.
pub fn replay_file(layer: impl FnOnce(&[u8]) -> Report + Send + 'static, path: &Path, limits: Limits) -> Result<Verdict> {
    let data = std::fs::read(path).with_context(|| format!("{}", path.display()))?;
    Ok(replay_within(layer, data, limits))
}

thread_local! {
    static LAST_PANIC_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
    /// On a replay thread, the flag its replay waits on: set once the input
    /// panicked (each replay has its own, as replays may run side by side).
    static PANICKED: RefCell<Option<Arc<AtomicBool>>> = const { RefCell::new(None) };
}

/// Chains a hook that remembers where the replay thread panicked, and that
/// it did, before the panic is printed.
fn install_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let location = info.location().map(|at| format!("{}:{}:{}", at.file(), at.line(), at.column()));
            LAST_PANIC_LOCATION.with(|slot| *slot.borrow_mut() = location);
            PANICKED.with(|slot| {
                if let Some(panicked) = &*slot.borrow() {
                    panicked.store(true, Ordering::Relaxed);
                }
            });
            previous(info);
        }));
    });
}

/// The text a panic carries (its message, or a note that it has none).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use contract::{Outcome, Rejection, Stage};

    fn quiet(_: &[u8]) -> Report {
        Report::new(Outcome::rejected(Rejection { stage: Stage::Parse, reason: "test".to_owned() }))
    }

    fn panics(_: &[u8]) -> Report {
        panic!("oracle: deliberately wrong")
    }

    fn panics_slowly(_: &[u8]) -> Report {
        /// Unwinding past it takes longer than the replay's time limit, as
        /// printing a backtrace of a large binary can.
        struct Slow;
        impl Drop for Slow {
            fn drop(&mut self) {
                std::thread::sleep(Duration::from_millis(300));
            }
        }
        let _slow = Slow;
        panic!("oracle: slow to report")
    }

    #[test]
    fn a_panic_slower_to_report_than_the_time_limit_is_a_crash_not_a_hang() {
        let limits = Limits { time: Duration::from_millis(50), ..Limits::default() };
        match replay_within(panics_slowly, Vec::new(), limits) {
            Verdict::Crashed { message, .. } => assert_eq!(message, "oracle: slow to report"),
            other => panic!("{other:?}"),
        }
        // A replay that spins is still a hang, after one that panicked.
        assert!(matches!(replay_within(spins, Vec::new(), limits), Verdict::Hung(_)));
    }

    fn spins(_: &[u8]) -> Report {
        loop {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn a_panic_is_a_crash_with_its_message_and_location() {
        match replay_within(panics, Vec::new(), Limits::default()) {
            Verdict::Crashed { message, location } => {
                assert_eq!(message, "oracle: deliberately wrong");
                assert!(location.is_some_and(|at| at.contains("replay.rs")));
            }
            other => panic!("expected a crash, got {other:?}"),
        }
    }

    #[test]
    fn the_input_after_a_hung_one_runs_as_if_alone() {
        let limits = Limits { time: Duration::from_millis(50), ..Limits::default() };
        let hung = replay_within(|data| crate::exclusive::run(|| spins(data)), Vec::new(), limits);
        assert!(matches!(hung, Verdict::Hung(_)), "{hung:?}");
        let limits = Limits { time: Duration::from_secs(5), ..Limits::default() };
        let next = replay_within(|data| crate::exclusive::run(|| quiet(data)), Vec::new(), limits);
        assert!(matches!(next, Verdict::Ran(_)), "kept waiting behind the hung input: {next:?}");
    }

    #[test]
    fn an_input_past_the_limit_is_a_hang() {
        let verdict = replay_within(spins, Vec::new(), Limits { time: Duration::from_millis(50), ..Limits::default() });
        assert!(matches!(verdict, Verdict::Hung(_)), "{verdict:?}");
        assert!(verdict.is_finding());
    }

    /// Takes 256 MB, then holds it (the test process lives on, so it must stop).
    fn hoards(_: &[u8]) -> Report {
        let hoard: Vec<Vec<u8>> = (0..16).map(|_| vec![1u8; 16 << 20]).collect();
        loop {
            std::hint::black_box(&hoard);
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn an_input_past_the_memory_limit_is_an_oom() {
        let limit = resident_mb().unwrap() + 64;
        let verdict = replay_within(hoards, Vec::new(), Limits { time: Duration::from_secs(20), rss_mb: limit });
        assert!(matches!(verdict, Verdict::OutOfMemory(mb) if mb == limit), "{verdict:?}");
    }

    #[test]
    fn timeouts_round_up_to_whole_seconds_of_at_least_one() {
        let secs = |millis| Limits { time: Duration::from_millis(millis), rss_mb: 1 }.timeout_secs();
        assert_eq!((secs(0), secs(1), secs(1000), secs(1500), secs(10_000)), (1, 1, 1, 2, 10));
    }

    #[test]
    fn a_report_is_not_a_finding() {
        let verdict = replay_within(quiet, Vec::new(), Limits::default());
        assert!(!verdict.is_finding());
        assert!(verdict.summary().starts_with("parse"));
    }

    #[test]
    fn folders_expand_to_their_sorted_visible_files() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b", "a", ".hidden"] {
            std::fs::write(dir.path().join(name), name).unwrap();
        }
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let inputs = collect_inputs(&[dir.path().to_path_buf()]).unwrap();
        assert_eq!(inputs, [dir.path().join("a"), dir.path().join("b")]);
        let missing = collect_inputs(&[dir.path().join("missing")]).unwrap_err();
        assert!(format!("{missing:#}").contains("missing"), "{missing:#}");
    }
}
