//! Extism 1.30's findings written up in `embedders/extism/findings/`: each reproducer
//! still shows its behaviour when known defects are reported (as `harness
//! repro --report-known` replays it), and campaigns pass over it otherwise,
//! labelled `known:<id>`. When a newer Extism changes one, its test here
//! fails: then the finding is closed and its entry leaves
//! `abi::KNOWN_DEFECTS`. The verdict on each (defect, or a note on
//! behaviour Extism chose, whose test checks the note is still true) is in
//! its write-up and in `embedders/extism/findings/REPORT.md`.

use std::os::unix::process::ExitStatusExt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::Command;

use contract::Policy;
use extism_embedder::abi::KNOWN_DEFECTS;
use extism_embedder::{subject, subject_with};
use harness::Subject;
use harness::abi::known;
use harness::embedder::{self, Store};
use harness::memory_probe::resources::{Declared, Place, REQUEST, Resource, ResourceModule, check_sizes};

fn findings() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("findings")
}

/// The reproducer of finding `id`, checked against its WAT source.
fn reproducer(id: &str) -> Vec<u8> {
    let source = findings().join(format!("{id}.wat"));
    let compiled = wat::parse_file(&source).unwrap_or_else(|error| panic!("{}: {error}", source.display()));
    let binary = findings().join(format!("{id}.wasm"));
    if std::env::var_os("UPDATE_SEEDS").is_some() {
        std::fs::write(&binary, &compiled).unwrap();
    }
    let stored = std::fs::read(&binary).unwrap_or_default();
    assert!(stored == compiled, "{} is stale: run UPDATE_SEEDS=1 cargo test --workspace --test known_findings", binary.display());
    compiled
}

/// Extism with no defect known: every oracle reports what it sees.
fn reporting() -> Subject {
    let mut subject = subject_with(Policy::fuzzing()).unwrap();
    subject.abi.known_defects.clear();
    subject
}

/// The panic message of `run`, if it panicked.
fn panic_of(run: impl FnOnce()) -> Option<String> {
    let payload = catch_unwind(AssertUnwindSafe(run)).err()?;
    payload.downcast_ref::<String>().cloned().or_else(|| payload.downcast_ref::<&str>().map(|text| (*text).to_owned()))
}

/// The resource generator's module probing `resource` at `place`, with
/// table 0 and memory 0 declared at one element and one page, no maximum.
fn probe(resource: Resource, place: Place) -> ResourceModule {
    let unbounded = Declared { minimum: 1, maximum: None };
    ResourceModule { resource, place, table: unbounded, memory: unbounded, table_ops: true }
}

/// The reproducer of finding `id`, which must be `module` as the generator
/// encodes it for Extism (`UPDATE_SEEDS=1` writes its WAT).
fn generated_reproducer(id: &str, module: &ResourceModule) -> Vec<u8> {
    let generated = module.encode(&reporting().abi);
    if std::env::var_os("UPDATE_SEEDS").is_some() {
        std::fs::write(findings().join(format!("{id}.wat")), wasmprinter::print_bytes(&generated).unwrap()).unwrap();
    }
    let stored = reproducer(id);
    assert!(
        stored == generated,
        "the reproducer is no longer the generator's module: run UPDATE_SEEDS=1 cargo test --workspace --test known_findings"
    );
    stored
}

#[test]
fn every_known_defect_has_a_write_up_and_a_reproducer() {
    for defect in KNOWN_DEFECTS {
        let id = defect.id();
        let write_up = std::fs::read_to_string(findings().join(format!("{id}.md"))).unwrap_or_default();
        assert!(write_up.contains("Extism 1.30.0") && write_up.contains("## Suggested fix"), "embedders/extism/findings/{id}.md");
        reproducer(id);
    }
}

#[test]
fn declared_maximum_refused_still_reproduces() {
    let module = reproducer("declared-maximum-refused");
    let message = panic_of(|| {
        harness::memory_probe::run_module(&reporting(), &module);
    });
    let expected = "oracle: call 0: the embedder ended at its memory limit, but the module asks for no memory past the cap";
    assert!(message.as_deref().is_some_and(|message| message.starts_with(expected)), "{message:?}");
    let passed_over = harness::memory_probe::run_module(subject(), &module);
    assert!(passed_over.labels.contains(&known::label("declared-maximum-refused")), "{:?}", passed_over.labels);
}

#[test]
fn max_pages_excludes_initial_memory_still_reproduces() {
    let module = reproducer("max-pages-excludes-initial-memory");
    let message = panic_of(|| {
        harness::memory_probe::run_module(&reporting(), &module);
    });
    let expected = "oracle: the guest saw 33554432 bytes of memory, past the declared cap of 16777216";
    assert_eq!(message.as_deref(), Some(expected));
    let passed_over = harness::memory_probe::run_module(subject(), &module);
    assert!(passed_over.labels.contains(&known::label("max-pages-excludes-initial-memory")), "{:?}", passed_over.labels);
}

/// The resource generator's module behind `table-growth-uncapped`: table 0,
/// declared without a maximum, grows by 2,000,000 elements at the entry
/// point, which answers with its size.
fn growing_table() -> ResourceModule {
    probe(Resource::TableGrow { delta: 2_000_000 }, Place::Entry)
}

#[test]
fn table_growth_uncapped_still_reproduces() {
    let reporting = reporting();
    let module = generated_reproducer("table-growth-uncapped", &growing_table());
    let outcome = harness::exclusive::run(|| reporting.embedder.load(&module, &Store::new()).unwrap().invoke(REQUEST, None));
    let message = panic_of(|| {
        check_sizes(&reporting.abi, &growing_table(), &outcome, 0);
    });
    let expected =
        "oracle: table 0 holds 2000001 elements after the table-grow probe ran at the entry, past the suite's ceiling (no cap promised) of 1048576";
    assert_eq!(message.as_deref(), Some(expected));
    assert_eq!(check_sizes(&subject().abi, &growing_table(), &outcome, 0), ["table-growth-uncapped"]);
}

/// The resource generator's module behind `open-files-uncapped`: the entry
/// point opens the allowed directory 2,000 times, closing none, and answers
/// with how many opens succeeded.
fn opening_files() -> ResourceModule {
    probe(Resource::OpenFiles { count: 2_000 }, Place::Entry)
}

/// Runs finding `id`'s reproducer, the generator's `module`, once in a
/// sandbox: with known defects reported, the cap oracle on what the guest
/// saw fails with `expected`; otherwise it passes over the run for `id`.
fn reported_then_passed_over(id: &str, module: &ResourceModule, expected: &str) {
    let reporting = reporting();
    let bytes = generated_reproducer(id, module);
    let sandbox = tempfile::tempdir().unwrap();
    let outcome = harness::exclusive::run(|| reporting.embedder.load(&bytes, &Store::new()).unwrap().invoke(REQUEST, Some(sandbox.path())));
    let message = panic_of(|| {
        check_sizes(&reporting.abi, module, &outcome, 0);
    });
    assert_eq!(message.as_deref(), Some(expected));
    assert_eq!(check_sizes(&subject().abi, module, &outcome, 0), [id]);
    harness::scratch::remove_tree(sandbox.path()).unwrap();
}

#[test]
fn open_files_uncapped_still_reproduces() {
    let expected = "oracle: the guest held 2000 files open at once after the open-files probe ran at the entry, past the suite's ceiling (no cap promised) of 1024";
    reported_then_passed_over("open-files-uncapped", &opening_files(), expected);
}

/// A run of the layer passes over the note and reports nothing else: the
/// answer to 1,025 opens (the suite's ceiling plus one, a boundary the
/// generator draws) holds a table size, a memory size and the opens, and
/// no oracle reads the opens as a size of memory.
#[test]
fn a_campaign_passes_over_open_files_past_the_ceiling_and_reads_no_pages_from_them() {
    let module = probe(Resource::OpenFiles { count: 1_025 }, Place::Entry);
    let report = harness::memory_probe::run_resource_module(subject(), &module);
    assert_eq!(module.answer(&report.outcome.response).and_then(|answer| answer.held), Some(1_025), "{:?}", report.outcome);
    assert!(report.labels.contains(&known::label("open-files-uncapped")), "{:?}", report.labels);
}

/// The resource generator's module behind `sandbox-entries-uncapped`: the
/// entry point makes 3,000 folders, each in the one before (past
/// `PATH_MAX`), and answers with how many it made.
fn nesting_folders() -> ResourceModule {
    probe(Resource::Directories { count: 3_000, nested: true }, Place::Entry)
}

#[test]
fn sandbox_entries_uncapped_still_reproduces() {
    let expected = "oracle: the guest held 3000 folders in the sandbox after the directory-depth probe ran at the entry, past the suite's ceiling (no cap promised) of 1024";
    reported_then_passed_over("sandbox-entries-uncapped", &nesting_folders(), expected);
}

/// The resource generator's module behind `memory-unlimited-at-plugin-creation`:
/// memory 0 grows by 8,192 pages (512 MiB, the most the generator grows by at
/// load), every page written, in the start function, which Extism runs while
/// it creates the plugin.
fn growing_memory_at_load() -> ResourceModule {
    probe(Resource::MemoryGrow { delta: 8_192 }, Place::Start)
}

#[test]
fn memory_unlimited_at_plugin_creation_still_reproduces() {
    let id = "memory-unlimited-at-plugin-creation";
    let reporting = reporting();
    generated_reproducer(id, &growing_memory_at_load());
    let message = panic_of(|| {
        harness::memory_probe::run_resource_module(&reporting, &growing_memory_at_load());
    });
    let expected = "oracle: the host-memory budget did not hold during a load: the resident set rose by ";
    assert!(message.as_deref().is_some_and(|message| message.starts_with(expected)), "{message:?}");
    let passed_over = harness::memory_probe::run_resource_module(subject(), &growing_memory_at_load());
    assert!(passed_over.labels.contains(&known::label(id)), "{:?}", passed_over.labels);
}

/// The end of a call of `module`'s `run` in a plugin with a 50 ms timeout
/// and no fuel limit, and how long the call took.
fn call_with_timeout_only(module: &[u8]) -> (Result<Vec<u8>, String>, std::time::Duration) {
    let manifest = extism::Manifest::new([extism::Wasm::data(module.to_vec())]).with_timeout(std::time::Duration::from_millis(50));
    let mut plugin = extism::PluginBuilder::new(manifest).with_wasi(false).build().unwrap();
    let started = std::time::Instant::now();
    let result = plugin.call::<&[u8], Vec<u8>>("run", b"").map_err(|error| format!("{error:#}"));
    (result, started.elapsed())
}

#[test]
fn timeout_excludes_instantiation_still_reproduces() {
    // The same count inside `run` is stopped by the timeout ...
    let in_run = wat::parse_str(
        r#"(module (func (export "run") (result i32) (local $i i64)
            (loop $again
              (local.set $i (i64.add (local.get $i) (i64.const 1)))
              (br_if $again (i64.lt_u (local.get $i) (i64.const 0x80000000))))
            (i32.const 0)))"#,
    )
    .unwrap();
    let (stopped, _) = call_with_timeout_only(&in_run);
    assert!(stopped.as_ref().is_err_and(|error| error.contains("timeout")), "{stopped:?}");
    // ... but not in the start function, which Extism runs before it starts the timer.
    let (result, took) = call_with_timeout_only(&reproducer("timeout-excludes-instantiation"));
    assert!(result.is_ok(), "the timeout now covers instantiation ({result:?} after {took:?}): update the note");
}

/// Set in the child process that runs the crashing reproducer.
const CRASH_CHILD: &str = "EXTISM_FINDING_CRASH_CHILD";

#[test]
fn unchecked_memory_bytes_still_crashes_the_host() {
    let module = reproducer("unchecked-memory-bytes");
    if std::env::var_os(CRASH_CHILD).is_some() {
        // The child: this call is expected to take the process down.
        embedder::run(&*subject().embedder, &module, b"", &Store::new());
        return;
    }
    let test = "unchecked_memory_bytes_still_crashes_the_host";
    let child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads", "1"])
        .env(CRASH_CHILD, "1")
        .output()
        .unwrap();
    // SIGSEGV reading past the kernel's memory, or SIGABRT on the debug
    // build's slice precondition check.
    let signal = child.status.signal();
    assert!(matches!(signal, Some(6 | 11)), "the host survived ({}): {}", child.status, String::from_utf8_lossy(&child.stderr));
}

#[test]
fn layer_4_defuses_command_lists_that_would_read_outside_the_kernel_memory() {
    use extism_embedder::host_api::calls::op_of;
    use harness::commands::{ARGS, Command as Step, codec};
    let mut args = [0u64; ARGS];
    (args[0], args[1]) = (1000, 900u64.wrapping_neg());
    let commands = [Step::Host { op: op_of("output_set").unwrap(), args }];
    let file = codec::encode(&commands);
    let report = harness::host_calls::run_command_list(subject(), &file);
    assert!(report.labels.contains(&known::label("unchecked-memory-bytes")), "{:?}", report.labels);
    assert_eq!(report.outcome.end, contract::End::Ok, "{}", report.outcome.end);
}
