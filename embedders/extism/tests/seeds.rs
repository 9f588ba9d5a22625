//! The Extism targets' seeds: the module seeds are the compiled WAT sources
//! in `corpus/wat/`, and the `extism_host_calls` seeds are command
//! lists chosen to call every kernel and host function.
//! `UPDATE_SEEDS=1 cargo test --workspace --test seeds` rewrites both.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use extism_embedder::subject;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

fn updating() -> bool {
    std::env::var_os("UPDATE_SEEDS").is_some()
}

#[test]
fn every_wat_seed_is_compiled_into_the_raw_bytes_corpus() {
    let mut checked = 0;
    for entry in std::fs::read_dir(corpus().join("wat")).unwrap() {
        let source = entry.unwrap().path();
        if source.extension().is_none_or(|ext| ext != "wat") {
            continue;
        }
        let compiled = wat::parse_file(&source).unwrap_or_else(|error| panic!("{}: {error}", source.display()));
        let seed = corpus().join("extism_raw_bytes").join(source.with_extension("wasm").file_name().unwrap());
        if updating() {
            std::fs::write(&seed, &compiled).unwrap();
        }
        let stored = std::fs::read(&seed).unwrap_or_default();
        assert!(stored == compiled, "{} is stale: run UPDATE_SEEDS=1 cargo test --workspace --test seeds", seed.display());
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} WAT seeds");
}

/// Every kernel and host function's label.
fn every_call_label() -> BTreeSet<String> {
    let kernel = extism_embedder::abi::KERNEL.iter().map(|(name, _, _)| format!("call:kernel.{name}"));
    let host = extism_embedder::abi::HOST.iter().map(|(name, _, _)| format!("call:host.{name}"));
    kernel.chain(host).collect()
}

#[test]
fn host_calls_seeds_replay_quietly_and_call_every_kernel_and_host_function() {
    let dir = corpus().join("extism_host_calls");
    if updating() {
        write_host_calls_seeds(&dir);
    }
    let mut labels = BTreeSet::new();
    let files = harness::replay::collect_inputs(&[dir]).unwrap();
    assert!((10..=40).contains(&files.len()), "{} seeds", files.len());
    for file in files {
        labels.extend(harness::host_calls::run(subject(), &std::fs::read(&file).unwrap()).labels);
    }
    let missing: Vec<String> = every_call_label().difference(&labels).cloned().collect();
    assert!(missing.is_empty(), "no seed calls {missing:?}");
}

/// Picks inputs greedily until every kernel and host function is called.
fn write_host_calls_seeds(dir: &Path) {
    let wanted = every_call_label();
    let mut covered = BTreeSet::new();
    std::fs::create_dir_all(dir).unwrap();
    for old in std::fs::read_dir(dir).unwrap() {
        std::fs::remove_file(old.unwrap().path()).unwrap();
    }
    let mut written = 0;
    for input in harness::sample::inputs(20_000, 0xe871) {
        let report = harness::host_calls::run(subject(), &input);
        let new = report.labels.iter().filter(|label| wanted.contains(*label) && !covered.contains(*label)).count();
        if new > 0 || written < 10 {
            covered.extend(report.labels.iter().cloned());
            std::fs::write(dir.join(format!("seed-{written:02}.bin")), &input).unwrap();
            written += 1;
        }
        if covered.is_superset(&wanted) && written >= 10 {
            break;
        }
    }
}

/// The inputs of this suite's own mistakes, fixed, in `regressions/<target>/`
/// (and `<target>/<form>/`): each replays without a finding.
#[test]
fn regression_inputs_replay_without_findings() {
    let mut replayed = 0;
    for target in &extism_embedder::TARGETS {
        for (path, verdict) in harness::replay::replay_regressions(target, &Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")).unwrap() {
            assert!(!verdict.is_finding(), "{}: {}", path.display(), verdict.summary());
            replayed += 1;
        }
    }
    assert!(replayed >= 3, "only {replayed} regression inputs");
}
