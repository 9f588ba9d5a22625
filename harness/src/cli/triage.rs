//! `harness triage`: triage a campaign folder, or a folder of artifacts.

use std::path::PathBuf;
use std::process::ExitCode;

use harness::campaign::{self, Layout, summary::Summary, triage};

/// Arguments of `harness triage`.
#[derive(clap::Args)]
pub struct Args {
    /// A campaign folder (with summary.json), or a folder of libFuzzer artifacts.
    dir: PathBuf,
    /// The target that found the artifacts (needed for a plain artifacts folder).
    #[arg(long)]
    target: Option<String>,
    /// Per-input timeout the artifacts were found with, in seconds.
    #[arg(long, default_value_t = 10)]
    timeout: u32,
    /// RSS limit the artifacts were found with, in MB.
    #[arg(long, default_value_t = 2048)]
    rss_limit_mb: u64,
}

/// Triages and prints one line per finding group; exit 1 if any.
pub fn run(args: &Args) -> Result<ExitCode, String> {
    if !args.dir.is_dir() {
        return Err(format!("{}: not a folder", args.dir.display()));
    }
    let harness = std::env::current_exe().map_err(|error| format!("cannot find the harness binary: {error}"))?;
    let settings = super::fuzzing::triage_settings(harness, args.timeout, args.rss_limit_mb);
    let layout = Layout::new(&args.dir);
    let findings = if layout.summary().is_file() {
        let mut summary = Summary::read(&layout.summary())?;
        let targets = summary.targets.keys().map(|name| super::target(name)).collect::<Result<Vec<_>, _>>()?;
        for target in targets {
            let triaged = triage::triage(target.name, &layout.artifacts(target.name), &layout.findings(), &settings)?;
            summary.slow_units.insert(target.name.to_owned(), triaged.slow.len());
            summary.findings.retain(|finding| finding.target != target.name);
            summary.findings.extend(triaged.findings);
        }
        campaign::write_outputs(&args.dir, &summary)?;
        summary.findings
    } else {
        let name = args.target.as_deref().ok_or_else(|| {
            format!("{} has no summary.json: name the target of its artifacts with --target", args.dir.display())
        })?;
        let target = super::target(name)?;
        triage::triage(target.name, &args.dir, &args.dir.join("findings"), &settings)?.findings
    };
    for finding in &findings {
        println!(
            "{} [{}] {}: {}, {}\n  reproduce: {}",
            finding.signature.text(),
            finding.target,
            finding.message,
            finding.sizes(),
            if finding.deterministic { "deterministic" } else { "flaky" },
            finding.reproduce
        );
    }
    println!("{} finding group(s)", findings.len());
    Ok(if findings.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
