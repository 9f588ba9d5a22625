//! Scratch folders a process makes for its runs and cannot always remove
//! itself (libFuzzer kills it on a finding, or it keeps its embedder until
//! exit): each is named after its process, `<prefix><pid>-...`, so that a
//! later process removes those whose process is gone.

use std::path::Path;

/// The start of the name of a scratch folder of this process: `<prefix><pid>-`.
pub fn name_prefix(prefix: &str) -> String {
    format!("{prefix}{}-", std::process::id())
}

/// Removes the scratch folders `<prefix><pid>-...` in `parent` of processes
/// that have exited (Linux: no `/proc/<pid>`; elsewhere nothing is removed).
pub fn remove_stale(parent: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    let procfs = Path::new("/proc/self").exists();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|name| name.strip_prefix(prefix)) else { continue };
        let pid = rest.split('-').next().unwrap_or_default();
        if procfs && pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_the_folders_of_exited_processes_only() {
        let parent = tempfile::tempdir().unwrap();
        let gone = parent.path().join("scratch-4294967-0");
        let ours = parent.path().join(format!("{}0", name_prefix("scratch-")));
        let other = parent.path().join("unrelated-4294967-0");
        for dir in [&gone, &ours, &other] {
            std::fs::create_dir(dir).unwrap();
        }
        remove_stale(parent.path(), "scratch-");
        assert!(!gone.exists() && ours.exists() && other.exists());
    }
}
