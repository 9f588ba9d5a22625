//! How far an input got: the stages of loading and running a module, in order.

use std::fmt;

/// The stages an input passes through, in order. An embedder that cannot
/// tell two of them apart reports the earlier one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// The module is not over the size cap.
    SizeCheck,
    /// The bytes decode as a Wasm module.
    Parse,
    /// The module validates with the embedder's Wasm features.
    Validate,
    /// Imports, exports and declared limits follow the embedder's ABI and policy
    /// (the loader's ABI check; Extism's link step).
    AbiCheck,
    /// The module compiles.
    Compile,
    /// A fresh store instantiates the module.
    Instantiate,
    /// The guest's entry function runs.
    Execute,
    /// The guest called at least one host function.
    HostCall,
}

impl Stage {
    /// Every stage, in order.
    pub const ALL: [Stage; 8] =
        [Stage::SizeCheck, Stage::Parse, Stage::Validate, Stage::AbiCheck, Stage::Compile, Stage::Instantiate, Stage::Execute, Stage::HostCall];

    /// A short lowercase name, as printed by the CLI.
    pub fn name(self) -> &'static str {
        match self {
            Stage::SizeCheck => "size-check",
            Stage::Parse => "parse",
            Stage::Validate => "validate",
            Stage::AbiCheck => "abi-check",
            Stage::Compile => "compile",
            Stage::Instantiate => "instantiate",
            Stage::Execute => "execute",
            Stage::HostCall => "host-call",
        }
    }

    /// The stage called `name` (see [`Stage::name`]).
    pub fn from_name(name: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|stage| stage.name() == name)
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_stages_are_ordered() {
        for stage in Stage::ALL {
            assert_eq!(Stage::from_name(stage.name()), Some(stage));
        }
        assert_eq!(Stage::from_name("nowhere"), None);
        assert!(Stage::ALL.windows(2).all(|pair| pair[0] < pair[1]));
    }
}
