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

/// The repository this binary was built from (seeds, targets, regressions).
pub fn repo_root() -> std::path::PathBuf {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}
