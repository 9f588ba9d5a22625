#![no_main]
// Layer 3 on the reference loader: well-formed modules that probe memory bounds.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::Layer::MemoryProbe.run(reference::subject(), data);
});
