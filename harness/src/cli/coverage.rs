//! `harness coverage`: coverage reports of corpora, and the coverage floor check.

use std::path::PathBuf;
use std::process::ExitCode;

use harness::coverage::floor::{self, Floor, Verdict};
use harness::coverage::{self, COMBINED, LlvmTools, ReportCoverage};

/// Arguments of `harness coverage`.
#[derive(clap::Args)]
pub struct Args {
    /// Targets whose corpora are replayed [default: the four layers].
    targets: Vec<String>,
    /// Folder holding one corpus folder per target, such as a campaign's corpus/ [default: corpus/, the seeds].
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// Where the HTML, lcov and JSON reports go [default: coverage/].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Folder with llvm-cov and llvm-profdata of rustc's LLVM major version [default: /usr/lib/llvm-N/bin].
    #[arg(long)]
    llvm_path: Option<PathBuf>,
    /// Coverage floor file: exit 1 if the loader's combined line coverage is
    /// more than 0.5 points below it (needs all four layers).
    #[arg(long)]
    floor: Option<PathBuf>,
    /// Write the measured coverage into the --floor file instead of checking it.
    #[arg(long, requires = "floor")]
    update_floor: bool,
    /// Cargo target directory of the fuzz build; coverage builds go to its coverage/ [default: targets/target, or $SUITE_FUZZ_TARGET_DIR].
    #[arg(long)]
    target_dir: Option<PathBuf>,
}

/// Measures, prints the table, and checks or updates the floor.
pub fn run(args: &Args) -> Result<ExitCode, String> {
    if args.floor.is_some() && !args.targets.is_empty() {
        return Err("--floor compares the combined coverage of all four layers: name no targets".to_owned());
    }
    let settings = settings(args)?;
    let reports = coverage::run(&settings)?;
    print!("{}", coverage::summary::table(&reports));
    println!("reports: {} (HTML: {})", settings.out.join("coverage.json").display(), settings.out.join(COMBINED).join("html/index.html").display());
    match &args.floor {
        Some(path) => check_floor(path, &reports, args.update_floor),
        None => Ok(ExitCode::SUCCESS),
    }
}

fn settings(args: &Args) -> Result<coverage::Settings, String> {
    let repo = super::repo_root();
    let targets = if args.targets.is_empty() {
        harness::TARGETS.iter().filter(|target| target.in_default_campaign).collect()
    } else {
        args.targets.iter().map(|name| super::target(name)).collect::<Result<Vec<_>, _>>()?
    };
    let corpus = args.corpus.clone().unwrap_or_else(|| repo.join("corpus"));
    if !corpus.is_dir() {
        return Err(format!("--corpus {}: not a folder", corpus.display()));
    }
    let build = super::fuzzing::fuzz_build(args.target_dir.clone(), harness::campaign::libfuzzer::Sanitizer::None);
    build.check_tools()?;
    let llvm = LlvmTools::find(args.llvm_path.as_deref())?;
    let out = args.out.clone().unwrap_or_else(|| repo.join("coverage"));
    Ok(coverage::Settings { repo, targets, corpus, out, build, llvm })
}

/// Checks (or rewrites) the floor against the combined loader line coverage.
fn check_floor(path: &std::path::Path, reports: &[ReportCoverage], update: bool) -> Result<ExitCode, String> {
    let measured = reports
        .iter()
        .find(|report| report.name == COMBINED)
        .map(|report| report.loader.lines.percent())
        .ok_or("no combined report")?;
    let command = format!("cargo harness coverage --floor {} --update-floor", path.display());
    if update {
        let floor = Floor { loader_lines_percent: floor::rounded(measured), measured_on: "the seed corpora of the four layers (corpus/)".to_owned() };
        floor.write(path)?;
        println!("coverage floor {} set to {:.1}% of the loader's lines", path.display(), floor.loader_lines_percent);
        return Ok(ExitCode::SUCCESS);
    }
    let floor = Floor::read(path)?;
    let expected = floor.loader_lines_percent;
    match floor.check(measured) {
        Verdict::Holds => {
            println!("coverage floor holds: the loader's lines {measured:.1}%, floor {expected:.1}% ({})", path.display());
            Ok(ExitCode::SUCCESS)
        }
        Verdict::Rose => {
            println!(
                "coverage rose: the loader's lines {measured:.1}%, floor {expected:.1}%; raise the floor so the gain is kept: {command}"
            );
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
