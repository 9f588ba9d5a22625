//! Check for `embedders/extism/findings/timeout-excludes-instantiation.md` (a note,
//! not a defect): when does Extism 1.30.0 run a plugin's start function, and
//! does `timeout_ms` (50 ms here, no fuel limit) stop it?
//!
//! The start function tells the host it started (a host function that
//! counts), then counts to 2^30 (about a second of work). Two shapes of the
//! same plugin: without a `_start` export (wasmtime's "reactor" kind) and
//! with one (the "command" kind).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use extism::{CurrentPlugin, Error, Function, Manifest, Plugin, PluginBuilder, UserData, Val, Wasm};

fn module(export_start: bool) -> String {
    let start_export = if export_start { r#"(func (export "_start"))"# } else { "" };
    format!(
        r#"(module
          (import "extism:host/user" "started" (func $started))
          (func $count (local $i i64)
            (call $started)
            (loop $again
              (local.set $i (i64.add (local.get $i) (i64.const 1)))
              (br_if $again (i64.lt_u (local.get $i) (i64.const 0x40000000)))))
          (start $count)
          {start_export}
          (func (export "run") (result i32) (i32.const 0)))"#
    )
}

fn started(_: &mut CurrentPlugin, _: &[Val], _: &mut [Val], runs: UserData<Arc<AtomicU32>>) -> Result<(), Error> {
    runs.get()?.lock().unwrap().fetch_add(1, Ordering::SeqCst);
    Ok(())
}

fn build(export_start: bool, runs: &Arc<AtomicU32>) -> (Result<Plugin, Error>, Duration) {
    let function = Function::new("started", [], [], UserData::new(runs.clone()), started);
    let manifest = Manifest::new([Wasm::data(module(export_start))]).with_timeout(Duration::from_millis(50));
    let begun = Instant::now();
    let plugin = PluginBuilder::new(manifest).with_wasi(false).with_functions([function]).build();
    (plugin, begun.elapsed())
}

fn main() {
    println!("Extism 1.30.0, timeout_ms = 50, no fuel limit; a start function of about a second");
    for (shape, export_start) in [("no `_start` export (reactor kind)", false), ("exports `_start` (command kind)", true)] {
        let runs = Arc::new(AtomicU32::new(0));
        let (plugin, took) = build(export_start, &runs);
        let mut plugin = plugin.expect("plugin");
        println!("{shape}:");
        println!("  Plugin creation: {} ms, start function ran {} time(s)", took.as_millis(), runs.load(Ordering::SeqCst));
        for call in 1..=2 {
            let begun = Instant::now();
            let result = plugin.call::<&[u8], &[u8]>("run", b"").map(|_| "ok".to_owned()).unwrap_or_else(|error| format!("{error:#}"));
            println!(
                "  call {call}: {result} after {} ms, start function ran {} time(s) so far",
                begun.elapsed().as_millis(),
                runs.load(Ordering::SeqCst)
            );
        }
    }
}
