//! The `harness` binary as a user runs it.

use std::path::Path;
use std::process::{Command, Output};

fn harness(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harness")).args(args).output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn list_names_every_target_with_its_embedder() {
    let output = harness(&["list"]);
    assert!(output.status.success());
    let text = stdout(&output);
    // Every embedder in cli/Cargo.toml: build.rs found both without an edit of main.rs.
    #[cfg(feature = "extism")]
    let extism = extism_embedder::TARGETS.iter();
    #[cfg(not(feature = "extism"))]
    let extism = [].iter();
    for target in reference::TARGETS.iter().chain(extism).chain([&harness::targets::SELFTEST]) {
        let line = text.lines().find(|line| line.split_whitespace().next() == Some(target.name)).unwrap_or_default();
        assert_eq!(line.split_whitespace().nth(1), Some(target.embedder), "{text}");
    }
    let memory_probe = text.lines().find(|line| line.starts_with("memory_probe")).unwrap_or_default();
    assert!(memory_probe.ends_with("[libFuzzer: -entropic=0]"), "{memory_probe}");
    let campaign = stdout(&harness(&["list", "--campaign"]));
    assert_eq!(campaign.lines().collect::<Vec<_>>(), ["raw_bytes", "invalid_module", "memory_probe", "host_calls"]);
}

#[test]
fn repro_of_the_seed_corpus_prints_a_line_per_file_and_exits_0() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../embedders/reference/corpus/raw_bytes");
    let output = harness(&["repro", "raw_bytes", seeds.to_str().unwrap()]);
    let text = stdout(&output);
    assert!(output.status.success(), "{text}");
    let files = std::fs::read_dir(&seeds).unwrap().count();
    assert_eq!(text.lines().filter(|line| line.contains("corpus/raw_bytes/")).count(), files, "{text}");
    assert!(text.contains("echo.wasm  host-call    ok"), "{text}");
}

#[test]
fn repro_reports_crashes_and_hangs_keeps_going_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    for (name, data) in [("1-crash", &b"crash!"[..]), ("2-hang", b"hang"), ("3-fine", b"\0asm\x01\0\0\0")] {
        std::fs::write(dir.path().join(name), data).unwrap();
    }
    let output = harness(&["repro", "selftest", "--timeout", "1", dir.path().to_str().unwrap()]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let line = |name: &str| text.lines().find(|line| line.contains(name)).unwrap_or_default().to_owned();
    assert!(line("1-crash").contains("CRASH        selftest: crash requested by the input"), "{text}");
    assert!(line("2-hang").contains("HANG"), "{text}");
    assert!(line("3-fine").contains("size-check"), "{text}");
    assert!(text.contains("3 inputs, 2 findings"), "{text}");
}

#[test]
fn usage_errors_name_the_problem_and_exit_2() {
    let output = harness(&["repro", "no_such_target", "."]);
    assert_eq!(output.status.code(), Some(2));
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("unknown target `no_such_target`") && error.contains("raw_bytes"), "{error}");

    let output = harness(&["repro", "raw_bytes", "/no/such/file"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("/no/such/file"));
}

#[test]
fn coverage_usage_errors_name_the_problem_and_exit_2() {
    let cases: [(&[&str], &str); 4] = [
        (&["coverage", "no_such_target"], "unknown target `no_such_target`"),
        (&["coverage", "--corpus", "/no/such/corpus"], "/no/such/corpus"),
        (&["coverage", "raw_bytes", "--floor", "ci/coverage-floor.json"], "name no targets"),
        (&["coverage", "--update-floor"], "--floor"),
    ];
    for (args, expected) in cases {
        let output = harness(args);
        let error = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {error}");
        assert!(error.contains(expected), "{args:?}: {error}");
        assert!(!error.contains("panicked"), "{error}");
    }
}

#[test]
fn repro_replays_structured_inputs_and_refuses_a_file_in_the_wrong_form() {
    use harness::commands::{Command, codec};
    let dir = tempfile::tempdir().unwrap();
    let commands = dir.path().join("commands");
    let list = [Command::Write { address: 300, bytes: b"hello".to_vec() }, Command::host(1, &[300, 5])];
    std::fs::write(&commands, codec::encode(&list)).unwrap();
    let output = harness(&["repro", "host_calls", "--input-kind", "commands", commands.to_str().unwrap()]);
    let text = stdout(&output);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("commands  host-call    ok"), "{text}");

    let module = dir.path().join("module.wasm");
    let wat = r#"(module (import "host" "read_request" (func (param i32 i32) (result i32))) (memory (export "memory") 1)
        (func (export "main") (drop (memory.grow (i32.const 1)))) (func (export "alloc") (param i32) (result i32) i32.const 64))"#;
    std::fs::write(&module, wat::parse_str(wat).unwrap()).unwrap();
    let output = harness(&["repro", "memory_probe", "--input-kind", "module", module.to_str().unwrap()]);
    let text = stdout(&output);
    assert!(output.status.success() && text.contains("module.wasm  execute      ok"), "{text}");

    // A fuzz input is not a command list, nor a module; the error is one line and exits 2.
    let fuzz = dir.path().join("fuzz");
    std::fs::write(&fuzz, b"\x07 some fuzz bytes").unwrap();
    for (target, kind, expected) in [("host_calls", "commands", "not a host_calls command list"), ("invalid_module", "module", "not a Wasm module")] {
        let output = harness(&["repro", target, "--input-kind", kind, fuzz.to_str().unwrap()]);
        let error = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{error}");
        assert_eq!(error.lines().count(), 1, "{error}");
        assert!(error.contains(fuzz.to_str().unwrap()) && error.contains(expected), "{error}");
    }
    let output = harness(&["repro", "selftest", "--input-kind", "module", module.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("target `selftest` has no `module` input"));

    let help = stdout(&harness(&["repro", "--help"]));
    assert!(help.contains("--input-kind") && help.contains("commands"), "{help}");
}

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../embedders/reference/corpus/raw_bytes");
    let mut child = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["repro", "raw_bytes", seeds.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // As `| head -0` would: the reader goes away before the first line.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{stderr}");
}

#[test]
fn arguments_are_checked_before_any_long_work() {
    let cases: [(&[&str], &str); 4] = [
        (&["coverage", "--floor", "/no/such/floor.json"], "/no/such/floor.json"),
        (&["campaign", "--rss-limit-mb", "0"], "--rss-limit-mb"),
        (&["run", "raw_bytes", "--timeout", "0"], "--timeout"),
        (&["campaign", "--time", "10 parsecs"], "--time"),
    ];
    for (args, expected) in cases {
        let output = harness(args);
        let error = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {error}");
        assert!(error.contains(expected), "{args:?}: {error}");
        assert!(!error.contains("building"), "{args:?} started building: {error}");
    }
}

#[test]
fn the_profile_decides_which_wasm_features_the_loader_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("simd.wasm");
    let simd = r#"(module (memory (export "memory") 1)
        (func (export "alloc") (param i32) (result i32) (i32.const 0))
        (func (export "main") (drop (i8x16.splat (i32.const 1)))))"#;
    std::fs::write(&module, wat::parse_str(simd).unwrap()).unwrap();
    let line = |args: &[&str]| {
        let output = harness(args);
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        stdout(&output).lines().next().unwrap_or_default().to_owned()
    };
    let path = module.to_str().unwrap();
    assert!(line(&["repro", "raw_bytes", path]).contains("validate"), "SIMD is off under fuzzing");
    assert!(line(&["repro", "--profile", "production", "raw_bytes", path]).contains("execute      ok"), "SIMD is on under production");
    assert!(line(&["--profile", "production", "repro", "raw_bytes", path]).contains("execute      ok"), "before the command too");

    let output = harness(&["repro", "--profile", "release", "raw_bytes", path]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("\"release\" is not a profile"));
    let output = Command::new(env!("CARGO_BIN_EXE_harness")).args(["repro", "raw_bytes", path]).env("SUITE_PROFILE", "release").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("SUITE_PROFILE=release is not a profile"));
}

#[test]
fn the_regressions_replay_quietly_in_the_binary_that_counts_the_host_heap() {
    // `cargo test` binaries do not count the heap; `harness` does, as the fuzz targets do.
    let regressions = Path::new(env!("CARGO_MANIFEST_DIR")).join("../embedders/reference/regressions/host_calls");
    for (kind, folder) in [("fuzz", regressions.clone()), ("commands", regressions.join("commands"))] {
        let files: Vec<_> = std::fs::read_dir(&folder).unwrap().map(|entry| entry.unwrap().path()).filter(|path| path.is_file()).collect();
        let mut args = vec!["repro", "host_calls", "--input-kind", kind];
        args.extend(files.iter().map(|path| path.to_str().unwrap()));
        let output = harness(&args);
        assert!(output.status.success(), "{}", stdout(&output));
    }
}

#[test]
fn bench_runs_a_target_beside_its_bare_work_and_writes_the_table_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("bench.json");
    let output = harness(&["bench", "raw_bytes", "--time", "3s", "--generated", "40", "--json", json.to_str().unwrap()]);
    let text = stdout(&output);
    assert!(output.status.success(), "{text}{}", String::from_utf8_lossy(&output.stderr));
    assert!(text.lines().next().is_some_and(|line| line.starts_with("raw_bytes") && line.contains("bare/layer")), "{text}");
    let table: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(table["profile"], "fuzzing");
    let row = &table["targets"][0];
    assert_eq!(row["target"], "raw_bytes");
    assert_eq!(row["embedder"], "reference");
    assert!(row["execs"].as_u64().unwrap() > 0, "{row}");
    assert!(row["exec_per_s"].as_f64().unwrap() > 0.0 && row["bare_exec_per_s"].as_f64().unwrap() > 0.0, "{row}");
    let ratio = row["bare_over_layer"].as_f64().unwrap();
    let expected = row["bare_exec_per_s"].as_f64().unwrap() / row["exec_per_s"].as_f64().unwrap();
    assert!((ratio - expected).abs() < 1e-6, "{row}");
    let phases = row["phase_us_per_input"].as_object().unwrap();
    for phase in ["load", "oracle:verdict", "oracle:messages", "other"] {
        assert!(phases.contains_key(phase), "{phase} missing: {row}");
    }
    assert!(phases.contains_key(row["costliest_phase"].as_str().unwrap()), "{row}");
}

#[test]
fn bench_refuses_the_selftest_target_by_name() {
    let output = harness(&["bench", "selftest", "--time", "1s"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("`selftest` fuzzes no layer"));
}
