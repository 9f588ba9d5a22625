//! The named configurations the suite fuzzes an embedder under, and how a
//! process learns which one it runs: the fuzz targets, `harness` and every
//! process it starts read the same environment variable.

use crate::Policy;

/// The environment variable naming the profile (`fuzzing` when unset).
/// `harness --profile` sets it for itself and everything it starts.
pub const PROFILE_VAR: &str = "SUITE_PROFILE";

/// A named configuration of an embedder.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Profile {
    /// [`Policy::fuzzing`]: less fuel and memory, unoptimized code, the
    /// embedder's documented Wasm features.
    #[default]
    Fuzzing,
    /// [`Policy::production`]: what a server runs.
    Production,
}

impl Profile {
    /// Every profile, in the order a nightly campaign runs them.
    pub const ALL: [Profile; 2] = [Profile::Fuzzing, Profile::Production];

    /// Its name on the command line, in `summary.json` and in [`PROFILE_VAR`].
    pub fn name(self) -> &'static str {
        match self {
            Profile::Fuzzing => "fuzzing",
            Profile::Production => "production",
        }
    }

    /// The profile called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|profile| profile.name() == name)
    }

    /// The policy an embedder is built from under this profile.
    pub fn policy(self) -> Policy {
        match self {
            Profile::Fuzzing => Policy::fuzzing(),
            Profile::Production => Policy::production(),
        }
    }

    /// The profile [`PROFILE_VAR`] names, `fuzzing` if it is unset.
    pub fn current() -> Result<Profile, String> {
        match std::env::var(PROFILE_VAR) {
            Err(std::env::VarError::NotPresent) => Ok(Profile::Fuzzing),
            Ok(name) => Profile::from_name(&name).ok_or_else(|| format!("{PROFILE_VAR}={name} is not a profile (fuzzing or production)")),
            Err(error) => Err(format!("{PROFILE_VAR}: {error}")),
        }
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WasmFeatureSet;

    #[test]
    fn names_round_trip_and_unknown_names_are_none() {
        for profile in Profile::ALL {
            assert_eq!(Profile::from_name(profile.name()), Some(profile));
        }
        assert_eq!(Profile::from_name("release"), None);
    }

    #[test]
    fn production_optimizes_and_takes_the_engine_defaults_with_the_default_limits() {
        let production = Profile::Production.policy();
        assert!(production.optimize_code);
        assert_eq!(production.wasm_features, WasmFeatureSet::EngineDefaults);
        let limits = Policy { wasm_features: WasmFeatureSet::Documented, ..production };
        assert_eq!(limits, Policy::default());
        let fuzzing = Profile::Fuzzing.policy();
        assert!(!fuzzing.optimize_code);
        assert_eq!(fuzzing.wasm_features, WasmFeatureSet::Documented);
    }
}
