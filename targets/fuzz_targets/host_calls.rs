#![no_main]
// Layer 4 on the reference loader: a host-call sequence run by the interpreter module.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::Layer::HostCalls.run(reference::subject(), data);
});
