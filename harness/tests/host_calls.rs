//! Layer 4 (`host_calls`): the seeds replay quietly and cover the host API,
//! random inputs keep both oracles quiet, and the isolation oracle fires on a
//! canary that was read, changed, removed or leaked.
//!
//! `UPDATE_SEEDS=1 cargo test -p harness --test host_calls` regenerates the
//! seeds in `corpus/host_calls/`: a few pseudo-random inputs, chosen greedily
//! until every function the interpreter can call is covered.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use harness::host_calls::{self, command, isolation::Canaries};
use loader::{End, Outcome, Stage};

fn seed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/host_calls")
}

/// Deterministic pseudo-random inputs (xorshift), for seeds and stress tests.
fn inputs(count: usize, seed: u64) -> impl Iterator<Item = Vec<u8>> {
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..count).map(move |_| {
        let len = 64 + (next() % 2000) as usize;
        (0..len).map(|_| next() as u8).collect()
    })
}

fn every_call_label() -> BTreeSet<String> {
    let host = ["read_request", "write_response", "log", "storage_get"].map(|name| format!("call:host.{name}"));
    let wasi = command::WASI.iter().map(|function| format!("call:wasi.{}", function.name));
    host.into_iter().chain(wasi).collect()
}

#[test]
fn seeds_replay_quietly_and_call_every_host_function_and_most_wasi_ones() {
    if std::env::var_os("UPDATE_SEEDS").is_some() {
        write_seeds();
    }
    let mut labels = BTreeSet::new();
    let files = harness::replay::collect_inputs(&[seed_dir()]).unwrap();
    assert!((10..=20).contains(&files.len()), "{} seeds", files.len());
    for file in files {
        let report = host_calls::run(&std::fs::read(&file).unwrap());
        assert_eq!(report.outcome.stage, Stage::HostCall, "{}", file.display());
        labels.extend(report.labels);
    }
    for host in ["read_request", "write_response", "log", "storage_get"] {
        assert!(labels.contains(&format!("call:host.{host}")), "no seed calls host.{host}");
    }
    let wasi = labels.iter().filter(|label| label.starts_with("call:wasi.")).count();
    assert!(wasi >= 25, "the seeds call only {wasi} WASI functions: {labels:?}");
}

/// Picks inputs greedily until every call label and every way of ending is
/// covered by at least 12 seeds, and writes them.
fn write_seeds() {
    let wanted = every_call_label();
    let mut covered = BTreeSet::new();
    let mut ends = BTreeSet::new();
    let dir = seed_dir();
    std::fs::create_dir_all(&dir).unwrap();
    for old in std::fs::read_dir(&dir).unwrap() {
        std::fs::remove_file(old.unwrap().path()).unwrap();
    }
    let mut written = 0;
    for input in inputs(4000, 0x5eed) {
        let report = host_calls::run(&input);
        let new_labels = report.labels.iter().any(|label| wanted.contains(label) && !covered.contains(label));
        let new_end = !ends.contains(report.outcome.end.class());
        let many_calls = report.outcome.host_calls.len() >= 12;
        if new_labels || new_end || (many_calls && written < 12) {
            covered.extend(report.labels.iter().cloned());
            ends.insert(report.outcome.end.class());
            std::fs::write(dir.join(format!("seed-{written:02}.bin")), &input).unwrap();
            written += 1;
        }
        if (covered.is_superset(&wanted) && written >= 12 && ends.len() >= 3) || written == 20 {
            break;
        }
    }
}

#[test]
fn random_inputs_keep_both_oracles_quiet_and_always_reach_a_host_call() {
    let mut ended = BTreeSet::new();
    for input in inputs(200, 42) {
        let report = host_calls::run(&input);
        assert_eq!(report.outcome.stage, Stage::HostCall);
        ended.insert(report.outcome.end.class());
    }
    assert!(ended.contains("ok"), "{ended:?}");
}

fn outcome() -> Outcome {
    let mut outcome = Outcome::rejected(loader::Rejection { stage: Stage::HostCall, reason: String::new() });
    outcome.end = End::Ok;
    outcome
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
fn a_dropped_sandbox_is_gone_whatever_the_run_did_and_the_canaries_stay() {
    let (dir, canaries) = canaries();
    let untouched = canaries.sandbox().unwrap();
    let path = untouched.path().to_path_buf();
    drop(untouched);
    assert!(!path.exists());
    let changed = canaries.sandbox().unwrap();
    let path = changed.path().to_path_buf();
    std::fs::write(path.join("dir/new.txt"), b"inside").unwrap();
    std::fs::remove_dir(path.join("dir")).unwrap_err();
    std::fs::remove_file(path.join("file.txt")).unwrap();
    std::os::unix::fs::symlink("../canary_dir", path.join("file.txt")).unwrap();
    drop(changed);
    assert!(!path.exists());
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
