//! Reproducer of `embedders/extism/findings/declared-maximum-refused.md`.
//!
//! Each case runs one export of a fresh plugin twice: without
//! `memory.max_pages`, and with `memory.max_pages` = 16 (1 MiB, far more
//! than any of these plugins uses). A limit that is never reached should
//! change nothing; with Extism 1.30.0 it breaks every module whose memory
//! reaches its declared maximum. The output of each export is the result of
//! its `memory.grow` (an i32, little-endian), written through the kernel.

use std::process::ExitCode;

/// Writes `value` as the call's output through the kernel's memory.
const OUTPUT_I32: &str = r#"
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (func $output_i32 (param $value i32) (local $block i64)
    (local.set $block (call $alloc (i64.const 4)))
    (call $store_u8 (local.get $block) (local.get $value))
    (call $store_u8 (i64.add (local.get $block) (i64.const 1)) (i32.shr_u (local.get $value) (i32.const 8)))
    (call $store_u8 (i64.add (local.get $block) (i64.const 2)) (i32.shr_u (local.get $value) (i32.const 16)))
    (call $store_u8 (i64.add (local.get $block) (i64.const 3)) (i32.shr_u (local.get $value) (i32.const 24)))
    (call $output_set (local.get $block) (i64.const 4)))
"#;

struct Case {
    what: &'static str,
    memory: &'static str,
    grow_by: Option<u32>,
    expected: &'static str,
}

const CASES: [Case; 4] = [
    Case { what: "a memory that starts at its maximum, no growth", memory: "(memory 1 1)", grow_by: None, expected: "ok" },
    Case { what: "memory.grow to exactly the declared maximum", memory: "(memory 1 2)", grow_by: Some(1), expected: "ok, memory.grow = 1" },
    Case { what: "memory.grow past the declared maximum", memory: "(memory 1 2)", grow_by: Some(2), expected: "ok, memory.grow = -1" },
    Case { what: "control: memory.grow with no declared maximum", memory: "(memory 1)", grow_by: Some(1), expected: "ok, memory.grow = 1" },
];

fn module(case: &Case) -> String {
    let body = match case.grow_by {
        None => String::new(),
        Some(pages) => format!("(call $output_i32 (memory.grow (i32.const {pages})))"),
    };
    format!("(module {OUTPUT_I32} {} (func (export \"run\") (result i32) {body} (i32.const 0)))", case.memory)
}

fn run(case: &Case, max_pages: Option<u32>) -> String {
    let mut manifest = extism::Manifest::new([extism::Wasm::data(module(case))]);
    if let Some(pages) = max_pages {
        manifest = manifest.with_memory_max(pages);
    }
    let mut plugin = match extism::Plugin::new(&manifest, [], false) {
        Ok(plugin) => plugin,
        Err(error) => return format!("plugin creation failed: {error:#}"),
    };
    match plugin.call::<&[u8], Vec<u8>>("run", b"") {
        Ok(output) if output.len() == 4 => {
            format!("ok, memory.grow = {}", i32::from_le_bytes(output.try_into().unwrap()))
        }
        Ok(_) => "ok".to_owned(),
        Err(error) => format!("error: {}", error.root_cause()),
    }
}

fn main() -> ExitCode {
    let mut reproduced = false;
    println!("Extism 1.30.0, memory.max_pages = 16 (1 MiB) against no limit");
    for case in &CASES {
        let unlimited = run(case, None);
        let limited = run(case, Some(16));
        let wrong = limited != case.expected;
        reproduced |= wrong;
        println!();
        println!("{} `{}`:", case.what, case.memory);
        println!("  expected:                    {}", case.expected);
        println!("  actual, no max_pages:        {unlimited}");
        println!("  actual, max_pages = 16:      {limited}{}", if wrong { "   <-- wrong" } else { "" });
    }
    println!();
    if reproduced {
        println!("DEFECT REPRODUCED: a limit of 16 pages breaks valid plugins that use at most 2 pages");
        ExitCode::FAILURE
    } else {
        println!("not reproduced: the limit no longer refuses memory at its declared maximum");
        ExitCode::SUCCESS
    }
}
