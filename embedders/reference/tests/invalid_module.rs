//! Layer 2 on the reference loader: every defect kind makes an invalid
//! module, rejected at its stage; the oracle fires on wrong embedder results
//! and stays quiet on the seeds.

use std::collections::BTreeMap;
use std::path::Path;

use arbitrary::Unstructured;
use contract::{End, Outcome, Rejection, Stage, TrapCode};
use harness::embedder::{self, Store};
use harness::invalid_module::oracle::{Verdict, check_verdict};
use harness::invalid_module::{self, Defect, DefectKind, generate};
use reference::subject;

/// The independent verdict under the reference ABI.
fn reference_verdict(module: &[u8]) -> Verdict {
    invalid_module::oracle::reference_verdict(module, &subject().abi)
}

/// The loader's outcome for `module`.
fn run(module: &[u8]) -> Outcome {
    embedder::run(&*subject().embedder, module, b"", &Store::new())
}

/// Deterministic pseudo-random input bytes (xorshift), so tests see varied modules.
fn input(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// A valid module generated from `seed` (no defects).
fn generated(seed: u64) -> Vec<u8> {
    let generator = generate::generator(subject());
    generator.valid_module(&subject().abi, &mut Unstructured::new(&input(seed, 600)), generate::MAX_GENERATOR_BYTES)
}

/// A module carrying one `kind` defect.
fn defective(kind: DefectKind) -> (Vec<u8>, Vec<Defect>) {
    let built = invalid_module::apply(&subject().abi, &generated(1), vec![Defect { kind, picks: [0, 0, 0] }]);
    (built.module, built.defects)
}

/// The oracle under the reference ABI.
fn check(module: &[u8], defects: &[Defect], outcome: &Outcome) -> Verdict {
    check_verdict(module, defects, outcome, &subject().abi)
}

fn rejected_at(stage: Stage) -> Outcome {
    Outcome::rejected(Rejection { stage, reason: "test".to_owned() })
}

fn accepted() -> Outcome {
    Outcome::ended(Stage::Execute, End::Ok)
}

#[test]
fn catalog_has_at_least_twelve_distinctly_named_kinds() {
    let mut names: Vec<&str> = DefectKind::ALL.iter().map(|kind| kind.name()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), DefectKind::ALL.len());
    assert!(names.len() >= 12, "{names:?}");
}

#[test]
fn every_defect_kind_is_rejected_at_its_stage() {
    let mut failures = Vec::new();
    for seed in 0..12u64 {
        let valid = generated(seed);
        assert_eq!(reference_verdict(&valid), Verdict::Valid);
        for kind in DefectKind::ALL {
            for variant in 0..12u32 {
                let picks = [seed as u32 * 7 + variant, variant * 13 + seed as u32, variant | (seed as u32 * 37 + variant * 101) << 8];
                let defect = Defect { kind: *kind, picks };
                let built = invalid_module::apply(&subject().abi, &valid, vec![defect]);
                assert_eq!(built.defects, vec![defect]);
                let verdict = reference_verdict(&built.module);
                let outcome = run(&built.module);
                let stage = outcome.stage;
                if verdict == Verdict::Valid || !matches!(outcome.end, End::Rejected(_)) || !kind.stages_under(&subject().abi).contains(&stage) {
                    failures.push(format!("{} seed {seed} picks {picks:?}: {verdict:?}, loader {stage}: {}", kind.name(), outcome.end));
                }
                check(&built.module, &built.defects, &outcome);
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn pairs_of_defects_stay_invalid_and_pass_the_oracle() {
    let valid = generated(5);
    for first in DefectKind::ALL {
        // As in `catalog::draw`, a defect the parser catches only ever comes first.
        for second in DefectKind::ALL.iter().filter(|kind| !kind.stages().contains(&Stage::Parse)) {
            for variant in 0..4u32 {
                let picks = |salt: u32| [variant * 3 + salt, variant * 5 + salt, (variant + salt * 7) | ((variant * 17) << 8)];
                let defects = vec![Defect { kind: *first, picks: picks(1) }, Defect { kind: *second, picks: picks(2) }];
                let built = invalid_module::apply(&subject().abi, &valid, defects);
                let outcome = run(&built.module);
                assert_eq!(built.defects.len(), 2);
                assert_ne!(check(&built.module, &built.defects, &outcome), Verdict::Valid, "{:?}", built.defects);
            }
        }
    }
}

#[test]
fn under_the_production_profile_every_drawn_defect_is_applied_and_refused() {
    // wasmtime's default features let wasm-smith write GC-proposal types
    // (recursion groups, subtypes, structs): the rewriter must read them.
    let production = reference::subject_with(contract::Policy::production()).unwrap();
    let mut stages: BTreeMap<Stage, usize> = BTreeMap::new();
    let runs = 400;
    for seed in 0..runs {
        let report = invalid_module::run(&production, &input(seed, (seed as usize * 37) % 900 + 16));
        assert!(!report.labels.iter().any(|label| label.starts_with("catalog:")), "seed {seed}: {:?}", report.labels);
        *stages.entry(report.outcome.stage).or_default() += 1;
    }
    let deep = stages.get(&Stage::Validate).unwrap_or(&0) + stages.get(&Stage::AbiCheck).unwrap_or(&0);
    assert!(deep * 100 >= runs as usize * 80, "only {deep} of {runs} at validate or abi-check: {stages:?}");
}

#[test]
fn random_inputs_pass_the_oracle_and_mostly_reach_validation() {
    let mut stages: BTreeMap<Stage, usize> = BTreeMap::new();
    let mut kinds = BTreeMap::new();
    let runs = 1500;
    for seed in 0..runs {
        let data = input(seed, (seed as usize * 37) % 900 + 16);
        let report = invalid_module::run(subject(), &data);
        *stages.entry(report.outcome.stage).or_default() += 1;
        for label in report.labels {
            *kinds.entry(label).or_insert(0usize) += 1;
        }
    }
    let deep = stages.get(&Stage::Validate).unwrap_or(&0) + stages.get(&Stage::AbiCheck).unwrap_or(&0);
    println!("stages {stages:?}\nkinds {kinds:?}");
    assert!(deep * 100 >= runs as usize * 80, "only {deep} of {runs} at validate or abi-check: {stages:?}");
    assert!(!kinds.contains_key("catalog:miss"), "some defects left their module valid: {kinds:?}");
    let not_applied = kinds.remove("catalog:defects-not-applied").unwrap_or(0);
    assert!(not_applied * 100 <= runs as usize, "{not_applied} of {runs} inputs went out without their defects: {kinds:?}");
    assert_eq!(kinds.len(), DefectKind::ALL.len(), "{kinds:?}");
}

#[test]
#[should_panic(expected = "oracle: the embedder passed a module wasmparser rejects")]
fn fires_when_the_loader_accepts_an_invalid_module() {
    let (module, defects) = defective(DefectKind::TypeError);
    check(&module, &defects, &accepted());
}

#[test]
#[should_panic(expected = "oracle: the embedder passed a module wasmparser rejects")]
fn fires_when_the_loader_sends_an_invalid_module_to_the_abi_check() {
    let (module, defects) = defective(DefectKind::BadLocalIndex);
    check(&module, &defects, &rejected_at(Stage::AbiCheck));
}

#[test]
#[should_panic(expected = "oracle: defects [\"huge-alignment\"] belong to stages [\"validate\"], but the embedder refused at parse")]
fn fires_when_a_validation_defect_is_rejected_by_the_parser() {
    let (module, defects) = defective(DefectKind::HugeAlignment);
    check(&module, &defects, &rejected_at(Stage::Parse));
}

#[test]
#[should_panic(expected = "oracle: the embedder let through a module that breaks the ABI")]
fn fires_when_the_loader_accepts_a_forbidden_import() {
    let (module, defects) = defective(DefectKind::ForbiddenImport);
    check(&module, &defects, &accepted());
}

#[test]
#[should_panic(expected = "oracle: the embedder refused at validate a module wasmparser accepts")]
fn fires_when_the_loader_fails_a_valid_module_that_breaks_the_abi() {
    let (module, defects) = defective(DefectKind::MissingExport);
    check(&module, &defects, &rejected_at(Stage::Validate));
}

#[test]
#[should_panic(expected = "it must refuse it at abi-check, it reached instantiate: trap")]
fn fires_when_a_module_without_its_exports_is_instantiated_by_a_loader_that_checks_them_first() {
    // The loader checks exports before instantiating: a trap while
    // instantiating means the check was skipped (Extism checks them later).
    let (module, defects) = defective(DefectKind::MissingExport);
    let trapped = Outcome::ended(Stage::Instantiate, End::Trap(TrapCode::TableOutOfBounds));
    check(&module, &defects, &trapped);
}

#[test]
#[should_panic(expected = "oracle: the embedder refused a valid, ABI-conformant module at validate")]
fn fires_when_the_loader_rejects_a_valid_module() {
    check(&generated(3), &[], &rejected_at(Stage::Validate));
}

#[test]
fn stays_quiet_on_right_results() {
    let (module, defects) = defective(DefectKind::TypeError);
    check(&module, &defects, &rejected_at(Stage::Validate));
    let (module, defects) = defective(DefectKind::MistypedExport);
    check(&module, &defects, &rejected_at(Stage::AbiCheck));
    let (module, defects) = defective(DefectKind::OverlongLeb);
    check(&module, &defects, &rejected_at(Stage::Parse));
    check(&generated(3), &[], &accepted());
}

#[test]
fn same_input_same_module() {
    let data = input(42, 500);
    assert_eq!(invalid_module::build(subject(), &data).module, invalid_module::build(subject(), &data).module);
}

#[test]
fn seeds_replay_quietly_over_many_defect_kinds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/invalid_module");
    let mut kinds = std::collections::BTreeSet::new();
    let mut seeds = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        let report = invalid_module::run(subject(), &data);
        assert!(matches!(report.outcome.stage, Stage::Parse | Stage::Validate | Stage::AbiCheck), "{}", report.summary());
        kinds.extend(report.labels);
        seeds += 1;
    }
    assert!(seeds >= 10, "only {seeds} seeds");
    assert!(kinds.len() >= 12, "seeds hit only {kinds:?}");
}

/// Every generated module validates with the loader's features and passes
/// the ABI rules, so each defect alone is what makes it invalid.
#[test]
fn undefected_modules_are_valid_and_follow_the_abi() {
    for seed in 0..300u64 {
        let module = generated(seed);
        assert_eq!(reference_verdict(&module), Verdict::Valid, "{}", wasmprinter::print_bytes(&module).unwrap());
    }
}
