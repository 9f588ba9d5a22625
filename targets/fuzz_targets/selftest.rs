#![no_main]
// Misbehaves on purpose (inputs starting crash/hang/oom); tests the suite itself.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::selftest::run(data);
});
