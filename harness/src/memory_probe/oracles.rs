//! The layer's three oracles. Each takes the embedder's result as an argument
//! and panics with a message starting `oracle:` when it does not hold.

use contract::{End, Outcome, Resource, TrapCode};

use super::probes::RESPONSE_LEN;
use super::spec::Expected;
use super::wasmi_diff::{WasmiEnd, WasmiRun};

/// Whether the embedder's run ended on fuel, time or a resource cap: such
/// runs are counted, never compared.
pub fn embedder_was_limited(outcome: &Outcome) -> bool {
    matches!(outcome.end, End::OutOfFuel | End::DeadlineExceeded | End::LimitExceeded(_) | End::Trap(TrapCode::StackOverflow))
}

/// Oracle 1: probe `probe` traps out of bounds exactly when the specification
/// says it must, and when it completes, its memory has the pages the
/// specification says (so every grow succeeded or failed as it must). An
/// embedder may end a probe at its memory limit only if the probe asks for
/// growth past its cap (`refusal_allowed`): growth past a memory's declared
/// maximum must return -1.
pub fn check_spec(probe: usize, expected: Expected, refusal_allowed: bool, outcome: &Outcome) {
    if outcome.end == End::LimitExceeded(Resource::Memory) {
        assert!(refusal_allowed, "oracle: probe {probe} asks for no memory past the cap, but the embedder refused it: {}", outcome.end);
        return;
    }
    if embedder_was_limited(outcome) {
        return;
    }
    match expected {
        Expected::Trap { step } => assert!(
            outcome.end == End::Trap(TrapCode::MemoryOutOfBounds),
            "oracle: probe {probe} must trap out of bounds at step {step}, but the embedder ended with {}",
            outcome.end
        ),
        Expected::Completes { pages } => {
            assert!(outcome.end == End::Ok, "oracle: probe {probe} must complete, but the embedder ended with {}", outcome.end);
            let reported = response_pages(&outcome.response);
            assert!(reported == Some(pages), "oracle: probe {probe} must end with {pages} pages of memory, but the guest reported {reported:?}");
        }
    }
}

/// The page count a probe module's response reports.
pub fn response_pages(response: &[u8]) -> Option<u64> {
    let bytes: [u8; 4] = response.get(8..RESPONSE_LEN)?.try_into().ok()?;
    Some(u64::from(u32::from_le_bytes(bytes)))
}

/// Oracle 2: the guest never saw more memory than the declared cap (`None`:
/// there is none). The embedder's own account of its peak is the limits
/// oracle's ([`crate::limits`]).
pub fn check_memory_cap(outcome: &Outcome, max_memory_bytes: Option<u64>) {
    let Some(cap) = max_memory_bytes else { return };
    if let Some(pages) = response_pages(&outcome.response) {
        let bytes = pages * super::spec::PAGE;
        assert!(bytes <= cap, "oracle: the guest saw {bytes} bytes of memory, past the declared cap of {cap}");
    }
}

/// Oracle 3: call `call` agrees with wasmi on trap or no trap and on the
/// response (the digest of the final memory). The embedder may end a call
/// at its memory limit only if the module asked wasmi, under the same caps,
/// for memory past the cap. Other runs where either side was limited are
/// skipped; returns whether the call was compared.
pub fn check_differential(call: usize, outcome: &Outcome, wasmi: &WasmiRun) -> bool {
    if outcome.end == End::LimitExceeded(Resource::Memory) && !matches!(wasmi.end, WasmiEnd::Limited(_)) {
        assert!(
            wasmi.asked_past_cap,
            "oracle: call {call}: the embedder ended at its memory limit, but the module asks for no memory past the cap (wasmi, under the same caps, ended with {:?})",
            wasmi.end
        );
        return true;
    }
    if embedder_was_limited(outcome) || matches!(wasmi.end, WasmiEnd::Limited(_)) {
        return false;
    }
    let embedder_trapped = !matches!(outcome.end, End::Ok);
    let wasmi_trapped = matches!(wasmi.end, WasmiEnd::Trap(_));
    assert!(embedder_trapped == wasmi_trapped, "oracle: call {call}: the embedder ended with {} but wasmi with {:?}", outcome.end, wasmi.end);
    if !embedder_trapped {
        assert!(
            outcome.response == wasmi.response,
            "oracle: call {call}: final memory digests differ: embedder {:02x?}, wasmi {:02x?}",
            outcome.response,
            wasmi.response
        );
    }
    true
}

/// A probe module is valid and follows the ABI: the embedder must accept it.
pub fn check_accepted(outcome: &Outcome) {
    if let End::Rejected(rejection) = &outcome.end {
        panic!("oracle: the embedder rejected a well-formed probe module: {rejection}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use contract::{Rejection, Stage};

    fn ended(end: End, response: &[u8]) -> Outcome {
        Outcome { response: response.to_vec(), ..Outcome::ended(Stage::HostCall, end) }
    }

    fn response(digest: u64, pages: u32) -> Vec<u8> {
        [&digest.to_le_bytes()[..], &pages.to_le_bytes()].concat()
    }

    fn wasmi(end: WasmiEnd, response: Vec<u8>) -> WasmiRun {
        WasmiRun { end, response, asked_past_cap: false }
    }

    #[test]
    #[should_panic(expected = "oracle: probe 2 must trap out of bounds at step 1")]
    fn spec_fires_when_an_out_of_bounds_probe_completes() {
        check_spec(2, Expected::Trap { step: 1 }, false, &ended(End::Ok, &response(1, 1)));
    }

    #[test]
    #[should_panic(expected = "oracle: probe 0 must trap out of bounds")]
    fn spec_fires_on_the_wrong_trap() {
        check_spec(0, Expected::Trap { step: 0 }, false, &ended(End::Trap(TrapCode::Unreachable), &[]));
    }

    #[test]
    #[should_panic(expected = "oracle: probe 0 must complete")]
    fn spec_fires_when_an_in_bounds_probe_traps() {
        check_spec(0, Expected::Completes { pages: 1 }, false, &ended(End::Trap(TrapCode::MemoryOutOfBounds), &[]));
    }

    #[test]
    #[should_panic(expected = "oracle: probe 1 must end with 2 pages of memory, but the guest reported Some(257)")]
    fn spec_fires_when_a_grow_the_policy_refuses_succeeds() {
        check_spec(1, Expected::Completes { pages: 2 }, false, &ended(End::Ok, &response(1, 257)));
    }

    #[test]
    fn spec_stays_quiet_on_agreement_and_on_limited_runs() {
        check_spec(0, Expected::Trap { step: 0 }, false, &ended(End::Trap(TrapCode::MemoryOutOfBounds), &[]));
        check_spec(0, Expected::Completes { pages: 3 }, false, &ended(End::Ok, &response(7, 3)));
        check_spec(0, Expected::Completes { pages: 3 }, false, &ended(End::OutOfFuel, &[]));
        check_spec(0, Expected::Trap { step: 0 }, false, &ended(End::LimitExceeded(Resource::HostCalls), &[]));
        check_spec(0, Expected::Completes { pages: 3 }, true, &ended(End::LimitExceeded(Resource::Memory), &[]));
    }

    #[test]
    #[should_panic(expected = "oracle: probe 1 asks for no memory past the cap, but the embedder refused it")]
    fn spec_fires_when_growth_within_the_maximum_and_the_cap_is_refused() {
        check_spec(1, Expected::Completes { pages: 2 }, false, &ended(End::LimitExceeded(Resource::Memory), &[]));
    }

    #[test]
    #[should_panic(expected = "oracle: the guest saw 16842752 bytes of memory")]
    fn cap_fires_when_the_guest_sees_more_memory_than_the_cap() {
        check_memory_cap(&ended(End::Ok, &response(0, 257)), Some(16 << 20));
    }

    #[test]
    fn cap_stays_quiet_at_the_cap_and_without_one() {
        let mut outcome = ended(End::Ok, &response(0, 256));
        outcome.peak_memory_bytes = Some(16 << 20);
        check_memory_cap(&outcome, Some(16 << 20));
        check_memory_cap(&ended(End::Ok, &response(0, 257)), None);
    }

    #[test]
    #[should_panic(expected = "oracle: call 3: the embedder ended with ok but wasmi with Trap")]
    fn differential_fires_on_trap_disagreement() {
        check_differential(3, &ended(End::Ok, &response(1, 1)), &wasmi(WasmiEnd::Trap("oob".into()), Vec::new()));
    }

    #[test]
    #[should_panic(expected = "oracle: call 0: final memory digests differ")]
    fn differential_fires_on_a_different_final_memory() {
        check_differential(0, &ended(End::Ok, &response(1, 1)), &wasmi(WasmiEnd::Ok, response(2, 1)));
    }

    #[test]
    fn differential_skips_limited_runs_and_stays_quiet_on_agreement() {
        let limited = wasmi(WasmiEnd::Limited("fuel".into()), Vec::new());
        assert!(!check_differential(0, &ended(End::Ok, &response(1, 1)), &limited));
        assert!(!check_differential(0, &ended(End::OutOfFuel, &[]), &wasmi(WasmiEnd::Ok, Vec::new())));
        assert!(check_differential(0, &ended(End::Ok, &response(1, 1)), &wasmi(WasmiEnd::Ok, response(1, 1))));
        let trap = ended(End::Trap(TrapCode::MemoryOutOfBounds), &[]);
        assert!(check_differential(0, &trap, &wasmi(WasmiEnd::Trap("oob".into()), Vec::new())));
    }

    #[test]
    #[should_panic(expected = "oracle: call 1: the embedder ended at its memory limit, but the module asks for no memory past the cap")]
    fn differential_fires_when_the_embedder_refuses_memory_wasmi_granted() {
        check_differential(1, &ended(End::LimitExceeded(Resource::Memory), &[]), &wasmi(WasmiEnd::Ok, response(1, 1)));
    }

    #[test]
    fn differential_lets_the_embedder_refuse_memory_past_the_cap() {
        let mut asked_too_much = wasmi(WasmiEnd::Ok, response(1, 1));
        asked_too_much.asked_past_cap = true;
        assert!(check_differential(0, &ended(End::LimitExceeded(Resource::Memory), &[]), &asked_too_much));
    }

    #[test]
    #[should_panic(expected = "oracle: the embedder rejected a well-formed probe module")]
    fn accepted_fires_on_a_rejection() {
        check_accepted(&Outcome::rejected(Rejection { stage: Stage::Validate, reason: "test".into() }));
    }
}
