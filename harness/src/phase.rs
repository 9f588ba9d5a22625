//! Where a layer's time goes: the layers wrap each phase of their work
//! (generating, loading, invoking, each oracle) in [`timed`], and
//! [`record`] adds up the time of every phase that ran inside it on the
//! same thread. Outside [`record`], [`timed`] only calls its closure: the
//! fuzz targets pay a thread-local flag check per phase.
//!
//! Phases do not nest: a phase that starts inside another is not counted
//! (the outer one holds its time), so the phases of one input add up to
//! at most its wall time.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The phases of work of one layer, by name.
pub type Phases = BTreeMap<&'static str, Duration>;

/// Generating a module or a command list from the fuzz input.
pub const GENERATE: &str = "generate";
/// The embedder's `load` (check, compile, link).
pub const LOAD: &str = "load";
/// The embedder's `invoke` (instantiate and run).
pub const INVOKE: &str = "invoke";
/// Making a fresh sandbox directory for an invocation.
pub const SANDBOX: &str = "sandbox";

/// What is being recorded on this thread: the phases so far and whether a
/// phase is running.
struct Recording {
    phases: Phases,
    in_phase: bool,
}

thread_local! {
    static RECORDING: RefCell<Option<Recording>> = const { RefCell::new(None) };
}

/// Runs `run` as phase `name`: its wall time is added to the recording
/// [`record`] keeps on this thread, if any, unless another phase is running.
pub fn timed<T>(name: &'static str, run: impl FnOnce() -> T) -> T {
    let counts = RECORDING.with(|recording| match recording.borrow_mut().as_mut() {
        Some(recording) if !recording.in_phase => {
            recording.in_phase = true;
            true
        }
        _ => false,
    });
    if !counts {
        return run();
    }
    let started = Instant::now();
    let value = run();
    let took = started.elapsed();
    RECORDING.with(|recording| {
        if let Some(recording) = recording.borrow_mut().as_mut() {
            recording.in_phase = false;
            *recording.phases.entry(name).or_default() += took;
        }
    });
    value
}

/// Runs `run` and returns, beside its value, the time of each phase that
/// ran inside it on this thread. A panic inside `run` unwinds through, and
/// the recording is dropped with it.
pub fn record<T>(run: impl FnOnce() -> T) -> (T, Phases) {
    let _recording = Recorder::start();
    let value = run();
    let phases = RECORDING.with(|recording| recording.borrow_mut().take()).map(|recording| recording.phases).unwrap_or_default();
    (value, phases)
}

/// Starts a recording on this thread and ends it when dropped, also when
/// the recorded code panics.
struct Recorder;

impl Recorder {
    fn start() -> Recorder {
        RECORDING.with(|recording| *recording.borrow_mut() = Some(Recording { phases: Phases::new(), in_phase: false }));
        Recorder
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        RECORDING.with(|recording| recording.borrow_mut().take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sleep(ms: u64) {
        std::thread::sleep(Duration::from_millis(ms));
    }

    #[test]
    fn records_each_phase_once_and_not_nested_ones() {
        let (value, phases) = record(|| {
            timed(LOAD, || sleep(20));
            timed(INVOKE, || timed(LOAD, || sleep(20)));
            timed(LOAD, || 7)
        });
        assert_eq!(value, 7);
        assert_eq!(phases.keys().copied().collect::<Vec<_>>(), [INVOKE, LOAD]);
        assert!(phases[LOAD] >= Duration::from_millis(20) && phases[LOAD] < Duration::from_millis(40), "{phases:?}");
        assert!(phases[INVOKE] >= Duration::from_millis(20), "{phases:?}");
    }

    #[test]
    fn records_nothing_outside_a_recording() {
        assert_eq!(timed(GENERATE, || 3), 3);
        let ((), phases) = record(|| {});
        assert!(phases.is_empty());
    }

    #[test]
    fn a_panic_ends_the_recording() {
        let panicked = std::panic::catch_unwind(|| record(|| timed(LOAD, || panic!("inside"))));
        assert!(panicked.is_err());
        RECORDING.with(|recording| assert!(recording.borrow().is_none()));
        let ((), phases) = record(|| timed(INVOKE, || ()));
        assert_eq!(phases.keys().copied().collect::<Vec<_>>(), [INVOKE]);
    }
}
