//! Reproducer of `embedders/extism/findings/memory-unlimited-at-plugin-creation.md`.
//!
//! A host sets `memory.max_pages` = 256 (16 MiB). A plugin's code grows its
//! memory by 4,096 pages (256 MiB) and fills the new pages, so they are
//! resident in the host.
//!
//! - Control: the growth in an exported function, during a call. Extism
//!   1.30.0 refuses it (`oom`).
//! - Case 1: the same growth in the start function of the only module,
//!   `main`. Extism 1.30.0 runs it inside `Plugin::new`, before it installs
//!   its memory limiter, so the growth is granted. The first call
//!   instantiates `main` again, under the limiter, and fails with `oom`.
//! - Case 2: two modules. `lib` has that start function, and `main` imports
//!   a function from `lib`. `lib` is instantiated only in `Plugin::new`, so
//!   the limiter never sees its growth: the plugin holds the memory, and its
//!   calls succeed.
//!
//! The process's peak resident set (`VmHWM` in `/proc/self/status`) is read
//! before and after each `Plugin::new`; it is reset before each case.

use std::process::ExitCode;

use extism::{Manifest, Plugin, Wasm};

/// The host's memory limit, in WebAssembly pages (16 MiB).
const MAX_PAGES: u32 = 256;
/// How many pages the plugin's code adds to its memory (256 MiB).
const GROW_PAGES: u32 = 4096;

/// A module whose `$grow` grows memory by `GROW_PAGES` and fills the new
/// pages with 1s. With `in_start`, the start function runs `$grow` and `run`
/// does nothing; otherwise `run` runs `$grow` (the control).
fn growing_wat(in_start: bool) -> String {
    let (start, run_body) = if in_start { ("(start $grow)", "") } else { ("", "(call $grow)") };
    format!(
        r#"(module
  (memory (export "memory") 1)
  (func $grow (local $old i32)
    (local.set $old (memory.grow (i32.const {GROW_PAGES})))
    (if (i32.ge_s (local.get $old) (i32.const 0))
      (then (memory.fill (i32.shl (local.get $old) (i32.const 16))
                         (i32.const 1)
                         (i32.const {bytes})))))
  {start}
  (func (export "run") (result i32) {run_body} (i32.const 0)))"#,
        bytes = GROW_PAGES * 65_536
    )
}

/// Case 2's `main`: its `run` calls `lib`'s `run`.
const MAIN_IMPORTING_LIB: &str = r#"(module
  (import "lib" "run" (func $lib_run (result i32)))
  (func (export "run") (result i32) (call $lib_run)))"#;

/// A field of `/proc/self/status` in KiB, such as `VmHWM:` (peak resident
/// set) or `VmRSS:` (current resident set).
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"))
}

/// KiB as MiB, for printing.
fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// "ok", or the error's root cause.
fn outcome<T>(result: &Result<T, extism::Error>) -> String {
    match result {
        Ok(_) => "ok".to_owned(),
        Err(error) => format!("error: {}", error.root_cause()),
    }
}

/// Calls the plugin's `run` with no input.
fn call_run(plugin: &mut Plugin) -> String {
    outcome(&plugin.call::<&[u8], Vec<u8>>("run", b""))
}

/// Creates a plugin from `manifest` under the limit and prints what it did
/// to the host's peak RSS. Returns the plugin and the rise in KiB.
fn create(manifest: Manifest) -> (Result<Plugin, extism::Error>, u64) {
    let limit_mib = MAX_PAGES / 16;
    println!("  expected: Plugin::new fails (oom), or the growth is refused");
    // Writing 5 to clear_refs resets VmHWM to the current resident set.
    std::fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM");
    let before = status_kib("VmHWM:");
    let created = Plugin::new(&manifest.with_memory_max(MAX_PAGES), [], false);
    let after = status_kib("VmHWM:");
    let held = after.saturating_sub(before);
    println!("  actual:   Plugin::new: {}", outcome(&created));
    println!("  peak RSS (VmHWM) before Plugin::new: {}", mib(before));
    println!("  peak RSS (VmHWM) after Plugin::new:  {}", mib(after));
    println!("  creating the plugin raised the host's peak RSS by {} under a limit of {limit_mib} MiB", mib(held));
    (created, held)
}

fn main() -> ExitCode {
    let limit_mib = MAX_PAGES / 16;
    println!(
        "Extism 1.30.0, memory.max_pages = {MAX_PAGES} ({limit_mib} MiB); the plugin grows its memory by {GROW_PAGES} pages ({} MiB) and fills them",
        GROW_PAGES / 16
    );

    println!();
    println!("control: the growth in `run`, during a call:");
    let control = Plugin::new(&Manifest::new([Wasm::data(growing_wat(false))]).with_memory_max(MAX_PAGES), [], false)
        .and_then(|mut p| p.call::<&[u8], Vec<u8>>("run", b""));
    println!("  actual:   {}   (the memory limit is in force)", outcome(&control));

    println!();
    println!("case 1: the same growth in the start function, which runs in Plugin::new:");
    let (created, held_main) = create(Manifest::new([Wasm::data(growing_wat(true))]));
    if let Ok(mut plugin) = created {
        println!("  first call (instantiates the module again, under the limiter): {}", call_run(&mut plugin));
    }

    println!();
    println!("case 2: two modules, `lib` with that start function, and `main`, whose `run` calls `lib`'s `run`:");
    let (created, held_lib) =
        create(Manifest::new([Wasm::data(growing_wat(true)).with_name("lib"), Wasm::data(MAIN_IMPORTING_LIB).with_name("main")]));
    if let Ok(mut plugin) = created {
        let calls: Vec<String> = (0..3).map(|_| call_run(&mut plugin)).collect();
        println!("  calls 1-3 of `main`'s `run` (`lib` is not instantiated again): {}", calls.join(", "));
        println!("  resident set (VmRSS) after the calls: {}", mib(status_kib("VmRSS:")));
    }

    println!();
    // A case reproduces if creation made the host hold more than twice the
    // limit, the most Extism's budget rule allows (initial memory plus growth).
    let reproduced: Vec<String> = [(held_main, "case 1"), (held_lib, "case 2, whose calls succeed")]
        .into_iter()
        .filter(|&(held, _)| held > u64::from(MAX_PAGES) * 64 * 2)
        .map(|(held, case)| format!("{} ({case})", mib(held)))
        .collect();
    if reproduced.is_empty() {
        println!("not reproduced: the growth at plugin creation was refused or bounded");
        ExitCode::SUCCESS
    } else {
        println!("DEFECT REPRODUCED: a plugin limited to {limit_mib} MiB made the host hold {} while it was created", reproduced.join(" and "));
        ExitCode::FAILURE
    }
}
