//! Learns the embedders of the `harness` command from `cli/Cargo.toml`: every
//! normal dependency but `driver` is an embedder crate that exports
//! `TARGETS`. An optional one counts when its feature is on. The list goes to
//! `$OUT_DIR/embedders.rs` as one expression, which `main.rs` includes, so adding an embedder to
//! the command is one dependency line and no edit of its source.

use std::{env, fs, path::PathBuf};

/// The dependency that is the driver, not an embedder.
const DRIVER: &str = "driver";

fn main() {
    let manifest_path = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()).join("Cargo.toml");
    println!("cargo::rerun-if-changed={}", manifest_path.display());
    let manifest_text = fs::read_to_string(&manifest_path).unwrap_or_else(|error| panic!("cannot read {}: {error}", manifest_path.display()));
    let manifest: toml::Table = manifest_text.parse().unwrap_or_else(|error| panic!("{} is not valid TOML: {error}", manifest_path.display()));
    let dependencies = manifest.get("dependencies").and_then(toml::Value::as_table).cloned().unwrap_or_default();

    let embedder_crates: Vec<String> = dependencies
        .iter()
        .filter(|(name, _)| name.as_str() != DRIVER)
        .filter(|(name, spec)| !is_optional(spec) || feature_is_on(name))
        .map(|(name, _)| name.replace('-', "_"))
        .collect();
    let listed: Vec<String> = embedder_crates.iter().map(|krate| format!("{krate}::TARGETS.iter()")).collect();
    // An expression: the targets of every embedder crate, in manifest order.
    let generated = format!("[{}].into_iter().flatten().collect::<Vec<_>>()\n", listed.join(", "));
    let out_path = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default()).join("embedders.rs");
    fs::write(&out_path, generated).unwrap_or_else(|error| panic!("cannot write {}: {error}", out_path.display()));
}

/// Whether a dependency entry says `optional = true`.
fn is_optional(spec: &toml::Value) -> bool {
    spec.get("optional").and_then(toml::Value::as_bool).unwrap_or(false)
}

/// Whether the feature named after an optional dependency is on in this build.
fn feature_is_on(dependency: &str) -> bool {
    let variable = format!("CARGO_FEATURE_{}", dependency.to_uppercase().replace('-', "_"));
    env::var_os(variable).is_some()
}
