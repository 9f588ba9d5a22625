//! `harness coverage`: coverage reports of corpora, and the coverage floor check.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::coverage::floor::{self, Floor, Verdict};
use crate::coverage::{self, COMBINED, LlvmTools, ReportCoverage};
use crate::fuzzer::Sanitizer;
use anyhow::{Result, anyhow, bail};

use super::say;

/// Arguments of `harness coverage`.
#[derive(clap::Args)]
pub struct Args {
    /// Targets whose corpora are replayed [default: the reference embedder's four layers].
    targets: Vec<String>,
    /// Folder holding one corpus folder per target, such as a campaign's corpus/ [default: each target's seeds, <embedder>/corpus/<target>/].
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// Where the HTML, lcov and JSON reports go [default: coverage/].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Folder with llvm-cov and llvm-profdata of rustc's LLVM major version [default: /usr/lib/llvm-N/bin].
    #[arg(long)]
    llvm_path: Option<PathBuf>,
    /// Coverage floor file: exit 1 if the reference loader's combined line
    /// coverage is more than 0.5 points below it (needs the default targets).
    #[arg(long)]
    floor: Option<PathBuf>,
    /// Write the measured coverage into the --floor file instead of checking it.
    #[arg(long, requires = "floor")]
    update_floor: bool,
    /// Cargo target directory of the fuzz builds; coverage builds go to its coverage/ [default: <fuzz package>/target, or $SUITE_FUZZ_TARGET_DIR].
    #[arg(long)]
    target_dir: Option<PathBuf>,
}

/// Measures, prints the table, and checks or updates the floor.
pub fn run(args: &Args) -> Result<ExitCode> {
    if args.floor.is_some() && !args.targets.is_empty() {
        bail!("--floor compares the combined coverage of the default targets: name no targets");
    }
    // Before minutes of building: the floor must be readable (unless it is to be written).
    if let (Some(path), false) = (&args.floor, args.update_floor) {
        Floor::read(path)?;
    }
    let settings = settings(args)?;
    let reports = coverage::run(&settings)?;
    say(coverage::summary::table(&reports).trim_end())?;
    say(format!(
        "reports: {} (HTML: {})",
        settings.out.join("coverage.json").display(),
        settings.out.join(COMBINED).join("html/index.html").display()
    ))?;
    match &args.floor {
        Some(path) => check_floor(path, &reports, args.update_floor),
        None => Ok(ExitCode::SUCCESS),
    }
}

fn settings(args: &Args) -> Result<coverage::Settings> {
    let repo = super::repo_root();
    let targets = super::targets_named(&args.targets)?;
    let corpus = args.corpus.clone();
    if let Some(corpus) = corpus.as_ref().filter(|corpus| !corpus.is_dir()) {
        bail!("--corpus {}: not a folder", corpus.display());
    }
    for target in &targets {
        coverage::count_inputs(&target.inputs(&repo, corpus.as_deref()))?;
    }
    let build = super::fuzzing::fuzz_build(args.target_dir.clone(), Sanitizer::None);
    build.check_tools()?;
    let llvm = LlvmTools::find(args.llvm_path.as_deref())?;
    let out = args.out.clone().unwrap_or_else(|| repo.join("coverage"));
    Ok(coverage::Settings { repo, targets, corpus, out, build, llvm })
}

/// Checks (or rewrites) the floor against the combined embedder line coverage.
fn check_floor(path: &Path, reports: &[ReportCoverage], update: bool) -> Result<ExitCode> {
    let measured = reports
        .iter()
        .find(|report| report.name == COMBINED)
        .map(|report| report.embedder.lines.percent())
        .ok_or_else(|| anyhow!("no combined report"))?;
    let command = format!("cargo harness coverage --floor {} --update-floor", path.display());
    if update {
        let floor = Floor {
            loader_lines_percent: floor::rounded(measured),
            measured_on: "the seed corpora of the four layers (embedders/reference/corpus/)".to_owned(),
        };
        floor.write(path)?;
        say(format!("coverage floor {} set to {:.1}% of the loader's lines", path.display(), floor.loader_lines_percent))?;
        return Ok(ExitCode::SUCCESS);
    }
    let floor = Floor::read(path)?;
    let expected = floor.loader_lines_percent;
    match floor.check(measured) {
        Verdict::Holds => {
            say(format!("coverage floor holds: the loader's lines {measured:.1}%, floor {expected:.1}% ({})", path.display()))?;
            Ok(ExitCode::SUCCESS)
        }
        Verdict::Rose => {
            say(format!("coverage rose: the loader's lines {measured:.1}%, floor {expected:.1}%; raise the floor so the gain is kept: {command}"))?;
            Ok(ExitCode::SUCCESS)
        }
        Verdict::Dropped => {
            eprintln!(
                "coverage dropped: the loader's lines {measured:.1}% are more than {} points below the floor {expected:.1}% in {}. \
                 A change lost coverage: restore the seeds or tests that reached it; if the loss is intended, lower the floor: {command}",
                floor::TOLERANCE_POINTS,
                path.display()
            );
            Ok(ExitCode::from(1))
        }
    }
}
