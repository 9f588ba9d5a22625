//! Finding the LLVM coverage tools whose major version matches rustc's LLVM:
//! Debian's `llvm-N` package (rustup's llvm-tools component is not available
//! on every machine), and a Rust demangler.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, anyhow, bail};

/// llvm-cov, llvm-profdata and a demangler.
#[derive(Clone, Debug)]
pub struct LlvmTools {
    /// The folder holding `llvm-cov` and `llvm-profdata`.
    pub bin: PathBuf,
    /// `rustfilt`, or LLVM's own `llvm-cxxfilt`.
    pub demangler: PathBuf,
}

impl LlvmTools {
    /// The tools in `explicit`, or in `/usr/lib/llvm-N/bin` for rustc's LLVM major N.
    /// The error says exactly what to install.
    pub fn find(explicit: Option<&Path>) -> Result<LlvmTools> {
        let (major, version) = rustc_llvm_version()?;
        let bin = explicit.map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from(format!("/usr/lib/llvm-{major}/bin")));
        let cov = bin.join("llvm-cov");
        if !cov.is_file() || !bin.join("llvm-profdata").is_file() {
            bail!(
                "llvm-cov and llvm-profdata {major} not found in {}: install Debian's llvm-{major} \
                 (apt-get install llvm-{major}; rustc uses LLVM {version}) or pass --llvm-path DIR",
                bin.display()
            );
        }
        let found = tool_major(&cov)?;
        if found != major {
            bail!(
                "{} is LLVM {found} but rustc uses LLVM {version}: profiles only read with the same major \
                 version; install llvm-{major} or pass --llvm-path to its bin folder",
                cov.display()
            );
        }
        let demangler = on_path("rustfilt").unwrap_or_else(|| bin.join("llvm-cxxfilt"));
        Ok(LlvmTools { bin, demangler })
    }

    /// `llvm-cov`.
    pub fn cov(&self) -> PathBuf {
        self.bin.join("llvm-cov")
    }

    /// `llvm-profdata`.
    pub fn profdata(&self) -> PathBuf {
        self.bin.join("llvm-profdata")
    }
}

/// rustc's LLVM version: its major number and the whole text (`22.1.2`).
fn rustc_llvm_version() -> Result<(u32, String)> {
    let output = Command::new("rustc").arg("-vV").output().context("cannot run rustc -vV")?;
    let text = String::from_utf8_lossy(&output.stdout);
    let version = text
        .lines()
        .find_map(|line| line.strip_prefix("LLVM version: "))
        .ok_or_else(|| anyhow!("rustc -vV did not print its LLVM version"))?
        .trim()
        .to_owned();
    Ok((major_of(&version)?, version))
}

/// The major version `llvm-cov --version` reports.
fn tool_major(tool: &Path) -> Result<u32> {
    let output = Command::new(tool).arg("--version").output().with_context(|| format!("cannot run {}", tool.display()))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let version = version_in(&text).ok_or_else(|| anyhow!("{} --version did not print an LLVM version", tool.display()))?;
    major_of(version)
}

/// The version in a `--version` text: `LLVM version 22.1.8`, `Debian LLVM version 22.1.8`.
fn version_in(text: &str) -> Option<&str> {
    text.lines().find_map(|line| line.split_once("LLVM version ").map(|(_, version)| version.trim()))
}

fn major_of(version: &str) -> Result<u32> {
    version.split('.').next().and_then(|major| major.trim().parse().ok()).ok_or_else(|| anyhow!("cannot read an LLVM major version from `{version}`"))
}

fn on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(program)).find(|path| path.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn major_versions_are_read_from_version_texts() {
        assert_eq!(major_of("22.1.2").unwrap(), 22);
        assert_eq!(major_of("19").unwrap(), 19);
        assert!(major_of("x.1").is_err());
        assert_eq!(version_in("Debian LLVM version 22.1.8\n  Optimized build."), Some("22.1.8"));
        assert_eq!(version_in("Homebrew LLVM version 19.1.0"), Some("19.1.0"));
        assert_eq!(version_in("llvm-cov 3"), None);
    }

    #[test]
    fn a_folder_without_the_tools_is_named_with_what_to_install() {
        let empty = tempfile::tempdir().unwrap();
        let error = LlvmTools::find(Some(empty.path())).unwrap_err();
        let error = error.to_string();
        assert!(error.contains(&empty.path().display().to_string()), "{error}");
        assert!(error.contains("apt-get install llvm-"), "{error}");
    }
}
