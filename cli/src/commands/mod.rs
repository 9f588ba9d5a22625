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

use anyhow::Result;
use harness::Target;

/// Every fuzz target: each embedder's four (Extism's with the `extism`
/// feature), then `selftest`.
pub fn targets() -> Vec<&'static Target> {
    #[cfg(feature = "extism")]
    let extism = extism_embedder::TARGETS.iter();
    #[cfg(not(feature = "extism"))]
    let extism = [].iter();
    reference::TARGETS.iter().chain(extism).chain([&harness::targets::SELFTEST]).collect()
}

/// The target called `name`, or an error listing the names.
pub fn target(name: &str) -> Result<&'static Target> {
    harness::targets::find(&targets(), name).map_err(|error| {
        if cfg!(not(feature = "extism")) && name.starts_with("extism_") {
            anyhow::anyhow!("{error} (this harness was built without Extism: build it with `--features extism`)")
        } else {
            anyhow::Error::msg(error)
        }
    })
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
    error
        .chain()
        .any(|cause| cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}

/// The repository whose seeds, fuzz targets and regressions the commands use:
/// the nearest folder at or above the current one that holds this workspace,
/// else the one this binary was built from.
///
/// The working directory comes first because builds are cached outside the
/// clone: a binary built from another checkout of the same commit is reused,
/// and its compiled-in path may no longer exist.
pub fn repo_root() -> PathBuf {
    let is_workspace = |dir: &Path| dir.join("targets/Cargo.toml").is_file() && dir.join("harness/Cargo.toml").is_file();
    let current = std::env::current_dir().ok();
    if let Some(found) = current.as_deref().and_then(|dir| dir.ancestors().find(|dir| is_workspace(dir))) {
        return found.to_path_buf();
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}
