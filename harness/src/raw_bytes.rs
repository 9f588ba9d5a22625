//! Layer 1, `raw_bytes`: the input bytes are the module. Exercises the size
//! check, the parser and the validator.
//!
//! Oracle: the loader accepts a module past validation exactly when an
//! independent `wasmparser::Validator` with the same features does.

use std::sync::Arc;

use loader::{Outcome, Stage, Storage};

use crate::report::Report;
use crate::shared_loader::loader;

/// The request every accepted module is invoked with.
pub const REQUEST: &[u8] = b"raw-bytes request";

/// Loads `data` as a module, invokes it if accepted, and checks the verdict.
pub fn run(data: &[u8]) -> Report {
    let outcome = loader().run(data, REQUEST, &Arc::new(Storage::new()));
    check_verdict(data, &outcome, loader().policy().max_module_bytes);
    crate::messages::check(&outcome);
    Report::new(outcome)
}

/// The oracle: panics with `oracle:` when the loader's parse/validate verdict
/// differs from wasmparser's. Modules refused by the size check are skipped.
pub fn check_verdict(data: &[u8], outcome: &Outcome, max_module_bytes: usize) {
    if data.len() > max_module_bytes {
        assert_eq!(outcome.stage, Stage::SizeCheck, "oracle: a {}-byte module passed the size check", data.len());
        return;
    }
    let loader_valid = outcome.stage >= Stage::AbiCheck;
    let reference = wasmparser::Validator::new_with_features(loader::wasm_features()).validate_all(data);
    match (loader_valid, reference) {
        (true, Err(error)) => panic!(
            "oracle: the loader accepted a module wasmparser rejects ({error}); loader reached {}",
            outcome.stage
        ),
        (false, Ok(_)) => panic!("oracle: the loader rejected a module wasmparser accepts: {}", outcome.end),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use loader::{End, Rejection};

    const VALID: &[u8] = b"\0asm\x01\0\0\0";

    fn rejected_at(stage: Stage) -> Outcome {
        Outcome::rejected(Rejection { stage, reason: "test".to_owned() })
    }

    #[test]
    fn the_real_loader_agrees_on_valid_and_invalid_modules() {
        // The empty module is valid but breaks the ABI (no exports).
        assert_eq!(run(VALID).outcome.stage, Stage::AbiCheck);
        assert_eq!(run(b"\0asm\x02\0\0\0").outcome.stage, Stage::Parse);
    }

    #[test]
    #[should_panic(expected = "oracle: the loader rejected a module wasmparser accepts")]
    fn fires_when_the_loader_rejects_a_valid_module() {
        check_verdict(VALID, &rejected_at(Stage::Validate), 1024);
    }

    #[test]
    #[should_panic(expected = "oracle: the loader accepted a module wasmparser rejects")]
    fn fires_when_the_loader_accepts_an_invalid_module() {
        let mut outcome = rejected_at(Stage::Execute);
        outcome.end = End::Ok;
        check_verdict(b"\0asm\x01\0\0\0\x01", &outcome, 1024);
    }

    #[test]
    #[should_panic(expected = "oracle: a 9-byte module passed the size check")]
    fn fires_when_an_oversized_module_passes_the_size_check() {
        check_verdict(b"\0asm\x01\0\0\0\0", &rejected_at(Stage::Parse), 8);
    }

    #[test]
    fn stays_quiet_when_the_verdicts_agree() {
        check_verdict(VALID, &rejected_at(Stage::AbiCheck), 1024);
        check_verdict(b"garbage", &rejected_at(Stage::Parse), 1024);
        check_verdict(b"garbage!!", &rejected_at(Stage::SizeCheck), 8);
    }
}
