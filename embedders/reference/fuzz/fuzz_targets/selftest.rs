#![no_main]
// Misbehaves on purpose (inputs starting crash/hang/oom); tests the suite itself.
/// Counts the host heap while a guest runs, for the host-allocation oracle.
#[global_allocator]
static ALLOCATOR: harness::alloc::Counting = harness::alloc::Counting;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::selftest::run(data);
});
