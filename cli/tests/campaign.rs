//! Campaigns against real libFuzzer runs of the `selftest` target, which
//! crashes, hangs and exhausts memory on purpose.
//!
//! These tests build the fuzz targets through `harness campaign` (cargo-fuzz
//! must be installed: scripts/setup.sh) and take a few minutes.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const HARNESS: &str = env!("CARGO_BIN_EXE_harness");

fn campaign(out: &Path, time: &str) -> Command {
    let mut command = Command::new(HARNESS);
    command
        .args(["campaign", "--targets", "selftest", "--time", time, "--timeout", "1", "--rss-limit-mb", "512", "--seed", "7"])
        .arg("--out")
        .arg(out);
    command
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn files(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(Result::ok).map(|entry| entry.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default()
}

#[test]
fn a_selftest_campaign_finds_groups_minimizes_and_reports_all_three_kinds() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("campaign");
    let output: Output = campaign(&out, "2m").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "a campaign with findings exits 1\n{stderr}");

    let summary = read_json(&out.join("summary.json"));
    let all = summary["findings"].as_array().unwrap();
    // libFuzzer's watchdogs (the timeout alarm, the RSS thread) blame the
    // unit running when they fire, among them the empty unit each process
    // runs first: on a stalled machine that gives a finding of an empty
    // input, which no replay reproduces. The campaign keeps it as reported.
    let (findings, watchdogs): (Vec<&Value>, Vec<&Value>) =
        all.iter().partition(|finding| !(finding["reproduced"] == "no" && finding["size_before"] == 0));
    for stray in &watchdogs {
        assert!(["hang", "oom"].contains(&stray["signature"]["kind"].as_str().unwrap()), "{stray}");
    }
    let kinds: Vec<&str> = findings.iter().map(|finding| finding["signature"]["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.len(), 3, "one group per kind: {kinds:?}\n{stderr}");
    assert_eq!(kinds.iter().collect::<BTreeSet<_>>(), ["crash", "hang", "oom"].iter().collect(), "{kinds:?}");
    for finding in &findings {
        assert_eq!(finding["deterministic"], true, "{finding}");
        let (before, after) = (finding["size_before"].as_u64().unwrap(), finding["size_after"].as_u64().unwrap());
        assert!(after <= before && after > 0, "{finding}");
        let minimized = Path::new(finding["minimized"].as_str().unwrap());
        let prefix = std::fs::read(minimized).unwrap();
        let expected: &[u8] = match finding["signature"]["kind"].as_str().unwrap() {
            "crash" => b"crash",
            "hang" => b"hang",
            _ => b"oom",
        };
        assert_eq!(prefix, expected, "minimized to exactly the trigger");
        // The recorded command reproduces it on stable.
        let reproduce = finding["reproduce"].as_str().unwrap();
        let arguments: Vec<&str> = reproduce.strip_prefix("cargo harness ").unwrap().split(' ').collect();
        let replay = Command::new(HARNESS).args(&arguments).args(["--timeout", "2", "--rss-limit-mb", "512"]).output().unwrap();
        assert_eq!(replay.status.code(), Some(1), "{reproduce}");
        let line = String::from_utf8_lossy(&replay.stdout).to_string();
        let marker = match finding["signature"]["kind"].as_str().unwrap() {
            "crash" => "CRASH",
            "hang" => "HANG",
            _ => "OOM",
        };
        assert!(line.contains(marker), "{reproduce}: {line}");
    }
    let crash = findings.iter().find(|finding| finding["signature"]["kind"] == "crash").unwrap();
    assert!(crash["signature"]["location"].as_str().unwrap().starts_with("harness/src/selftest.rs:"), "{crash}");

    let target = &summary["targets"]["selftest"];
    assert!(target["execs"].as_u64().unwrap() > 0 && target["cov"].as_u64().unwrap() > 0, "{target}");
    assert!(target["fuzzer_runs"].as_u64().unwrap() >= 3, "restarted past findings: {target}");

    let sarif = read_json(&out.join("results.sarif"));
    // The OASIS SARIF 2.1.0 schema, with the erratum to its `language` pattern
    // applied (the published pattern is not a valid regex).
    let schema = read_json(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas/sarif-schema-2.1.0.json"));
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&sarif).map(|error| error.to_string()).collect();
    assert!(errors.is_empty(), "results.sarif is not valid SARIF 2.1.0: {errors:?}");
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), all.len());

    let report = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    assert!(report.contains("| `selftest` |") && report.contains("cargo harness repro --profile fuzzing selftest"), "{report}");
    assert!(report.contains("profile fuzzing"), "{report}");
    assert_eq!(summary["profile"], "fuzzing");
}

#[test]
fn a_killed_campaign_resumes_without_losing_findings_or_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("campaign");
    let mut first = campaign(&out, "5m");
    std::os::unix::process::CommandExt::process_group(&mut first, 0);
    let mut child = first.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let corpus = out.join("corpus/selftest");
    let artifacts = out.join("artifacts/selftest");
    let started = Instant::now();
    while files(&artifacts).is_empty() || files(&corpus).len() < 2 {
        assert!(started.elapsed() < Duration::from_secs(900), "no finding or corpus in time");
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(2));
    // Kill the whole process group: harness, cargo and libFuzzer, without warning.
    // The `--` matters: Debian's procps-ng 4.0.2 `kill` reads `-KILL -<pgid>`
    // as `kill(-1, SIGKILL)` and kills every process of the user, CI included.
    let group = i32::try_from(child.id()).unwrap();
    assert!(group > 1, "a process group of its own: {group}");
    let killed = Command::new("kill").args(["-s", "KILL", "--", &format!("-{group}")]).status().unwrap();
    assert!(killed.success(), "kill -s KILL -- -{group}: {killed}");
    let _ = child.wait();
    let corpus_before = files(&corpus);
    let artifacts_before = files(&artifacts);

    let rerun = campaign(&out, "20s").output().unwrap();
    let stderr = String::from_utf8_lossy(&rerun.stderr);
    assert!(rerun.status.code().is_some_and(|code| code <= 1), "{stderr}");
    let artifacts_after = files(&artifacts);
    assert!(artifacts_before.is_subset(&artifacts_after), "artifacts lost: {artifacts_before:?} vs {artifacts_after:?}");
    let summary = read_json(&out.join("summary.json"));
    let triaged: BTreeSet<String> = summary["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|finding| finding["inputs"].as_array().unwrap().iter())
        .map(|input| Path::new(input.as_str().unwrap()).file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let reproducible: BTreeSet<String> = artifacts_before.iter().filter(|name| !name.starts_with("slow")).cloned().collect();
    assert!(reproducible.is_subset(&triaged), "findings of the first run not triaged: {reproducible:?} vs {triaged:?}");
    // The rerun fuzzed from the first run's corpus: libFuzzer found every file of it.
    let log = std::fs::read_to_string(out.join("logs/selftest.log")).unwrap();
    let loaded: Vec<usize> = log
        .lines()
        .filter(|line| line.contains("files found in") && line.contains("corpus/selftest"))
        .filter_map(|line| line.split_whitespace().nth(1)?.parse().ok())
        .collect();
    assert!(loaded.iter().any(|count| *count >= corpus_before.len()), "rerun loaded {loaded:?}, first corpus had {}", corpus_before.len());
}

#[test]
fn a_crash_that_no_replay_reproduces_is_still_reported_and_fails_the_campaign() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("campaign");
    // Every input after the 100th of a process crashes: libFuzzer sees
    // crashes, but a replay of any one input (in-process or by the fuzz
    // binary) does not, nor one after the 63 inputs a history keeps before it.
    let output = campaign(&out, "20s").env("SELFTEST_CRASH_AFTER", "100").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "a finding that does not reproduce still fails the campaign\n{stderr}");

    let summary = read_json(&out.join("summary.json"));
    let findings = summary["findings"].as_array().unwrap();
    let lost = findings.iter().find(|finding| finding["reproduced"] == "no").unwrap_or_else(|| panic!("{findings:?}\n{stderr}"));
    assert_eq!(lost["signature"]["kind"], "crash", "{lost}");
    assert_eq!(lost["signature"]["location"], "not reproduced", "{lost}");
    let inputs = lost["inputs"].as_array().unwrap();
    assert!(!inputs.is_empty() && inputs.iter().all(|input| Path::new(input.as_str().unwrap()).is_file()), "inputs kept: {lost}");
    assert!(
        lost["reproduce"].as_str().unwrap().starts_with("SUITE_PROFILE=fuzzing cargo fuzz run -s none --fuzz-dir embedders/reference/fuzz selftest "),
        "{lost}"
    );

    let report = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    assert!(report.contains("not reproduced") && !report.contains("No crash, hang or out-of-memory was found"), "{report}");
    let sarif = read_json(&out.join("results.sarif"));
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|result| result["message"]["text"].as_str().unwrap().contains("Reproduced: not reproduced")), "{sarif}");
}

#[test]
fn a_crash_that_needs_the_inputs_before_it_is_reported_with_them_and_replays_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("campaign");
    // Every input after the 20th of a process crashes: alone no input
    // reproduces, after the 20 its process ran before it every one does.
    let output = campaign(&out, "15s").env("SELFTEST_CRASH_AFTER", "20").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");

    let summary = read_json(&out.join("summary.json"));
    let findings = summary["findings"].as_array().unwrap();
    let after = findings.iter().find(|finding| finding["reproduced"] == "after-preceding").unwrap_or_else(|| panic!("{findings:?}\n{stderr}"));
    assert!(after["signature"]["location"].as_str().unwrap().starts_with("harness/src/selftest.rs:"), "{after}");
    let preceding = after["preceding"].as_array().unwrap();
    assert_eq!(preceding.len(), 20, "the 20 inputs it needs, and no more: {after}");
    let reproduce = after["reproduce"].as_str().unwrap();
    let (command, files) = reproduce.split_once(" selftest ").unwrap();
    assert_eq!(command, "cargo harness repro --profile fuzzing", "{reproduce}");
    let files: Vec<&str> = files.split(' ').collect();
    assert!(files.len() == 2 && files[0].ends_with("/preceding") && Path::new(files[1]).is_file(), "{reproduce}");

    // The recorded command replays them in order and the last one crashes.
    let replay =
        Command::new(HARNESS).args(["repro", "--profile", "fuzzing", "selftest"]).args(&files).env("SELFTEST_CRASH_AFTER", "20").output().unwrap();
    let text = String::from_utf8_lossy(&replay.stdout);
    assert_eq!(replay.status.code(), Some(1), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 22, "a line per input and the summary: {text}");
    assert!(lines[..20].iter().all(|line| !line.contains("CRASH")) && lines[20].contains("CRASH"), "{text}");
    assert_eq!(lines[21], "21 inputs, 1 findings", "{text}");
    let report = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    assert!(report.contains("after the inputs before it"), "{report}");
}

#[test]
fn a_seed_that_is_itself_a_finding_is_set_aside_and_fuzzing_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("campaign");
    // The campaign's corpus (resumed by a campaign with this --out) holds a crashing input.
    std::fs::create_dir_all(out.join("corpus/selftest")).unwrap();
    std::fs::write(out.join("corpus/selftest/crashing-seed"), "crash!").unwrap();
    let output = campaign(&out, "15s").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");

    let summary = read_json(&out.join("summary.json"));
    let target = &summary["targets"]["selftest"];
    assert_eq!(target["stopped_early"], Value::Null, "{target}\n{stderr}");
    assert!(target["set_aside"].as_u64().unwrap() >= 1, "{target}");
    assert!(target["fuzzer_runs"].as_u64().unwrap() >= 2 && target["execs"].as_u64().unwrap() > 100, "fuzzing went on: {target}");
    assert!(!out.join("corpus/selftest/crashing-seed").exists(), "set aside");
    let findings = summary["findings"].as_array().unwrap();
    assert!(
        findings.iter().any(|finding| finding["signature"]["location"].as_str().unwrap().starts_with("harness/src/selftest.rs:")),
        "{findings:?}"
    );
}
