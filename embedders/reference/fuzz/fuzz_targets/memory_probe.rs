#![no_main]
// Layer 3 on the reference loader: well-formed modules that probe memory bounds.
/// Counts the host heap while a guest runs, for the host-allocation oracle.
#[global_allocator]
static ALLOCATOR: harness::alloc::Counting = harness::alloc::Counting;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::Layer::MemoryProbe.run(reference::subject(), data);
});
