//! One module per subcommand.

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

/// Looks up a target by name, or explains which names exist.
pub fn target(name: &str) -> Result<&'static harness::Target, String> {
    harness::targets::find(name)
        .ok_or_else(|| format!("unknown target `{name}`; the targets are: {}", harness::targets::names()))
}

/// Paths joined for a message.
pub fn display_list(paths: &[std::path::PathBuf]) -> String {
    paths.iter().map(|path| path.display().to_string()).collect::<Vec<_>>().join(", ")
}

/// The repository whose seeds, fuzz targets and regressions the commands use:
/// the nearest folder at or above the current one that holds this workspace,
/// else the one this binary was built from.
///
/// The working directory comes first because builds are cached outside the
/// clone: a binary built from another checkout of the same commit is reused,
/// and its compiled-in path may no longer exist.
pub fn repo_root() -> std::path::PathBuf {
    let is_workspace = |dir: &std::path::Path| dir.join("targets/Cargo.toml").is_file() && dir.join("harness/Cargo.toml").is_file();
    let current = std::env::current_dir().ok();
    if let Some(found) = current.as_deref().and_then(|dir| dir.ancestors().find(|dir| is_workspace(dir))) {
        return found.to_path_buf();
    }
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}
