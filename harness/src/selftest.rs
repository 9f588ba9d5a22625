//! `selftest`: a target that misbehaves on purpose, so the replay and campaign
//! machinery is tested against real crashes, hangs and memory exhaustion.
//! Not part of default campaigns.
//!
//! Inputs starting with `crash` panic, `hang` spin forever, `oom` allocate
//! without bound; any other input returns at once without touching the
//! loader, so the fuzzer stays close to its seeds (`crasi`, `hanf`, `oon` and
//! a dictionary of the three words) and finds all three within seconds.

use loader::{Outcome, Rejection, Stage};

use crate::report::Report;

/// Misbehaves according to the input's prefix.
pub fn run(data: &[u8]) -> Report {
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
    let reason = "selftest: an ordinary input".to_owned();
    Report::new(Outcome::rejected(Rejection { stage: Stage::SizeCheck, reason }))
}
