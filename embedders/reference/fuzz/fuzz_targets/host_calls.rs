#![no_main]
// Layer 4 on the reference loader: a host-call sequence run by the interpreter module.
/// Counts the host heap while a guest runs, for the host-allocation oracle.
#[global_allocator]
static ALLOCATOR: harness::alloc::Counting = harness::alloc::Counting;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::Layer::HostCalls.run(reference::subject(), data);
});
