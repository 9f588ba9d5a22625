#![no_main]
// Layer 1 on the reference loader: the input bytes are the module.
/// Counts the host heap while a guest runs, for the host-allocation oracle.
#[global_allocator]
static ALLOCATOR: harness::alloc::Counting = harness::alloc::Counting;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::Layer::RawBytes.run(reference::subject(), data);
});
