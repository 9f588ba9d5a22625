//! `harness run`: fuzz one target with campaign defaults and live progress.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::campaign::{self, Layout};
use anyhow::Result;

use super::fuzzing::{FuzzOptions, parse_time};
use super::say;

/// Arguments of `harness run`.
#[derive(clap::Args)]
pub struct Args {
    /// The target to fuzz (see `harness list`).
    target: String,
    /// How long to fuzz, e.g. 90s, 10m, 8h.
    #[arg(long, default_value = "24h")]
    time: String,
    /// Folder for the corpus, artifacts and log [default: runs/<target> beside its fuzz package].
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    options: FuzzOptions,
}

/// Builds if needed, fuzzes, and triages what it found; exit 1 on findings.
pub fn run(args: &Args) -> Result<ExitCode> {
    let target = super::target(&args.target)?;
    let time = parse_time(&args.time)?;
    let out = args.out.clone().unwrap_or_else(|| super::repo_root().join(target.fuzz_dir).join("runs").join(target.name));
    let settings = args.options.settings(vec![target], time, out.clone())?;
    let summary = campaign::run(&settings)?;
    let layout = Layout::new(&out);
    say(format!("corpus: {}", layout.corpus(target.name).display()))?;
    for finding in &summary.findings {
        say(format!("{}: {}\n  reproduce: {}", finding.signature.text(), finding.message, finding.reproduce))?;
    }
    say(format!("report: {}", out.join("REPORT.md").display()))?;
    Ok(if summary.findings.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
