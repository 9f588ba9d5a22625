//! Guests written in WAT for the loader's tests.

#![allow(dead_code)]

use std::sync::Arc;

use loader::{HostCall, Loader, Outcome, Policy, Status, Storage};

/// A guest with every `host` import, a bump `alloc` (or `alloc_body`), one page
/// of memory (max 4), "hello" at address 16, and `main_body` as `main`.
pub fn guest_with_alloc(main_body: &str, alloc_body: &str) -> Vec<u8> {
    let text = format!(
        r#"(module
            (import "host" "read_request" (func $read_request (param i32 i32) (result i32)))
            (import "host" "write_response" (func $write_response (param i32 i32) (result i32)))
            (import "host" "log" (func $log (param i32 i32) (result i32)))
            (import "host" "storage_get" (func $storage_get (param i32 i32 i32 i32) (result i32)))
            (memory (export "memory") 1 4)
            (global $bump (mut i32) (i32.const 1024))
            (func (export "alloc") (param $len i32) (result i32) (local $ptr i32) {alloc_body})
            (func (export "main") {main_body})
            (data (i32.const 16) "hello\ff"))"#
    );
    wat::parse_str(text).expect("test guest is valid WAT")
}

/// The default bump allocator.
pub const BUMP_ALLOC: &str = "(local.set $ptr (global.get $bump))
    (global.set $bump (i32.add (global.get $bump) (local.get $len)))
    (local.get $ptr)";

/// A guest with the bump allocator.
pub fn guest(main_body: &str) -> Vec<u8> {
    guest_with_alloc(main_body, BUMP_ALLOC)
}

/// Loads and runs `wasm` under `policy` with `request` and `storage`.
pub fn run_with(policy: Policy, wasm: &[u8], request: &[u8], storage: Storage) -> Outcome {
    let loader = Loader::new(policy).expect("loader builds");
    loader.run(wasm, request, &Arc::new(storage))
}

/// Loads and runs `wasm` under the default policy with an empty request.
pub fn run(wasm: &[u8]) -> Outcome {
    run_with(Policy::default(), wasm, b"", Storage::new())
}

/// The status of a host call's result.
pub fn status(call: &HostCall) -> Option<Status> {
    call.result.map(|code| Status::from_code(i32::try_from(code).expect("a status fits in i32")).expect("a known status"))
}

/// The status of the outcome's only host call.
pub fn only_status(outcome: &Outcome) -> Status {
    assert_eq!(outcome.host_calls.len(), 1, "expected one host call: {outcome:?}");
    status(&outcome.host_calls[0]).expect("the host call returned")
}

/// `main` that makes one call and drops its status.
pub fn call(call: &str) -> String {
    format!("(drop {call})")
}
