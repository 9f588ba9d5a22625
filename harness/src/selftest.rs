//! `selftest`: a target that misbehaves on purpose, so the replay and campaign
//! machinery is tested against real crashes, hangs and memory exhaustion.
//! Not part of default campaigns.
//!
//! Inputs starting with `crash` panic, `hang` spin forever, `oom` allocate
//! without bound; any other input only walks a short maze (how much of
//! `selftest` it starts with), which gives the fuzzer a little coverage to
//! keep so its corpus grows as in a real campaign. It never touches an
//! embedder, so the fuzzer stays close to its seeds (`crasi`, `hanf`, `oon` and
//! a dictionary of the words) and finds all three kinds within seconds.
//!
//! With [`CRASH_AFTER`] set to N, every input after the first N a process
//! ran crashes, and no input hangs or exhausts memory (which would end the
//! process before it got there): a crash that depends on how long the
//! process has been running, which no replay of the one input reproduces
//! (for tests of the campaign's handling of such findings).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use contract::{Outcome, Rejection, Stage};

use crate::report::Report;

/// The environment variable that makes every input after the first N of a process crash.
pub const CRASH_AFTER: &str = "SELFTEST_CRASH_AFTER";

/// Misbehaves according to the input's prefix (or, with [`CRASH_AFTER`],
/// according to how many inputs this process has run).
pub fn run(data: &[u8]) -> Report {
    static RUNS: AtomicU64 = AtomicU64::new(0);
    static AFTER: OnceLock<Option<u64>> = OnceLock::new();
    crate::history::record(data);
    let runs = RUNS.fetch_add(1, Ordering::Relaxed) + 1;
    let after = *AFTER.get_or_init(|| std::env::var(CRASH_AFTER).ok().and_then(|value| value.parse().ok()));
    match after {
        Some(after) if runs > after => panic!("selftest: crash after {runs} inputs in this process"),
        Some(_) => return Report::new(Outcome::rejected(Rejection { stage: Stage::SizeCheck, reason: "selftest: counting inputs".to_owned() })),
        None => {}
    }
    if data.starts_with(b"crash") {
        panic!("selftest: crash requested by the input");
    }
    if data.starts_with(b"hang") {
        let mut spins: u64 = 0;
        loop {
            spins = std::hint::black_box(spins.wrapping_add(1));
        }
    }
    if data.starts_with(b"oom") {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(vec![1; 64 << 20]);
            std::hint::black_box(&hoard);
        }
    }
    let depth = data.iter().zip(b"selftest").take_while(|(byte, expected)| byte == expected).count();
    let reason = format!("selftest: an ordinary input, {depth} bytes into the maze");
    Report::new(Outcome::rejected(Rejection { stage: Stage::SizeCheck, reason }))
}
