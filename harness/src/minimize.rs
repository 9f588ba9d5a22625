//! Minimizing a finding's input while it keeps its signature: in the
//! target's structured form when the form built from the input keeps the
//! signature (its layer's own reduction if it has one, then the form's
//! minimization: for modules wasm-shrink, whole sections, then bytes; for
//! command lists delta debugging over the commands), else by delta debugging
//! over the fuzz input's bytes.

use std::panic::{self, AssertUnwindSafe};

use crate::forms::InputKind;
use crate::targets::Target;

/// A minimized input and what it was minimized from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Minimized {
    /// The form of `input`.
    pub kind: InputKind,
    /// Bytes of the input in that form before minimizing.
    pub size_before: usize,
    /// The minimized input.
    pub input: Vec<u8>,
    /// Commands before and after, for a command list.
    pub commands: Option<(usize, usize)>,
}

/// Minimizes `original`, a fuzz input of `target`, while `still_fails` says
/// that an input of the given kind keeps the signature. Tries the target's
/// structured form first; falls back to the fuzz input when the form cannot
/// be built (its generator panics) or does not keep the signature.
pub fn minimize(target: &Target, original: &[u8], still_fails: &mut dyn FnMut(InputKind, &[u8]) -> bool) -> Minimized {
    if let Ok(Some((kind, derived))) = panic::catch_unwind(AssertUnwindSafe(|| target.derive(original)))
        && target.check(kind, &derived).is_ok()
        && still_fails(kind, &derived)
    {
        let mut in_form = |candidate: &[u8]| target.check(kind, candidate).is_ok() && still_fails(kind, candidate);
        let size_before = derived.len();
        // The reduction's result passed `in_form` unless it is `derived` itself.
        let reduced = panic::catch_unwind(AssertUnwindSafe(|| target.reduce(original, &mut in_form))).ok().flatten().unwrap_or(derived);
        let (input, commands) = target.minimize(kind, reduced, &mut in_form);
        return Minimized { kind, size_before, input, commands };
    }
    let (input, _) = target.minimize(InputKind::Fuzz, original.to_vec(), &mut |candidate| still_fails(InputKind::Fuzz, candidate));
    Minimized { kind: InputKind::Fuzz, size_before: original.len(), input, commands: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_without_a_structured_form_minimizes_its_fuzz_bytes() {
        let mut data = b"crash".to_vec();
        data.extend((0..300u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
        let selftest = crate::targets::SELFTEST;
        let minimized = minimize(&selftest, &data, &mut |kind, candidate| kind == InputKind::Fuzz && candidate.starts_with(b"crash"));
        assert_eq!((minimized.kind, minimized.input.as_slice(), minimized.size_before), (InputKind::Fuzz, &b"crash"[..], 305));
    }
}
