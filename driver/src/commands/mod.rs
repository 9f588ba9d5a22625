//! One module per subcommand, and what they share: the targets of every
//! embedder, the repository, and printing that stops quietly at a closed pipe.

pub mod bench;
pub mod campaign;
pub mod coverage;
pub mod fuzzing;
pub mod list;
pub mod promote;
pub mod report;
pub mod repro;
pub mod run;
pub mod stats;
pub mod triage;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::Result;
use harness::Target;

/// The targets this command was started with ([`crate::main`]), then `selftest`.
static TARGETS: OnceLock<Vec<&'static Target>> = OnceLock::new();

/// Makes `targets`, then `selftest`, the targets of every subcommand; the
/// first call wins.
pub fn register(targets: &[&'static Target]) {
    let with_selftest = targets.iter().copied().chain([&harness::targets::SELFTEST]).collect();
    let _ = TARGETS.set(with_selftest);
}

/// Every fuzz target: each embedder's the command was started with, then `selftest`.
pub fn targets() -> Vec<&'static Target> {
    TARGETS.get().cloned().unwrap_or_else(|| vec![&harness::targets::SELFTEST])
}

/// The target called `name`, or an error listing the names.
pub fn target(name: &str) -> Result<&'static Target> {
    harness::targets::find(&targets(), name).map_err(anyhow::Error::msg)
}

/// The targets a campaign fuzzes when none are named.
pub fn default_targets() -> Vec<&'static Target> {
    targets().into_iter().filter(|target| target.in_default_campaign).collect()
}

/// The targets named, or the default ones.
pub fn targets_named(names: &[String]) -> Result<Vec<&'static Target>> {
    if names.is_empty() {
        return Ok(default_targets());
    }
    names.iter().map(|name| target(name)).collect()
}

/// Paths joined for a message.
pub fn display_list(paths: &[PathBuf]) -> String {
    paths.iter().map(|path| path.display().to_string()).collect::<Vec<_>>().join(", ")
}

/// Writes one line to stdout; an error (a closed pipe) goes up to `main`.
pub fn say(line: impl std::fmt::Display) -> Result<()> {
    writeln!(std::io::stdout().lock(), "{line}")?;
    Ok(())
}

/// Whether `error` is a write into a closed pipe.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}

/// The repository whose seeds, fuzz targets and regressions the commands use:
/// the nearest folder at or above the current one that holds the cargo-fuzz
/// package of a target the command was started with, else the suite's own
/// repository, which this driver was built from.
///
/// The working directory comes first because builds are cached outside the
/// clone: a binary built from another checkout of the same commit is reused,
/// and its compiled-in path may no longer exist. A repository with its own
/// embedder and command is found by its own fuzz package.
pub fn repo_root() -> PathBuf {
    let registered = targets();
    let holds_a_fuzz_package = |dir: &Path| registered.iter().any(|target| dir.join(target.fuzz_dir).join("Cargo.toml").is_file());
    let current = std::env::current_dir().ok();
    if let Some(found) = current.as_deref().and_then(|dir| dir.ancestors().find(|dir| holds_a_fuzz_package(dir))) {
        return found.to_path_buf();
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}
