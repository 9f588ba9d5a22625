//! Guests that loop, grow memory or recurse without end, and modules that
//! `load` must refuse, each at its own stage.

mod common;

use std::time::{Duration, Instant};

use common::*;
use loader::{End, Loader, Policy, Stage, TrapCode};

fn rejection_stage(policy: Policy, wasm: &[u8]) -> (Stage, String) {
    let loader = Loader::new(policy).unwrap();
    match loader.load(wasm) {
        Ok(_) => panic!("module was accepted"),
        Err(rejection) => (rejection.stage, rejection.reason),
    }
}

#[test]
fn a_guest_that_loops_forever_runs_out_of_fuel_within_a_second() {
    let started = Instant::now();
    let outcome = run(&guest("(loop (br 0))"));
    assert_eq!(outcome.end, End::OutOfFuel);
    assert_eq!(outcome.stage, Stage::Execute);
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
}

#[test]
fn a_guest_with_plenty_of_fuel_hits_the_deadline() {
    let policy = Policy { fuel: u64::MAX, deadline: Duration::from_millis(100), ..Policy::default() };
    let started = Instant::now();
    let outcome = run_with(policy, &guest("(loop (br 0))"), b"", Default::default());
    assert_eq!(outcome.end, End::DeadlineExceeded);
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
}

#[test]
fn memory_never_grows_past_the_cap() {
    let policy = Policy { max_memory_bytes: 2 * 65536, ..Policy::default() };
    // Grow until refused; trap if memory is bigger than the cap afterwards.
    let main = "(loop (br_if 0 (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
        (if (i32.ne (memory.size) (i32.const 2)) (then unreachable))";
    let wasm = wat::parse_str(format!(
        r#"(module (memory (export "memory") 1) (func (export "alloc") (param i32) (result i32) i32.const 0)
            (func (export "main") {main}))"#
    ))
    .unwrap();
    let outcome = run_with(policy, &wasm, b"", Default::default());
    assert_eq!(outcome.end, End::Ok);
    assert_eq!(outcome.peak_memory_bytes, Some(2 * 65536));
}

#[test]
fn a_wasi_trap_after_a_refused_grow_is_a_trap_not_a_memory_limit() {
    let policy = Policy { max_memory_bytes: 2 * 65536, ..Policy::default() };
    // The refused grow only returns -1; the invocation ends later, when
    // random_get traps on an out-of-bounds buffer.
    let wasm = wat::parse_str(
        r#"(module
            (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
            (memory (export "memory") 1) (func (export "alloc") (param i32) (result i32) i32.const 0)
            (func (export "main")
              (drop (memory.grow (i32.const 100)))
              (drop (call $random_get (i32.const -1) (i32.const 16)))))"#,
    )
    .unwrap();
    let outcome = run_with(policy, &wasm, b"", Default::default());
    assert!(matches!(outcome.end, End::Trap(TrapCode::Other(_))), "{}", outcome.end);
}

#[test]
fn endless_recursion_is_a_stack_overflow() {
    let wasm = wat::parse_str(
        r#"(module (memory (export "memory") 1) (func (export "alloc") (param i32) (result i32) i32.const 0)
            (func $recurse (call $recurse)) (func (export "main") (call $recurse)))"#,
    )
    .unwrap();
    assert_eq!(run(&wasm).end, End::Trap(TrapCode::StackOverflow));
}

#[test]
fn a_module_over_the_size_cap_is_refused_before_parsing() {
    let policy = Policy { max_module_bytes: 16, ..Policy::default() };
    let (stage, reason) = rejection_stage(policy, &guest("nop"));
    assert_eq!(stage, Stage::SizeCheck);
    assert!(reason.contains("policy allows 16"), "{reason}");
}

#[test]
fn garbage_is_refused_at_parse() {
    assert_eq!(rejection_stage(Policy::default(), b"\0asm\x01\0\0\0\x01\xff").0, Stage::Parse);
}

#[test]
fn an_ill_typed_module_is_refused_at_validation() {
    let wasm = wat::parse_str("(module (func (result i32) i64.const 0))").unwrap();
    assert_eq!(rejection_stage(Policy::default(), &wasm).0, Stage::Validate);
}

#[test]
fn a_disabled_feature_is_refused_at_validation() {
    let wasm = wat::parse_str("(module (func (result v128) v128.const i64x2 0 0))").unwrap();
    assert_eq!(rejection_stage(Policy::default(), &wasm).0, Stage::Validate);
}

#[test]
fn an_exact_function_import_is_refused_at_validation() {
    // `(import "host" "log" (func exact (type 0)))`: import kind 0x20.
    let wasm = b"\0asm\x01\0\0\0\x01\x07\x01\x60\x02\x7f\x7f\x01\x7f\x02\x0c\x01\x04host\x03log\x20\0";
    let (stage, reason) = rejection_stage(Policy::default(), wasm);
    assert_eq!(stage, Stage::Validate);
    assert!(reason.contains("import host.log is an exact function import"), "{reason}");
}

#[test]
fn abi_violations_are_refused_at_the_abi_check() {
    let cases = [
        ("(import \"env\" \"system\" (func))", "forbidden import env.system"),
        ("(import \"host\" \"log\" (func (param i32) (result i32)))", "import host.log has signature"),
        ("(import \"host\" \"log\" (global i32))", "must be a function"),
        ("(import \"wasi_snapshot_preview1\" \"fd_write\" (func (param i32) (result i32)))", "fd_write has signature"),
    ];
    for (import, expected) in cases {
        let wasm = wat::parse_str(format!(
            r#"(module {import} (memory (export "memory") 1)
                (func (export "alloc") (param i32) (result i32) i32.const 0) (func (export "main")))"#
        ))
        .unwrap();
        let (stage, reason) = rejection_stage(Policy::default(), &wasm);
        assert_eq!(stage, Stage::AbiCheck, "{import}");
        assert!(reason.contains(expected), "{reason} should contain {expected}");
    }
}

#[test]
fn reasons_are_one_printable_line_even_when_the_guest_chose_the_name() {
    let wasm = wat::parse_str(
        r#"(module (import "env" "f\0aINFO served\1b[2J" (func)) (memory (export "memory") 1)
            (func (export "alloc") (param i32) (result i32) i32.const 0) (func (export "main")))"#,
    )
    .unwrap();
    let (stage, reason) = rejection_stage(Policy::default(), &wasm);
    assert_eq!(stage, Stage::AbiCheck);
    assert_eq!(reason, r"forbidden import env.f\nINFO served\u{1b}[2J");
    // wasmparser's own message for a bad magic number spans lines.
    let (stage, reason) = rejection_stage(Policy::default(), b"\0asn\x01\0\0\0");
    assert_eq!(stage, Stage::Parse);
    assert!(reason.starts_with("magic header not detected") && !reason.contains('\n'), "{reason}");
}

#[test]
fn missing_or_mistyped_exports_are_refused_at_the_abi_check() {
    let cases = [
        (r#"(memory (export "memory") 1) (func (export "main"))"#, "missing export alloc"),
        (r#"(memory (export "memory") 1) (func (export "alloc") (param i32) (result i32) i32.const 0)"#, "missing export main"),
        (r#"(memory 1) (func (export "alloc") (param i32) (result i32) i32.const 0) (func (export "main"))"#, "missing export memory"),
        (
            r#"(memory (export "memory") 1) (func (export "alloc") (param i32) (result i32) i32.const 0) (func (export "main") (param i32))"#,
            "export main has signature",
        ),
        (r#"(memory (export "memory") 1) (global (export "alloc") i32 (i32.const 0)) (func (export "main"))"#, "must be a function"),
    ];
    for (fields, expected) in cases {
        let wasm = wat::parse_str(format!("(module {fields})")).unwrap();
        let (stage, reason) = rejection_stage(Policy::default(), &wasm);
        assert_eq!(stage, Stage::AbiCheck);
        assert!(reason.contains(expected), "{reason} should contain {expected}");
    }
}

#[test]
fn declared_limits_above_policy_are_refused_at_the_abi_check() {
    let policy = Policy { max_memory_bytes: 65536, max_table_elements: 10, ..Policy::default() };
    for (fields, expected) in
        [("(memory (export \"memory\") 2)", "memory minimum 2 pages"), ("(memory (export \"memory\") 1) (table 11 funcref)", "table minimum 11")]
    {
        let wasm =
            wat::parse_str(format!(r#"(module {fields} (func (export "alloc") (param i32) (result i32) i32.const 0) (func (export "main")))"#))
                .unwrap();
        let (stage, reason) = rejection_stage(policy.clone(), &wasm);
        assert_eq!(stage, Stage::AbiCheck);
        assert!(reason.contains(expected), "{reason} should contain {expected}");
    }
}
