#![no_main]
// Layer 2: a wasm-smith module with catalogued defects.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::invalid_module::run(data);
});
