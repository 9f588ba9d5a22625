//! An oracle for every limit a policy promises, applied to every invocation
//! in every layer: each invocation is measured (its wall time; the host
//! heap while it runs, see [`crate::alloc`]; the rise of the process's
//! resident set, see [`crate::resident`]) and its outcome checked against
//! the limits the embedder's ABI declares, and against the host-memory
//! [`Budget`] they imply. Where the ABI says loading runs guest code, each
//! load is held to the budget too, but for what a known defect of growth at
//! load explains. A message names the limit or resource,
//! the bound and what was seen.

use std::path::Path;
use std::time::{Duration, Instant};

use contract::Outcome;

use std::fmt;

use contract::Rejection;

use crate::abi::{Abi, Limits, PAGE_BYTES, TABLE_ELEMENT_BYTES, known};
use crate::alloc::{self, Heap};
use crate::embedder::{Embedder, Loaded, Store};
use crate::{phase, resident};

/// What was measured of one invocation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Measured {
    /// Its wall time.
    pub wall: Duration,
    /// The host heap while it ran, where the counting allocator is installed.
    pub heap: Option<Heap>,
    /// How far the process's resident set rose above where it stood, where
    /// it can be measured.
    pub resident: Option<u64>,
}

/// Runs `run` measuring its wall time, host heap and resident set.
fn measured<T>(run: impl FnOnce() -> T) -> (T, Measured) {
    let started = Instant::now();
    let ((value, heap), resident) = resident::measure(|| alloc::measure(run));
    (value, Measured { wall: started.elapsed(), heap, resident })
}

/// Invokes `loaded`, measured, and checks every limit, passing over what
/// `excuse` explains of the budget.
fn checked(
    loaded: &dyn Loaded,
    request: &[u8],
    sandbox: Option<&Path>,
    limits: &Limits,
    excuse: Option<&'static str>,
) -> (Outcome, Option<&'static str>) {
    let (outcome, measured) = phase::timed(phase::INVOKE, || measured(|| loaded.invoke(request, sandbox)));
    let known = phase::timed("oracle:limits", || check_excusing(&outcome, &measured, request.len(), limits, excuse));
    (outcome, known)
}

/// A module the embedder accepted, with what the budget oracle excuses of it.
pub struct Accepted {
    /// The loaded module.
    pub loaded: Box<dyn Loaded>,
    /// The known defect that lets its code run at load grow memory past the
    /// budget ([`known::growth_at_load`]), for its invocations too.
    pub excuse: Option<&'static str>,
    /// That defect's id, if the load itself went past the budget.
    pub known: Option<&'static str>,
}

/// Loads `module`; where the ABI says loading runs guest code, the load is
/// measured and held to the host-memory budget with a compiler's allowance
/// ([`COMPILE_BYTES_PER_MODULE_BYTE`]), but for what [`excused`] passes over.
pub fn load_checked(embedder: &dyn Embedder, abi: &Abi, module: &[u8], store: &Store) -> Result<Accepted, Rejection> {
    let excuse = known::growth_at_load(abi, module);
    if !abi.limits.load_runs_guest_code {
        return phase::timed(phase::LOAD, || embedder.load(module, store)).map(|loaded| Accepted { loaded, excuse, known: None });
    }
    let (loaded, measured) = phase::timed(phase::LOAD, || measured(|| embedder.load(module, store)));
    let compiler = (module.len() as u64).saturating_mul(COMPILE_BYTES_PER_MODULE_BYTE);
    let known = phase::timed("oracle:budget", || held_to_budget("a load", &measured, &Budget::of(&abi.limits), compiler, excuse));
    // A rejected load's excuse is not reported: the rejection is the outcome.
    loaded.map(|loaded| Accepted { loaded, excuse, known })
}

/// The budget oracle: panics with `oracle:` when the live host heap or the
/// resident set of `what` (an invocation, a load) rose past the budget plus
/// `allowance`, unless [`excused`] passes over it for `excuse`, which it
/// then returns.
fn held_to_budget(what: &str, measured: &Measured, budget: &Budget, allowance: u64, excuse: Option<&'static str>) -> Option<&'static str> {
    budget_overrun(what, measured, budget, allowance).map(|message| {
        let bound = budget.total().saturating_add(allowance);
        excused(excuse, measured, bound).unwrap_or_else(|| panic!("{message}"))
    })
}

/// The excuse (a known defect's id) for a run past `bound`, as far as it
/// explains it: the live heap within `bound` and the resident set risen by
/// at most one memory's growth of [`known::LOAD_GROWTH_PAGES`] more (memory
/// the guest grew, which only the resident set shows).
pub fn excused(excuse: Option<&'static str>, measured: &Measured, bound: u64) -> Option<&'static str> {
    let heap_within = measured.heap.is_none_or(|heap| heap.peak as u64 <= bound);
    let growth = known::LOAD_GROWTH_PAGES.saturating_mul(PAGE_BYTES);
    let resident_within = measured.resident.is_none_or(|rise| rise <= bound.saturating_add(growth));
    excuse.filter(|_| heap_within && resident_within)
}

/// Invokes `loaded` and checks every limit: what a layer does for each invocation.
pub fn invoke_checked(loaded: &dyn Loaded, request: &[u8], sandbox: Option<&Path>, limits: &Limits) -> Outcome {
    checked(loaded, request, sandbox, limits, None).0
}

/// [`invoke_checked`] for a module with an excuse ([`Accepted::excuse`]):
/// the outcome, and the excuse if the budget oracle passed over the
/// invocation for it.
pub fn invoke_checked_excusing(
    loaded: &dyn Loaded,
    request: &[u8],
    sandbox: Option<&Path>,
    limits: &Limits,
    excuse: Option<&'static str>,
) -> (Outcome, Option<&'static str>) {
    checked(loaded, request, sandbox, limits, excuse)
}

/// Loads `module` and, if accepted, invokes it once with every limit
/// checked: the outcome, and the id of the known defect that excused the
/// load's or the invocation's overrun, if one did.
pub fn run(embedder: &dyn Embedder, abi: &Abi, module: &[u8], request: &[u8], store: &Store) -> (Outcome, Option<&'static str>) {
    match load_checked(embedder, abi, module, store) {
        Ok(accepted) => {
            let (outcome, known) = invoke_checked_excusing(&*accepted.loaded, request, None, &abi.limits, accepted.excuse);
            (outcome, accepted.known.or(known))
        }
        Err(rejection) => (Outcome::rejected(rejection), None),
    }
}

/// How much longer than its deadline an invocation may take before the
/// deadline oracle fires: an epoch tick to notice, the host's own work
/// around the guest (instantiation, WASI calls, reading the output), and a
/// busy 2-core machine's scheduling. The deadline itself, and at least a
/// second: generous, since libFuzzer's per-input timeout (10 s) is the
/// backstop it replaces; the seeds and the campaigns in REPORT.md and
/// embedders/extism/findings/REPORT.md ran under it, with both cores busy, without
/// it firing.
pub fn tolerance(deadline: Duration) -> Duration {
    Duration::from_secs(1).max(deadline)
}

/// The largest single host allocation an invocation may make: twice the
/// largest buffer the ABI lets a guest or a request ask the host for (the
/// request, a stored value, the response, a log, captured stdio, random
/// bytes, a table's elements), 1 MiB for the host's own bookkeeping, and the
/// module size cap, if any: an engine keeps per-instance state in
/// proportion to the module (32 bytes for each of up to 100,000 data or
/// element segments, 3.2 MB, in a module of a few hundred KiB).
pub fn allocation_bound(limits: &Limits, request_len: usize) -> u64 {
    let largest = [limits.max_host_buffer, Some(request_len as u64)].into_iter().flatten().max().unwrap_or(0);
    let module = limits.max_module_bytes.map_or(0, |bytes| bytes as u64);
    2 * largest + (1 << 20) + module
}

/// Host bytes a load may use per byte of the module, on top of the
/// [`Budget`], for compiling it.
pub const COMPILE_BYTES_PER_MODULE_BYTE: u64 = 256;

/// Host bytes of an invocation's own overhead: its instance, stacks and the
/// engine's bookkeeping, WASI's context.
pub const OVERHEAD_BYTES: u64 = 64 << 20;

/// The host memory one invocation may make the host hold (the peak of live
/// heap, and the rise of the resident set): what the ABI's caps (or the
/// suite's ceilings where it promises none) let a guest hold, twice the
/// largest host buffer, and [`OVERHEAD_BYTES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Every memory at the memory cap.
    pub memories: u64,
    /// Every table at the table cap, [`TABLE_ELEMENT_BYTES`] per element.
    pub tables: u64,
    /// Twice the largest host buffer.
    pub host_buffers: u64,
    /// [`OVERHEAD_BYTES`].
    pub overhead: u64,
}

impl Budget {
    /// The budget `limits` imply.
    pub fn of(limits: &Limits) -> Budget {
        Budget {
            memories: limits.memories_or_ceiling().saturating_mul(limits.memory_bytes_or_ceiling()),
            tables: limits.tables_or_ceiling().saturating_mul(limits.table_elements_or_ceiling()).saturating_mul(TABLE_ELEMENT_BYTES),
            host_buffers: limits.max_host_buffer.unwrap_or(0).saturating_mul(2),
            overhead: OVERHEAD_BYTES,
        }
    }

    /// The whole budget, in bytes.
    pub fn total(&self) -> u64 {
        self.memories.saturating_add(self.tables).saturating_add(self.host_buffers).saturating_add(self.overhead)
    }
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} bytes: memories {}, tables {}, host buffers {}, overhead {}",
            self.total(),
            self.memories,
            self.tables,
            self.host_buffers,
            self.overhead
        )
    }
}

/// What the budget oracle says of `what` when its live host heap or its
/// resident set rose past the budget plus `allowance`.
fn budget_overrun(what: &str, measured: &Measured, budget: &Budget, allowance: u64) -> Option<String> {
    let bound = budget.total().saturating_add(allowance);
    let allowed = if allowance == 0 { String::new() } else { format!(" and {allowance} bytes for compiling") };
    let peak = measured.heap.map(|heap| heap.peak as u64).filter(|&peak| peak > bound);
    let rise = measured.resident.filter(|&rise| rise > bound);
    match (peak, rise) {
        (Some(peak), _) => Some(format!(
            "oracle: the host-memory budget did not hold during {what}: {peak} bytes of live host heap, the budget is {budget}{allowed}"
        )),
        (None, Some(rise)) => Some(format!(
            "oracle: the host-memory budget did not hold during {what}: the resident set rose by {rise} bytes, the budget is {budget}{allowed}"
        )),
        (None, None) => None,
    }
}

/// The oracle: panics with `oracle:` when an invocation went past a limit
/// its embedder declares, or past the host-memory budget they imply.
pub fn check(outcome: &Outcome, measured: &Measured, request_len: usize, limits: &Limits) {
    check_excusing(outcome, measured, request_len, limits, None);
}

/// [`check`], passing over what `excuse` explains of the budget
/// ([`excused`]): returns the excuse if it did.
fn check_excusing(outcome: &Outcome, measured: &Measured, request_len: usize, limits: &Limits, excuse: Option<&'static str>) -> Option<&'static str> {
    let over = |what: &str, bound: u64, seen: u64| {
        assert!(seen <= bound, "oracle: the {what} limit did not hold: {seen} bytes, the limit is {bound}");
    };
    if let Some(bound) = limits.max_response_bytes {
        over("response", bound, outcome.response.len() as u64);
    }
    if let Some(bound) = limits.max_log_bytes {
        over("log", bound, outcome.logs.iter().map(|line| line.len() as u64).sum());
    }
    if let Some(bound) = limits.max_stdio_bytes {
        over("stdout", bound, outcome.stdout.len() as u64);
        over("stderr", bound, outcome.stderr.len() as u64);
    }
    if let (Some(bound), Some(peak)) = (limits.max_memory_bytes, outcome.peak_memory_bytes) {
        over("memory", bound, peak as u64);
    }
    if let (Some(bound), Some(peak)) = (limits.max_table_elements, outcome.peak_table_elements) {
        assert!(peak as u64 <= bound, "oracle: the table limit did not hold: {peak} elements, the limit is {bound}");
    }
    if let Some(bound) = limits.max_host_calls {
        let made = outcome.host_calls.len() as u64;
        assert!(made <= bound, "oracle: the host-call limit did not hold: {made} calls, the limit is {bound}");
    }
    if let Some(deadline) = limits.deadline {
        let wall = measured.wall;
        assert!(
            wall <= deadline + tolerance(deadline),
            "oracle: the deadline did not hold: {} ms, deadline {} ms (tolerance {} ms)",
            wall.as_millis(),
            deadline.as_millis(),
            tolerance(deadline).as_millis()
        );
    }
    if let Some(heap) = measured.heap {
        let bound = allocation_bound(limits, request_len);
        assert!(
            heap.largest as u64 <= bound,
            "oracle: a host allocation of {} bytes during an invocation, past the {bound} bytes the policy implies",
            heap.largest
        );
    }
    held_to_budget("an invocation", measured, &Budget::of(limits), 0, excuse)
}

#[cfg(test)]
mod tests {
    use super::*;
    use contract::{End, HostCall, Stage};

    fn limits() -> Limits {
        crate::test_abi::abi(1024).limits
    }

    fn quiet() -> (Outcome, Measured) {
        let measured = Measured { wall: Duration::from_millis(5), heap: Some(Heap { largest: 4096, peak: 1 << 20 }), resident: Some(8 << 20) };
        (Outcome::ended(Stage::Execute, End::Ok), measured)
    }

    #[test]
    fn an_overrun_is_excused_only_as_far_as_growth_at_load_explains_it() {
        let bound = 100 << 20;
        let growth = known::LOAD_GROWTH_PAGES * PAGE_BYTES;
        let rose = |resident: u64, heap_peak: usize| Measured {
            wall: Duration::from_millis(5),
            heap: Some(Heap { largest: 4096, peak: heap_peak }),
            resident: Some(resident),
        };
        let excuse = Some("growth-at-load");
        assert_eq!(excused(excuse, &rose(bound + growth, 1 << 20), bound), excuse);
        assert_eq!(excused(None, &rose(bound + 1, 1 << 20), bound), None, "no excuse");
        assert_eq!(excused(excuse, &rose(bound + growth + 1, 1 << 20), bound), None, "more than the growth");
        assert_eq!(excused(excuse, &rose(0, bound as usize + 1), bound), None, "host heap is not guest memory");
    }

    #[test]
    fn an_invocation_past_the_budget_is_passed_over_for_its_excuse_and_reported_without() {
        let (outcome, mut measured) = quiet();
        measured.resident = Some(Budget::of(&limits()).total() + (1 << 20));
        assert_eq!(check_excusing(&outcome, &measured, 100, &limits(), Some("growth-at-load")), Some("growth-at-load"));
        let reported = std::panic::catch_unwind(|| check_excusing(&outcome, &measured, 100, &limits(), None));
        assert!(reported.is_err(), "without an excuse the budget oracle fires");
    }

    #[test]
    fn stays_quiet_within_every_limit() {
        let (outcome, measured) = quiet();
        check(&outcome, &measured, 100, &limits());
    }

    #[test]
    #[should_panic(expected = "oracle: the response limit did not hold: 1048577 bytes, the limit is 1048576")]
    fn fires_on_a_response_past_its_cap() {
        let (mut outcome, measured) = quiet();
        outcome.response = vec![0; (1 << 20) + 1];
        check(&outcome, &measured, 100, &limits());
    }

    #[test]
    #[should_panic(expected = "oracle: the stdout limit did not hold: 65537 bytes, the limit is 65536")]
    fn fires_on_stdout_past_its_cap() {
        let (mut outcome, measured) = quiet();
        outcome.stdout = vec![b'x'; (64 << 10) + 1];
        check(&outcome, &measured, 100, &limits());
    }

    #[test]
    #[should_panic(expected = "oracle: the log limit did not hold")]
    fn fires_on_logs_past_their_cap() {
        let (mut outcome, measured) = quiet();
        outcome.logs = vec!["x".repeat(40 << 10), "y".repeat(40 << 10)];
        check(&outcome, &measured, 100, &limits());
    }

    #[test]
    #[should_panic(expected = "oracle: the memory limit did not hold: 16842752 bytes, the limit is 16777216")]
    fn fires_on_memory_past_its_cap() {
        let (mut outcome, measured) = quiet();
        outcome.peak_memory_bytes = Some((16 << 20) + 65536);
        check(&outcome, &measured, 100, &limits());
    }

    #[test]
    #[should_panic(expected = "oracle: the table limit did not hold: 10001 elements, the limit is 10000")]
    fn fires_on_a_table_past_its_cap() {
        let (mut outcome, measured) = quiet();
        outcome.peak_table_elements = Some(10_001);
        check(&outcome, &measured, 100, &limits());
    }

    #[test]
    #[should_panic(expected = "oracle: the host-call limit did not hold: 10001 calls, the limit is 10000")]
    fn fires_on_more_host_calls_than_allowed() {
        let (mut outcome, measured) = quiet();
        outcome.host_calls = vec![HostCall { function: "log", result: Some(0) }; 10_001];
        check(&outcome, &measured, 100, &limits());
    }

    #[test]
    #[should_panic(expected = "oracle: the deadline did not hold: 2500 ms, deadline 1000 ms")]
    fn fires_on_an_invocation_past_its_deadline_and_tolerance() {
        let (outcome, mut measured) = quiet();
        measured.wall = Duration::from_millis(2500);
        check(&outcome, &measured, 100, &limits());
    }

    #[test]
    #[should_panic(expected = "oracle: a host allocation of 4294967296 bytes during an invocation")]
    fn fires_on_a_guest_sized_host_buffer() {
        let (outcome, mut measured) = quiet();
        measured.heap = Some(Heap { largest: 1 << 32, peak: 0 });
        check(&outcome, &measured, 100, &limits());
    }

    #[test]
    fn the_budget_adds_the_caps_the_host_buffers_and_the_overhead() {
        let budget = Budget::of(&limits());
        assert_eq!(budget, Budget { memories: 16 << 20, tables: 160_000, host_buffers: 2 << 20, overhead: 64 << 20 });
        let uncapped = Limits { max_memories: None, max_tables: None, max_table_elements: None, ..limits() };
        let ceilings = Budget::of(&uncapped);
        assert_eq!((ceilings.memories, ceilings.tables), (4 * (16 << 20), 4 * (16 << 20)));
    }

    #[test]
    #[should_panic(
        expected = "oracle: the host-memory budget did not hold during an invocation: the resident set rose by 268435456 bytes, the budget is 86143232 bytes"
    )]
    fn fires_on_a_resident_set_past_the_budget() {
        let (outcome, mut measured) = quiet();
        measured.resident = Some(256 << 20);
        check(&outcome, &measured, 100, &limits());
    }

    #[test]
    #[should_panic(expected = "oracle: the host-memory budget did not hold during a load: 134217728 bytes of live host heap")]
    fn fires_on_a_heap_peak_past_the_budget_and_the_compiler_allowance() {
        let (_, mut measured) = quiet();
        measured.heap = Some(Heap { largest: 4096, peak: 128 << 20 });
        held_to_budget("a load", &measured, &Budget::of(&limits()), 1 << 20, None);
    }

    #[test]
    fn the_compiler_allowance_covers_a_load_within_it() {
        let (_, mut measured) = quiet();
        measured.heap = Some(Heap { largest: 4096, peak: 128 << 20 });
        held_to_budget("a load", &measured, &Budget::of(&limits()), 64 << 20, None);
    }

    #[test]
    fn the_allocation_bound_covers_the_request_and_the_largest_buffer() {
        let module = 1024;
        assert_eq!(allocation_bound(&limits(), 100), (3 << 20) + module);
        assert_eq!(allocation_bound(&limits(), 4 << 20), (9 << 20) + module);
    }
}
