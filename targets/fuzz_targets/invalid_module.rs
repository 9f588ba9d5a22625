#![no_main]
// Layer 2 on the reference loader: a wasm-smith module with catalogued defects.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::Layer::InvalidModule.run(reference::subject(), data);
});
