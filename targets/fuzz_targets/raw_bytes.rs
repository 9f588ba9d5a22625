#![no_main]
// Layer 1: the input bytes are the module.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::raw_bytes::run(data);
});
