#![no_main]
// Layer 4: a host-call sequence run by the interpreter module.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::host_calls::run(data);
});
