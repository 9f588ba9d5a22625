//! Layer 3 end to end: random inputs reach execution, wasm-smith modules are
//! rarely rejected, and the seed corpus replays quietly through every oracle.

use std::collections::BTreeMap;
use std::path::Path;

use loader::{End, Stage};

/// Deterministic pseudo-random inputs (xorshift), so the figures are reproducible.
fn inputs(count: usize, len: usize) -> Vec<Vec<u8>> {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    (0..count)
        .map(|_| {
            (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect()
        })
        .collect()
}

#[test]
fn random_inputs_reach_execution_and_wasm_smith_modules_are_rarely_rejected() {
    let mut stages: BTreeMap<String, usize> = BTreeMap::new();
    let (mut smith, mut smith_rejected, mut reached) = (0, 0, 0);
    let all = inputs(400, 512);
    let start = std::time::Instant::now();
    for data in &all {
        let report = harness::memory_probe::run(data);
        let generator = report.labels.first().cloned().unwrap_or_default();
        *stages.entry(format!("{generator} {} {}", report.outcome.stage, report.outcome.end)).or_default() += 1;
        if generator == "generator:wasm-smith" {
            smith += 1;
            if matches!(report.outcome.end, End::Rejected(_)) {
                smith_rejected += 1;
                eprintln!("rejected: {}", report.outcome.end);
            }
        }
        for label in report.labels.iter().filter(|label| label.starts_with("differential:")) {
            *stages.entry(format!("{generator} {label}")).or_default() += 1;
        }
        if report.outcome.stage >= Stage::Execute {
            reached += 1;
        }
    }
    let elapsed = start.elapsed();
    eprintln!("{stages:#?}\nreached {reached}/{}; wasm-smith rejected {smith_rejected}/{smith}; {:?} per input", all.len(), elapsed / all.len() as u32);
    assert!(reached * 100 >= all.len() * 80, "only {reached} of {} reached execution", all.len());
    assert!(smith_rejected * 100 <= smith * 2, "{smith_rejected} of {smith} wasm-smith modules rejected");
}

#[test]
fn seeds_replay_quietly_through_every_oracle_and_reach_execution() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/memory_probe");
    let mut generators = BTreeMap::<String, usize>::new();
    let mut seeds = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let report = harness::memory_probe::run(&std::fs::read(&path).unwrap());
        let stage = report.outcome.stage;
        assert!(stage >= Stage::Execute, "{}: stopped at {stage}: {}", path.display(), report.outcome.end);
        let generator = report.labels.iter().find(|label| label.starts_with("generator:")).cloned().unwrap_or_default();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let expected = if name.starts_with("probes_") { "generator:probes" } else { "generator:wasm-smith" };
        assert_eq!(generator, expected, "{name}");
        *generators.entry(generator).or_default() += 1;
        seeds += 1;
    }
    assert!((10..=20).contains(&seeds), "{seeds} seeds");
    assert_eq!(generators.len(), 2, "{generators:?}");
}
