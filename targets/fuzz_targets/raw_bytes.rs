#![no_main]
// Layer 1 on the reference loader: the input bytes are the module.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::Layer::RawBytes.run(reference::subject(), data);
});
