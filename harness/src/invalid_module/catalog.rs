//! The catalog of defects: each kind has a name (the `defect:<name>` label)
//! and the stages allowed to reject it; for a defect that breaks an ABI rule,
//! the stage where the embedder's ABI says it enforces that rule.

use arbitrary::Unstructured;
use contract::Stage;
use wasmparser::WasmFeatures;

use crate::abi::{Abi, Rule};

/// Where a defect is applied while the module is rebuilt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Instructions spliced into one function body.
    Code,
    /// A section's entries changed while re-encoding.
    Module,
    /// The encoded bytes changed: section order, sizes, LEB128 encodings.
    Bytes,
}

macro_rules! catalog {
    ($($variant:ident => $name:literal, $phase:ident, $weight:literal, [$($stage:ident),+], $doc:literal;)+) => {
        /// A kind of defect.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum DefectKind {
            $(#[doc = $doc] $variant,)+
        }

        impl DefectKind {
            /// Every kind, in catalog order.
            pub const ALL: &'static [DefectKind] = &[$(DefectKind::$variant,)+];

            /// The kind's name, used in the `defect:<name>` label.
            pub fn name(self) -> &'static str {
                match self { $(DefectKind::$variant => $name,)+ }
            }

            /// The stages at which an embedder may rightly reject this
            /// defect, for defects that do not break an ABI rule (for those,
            /// see [`DefectKind::stages_under`]).
            pub fn stages(self) -> &'static [Stage] {
                match self { $(DefectKind::$variant => &[$(Stage::$stage),+],)+ }
            }

            /// Where the defect is applied.
            pub fn phase(self) -> Phase {
                match self { $(DefectKind::$variant => Phase::$phase,)+ }
            }

            /// How often the kind is drawn, relative to the others.
            fn weight(self) -> u32 {
                match self { $(DefectKind::$variant => $weight,)+ }
            }
        }
    };
}

// Defects that the parser catches are drawn a sixth as often as the others:
// the parser is layer 1's job, and this layer is meant to reach the validator.
// Each still brings parser coverage that keeps its inputs in the corpus, so
// their share of a fuzzed corpus is several times their share of draws.
catalog! {
    TypeError => "type-error", Code, 6, [Validate], "An operator applied to an operand of the wrong type.";
    StackUnderflow => "stack-underflow", Code, 6, [Validate], "An operator that pops from an empty block.";
    StackHeight => "stack-height", Code, 6, [Validate], "A block that ends with too many or too few values.";
    BadFunctionIndex => "bad-function-index", Code, 6, [Validate], "A `call` of a function that does not exist.";
    BadLocalIndex => "bad-local-index", Code, 6, [Validate], "A `local.get` or `local.set` past the function's locals.";
    BadGlobalIndex => "bad-global-index", Code, 6, [Validate], "A `global.get` or `global.set` past the module's globals.";
    BadTypeIndex => "bad-type-index", Code, 6, [Validate], "A block type or function declaration naming a type that does not exist.";
    BadTableIndex => "bad-table-index", Code, 6, [Validate], "A `call_indirect` or `table.init` naming a table that does not exist or is not table 0.";
    BadSegmentIndex => "bad-segment-index", Code, 6, [Validate], "A `data.drop`, `memory.init` or `elem.drop` of a segment that does not exist.";
    BadMemoryIndex => "bad-memory-index", Code, 6, [Validate], "A memory operator naming memory 1 or more (multi-memory is off).";
    BadBranchDepth => "bad-branch-depth", Code, 6, [Validate], "A branch to a label deeper than the nesting.";
    HugeOffset => "huge-memarg-offset", Code, 6, [Validate], "A load or store with an offset of 2^32 or more on a 32-bit memory.";
    HugeAlignment => "huge-alignment", Code, 6, [Validate], "A load or store aligned beyond its natural alignment.";
    DisabledProposal => "disabled-proposal-op", Code, 6, [Validate], "An operator of a proposal the embedder does not enable (SIMD, references, threads, tail calls, exceptions, wide arithmetic).";
    IllegalOpcode => "illegal-opcode", Code, 1, [Parse], "A byte sequence that is no opcode at all.";
    MinOverMax => "limits-min-over-max", Module, 6, [Validate], "A memory or table whose minimum exceeds its maximum.";
    MemoryOverSpec => "memory-over-spec", Module, 6, [Validate], "A 32-bit memory of more than 65,536 pages.";
    MemoryOverPolicy => "memory-over-policy", Module, 6, [AbiCheck], "A memory whose minimum is above the declared cap.";
    ExtraMemory => "extra-memory", Module, 6, [Validate], "A second memory (only where multi-memory is off).";
    BadConstExpr => "bad-const-expr", Module, 6, [Validate], "A global initializer of the wrong type or not constant.";
    BadStart => "bad-start", Module, 6, [Validate], "A start function that takes parameters or does not exist.";
    ForbiddenImport => "forbidden-import", Module, 6, [AbiCheck], "An import outside the allowed list, or with the wrong signature.";
    MissingExport => "missing-export", Module, 6, [AbiCheck], "`main`, `alloc` or `memory` not exported.";
    MistypedExport => "mistyped-export", Module, 6, [AbiCheck], "`main`, `alloc` or `memory` exported with the wrong kind or signature.";
    SectionOrder => "section-out-of-order", Bytes, 1, [Parse], "Two sections swapped (wasmparser's parser checks the order).";
    SectionDuplicated => "section-duplicated", Bytes, 1, [Parse], "A section repeated.";
    LyingSize => "lying-size", Bytes, 1, [Parse, Validate], "A section or function body whose declared size runs past the end.";
    OverlongLeb => "overlong-leb", Bytes, 1, [Parse], "A section size in an LEB128 longer than 5 bytes, or with unused bits set.";
}

impl DefectKind {
    /// The ABI rule the defect breaks, if it breaks one.
    pub fn rule(self) -> Option<Rule> {
        match self {
            DefectKind::ForbiddenImport => Some(Rule::Imports),
            DefectKind::MissingExport | DefectKind::MistypedExport => Some(Rule::Exports),
            DefectKind::MemoryOverPolicy => Some(Rule::Limits),
            _ => None,
        }
    }

    /// The stages at which the embedder of `abi` may rightly reject this defect.
    pub fn stages_under(self, abi: &Abi) -> Vec<Stage> {
        match self.rule() {
            Some(rule) => vec![abi.enforced_at.stage(rule)],
            None => self.stages().to_vec(),
        }
    }

    /// Whether the defect makes a module invalid or break the ABI under the
    /// Wasm features and limits of `abi` (a second memory is valid where
    /// multi-memory is on; a memory over the cap needs a cap).
    pub fn applies(self, abi: &Abi) -> bool {
        match self {
            DefectKind::ExtraMemory => !abi.features.contains(WasmFeatures::MULTI_MEMORY),
            DefectKind::MemoryOverPolicy => abi.limits.max_memory_pages().is_some_and(|pages| pages < 65_536),
            DefectKind::MissingExport | DefectKind::MistypedExport => !abi.exports.is_empty(),
            _ => true,
        }
    }
}

/// One defect to apply: its kind and the raw choices that place it (which
/// function, which instruction, which variant), reduced modulo what the
/// module offers when it is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Defect {
    /// What is wrong.
    pub kind: DefectKind,
    /// Where and how, as raw numbers from the input.
    pub picks: [u32; 3],
}

impl Defect {
    /// Draws one defect that applies under `abi` from the input.
    pub fn arbitrary(u: &mut Unstructured<'_>, abi: &Abi) -> Defect {
        let weight = |kind: &DefectKind| if kind.applies(abi) { kind.weight() } else { 0 };
        let total: u32 = DefectKind::ALL.iter().map(weight).sum();
        let mut ticket = u.int_in_range(0..=total.saturating_sub(1)).unwrap_or(0);
        let mut kind = DefectKind::ALL[0];
        for candidate in DefectKind::ALL {
            if ticket < weight(candidate) {
                kind = *candidate;
                break;
            }
            ticket -= weight(candidate);
        }
        let mut pick = || u.arbitrary::<u32>().unwrap_or(0);
        Defect { kind, picks: [pick(), pick(), pick()] }
    }

    /// The `n`th pick reduced to `0..modulus` (0 when `modulus` is 0).
    pub fn pick(&self, n: usize, modulus: u32) -> u32 {
        self.picks[n % 3].checked_rem(modulus).unwrap_or(0)
    }
}

/// Draws one to three defects that apply under `abi`. Only the first may be
/// one the parser catches (byte-level or an illegal opcode), and then it
/// comes alone: the parser would hide the others.
pub fn draw(u: &mut Unstructured<'_>, abi: &Abi) -> Vec<Defect> {
    let first = Defect::arbitrary(u, abi);
    let extra = u.int_in_range(0..=2u8).unwrap_or(0);
    if first.kind.stages().contains(&Stage::Parse) {
        return vec![first];
    }
    let mut defects = vec![first];
    for _ in 0..extra {
        let defect = Defect::arbitrary(u, abi);
        if defect.kind.phase() != Phase::Bytes && !defect.kind.stages().contains(&Stage::Parse) {
            defects.push(defect);
        }
    }
    defects
}
