//! How fast a layer runs beside the bare work it cannot avoid, on the same
//! inputs in the same process: what `harness bench` measures.
//!
//! The bare work of each layer is [`Layer::run_bare`] (see [`harness::bare`]).
//!
//! Each input runs through the layer and through the bare work, one after
//! the other (their order alternating), until the time is up, so both see
//! the same inputs under the same machine load. Inputs that are not needed
//! by the bare work (a layer-3 module, a layer-4 command list) are derived
//! before the clock starts. The layer's time is split into the phases it
//! reports ([`harness::phase`]); what no phase holds is `other`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use harness::phase::{self, Phases};
use harness::subject::Subject;
use harness::targets::{Layer, Target};

/// The phase name of a layer's time that no phase holds.
pub const OTHER: &str = "other";

/// Executions and the time they took.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Throughput {
    /// Inputs run.
    pub execs: u64,
    /// Their total wall time.
    pub busy: Duration,
}

impl Throughput {
    /// Executions per second of busy time (0 with no time).
    pub fn per_second(&self) -> f64 {
        let seconds = self.busy.as_secs_f64();
        if seconds > 0.0 { self.execs as f64 / seconds } else { 0.0 }
    }

    fn add(&mut self, took: Duration) {
        self.execs += 1;
        self.busy += took;
    }
}

/// The bench of one target.
#[derive(Clone, Debug, Default)]
pub struct TargetBench {
    /// Inputs prepared (seeds and generated ones).
    pub inputs: usize,
    /// The layer, with its oracles.
    pub layer: Throughput,
    /// The bare work on the same inputs.
    pub bare: Throughput,
    /// The layer's time by phase, [`OTHER`] included.
    pub phases: Phases,
    /// Inputs set aside because the layer or the bare work panicked on them
    /// (an oracle fired, or a generator failed): each with its message.
    pub set_aside: Vec<String>,
}

impl TargetBench {
    /// How many times faster the bare work runs than the layer.
    pub fn slowdown(&self) -> f64 {
        let layer = self.layer.per_second();
        if layer > 0.0 { self.bare.per_second() / layer } else { 0.0 }
    }

    /// The phase that took the layer longest, with its share of the layer's time.
    pub fn costliest_phase(&self) -> Option<(&'static str, f64)> {
        let total = self.layer.busy.as_secs_f64();
        let (name, took) = self.phases.iter().max_by_key(|(_, took)| **took)?;
        Some((name, if total > 0.0 { took.as_secs_f64() / total } else { 0.0 }))
    }
}

/// Bench inputs: `seeds`, then `generated` inputs made from them (a few
/// bytes changed, inserted or removed, as a fuzzer's mutations) and from
/// nothing (random bytes), all in an order fixed by `seed`.
pub fn inputs(seeds: Vec<Vec<u8>>, generated: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut random = SplitMix(seed);
    let mut inputs = seeds;
    let originals = inputs.len();
    for made in 0..generated {
        let input = match inputs.get(random.below(originals.max(1))) {
            Some(original) if made % 2 == 0 => mutate(original, &mut random),
            _ => (0..1 + random.below(512)).map(|_| random.next() as u8).collect(),
        };
        inputs.push(input);
    }
    for index in (1..inputs.len()).rev() {
        inputs.swap(index, random.below(index + 1));
    }
    inputs
}

/// `original` with one to eight bytes changed, inserted or removed.
fn mutate(original: &[u8], random: &mut SplitMix) -> Vec<u8> {
    let mut input = original.to_vec();
    for _ in 0..1 + random.below(8) {
        let at = random.below(input.len() + 1);
        match random.below(3) {
            0 if at < input.len() => input[at] = random.next() as u8,
            1 if at < input.len() => {
                input.remove(at);
            }
            _ => input.insert(at, random.next() as u8),
        }
    }
    input
}

/// A small, seeded random number generator (SplitMix64): the same inputs on every run.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut mixed = self.0;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        mixed ^ (mixed >> 31)
    }

    /// A number below `bound` (0 when `bound` is 0).
    fn below(&mut self, bound: usize) -> usize {
        if bound == 0 { 0 } else { (self.next() % bound as u64) as usize }
    }
}

/// One input ready for both sides: the fuzz input and what the bare work takes.
struct Prepared {
    fuzz: Vec<u8>,
    bare: Vec<u8>,
}

/// Benches `target` on `inputs` for `time`; `progress` hears the executions
/// done so far about once a second.
///
/// # Errors
/// If the target fuzzes no layer (`selftest`), or every input was set aside.
pub fn measure(target: &Target, inputs: Vec<Vec<u8>>, time: Duration, progress: &mut dyn FnMut(u64)) -> Result<TargetBench, String> {
    let (Some(layer), Some(subject)) = (target.layer(), target.subject()) else {
        return Err(format!("target `{}` fuzzes no layer: nothing to bench", target.name));
    };
    let mut bench = TargetBench { inputs: inputs.len(), ..TargetBench::default() };
    let mut prepared = Vec::new();
    for fuzz in inputs {
        match catch_unwind(AssertUnwindSafe(|| layer.bare_input(subject, &fuzz))) {
            Ok(bare) => prepared.push(Prepared { fuzz, bare }),
            Err(payload) => bench.set_aside.push(harness::replay::panic_message(payload.as_ref())),
        }
    }
    let started = Instant::now();
    let mut reported = started;
    let mut round = 0usize;
    while started.elapsed() < time && !prepared.is_empty() {
        let index = round % prepared.len();
        let Some(input) = prepared.get(index) else { break };
        let layer_first = (round / prepared.len()).is_multiple_of(2) == index.is_multiple_of(2);
        let result = if layer_first {
            run_layer(target, &input.fuzz, &mut bench).and_then(|()| run_bare(layer, subject, &input.bare, &mut bench))
        } else {
            run_bare(layer, subject, &input.bare, &mut bench).and_then(|()| run_layer(target, &input.fuzz, &mut bench))
        };
        match result {
            Ok(()) => round += 1,
            Err(message) => {
                bench.set_aside.push(message);
                prepared.remove(index);
            }
        }
        if reported.elapsed() >= Duration::from_secs(1) {
            reported = Instant::now();
            progress(bench.layer.execs);
        }
    }
    if bench.layer.execs == 0 {
        return Err(format!("target `{}`: no input ran ({} set aside)", target.name, bench.set_aside.len()));
    }
    let attributed: Duration = bench.phases.values().sum();
    bench.phases.insert(OTHER, bench.layer.busy.saturating_sub(attributed));
    Ok(bench)
}

/// [`measure`] on a thread of its own with the stack a replay gets (wasmtime
/// and wasmi need more than a main thread may have). Panics the bench
/// catches (an oracle firing on an input) are counted in its result, not
/// printed.
///
/// # Errors
/// As [`measure`], or if the thread cannot start or dies.
pub fn measure_on_thread(
    target: &'static Target,
    inputs: Vec<Vec<u8>>,
    time: Duration,
    mut progress: impl FnMut(u64) + Send + 'static,
) -> Result<TargetBench, String> {
    quiet_bench_panics();
    let thread = std::thread::Builder::new()
        .name(THREAD.to_owned())
        .stack_size(16 << 20)
        .spawn(move || measure(target, inputs, time, &mut progress))
        .map_err(|error| format!("cannot start the bench thread: {error}"))?;
    thread.join().map_err(|payload| format!("the bench thread died: {}", harness::replay::panic_message(payload.as_ref())))?
}

/// The name of the thread [`measure_on_thread`] runs on.
const THREAD: &str = "bench";

/// Chains a panic hook that stays quiet on the bench thread, once per process.
fn quiet_bench_panics() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().name() != Some(THREAD) {
                previous(info);
            }
        }));
    });
}

/// Runs `data` through the target's layer, adding its time and phases to `bench`.
fn run_layer(target: &Target, data: &[u8], bench: &mut TargetBench) -> Result<(), String> {
    let started = Instant::now();
    let (ran, phases) = phase::record(|| catch_unwind(AssertUnwindSafe(|| target.run(data))));
    let took = started.elapsed();
    ran.map_err(|payload| harness::replay::panic_message(payload.as_ref()))?;
    bench.layer.add(took);
    for (name, time) in phases {
        *bench.phases.entry(name).or_default() += time;
    }
    Ok(())
}

/// Runs the bare work of `layer` on `prepared`, adding its time to `bench`.
fn run_bare(layer: Layer, subject: &Subject, prepared: &[u8], bench: &mut TargetBench) -> Result<(), String> {
    let started = Instant::now();
    catch_unwind(AssertUnwindSafe(|| drop(layer.run_bare(subject, prepared)))).map_err(|payload| harness::replay::panic_message(payload.as_ref()))?;
    bench.bare.add(started.elapsed());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_the_seeds_and_the_generated_ones_in_a_fixed_order() {
        let seeds = vec![b"seed one".to_vec(), b"seed two".to_vec()];
        let first = inputs(seeds.clone(), 10, 7);
        assert_eq!(first.len(), 12);
        assert!(seeds.iter().all(|seed| first.contains(seed)));
        assert_eq!(first, inputs(seeds.clone(), 10, 7));
        assert_ne!(first, inputs(seeds, 10, 8));
        assert_eq!(inputs(Vec::new(), 3, 1).len(), 3);
    }

    #[test]
    fn slowdown_and_costliest_phase() {
        let mut bench = TargetBench {
            layer: Throughput { execs: 100, busy: Duration::from_secs(2) },
            bare: Throughput { execs: 100, busy: Duration::from_secs(1) },
            ..TargetBench::default()
        };
        bench.phases.insert(phase::LOAD, Duration::from_millis(500));
        bench.phases.insert("oracle:verdict", Duration::from_millis(1500));
        assert!((bench.slowdown() - 2.0).abs() < 1e-9);
        assert_eq!(bench.costliest_phase(), Some(("oracle:verdict", 0.75)));
    }
}
