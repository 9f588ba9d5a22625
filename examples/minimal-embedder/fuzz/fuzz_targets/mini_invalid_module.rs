#![no_main]
//! Layer invalid_module on the minimal embedder.

/// Counts the host heap while a guest runs, for the host-allocation oracle.
#[global_allocator]
static ALLOCATOR: harness::alloc::Counting = harness::alloc::Counting;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::Layer::InvalidModule.run(minimal_embedder::subject(), data);
});
