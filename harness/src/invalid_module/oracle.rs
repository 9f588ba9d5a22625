//! The oracle of layer 2: the embedder's verdict on a defective module
//! agrees with an independent `wasmparser::Validator` plus the ABI rules of
//! its description, and a rejection comes at a stage the applied defects
//! belong to.

use contract::{End, Outcome, Stage};

use super::catalog::Defect;
use crate::abi::{Abi, Rule, known, rules};

/// What the independent checks say about a module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// wasmparser rejects it (malformed or invalid), with its message.
    Invalid(String),
    /// Valid Wasm that breaks an ABI rule, with the rule.
    BreaksAbi(Rule, String),
    /// Valid and ABI-conformant.
    Valid,
}

/// The independent verdict: wasmparser's validator with the ABI's features
/// ([`crate::abi::validate`]), then the ABI's rules.
pub fn reference_verdict(module: &[u8], abi: &Abi) -> Verdict {
    if let Err(error) = crate::abi::validate(module, abi.features) {
        return Verdict::Invalid(error);
    }
    match rules::violation(module, abi) {
        Some((rule, text)) => Verdict::BreaksAbi(rule, text),
        None => Verdict::Valid,
    }
}

/// The stage at which the embedder refused to run the module, if it did: a
/// rejection, or a limit that stopped it before it ran (a memory over the
/// cap at instantiation). A trap at instantiation is the module's own doing.
fn refused_at(outcome: &Outcome) -> Option<Stage> {
    match &outcome.end {
        End::Rejected(rejection) => Some(rejection.stage),
        End::LimitExceeded(_) if outcome.stage < Stage::Execute => Some(outcome.stage),
        _ => None,
    }
}

/// The known defect that explains the embedder refusing `module` at its
/// memory limit: a memory that starts at its declared maximum.
pub fn known_refusal(module: &[u8], outcome: &Outcome, abi: &Abi) -> Option<&'static str> {
    known::refusal_of_maximum(abi, outcome, || known::starts_at_declared_maximum(module))
}

/// Whether `module`, breaking `rule`, ended of its own doing (a trap, fuel,
/// the deadline) or by a known refusal while it was instantiated, before an
/// embedder that looks for exports only after instantiating
/// ([`crate::abi::Enforcement::exports_after_instantiation`]) checked them.
/// (The export rule is the last checked: the module's imports and declared
/// limits follow the ABI, so any other refusal is the embedder's mistake.)
fn ended_before_its_exports_were_checked(rule: Rule, module: &[u8], outcome: &Outcome, abi: &Abi) -> bool {
    let instantiating = rule == Rule::Exports && abi.enforced_at.exports_after_instantiation && outcome.stage == Stage::Instantiate;
    instantiating && (refused_at(outcome).is_none() || known_refusal(module, outcome, abi).is_some())
}

/// Panics with `oracle:` when the embedder's `outcome` for `module`
/// disagrees with [`reference_verdict`], or refuses the module at a stage
/// none of the applied `defects` belongs to. Returns the independent verdict.
pub fn check_verdict(module: &[u8], defects: &[Defect], outcome: &Outcome, abi: &Abi) -> Verdict {
    let verdict = reference_verdict(module, abi);
    let refused = refused_at(outcome);
    let checked_late = matches!(verdict, Verdict::BreaksAbi(rule, _) if ended_before_its_exports_were_checked(rule, module, outcome, abi));
    match (&verdict, refused) {
        (Verdict::Invalid(_), Some(Stage::SizeCheck | Stage::Parse | Stage::Validate)) | (Verdict::Valid, None) => {}
        (Verdict::BreaksAbi(rule, _), Some(stage)) if stage == abi.enforced_at.stage(*rule) => {}
        (Verdict::BreaksAbi(..), _) if checked_late => {}
        (Verdict::Invalid(error), _) => {
            panic!("oracle: the embedder passed a module wasmparser rejects ({error}); it ended at {}: {}", outcome.stage, outcome.end)
        }
        (Verdict::BreaksAbi(rule, text), Some(stage)) if stage < abi.enforced_at.stage(*rule) => {
            panic!("oracle: the embedder refused at {stage} a module wasmparser accepts (it breaks the ABI: {text}): {}", outcome.end)
        }
        (Verdict::BreaksAbi(rule, text), _) => panic!(
            "oracle: the embedder let through a module that breaks the ABI ({text}); it must refuse it at {}, it reached {}: {}",
            abi.enforced_at.stage(*rule),
            outcome.stage,
            outcome.end
        ),
        (Verdict::Valid, Some(_)) if known_refusal(module, outcome, abi).is_some() => {}
        (Verdict::Valid, Some(stage)) => {
            panic!("oracle: the embedder refused a valid, ABI-conformant module at {stage}: {}", outcome.end)
        }
    }
    let Some(stage) = refused.filter(|_| verdict != Verdict::Valid && !checked_late) else { return verdict };
    if !defects.is_empty() && !defects.iter().any(|defect| defect.kind.stages_under(abi).contains(&stage)) {
        let names: Vec<&str> = defects.iter().map(|defect| defect.kind.name()).collect();
        let stages: Vec<&str> = defects.iter().flat_map(|defect| defect.kind.stages_under(abi)).map(|stage| stage.name()).collect();
        panic!("oracle: defects {names:?} belong to stages {stages:?}, but the embedder refused at {stage}: {}", outcome.end);
    }
    verdict
}
