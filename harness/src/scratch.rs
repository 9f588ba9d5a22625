//! Scratch folders a process makes for its runs and cannot always remove
//! itself (libFuzzer kills it on a finding, or it keeps its embedder until
//! exit): each is named after its process, `<prefix><pid>-...`, so that a
//! later process removes those whose process is gone. [`remove_tree`]
//! removes them however deep a guest nested the folders in them.

use std::io;
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
            let _ = remove_tree(&entry.path());
        }
    }
}

/// Removes the folder `root` and everything in it, without following links,
/// however deep the tree: past `PATH_MAX` and past the process's
/// open-descriptor limit (a guest nests 50,000 folders in a second).
///
/// `std::fs::remove_dir_all` holds one descriptor per level and fails with
/// "too many open files" on a tree deeper than the soft limit (measured:
/// 100,000 levels under a limit of 20,000), leaving the tree on disk. Where
/// it fails, the rest is flattened instead: each child of a folder in `root`
/// moves up into `root` under a fresh name, so that no path is longer than
/// two names and no more than two folders are open at once.
pub fn remove_tree(root: &Path) -> io::Result<()> {
    if std::fs::remove_dir_all(root).is_ok() {
        return Ok(());
    }
    remove_flattening(root)
}

/// Removes `root` by moving each grandchild up into it until its folders
/// are empty: two names per path and two folders open at most.
fn remove_flattening(root: &Path) -> io::Result<()> {
    let mut fresh = 0u64;
    while let Some(entry) = std::fs::read_dir(root)?.next() {
        let path = entry?.path();
        if !std::fs::symlink_metadata(&path)?.is_dir() {
            std::fs::remove_file(&path)?;
            continue;
        }
        for child in std::fs::read_dir(&path)? {
            let child = child?;
            let moved = loop {
                let candidate = root.join(format!(".flattened-{fresh}"));
                fresh += 1;
                if std::fs::symlink_metadata(&candidate).is_err() {
                    break candidate;
                }
            };
            std::fs::rename(child.path(), moved)?;
        }
        std::fs::remove_dir(&path)?;
    }
    std::fs::remove_dir(root)
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

    /// A chain of `depth` folders `d` under `root/top`, built with short
    /// paths only: each new top takes the chain so far as its `d`.
    fn nest(root: &Path, depth: usize) {
        std::fs::create_dir(root.join("top")).unwrap();
        std::fs::write(root.join("top/file"), b"deepest").unwrap();
        for _ in 0..depth {
            std::fs::create_dir(root.join("new")).unwrap();
            std::fs::rename(root.join("top"), root.join("new/d")).unwrap();
            std::fs::rename(root.join("new"), root.join("top")).unwrap();
        }
    }

    #[test]
    fn removes_a_tree_deeper_than_any_path() {
        let parent = tempfile::tempdir().unwrap();
        let root = parent.path().join("sandbox");
        std::fs::create_dir(&root).unwrap();
        std::os::unix::fs::symlink(parent.path(), root.join("link")).unwrap();
        nest(&root, 3_000);
        let deepest = std::fs::metadata(root.join("top/").join("d/".repeat(3_000))).unwrap_err();
        assert_eq!(deepest.raw_os_error(), Some(36), "the deepest folder is past PATH_MAX (ENAMETOOLONG): {deepest}");
        remove_tree(&root).unwrap();
        assert!(!root.exists());
        assert!(parent.path().exists(), "the link was removed, not followed");
    }

    #[test]
    fn flattening_alone_removes_a_deep_tree_its_files_and_links_around_names_it_would_reuse() {
        let parent = tempfile::tempdir().unwrap();
        let root = parent.path().join("sandbox");
        std::fs::create_dir(&root).unwrap();
        nest(&root, 2_500);
        std::fs::create_dir_all(root.join(".flattened-0/.flattened-1")).unwrap();
        std::os::unix::fs::symlink(parent.path(), root.join("top/d/link")).unwrap();
        remove_flattening(&root).unwrap();
        assert!(!root.exists());
        assert!(parent.path().exists());
    }
}
