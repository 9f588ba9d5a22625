//! WASI with strict capabilities: nothing outside the sandbox directory, an
//! empty environment, stdout captured and capped.

mod common;

use common::{run, run_with};
use loader::{End, Policy};

/// A guest whose `main` runs `body` with WASI imports, "$PATH" text at 16.
fn wasi_guest(path: &str, body: &str) -> Vec<u8> {
    let len = path.len();
    let text = format!(
        r#"(module
            (import "wasi_snapshot_preview1" "path_open"
                (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
            (import "host" "write_response" (func $write_response (param i32 i32) (result i32)))
            (memory (export "memory") 1)
            (func (export "alloc") (param i32) (result i32) i32.const 0)
            (func $open (result i32)
                (call $path_open (i32.const 3) (i32.const 0) (i32.const 16) (i32.const {len})
                    (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 200)))
            (func (export "main") {body})
            (data (i32.const 16) "{path}"))"#
    );
    wat::parse_str(text).expect("valid WAT")
}

/// `main` that stores the errno of opening the path and returns it as the response.
const OPEN_AND_REPORT: &str = "(i32.store (i32.const 0) (call $open)) (drop (call $write_response (i32.const 0) (i32.const 4)))";

fn errno_of_opening(path: &str) -> u32 {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = dir.path().join("sandbox");
    std::fs::create_dir(&sandbox).unwrap();
    std::fs::write(dir.path().join("canary.txt"), "secret").unwrap();
    std::fs::write(sandbox.join("inside.txt"), "public").unwrap();
    std::os::unix::fs::symlink("../canary.txt", sandbox.join("link")).unwrap();
    let policy = Policy { sandbox_dir: Some(sandbox), ..Policy::default() };
    let outcome = run_with(policy, &wasi_guest(path, OPEN_AND_REPORT), b"", Default::default());
    assert_eq!(outcome.end, End::Ok, "{path}");
    u32::from_le_bytes(outcome.response.try_into().unwrap())
}

#[test]
fn paths_inside_the_sandbox_open() {
    assert_eq!(errno_of_opening("inside.txt"), 0);
}

#[test]
fn paths_outside_the_sandbox_are_refused() {
    for path in ["../canary.txt", "/canary.txt", "../../../../etc/passwd", "link", "/etc/passwd"] {
        assert_ne!(errno_of_opening(path), 0, "{path} opened");
    }
}

#[test]
fn without_a_sandbox_no_path_opens() {
    let outcome = run_with(Policy::default(), &wasi_guest("x", OPEN_AND_REPORT), b"", Default::default());
    // fd 3 does not exist: EBADF (8).
    assert_eq!(outcome.response, 8u32.to_le_bytes());
}

#[test]
fn environment_and_arguments_are_empty() {
    // SAFETY: tests of this binary do not read the environment concurrently.
    unsafe { std::env::set_var("LOADER_TEST_SECRET", "leak") };
    let body = "(drop (call $environ_sizes_get (i32.const 0) (i32.const 4)))
        (drop (call $args_sizes_get (i32.const 8) (i32.const 12)))
        (drop (call $write_response (i32.const 0) (i32.const 16)))";
    let outcome = run_with(Policy::default(), &wasi_guest("", body), b"", Default::default());
    assert_eq!(outcome.end, End::Ok);
    assert_eq!(outcome.response, [0; 16]);
}

/// `main` that writes the 5 bytes at 16 to stdout.
const WRITE_STDOUT: &str = "(i32.store (i32.const 100) (i32.const 16)) (i32.store (i32.const 104) (i32.const 5))
    (drop (call $fd_write (i32.const 1) (i32.const 100) (i32.const 1) (i32.const 108)))";

#[test]
fn stdout_is_captured() {
    let outcome = run_with(Policy::default(), &wasi_guest("hello", WRITE_STDOUT), b"", Default::default());
    assert_eq!(outcome.end, End::Ok);
    assert_eq!(outcome.stdout, b"hello");
    assert!(outcome.stderr.is_empty());
}

#[test]
fn stdout_is_capped() {
    let policy = Policy { max_stdio_bytes: 4, ..Policy::default() };
    let body = format!("(loop {WRITE_STDOUT} (br 0))");
    let outcome = run_with(policy, &wasi_guest("hello", &body), b"", Default::default());
    assert!(outcome.stdout.len() <= 4, "{} bytes captured", outcome.stdout.len());
    assert!(!matches!(outcome.end, End::Ok), "{:?}", outcome.end);
}

#[test]
fn poll_oneoff_answers_nosys_at_once_instead_of_sleeping_in_the_host() {
    // One relative clock subscription (tag 0, monotonic clock 1) of u64::MAX ns:
    // wasmtime-wasi's own poll_oneoff would hold the thread that long.
    let wasm = wat::parse_str(
        r#"(module
            (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
            (import "host" "write_response" (func $write_response (param i32 i32) (result i32)))
            (memory (export "memory") 1)
            (func (export "alloc") (param i32) (result i32) i32.const 0)
            (func (export "main")
                (i32.store (i32.const 16) (i32.const 1))
                (i64.store (i32.const 24) (i64.const -1))
                (i32.store (i32.const 256) (call $poll_oneoff (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128)))
                (drop (call $write_response (i32.const 256) (i32.const 4)))))"#,
    )
    .unwrap();
    let outcome = run(&wasm);
    assert_eq!(outcome.end, End::Ok);
    assert_eq!(outcome.response, 52u32.to_le_bytes(), "errno nosys");
}

/// A guest whose `main` fills `len` bytes at 0 with `random_get` and responds with its errno.
fn random_guest(len: u32) -> Vec<u8> {
    let text = format!(
        r#"(module
            (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
            (import "host" "write_response" (func $write_response (param i32 i32) (result i32)))
            (memory (export "memory") 1)
            (func (export "alloc") (param i32) (result i32) i32.const 0)
            (func (export "main")
                (i32.store (i32.const 0) (call $random_get (i32.const 0) (i32.const {len})))
                (drop (call $write_response (i32.const 0) (i32.const 4)))))"#
    );
    wat::parse_str(text).expect("valid WAT")
}

#[test]
fn random_get_is_bounded_by_the_policy() {
    let policy = Policy { max_random_bytes: 1024, ..Policy::default() };
    let outcome = run_with(policy.clone(), &random_guest(1024), b"", Default::default());
    assert_eq!(outcome.end, End::Ok);
    assert_eq!(outcome.response, 0u32.to_le_bytes(), "errno 0 up to the cap");
    // One byte more traps, before the host makes 1025 (or, unbounded, 4 GiB) random bytes.
    for len in [1025, u32::MAX] {
        let outcome = run_with(policy.clone(), &random_guest(len), b"", Default::default());
        assert!(matches!(outcome.end, End::Trap(_)), "random_get({len}): {:?}", outcome.end);
    }
}

/// `main` that opens the path `times` times, closing none, and responds
/// with how many opens succeeded.
fn open_times(times: u32) -> String {
    format!(
        "(local $left i32) (local.set $left (i32.const {times}))
         (block $done (loop $next
            (br_if $done (i32.eqz (local.get $left)))
            (local.set $left (i32.sub (local.get $left) (i32.const 1)))
            (if (i32.eqz (call $open)) (then (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))))
            (br $next)))
         (drop (call $write_response (i32.const 0) (i32.const 4)))"
    )
}

/// What a guest that opens `inside.txt` `times` times under `policy` (with a sandbox) ends with.
fn run_opening(policy: Policy, times: u32) -> loader::Outcome {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("inside.txt"), "public").unwrap();
    let policy = Policy { sandbox_dir: Some(dir.path().to_path_buf()), ..policy };
    run_with(policy, &wasi_guest("inside.txt", &open_times(times)), b"", Default::default())
}

#[test]
fn a_guest_holds_at_most_the_policys_open_files() {
    // The cap counts stdio's three streams and the sandbox too: 4 of 8 are left.
    let policy = Policy { max_open_files: 8, ..Policy::default() };
    let outcome = run_opening(policy.clone(), 4);
    assert_eq!((&outcome.end, outcome.response.as_slice()), (&End::Ok, 4u32.to_le_bytes().as_slice()));
    let outcome = run_opening(policy, 5);
    assert_eq!(outcome.end, End::LimitExceeded(loader::Resource::OpenFiles));
    // Under the default cap of 64, a guest opening a file 10,000 times is stopped too.
    assert_eq!(run_opening(Policy::default(), 10_000).end, End::LimitExceeded(loader::Resource::OpenFiles));
    // With the cap at wasmtime-wasi's own (a million entries), nothing stops it.
    let lifted = run_opening(Policy { max_open_files: 1_000_000, ..Policy::default() }, 4_097);
    assert_eq!((&lifted.end, lifted.response.as_slice()), (&End::Ok, 4_097u32.to_le_bytes().as_slice()));
}

/// A guest whose `main` makes `times` entries named `aaaa`, `baaa`, ... in
/// the sandbox with `make` (WAT with the name at 16, 4 bytes long) and
/// responds with how many it made and the last errno.
fn making_guest(times: u32, make: &str) -> Vec<u8> {
    let letters: String = (0..4)
        .map(|letter| {
            format!(
                "(i32.store8 (i32.const {at}) (i32.add (i32.const 97) (i32.and (i32.shr_u (local.get $i) (i32.const {shift})) (i32.const 15))))",
                at = 16 + letter,
                shift = 4 * letter
            )
        })
        .collect();
    let text = format!(
        r#"(module
            (import "wasi_snapshot_preview1" "path_create_directory" (func $mkdir (param i32 i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "path_open"
                (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
            (import "host" "write_response" (func $write_response (param i32 i32) (result i32)))
            (memory (export "memory") 1)
            (func (export "alloc") (param i32) (result i32) i32.const 0)
            (func (export "main") (local $i i32) (local $errno i32)
                (block $done (loop $next
                    (br_if $done (i32.ge_u (local.get $i) (i32.const {times})))
                    {letters}
                    (local.set $errno {make})
                    (if (i32.eqz (local.get $errno)) (then (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))))
                    (i32.store (i32.const 4) (local.get $errno))
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br $next)))
                (drop (call $write_response (i32.const 0) (i32.const 8)))))"#
    );
    wat::parse_str(text).expect("valid WAT")
}

/// `path_create_directory` of the name under the sandbox.
const MKDIR: &str = "(call $mkdir (i32.const 3) (i32.const 16) (i32.const 4))";
/// `path_open` of the name under the sandbox with `O_CREAT`, for writing.
const CREATE: &str = "(call $path_open (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 4) (i32.const 1) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 200))";

/// What `making_guest(times, make)` made in `sandbox` under `policy`: the
/// count and the last errno.
fn make_in(sandbox: &std::path::Path, policy: Policy, times: u32, make: &str) -> (u32, u32) {
    let policy = Policy { sandbox_dir: Some(sandbox.to_path_buf()), max_open_files: 10_000, ..policy };
    let outcome = run_with(policy, &making_guest(times, make), b"", Default::default());
    assert_eq!(outcome.end, End::Ok, "{outcome:?}");
    let word = |at: usize| u32::from_le_bytes(outcome.response[at..at + 4].try_into().unwrap());
    (word(0), word(4))
}

/// WASI errno `dquot`.
const DQUOT: u32 = 19;

#[test]
fn a_guest_makes_at_most_the_policys_sandbox_entries_counting_what_the_sandbox_held() {
    let policy = Policy { max_sandbox_entries: 8, ..Policy::default() };
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("held")).unwrap();
    std::fs::write(dir.path().join("held/file"), b"").unwrap();
    assert_eq!(make_in(dir.path(), policy.clone(), 10, MKDIR), (6, DQUOT), "2 held, 6 made: the cap of 8");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 7);
    // The next invocation counts what the sandbox holds: nothing is left.
    assert_eq!(make_in(dir.path(), policy.clone(), 1, MKDIR), (0, DQUOT));
    // Files made by `path_open` with `O_CREAT` count as well.
    let files = tempfile::tempdir().unwrap();
    assert_eq!(make_in(files.path(), policy, 10, CREATE), (8, DQUOT));
}

#[test]
fn under_the_default_cap_a_guest_makes_1024_folders_and_lifted_all_it_asks_for() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(make_in(dir.path(), Policy::default(), 3_000, MKDIR), (1_024, DQUOT));
    let lifted = tempfile::tempdir().unwrap();
    assert_eq!(make_in(lifted.path(), Policy { max_sandbox_entries: 1_000_000, ..Policy::default() }, 3_000, MKDIR), (3_000, 0));
}
