#![no_main]
// Layer 4 on Extism: a sequence of kernel and host calls run by the interpreter plugin.
/// Counts the host heap while a guest runs, for the host-allocation oracle.
#[global_allocator]
static ALLOCATOR: harness::alloc::Counting = harness::alloc::Counting;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::Layer::HostCalls.run(extism_embedder::subject(), data);
});
