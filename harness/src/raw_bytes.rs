//! Layer 1, `raw_bytes`: the input bytes are the module. Exercises the size
//! check, the parser and the validator.
//!
//! Oracle: the embedder accepts a module past validation exactly when an
//! independent `wasmparser::Validator` with the features of its ABI does
//! ([`crate::abi::validate`]).

use contract::{Outcome, Stage};

use crate::abi::Abi;
use crate::embedder::{Embedder, Store};
use crate::report::Report;

/// The request every accepted module is invoked with.
pub const REQUEST: &[u8] = b"raw-bytes request";

/// Loads `data` as a module, invokes it if accepted, and checks the verdict.
pub fn run(embedder: &dyn Embedder, abi: &Abi, data: &[u8]) -> Report {
    crate::exclusive::run(|| {
        let (outcome, known) = crate::limits::run(embedder, abi, data, REQUEST, &Store::new());
        crate::phase::timed("oracle:verdict", || check_verdict(data, &outcome, abi));
        crate::messages::check(&outcome);
        let mut report = Report::new(outcome);
        report.labels.extend(known.map(crate::abi::known::label));
        report
    })
}

/// The oracle: panics with `oracle:` when the embedder's parse/validate
/// verdict differs from wasmparser's. Modules over the declared size cap
/// must be refused by the size check.
pub fn check_verdict(data: &[u8], outcome: &Outcome, abi: &Abi) {
    if abi.limits.max_module_bytes.is_some_and(|max| data.len() > max) {
        assert_eq!(outcome.stage, Stage::SizeCheck, "oracle: a {}-byte module passed the size check", data.len());
        return;
    }
    let embedder_valid = outcome.stage >= Stage::AbiCheck;
    let reference = crate::abi::validate(data, abi.features);
    match (embedder_valid, reference) {
        (true, Err(error)) => panic!("oracle: the embedder accepted a module wasmparser rejects ({error}); it reached {}", outcome.stage),
        (false, Ok(_)) => panic!("oracle: the embedder rejected a module wasmparser accepts: {}", outcome.end),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_abi::abi;
    use contract::{End, Rejection};

    const VALID: &[u8] = b"\0asm\x01\0\0\0";

    fn rejected_at(stage: Stage) -> Outcome {
        Outcome::rejected(Rejection { stage, reason: "test".to_owned() })
    }

    #[test]
    #[should_panic(expected = "oracle: the embedder rejected a module wasmparser accepts")]
    fn fires_when_the_embedder_rejects_a_valid_module() {
        check_verdict(VALID, &rejected_at(Stage::Validate), &abi(1024));
    }

    #[test]
    #[should_panic(expected = "oracle: the embedder accepted a module wasmparser rejects")]
    fn fires_when_the_embedder_accepts_an_invalid_module() {
        let mut outcome = rejected_at(Stage::Execute);
        outcome.end = End::Ok;
        check_verdict(b"\0asm\x01\0\0\0\x01", &outcome, &abi(1024));
    }

    #[test]
    #[should_panic(expected = "oracle: a 9-byte module passed the size check")]
    fn fires_when_an_oversized_module_passes_the_size_check() {
        check_verdict(b"\0asm\x01\0\0\0\0", &rejected_at(Stage::Parse), &abi(8));
    }

    #[test]
    fn stays_quiet_when_the_verdicts_agree() {
        check_verdict(VALID, &rejected_at(Stage::AbiCheck), &abi(1024));
        check_verdict(b"garbage", &rejected_at(Stage::Parse), &abi(1024));
        check_verdict(b"garbage!!", &rejected_at(Stage::SizeCheck), &abi(8));
    }
}
