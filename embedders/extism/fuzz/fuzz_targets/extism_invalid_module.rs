#![no_main]
// Layer 2 on Extism: a wasm-smith module with catalogued defects, under Extism's ABI.
/// Counts the host heap while a guest runs, for the host-allocation oracle.
#[global_allocator]
static ALLOCATOR: harness::alloc::Counting = harness::alloc::Counting;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::Layer::InvalidModule.run(extism_embedder::subject(), data);
});
