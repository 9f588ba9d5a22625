//! `harness campaign`: fuzz several targets for a time budget and report.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::campaign::{self, summary::Summary};
use crate::coverage::summary::CampaignCoverage;
use crate::coverage::{self, COMBINED, LlvmTools};
use anyhow::Result;

use super::fuzzing::{FuzzOptions, parse_time};
use super::say;

/// Arguments of `harness campaign`.
#[derive(clap::Args)]
pub struct Args {
    /// Total time budget, split evenly across the targets, e.g. 10m or 8h.
    #[arg(long, default_value = "10m")]
    time: String,
    /// Targets, comma-separated [default: the reference embedder's four layers].
    #[arg(long, value_delimiter = ',')]
    targets: Vec<String>,
    /// The campaign folder; an existing one is resumed [default: campaigns/<date-time>].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Afterwards, replay the corpora on a coverage build and add the
    /// embedder's coverage to summary.json and REPORT.md (reports in <out>/coverage/; needs llvm-N).
    #[arg(long)]
    coverage: bool,
    /// Folder with llvm-cov and llvm-profdata, for --coverage [default: /usr/lib/llvm-N/bin].
    #[arg(long, requires = "coverage")]
    llvm_path: Option<PathBuf>,
    #[command(flatten)]
    options: FuzzOptions,
}

/// Runs the campaign; exit 1 if it found anything.
pub fn run(args: &Args) -> Result<ExitCode> {
    let time = parse_time(&args.time)?;
    let targets = super::targets_named(&args.targets)?;
    let llvm = if args.coverage { Some(LlvmTools::find(args.llvm_path.as_deref())?) } else { None };
    let out = args.out.clone().unwrap_or_else(|| super::repo_root().join("campaigns").join(campaign::folder_name(&campaign::utc_now())));
    let settings = args.options.settings(targets, time, out.clone())?;
    eprintln!("campaign folder: {}", out.display());
    let mut summary = campaign::run(&settings)?;
    if let Some(llvm) = llvm {
        add_coverage(&settings, llvm, &mut summary)?;
    }
    say(format!("{} finding(s); report: {}", summary.findings.len(), out.join("REPORT.md").display()))?;
    Ok(if summary.findings.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Measures the coverage of the campaign's corpora and rewrites its outputs with it.
fn add_coverage(settings: &campaign::Settings, llvm: LlvmTools, summary: &mut Summary) -> Result<()> {
    let coverage_settings = coverage::Settings {
        repo: settings.repo.clone(),
        targets: settings.targets.clone(),
        corpus: Some(settings.out.join("corpus")),
        out: settings.out.join("coverage"),
        build: settings.build.clone(),
        llvm,
    };
    let reports = coverage::run(&coverage_settings)?;
    say(coverage::summary::table(&reports).trim_end())?;
    let html = format!("coverage/{COMBINED}/html/index.html");
    summary.coverage = Some(CampaignCoverage::from_reports(&reports, html));
    campaign::write_outputs(&settings.out, summary)
}
