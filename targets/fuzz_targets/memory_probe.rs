#![no_main]
// Layer 3: well-formed modules that probe memory bounds.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::memory_probe::run(data);
});
