#![no_main]
// Layer 2 on the reference loader: a wasm-smith module with catalogued defects.
/// Counts the host heap while a guest runs, for the host-allocation oracle.
#[global_allocator]
static ALLOCATOR: harness::alloc::Counting = harness::alloc::Counting;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::Layer::InvalidModule.run(reference::subject(), data);
});
