//! `harness triage`: triage a campaign folder, or a folder of artifacts.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::campaign::{self, Layout, summary::Summary, triage};
use crate::fuzzer::Limits;
use anyhow::{Context, Result, bail};

use super::say;

/// Arguments of `harness triage`.
#[derive(clap::Args)]
pub struct Args {
    /// A campaign folder (with summary.json), or a folder of libFuzzer artifacts.
    dir: PathBuf,
    /// The target that found the artifacts (needed for a plain artifacts folder).
    #[arg(long)]
    target: Option<String>,
    /// Per-input timeout the artifacts were found with, in seconds.
    #[arg(long, default_value_t = Limits::default().time.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    /// RSS limit the artifacts were found with, in MB.
    #[arg(long, default_value_t = Limits::default().rss_mb, value_parser = clap::value_parser!(u64).range(1..))]
    rss_limit_mb: u64,
}

/// Triages and prints one line per finding group; exit 1 if any.
pub fn run(args: &Args) -> Result<ExitCode> {
    if !args.dir.is_dir() {
        bail!("{}: not a folder", args.dir.display());
    }
    let harness = std::env::current_exe().context("cannot find the harness binary")?;
    let limits = Limits { time: Duration::from_secs(args.timeout), rss_mb: args.rss_limit_mb };
    // The fuzz builds where campaigns put them, for artifacts replay does not reproduce.
    let fuzz_build = super::fuzzing::fuzz_build(None, crate::fuzzer::Sanitizer::None);
    let settings = super::fuzzing::triage_settings(harness, limits, Some(fuzz_build));
    let layout = Layout::new(&args.dir);
    let findings = if layout.summary().is_file() {
        let mut summary = Summary::read(&layout.summary())?;
        let targets = summary.targets.keys().map(|name| super::target(name)).collect::<Result<Vec<_>>>()?;
        for target in targets {
            let triaged = triage::triage(target, &layout.artifacts(target.name), &layout.findings(), &settings)?;
            summary.slow_units.insert(target.name.to_owned(), triaged.slow.len());
            summary.findings.retain(|finding| finding.target != target.name);
            summary.findings.extend(triaged.findings);
        }
        campaign::write_outputs(&args.dir, &summary)?;
        summary.findings
    } else {
        let Some(name) = args.target.as_deref() else {
            bail!("{} has no summary.json: name the target of its artifacts with --target", args.dir.display());
        };
        let target = super::target(name)?;
        triage::triage(target, &args.dir, &args.dir.join("findings"), &settings)?.findings
    };
    for finding in &findings {
        say(format!(
            "{} [{}] {}: {}, {}\n  reproduce: {}",
            finding.signature.text(),
            finding.target,
            finding.message,
            finding.sizes(),
            finding.reproducibility(),
            finding.reproduce
        ))?;
    }
    say(format!("{} finding group(s)", findings.len()))?;
    Ok(if findings.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
