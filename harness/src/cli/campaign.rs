//! `harness campaign`: fuzz several targets for a time budget and report.

use std::path::PathBuf;
use std::process::ExitCode;

use harness::campaign;

use super::fuzzing::{FuzzOptions, parse_time};

/// Arguments of `harness campaign`.
#[derive(clap::Args)]
pub struct Args {
    /// Total time budget, split evenly across the targets, e.g. 10m or 8h.
    #[arg(long, default_value = "10m")]
    time: String,
    /// Targets, comma-separated [default: all four layers].
    #[arg(long, value_delimiter = ',')]
    targets: Vec<String>,
    /// The campaign folder; an existing one is resumed [default: campaigns/<date-time>].
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    options: FuzzOptions,
}

/// Runs the campaign; exit 1 if it found anything.
pub fn run(args: &Args) -> Result<ExitCode, String> {
    let time = parse_time(&args.time)?;
    let targets = if args.targets.is_empty() {
        harness::TARGETS.iter().filter(|target| target.in_default_campaign).collect()
    } else {
        args.targets.iter().map(|name| super::target(name)).collect::<Result<Vec<_>, _>>()?
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| super::repo_root().join("campaigns").join(campaign::folder_name(&campaign::utc_now())));
    eprintln!("campaign folder: {}", out.display());
    let settings = args.options.settings(targets, time, out.clone())?;
    let summary = campaign::run(&settings)?;
    println!("{} finding(s); report: {}", summary.findings.len(), out.join("REPORT.md").display());
    Ok(if summary.findings.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
