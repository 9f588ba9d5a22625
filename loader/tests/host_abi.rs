//! The `host` functions in bounds, out of bounds, wrapping past 2^32 and with
//! zero length, and the alloc protocol with misbehaving `alloc`s.

mod common;

use std::time::{Duration, Instant};

use common::*;
use loader::{End, Policy, Stage, Status, Storage};

#[test]
fn read_request_copies_the_request_through_alloc() {
    // Read the request, then echo it back as the response.
    let main = "(drop (call $read_request (i32.const 0) (i32.const 4)))
        (drop (call $write_response (i32.load (i32.const 0)) (i32.load (i32.const 4))))";
    let outcome = run_with(Policy::default(), &guest(main), b"ping", Storage::new());
    assert_eq!(outcome.end, End::Ok);
    assert_eq!(outcome.stage, Stage::HostCall);
    assert_eq!(status(&outcome.host_calls[0]), Some(Status::Ok));
    assert_eq!(outcome.response, b"ping");
}

#[test]
fn read_request_of_an_empty_request_gives_zero_length() {
    let main = "(drop (call $read_request (i32.const 0) (i32.const 4)))
        (if (i32.ne (i32.load (i32.const 4)) (i32.const 0)) (then unreachable))";
    let outcome = run(&guest(main));
    assert_eq!(outcome.end, End::Ok);
    assert_eq!(status(&outcome.host_calls[0]), Some(Status::Ok));
}

#[test]
fn read_request_refuses_out_of_bounds_and_wrapping_slots() {
    for (ptr_ptr, len_ptr) in [(65533, 0), (0, 65536), (-2, 0), (0, -1)] {
        let outcome = run(&guest(&call(&format!("(call $read_request (i32.const {ptr_ptr}) (i32.const {len_ptr}))"))));
        assert_eq!(only_status(&outcome), Status::OutOfBounds, "slots {ptr_ptr}, {len_ptr}");
        assert_eq!(outcome.end, End::Ok);
    }
}

#[test]
fn write_response_in_bounds_and_zero_length() {
    let outcome = run(&guest(&call("(call $write_response (i32.const 16) (i32.const 5))")));
    assert_eq!(only_status(&outcome), Status::Ok);
    assert_eq!(outcome.response, b"hello");
    let outcome = run(&guest(&call("(call $write_response (i32.const 65536) (i32.const 0))")));
    assert_eq!(only_status(&outcome), Status::Ok);
    assert!(outcome.response.is_empty());
}

#[test]
fn write_response_refuses_out_of_bounds_wrapping_and_huge_ranges() {
    for (ptr, len) in [(65532, 5), (65537, 0), (-16, 32), (0, -16), (16, 65536)] {
        let outcome = run(&guest(&call(&format!("(call $write_response (i32.const {ptr}) (i32.const {len}))"))));
        assert_eq!(only_status(&outcome), Status::OutOfBounds, "range {ptr}, {len}");
        assert!(outcome.response.is_empty());
    }
}

#[test]
fn write_response_over_the_cap_is_too_large() {
    let policy = Policy { max_response_bytes: 4, ..Policy::default() };
    let outcome = run_with(policy, &guest(&call("(call $write_response (i32.const 16) (i32.const 5))")), b"", Storage::new());
    assert_eq!(only_status(&outcome), Status::TooLarge);
    assert!(outcome.response.is_empty());
}

#[test]
fn log_appends_lines_and_checks_utf8_bounds_and_cap() {
    let outcome = run(&guest(&call("(call $log (i32.const 16) (i32.const 5))")));
    assert_eq!(only_status(&outcome), Status::Ok);
    assert_eq!(outcome.logs, ["hello"]);

    let outcome = run(&guest(&call("(call $log (i32.const 16) (i32.const 0))")));
    assert_eq!(only_status(&outcome), Status::Ok);
    assert_eq!(outcome.logs, [""]);

    let outcome = run(&guest(&call("(call $log (i32.const 16) (i32.const 6))")));
    assert_eq!(only_status(&outcome), Status::BadUtf8);
    assert!(outcome.logs.is_empty());

    for (ptr, len) in [(65535, 2), (-1, 2), (2, -1)] {
        let outcome = run(&guest(&call(&format!("(call $log (i32.const {ptr}) (i32.const {len}))"))));
        assert_eq!(only_status(&outcome), Status::OutOfBounds, "range {ptr}, {len}");
    }

    let policy = Policy { max_log_bytes: 8, ..Policy::default() };
    let main = "(drop (call $log (i32.const 16) (i32.const 5))) (drop (call $log (i32.const 16) (i32.const 5)))";
    let outcome = run_with(policy, &guest(main), b"", Storage::new());
    let statuses: Vec<_> = outcome.host_calls.iter().map(status).collect();
    assert_eq!(statuses, [Some(Status::Ok), Some(Status::TooLarge)]);
    assert_eq!(outcome.logs, ["hello"]);
}

fn storage() -> Storage {
    [(b"hello".to_vec(), b"world!".to_vec()), (Vec::new(), b"empty key".to_vec())].into_iter().collect()
}

#[test]
fn storage_get_places_a_hit_and_reports_a_miss() {
    let main = "(drop (call $storage_get (i32.const 16) (i32.const 5) (i32.const 0) (i32.const 4)))
        (drop (call $write_response (i32.load (i32.const 0)) (i32.load (i32.const 4))))";
    let outcome = run_with(Policy::default(), &guest(main), b"", storage());
    assert_eq!(status(&outcome.host_calls[0]), Some(Status::Ok));
    assert_eq!(outcome.response, b"world!");

    let outcome =
        run_with(Policy::default(), &guest(&call("(call $storage_get (i32.const 16) (i32.const 4) (i32.const 0) (i32.const 4))")), b"", storage());
    assert_eq!(only_status(&outcome), Status::NotFound);

    // A zero-length key is a key like any other.
    let main = "(drop (call $storage_get (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 4)))
        (drop (call $write_response (i32.load (i32.const 0)) (i32.load (i32.const 4))))";
    let outcome = run_with(Policy::default(), &guest(main), b"", storage());
    assert_eq!(outcome.response, b"empty key");
}

#[test]
fn storage_get_refuses_out_of_bounds_keys_and_slots() {
    for args in ["65535 2 0 4", "-1 2 0 4", "16 -1 0 4", "16 5 65534 0", "16 5 0 -3"] {
        let args: Vec<&str> = args.split(' ').collect();
        let body = format!("(call $storage_get (i32.const {}) (i32.const {}) (i32.const {}) (i32.const {}))", args[0], args[1], args[2], args[3]);
        let outcome = run_with(Policy::default(), &guest(&call(&body)), b"", storage());
        assert_eq!(only_status(&outcome), Status::OutOfBounds, "args {args:?}");
    }
}

#[test]
fn alloc_that_traps_gives_alloc_failed() {
    let wasm = guest_with_alloc(&call("(call $read_request (i32.const 0) (i32.const 4))"), "unreachable");
    let outcome = run_with(Policy::default(), &wasm, b"data", Storage::new());
    assert_eq!(only_status(&outcome), Status::AllocFailed);
    assert_eq!(outcome.end, End::Ok);
}

#[test]
fn alloc_that_returns_out_of_bounds_pointers_gives_alloc_failed() {
    for ptr in [65535, 65536, -1, -4] {
        let wasm = guest_with_alloc(&call("(call $read_request (i32.const 0) (i32.const 4))"), &format!("(i32.const {ptr})"));
        let outcome = run_with(Policy::default(), &wasm, b"data", Storage::new());
        assert_eq!(only_status(&outcome), Status::AllocFailed, "alloc returned {ptr}");
    }
}

#[test]
fn alloc_that_overlaps_the_slots_is_written_in_the_documented_order() {
    // alloc returns 0: data goes to 0..4, then ptr over 0..4, then len over 4..8.
    let main = "(drop (call $read_request (i32.const 0) (i32.const 4)))
        (drop (call $write_response (i32.const 0) (i32.const 8)))";
    let wasm = guest_with_alloc(main, "(i32.const 0)");
    let outcome = run_with(Policy::default(), &wasm, b"abcd", Storage::new());
    assert_eq!(outcome.response, [0, 0, 0, 0, 4, 0, 0, 0]);
}

#[test]
fn alloc_that_loops_forever_ends_the_invocation_on_time() {
    let wasm = guest_with_alloc(&call("(call $read_request (i32.const 0) (i32.const 4))"), "(loop (br 0)) (i32.const 0)");
    let started = Instant::now();
    let outcome = run_with(Policy::default(), &wasm, b"data", Storage::new());
    assert!(outcome.is_timeout(), "{:?}", outcome.end);
    assert_eq!(outcome.host_calls[0].result, None);
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
}

#[test]
fn host_calls_past_the_cap_end_the_invocation() {
    let policy = Policy { max_host_calls: 3, ..Policy::default() };
    let main = "(loop (drop (call $log (i32.const 16) (i32.const 0))) (br 0))";
    let outcome = run_with(policy, &guest(main), b"", Storage::new());
    assert_eq!(outcome.end, End::LimitExceeded(loader::Resource::HostCalls));
    assert_eq!(outcome.logs.len(), 3);
}
