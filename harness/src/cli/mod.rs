//! One module per subcommand.

pub mod list;
pub mod repro;
pub mod stats;

/// Looks up a target by name, or explains which names exist.
pub fn target(name: &str) -> Result<&'static harness::Target, String> {
    harness::targets::find(name)
        .ok_or_else(|| format!("unknown target `{name}`; the targets are: {}", harness::targets::names()))
}

/// Paths joined for a message.
pub fn display_list(paths: &[std::path::PathBuf]) -> String {
    paths.iter().map(|path| path.display().to_string()).collect::<Vec<_>>().join(", ")
}
