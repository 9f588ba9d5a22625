//! `harness promote`: make a finding a regression test.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::campaign::triage::Finding;
use anyhow::{Context, Result};
use harness::forms::InputKind;

use super::say;

/// Arguments of `harness promote`.
#[derive(clap::Args)]
pub struct Args {
    /// A finding folder (with finding.json) from a campaign's findings/.
    finding: PathBuf,
}

/// Copies the minimized input to the target's regression folder,
/// `<embedder>/regressions/<target>/<signature id>`, or to
/// `<embedder>/regressions/<target>/<form>/` for an input in a structured form.
pub fn run(args: &Args) -> Result<ExitCode> {
    let path = args.finding.join("finding.json");
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {} (expected a finding folder)", path.display()))?;
    let finding: Finding = serde_json::from_str(&text).with_context(|| format!("{} is not a finding", path.display()))?;
    let target = super::target(&finding.target)?;
    let mut folder = super::repo_root().join(target.regressions());
    if finding.form != InputKind::Fuzz {
        folder.push(finding.form.name());
    }
    std::fs::create_dir_all(&folder).with_context(|| format!("cannot create {}", folder.display()))?;
    let destination = folder.join(finding.signature.id());
    let minimized = args.finding.join("minimized");
    std::fs::copy(&minimized, &destination).with_context(|| format!("cannot copy {}", minimized.display()))?;
    say(format!("{} -> {}", minimized.display(), destination.display()))?;
    say("cargo test replays it from now on; it fails until the bug is fixed.")?;
    Ok(ExitCode::SUCCESS)
}
