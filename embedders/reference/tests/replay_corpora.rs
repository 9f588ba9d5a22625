//! Every seed and every regression input replays through `repro`'s code path
//! without a crash or hang, and the seeds reach the stages they were written for.

use std::path::{Path, PathBuf};

use contract::Stage;
use harness::Target;
use harness::forms::InputKind;
use harness::replay::{self, Verdict};

/// A seed folder of the reference embedder.
fn corpus(folder: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join(folder)
}

/// The reference target called `name`.
fn target(name: &str) -> &'static Target {
    reference::TARGETS.iter().find(|target| target.name == name).unwrap()
}

/// Replays every file of `dir` through `target`, returning each verdict.
fn replay_dir(target: &str, dir: &Path) -> Vec<(PathBuf, Verdict)> {
    replay_form(target, InputKind::Fuzz, dir)
}

/// Replays every file of `dir`, inputs of form `kind`, through `target`.
fn replay_form(name: &str, kind: InputKind, dir: &Path) -> Vec<(PathBuf, Verdict)> {
    let target = target(name);
    let inputs = replay::collect_inputs(&[dir.to_path_buf()]).unwrap();
    inputs
        .into_iter()
        .map(|path| {
            let data = std::fs::read(&path).unwrap();
            target.check(kind, &data).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
            let verdict = replay::replay_within(move |data| target.run_as(kind, data), data, replay::Limits::default());
            (path, verdict)
        })
        .collect()
}

/// Fuzz inputs in `regressions/<target>/`, inputs in a target's
/// structured form in `regressions/<target>/<form>/`.
#[test]
fn regression_inputs_replay_without_findings() {
    for target in &reference::TARGETS {
        for (path, verdict) in replay::replay_regressions(target, &Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")).unwrap() {
            assert!(!verdict.is_finding(), "{}: {}", path.display(), verdict.summary());
        }
    }
}

#[test]
fn raw_bytes_seeds_replay_quietly_and_reach_their_stages() {
    let replayed = replay_dir("raw_bytes", &corpus("raw_bytes"));
    assert!(replayed.len() >= 10, "only {} seeds", replayed.len());
    for (path, verdict) in replayed {
        let Verdict::Ran(report) = &verdict else { panic!("{}: {}", path.display(), verdict.summary()) };
        let name = path.file_name().unwrap().to_string_lossy();
        let stage = report.outcome.stage;
        if name.starts_with("malformed_") {
            assert_eq!(stage, Stage::Parse, "{name}");
        } else if name.starts_with("invalid_") {
            assert_eq!(stage, Stage::Validate, "{name}");
        } else if name.starts_with("abi_") {
            assert_eq!(stage, Stage::AbiCheck, "{name}");
        } else if name.starts_with("instantiate_") {
            assert_eq!(stage, Stage::Instantiate, "{name}: {}", report.outcome.end);
        } else {
            assert!(stage >= Stage::Execute, "{name} stopped at {stage}: {}", report.outcome.end);
        }
    }
}
