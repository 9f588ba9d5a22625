//! Reproducer of `embedders/extism/findings/table-growth-uncapped.md`.
//!
//! A plugin created with `memory.max_pages` = 256 (16 MiB) runs `table.grow`
//! by 100,000,000 elements on a funcref table that declares no maximum.
//! Extism 1.30.0 lets the table grow, and wasmtime keeps a pointer-sized
//! slot per element in host memory: about 800 MB, fifty times the limit.
//! The process's peak resident set (`VmHWM` in `/proc/self/status`) is read
//! before and after the call. A control shows that the same limit does stop
//! a plugin's linear memory.

use std::process::ExitCode;

/// The host's memory limit, in WebAssembly pages (16 MiB).
const MAX_PAGES: u32 = 256;
/// How many elements the plugin adds to its table.
const TABLE_DELTA: u32 = 100_000_000;

/// The plugin: `run` grows table `$t` (declared without a maximum) by
/// `TABLE_DELTA` null elements and writes, through the kernel, the result
/// of `table.grow` (low half) and the table's size afterwards (high half)
/// as the call's 8-byte output. `grow_memory` is the control: it asks for
/// one page more than the limit.
fn plugin_wat() -> String {
    format!(
        r#"(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u64" (func $store_u64 (param i64 i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (memory (export "memory") 1)
  (table $t 1 funcref)
  (func (export "run") (result i32) (local $grown i32) (local $block i64)
    (local.set $grown (table.grow $t (ref.null func) (i32.const {TABLE_DELTA})))
    (local.set $block (call $alloc (i64.const 8)))
    (call $store_u64 (local.get $block)
      (i64.or (i64.extend_i32_u (local.get $grown))
              (i64.shl (i64.extend_i32_u (table.size $t)) (i64.const 32))))
    (call $output_set (local.get $block) (i64.const 8))
    (i32.const 0))
  (func (export "grow_memory") (result i32)
    (drop (memory.grow (i32.const {pages})))
    (i32.const 0)))"#,
        pages = MAX_PAGES + 1
    )
}

/// The process's peak resident set size in KiB (`VmHWM`).
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn new_plugin() -> extism::Plugin {
    let manifest = extism::Manifest::new([extism::Wasm::data(plugin_wat())]).with_memory_max(MAX_PAGES);
    extism::Plugin::new(&manifest, [], false).expect("create the plugin")
}

fn main() -> ExitCode {
    println!(
        "Extism 1.30.0, memory.max_pages = {MAX_PAGES} ({} MiB); funcref table declared `(table 1 funcref)`, no maximum",
        u64::from(MAX_PAGES) * 65_536 / (1 << 20)
    );

    println!();
    println!("control: memory.grow by {} pages:", MAX_PAGES + 1);
    let control = match new_plugin().call::<&[u8], Vec<u8>>("grow_memory", b"") {
        Ok(_) => "ok (the limit did not stop it)".to_owned(),
        Err(error) => format!("error: {}", error.root_cause()),
    };
    println!("  actual:   {control}   (the memory limit is in force)");

    let mut plugin = new_plugin();
    let before = peak_rss_kib();
    let result = plugin.call::<&[u8], Vec<u8>>("run", b"");
    let after = peak_rss_kib();

    println!();
    println!("table.grow by {TABLE_DELTA} elements:");
    println!(
        "  expected: table.grow = -1 (or the call fails): {TABLE_DELTA} pointer-sized elements are {} MB of host memory, past the {} MiB limit",
        u64::from(TABLE_DELTA) * 8 / 1_000_000,
        u64::from(MAX_PAGES) * 65_536 / (1 << 20)
    );
    let grew = match &result {
        Ok(output) if output.len() == 8 => {
            let packed = u64::from_le_bytes(output.as_slice().try_into().unwrap());
            let grown = packed as u32 as i32;
            let size = packed >> 32;
            let meaning = if grown == -1 { "refused" } else { "the old size: it grew" };
            println!("  actual:   ok, table.grow = {grown} ({meaning}), table.size = {size}");
            grown != -1
        }
        Ok(output) => {
            println!("  actual:   ok, unexpected output of {} bytes", output.len());
            false
        }
        Err(error) => {
            println!("  actual:   error: {}", error.root_cause());
            false
        }
    };
    let held = after.saturating_sub(before);
    println!("  peak RSS (VmHWM) before the call: {}", mib(before));
    println!("  peak RSS (VmHWM) after the call:  {}", mib(after));
    println!("  the call raised the host's peak RSS by {} under a limit of {} MiB", mib(held), u64::from(MAX_PAGES) * 65_536 / (1 << 20));

    println!();
    if grew && held > u64::from(MAX_PAGES) * 64 {
        println!("DEFECT REPRODUCED: a plugin limited to 16 MiB made the host hold {}", mib(held));
        ExitCode::FAILURE
    } else {
        println!("not reproduced: the table's growth was refused or bounded");
        ExitCode::SUCCESS
    }
}
