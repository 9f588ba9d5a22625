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

use contract::{Outcome, Rejection, Stage};

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
    let depth = data.iter().zip(b"selftest").take_while(|(byte, expected)| byte == expected).count();
    let reason = format!("selftest: an ordinary input, {depth} bytes into the maze");
    Report::new(Outcome::rejected(Rejection { stage: Stage::SizeCheck, reason }))
}
