//! A team's own repository, outside this workspace: `examples/minimal-embedder`
//! (a plain wasmtime loader behind the seam, its own `harness` command and
//! cargo-fuzz package) copied into a temporary folder with the suite's
//! crates by path, then its command built and run as its users would: `list`,
//! `repro` of its seeds, and a 30-second campaign.
//!
//! Its builds share this workspace's target folders ($CARGO_TARGET_DIR and
//! $SUITE_FUZZ_TARGET_DIR when set), so a second run compiles only its own
//! crate; the first builds its wasmtime (several minutes).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The suite's repository.
fn suite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// This test binary's cargo target folder (`<target>/debug/deps/out_of_tree-…`).
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::current_exe().unwrap().ancestors().nth(3).unwrap().to_path_buf())
}

/// Copies `from` into `to`, pointing every `path = "../…"` dependency on the
/// suite's crates at the suite itself.
fn copy_out(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "target" {
                copy_out(&entry.path(), &target);
            }
        } else if entry.file_name() == "Cargo.toml" {
            let manifest = std::fs::read_to_string(entry.path()).unwrap();
            let suite = suite().display().to_string();
            let rewritten = ["contract", "harness", "driver"].iter().fold(manifest, |text, krate| {
                text.replace(&format!("\"../../{krate}\""), &format!("\"{suite}/{krate}\""))
                    .replace(&format!("\"../../../{krate}\""), &format!("\"{suite}/{krate}\""))
            });
            std::fs::write(&target, rewritten).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The user's fuzzing command, `cargo run` in their repository.
fn harness(repo: &Path, args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--locked", "--bin", "mini-harness", "--"])
        .args(args)
        .current_dir(repo)
        .env("CARGO_TARGET_DIR", target_dir())
        .env(
            "SUITE_FUZZ_TARGET_DIR",
            std::env::var_os("SUITE_FUZZ_TARGET_DIR").map_or_else(|| target_dir().join("minimal-embedder-fuzz"), PathBuf::from),
        )
        .output()
        .unwrap();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    assert!(output.status.code().is_some(), "harness {args:?} was killed:\n{}", text(&output.stderr));
    output
}

#[test]
fn a_repository_with_its_own_embedder_repros_its_seeds_and_fuzzes_through_the_driver() {
    let outside = tempfile::tempdir().unwrap();
    let repo = outside.path().join("minimal-embedder");
    copy_out(&suite().join("examples/minimal-embedder"), &repo);
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();

    let list = harness(&repo, &["list"]);
    assert!(list.status.success(), "list failed:\n{}", text(&list.stderr));
    let names: Vec<String> = text(&list.stdout).lines().filter_map(|line| line.split_whitespace().next().map(str::to_owned)).collect();
    assert_eq!(names, ["mini_raw_bytes", "mini_invalid_module", "mini_memory_probe", "selftest"]);

    let repro = harness(&repo, &["repro", "mini_raw_bytes", "corpus/mini_raw_bytes"]);
    let printed = text(&repro.stdout);
    assert!(repro.status.success(), "repro failed:\n{printed}\n{}", text(&repro.stderr));
    assert!(printed.contains("exports-main-and-memory.wasm") && printed.contains("execute"), "the seed did not run to the end:\n{printed}");

    let out = outside.path().join("campaign");
    let campaign = harness(
        &repo,
        &["campaign", "--targets", "mini_raw_bytes", "--time", "30s", "--seed", "7", "--bench-time", "2s", "--out", out.to_str().unwrap()],
    );
    assert!(campaign.status.success(), "the campaign failed or found something:\n{}\n{}", text(&campaign.stdout), text(&campaign.stderr));
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let fuzzed = &summary["targets"]["mini_raw_bytes"];
    assert!(fuzzed["execs"].as_u64().unwrap() > 1000, "too few executions: {fuzzed}");
    assert!(fuzzed["stages"]["execute"].as_u64().unwrap_or(0) > 0, "no corpus input ran its module: {fuzzed}");
}
