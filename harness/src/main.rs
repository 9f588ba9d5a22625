//! `harness`: the command line of the fuzzing suite.
//!
//! Exit codes: 0 success, 1 findings (a crash or hang), 2 usage or setup error.

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Layered fuzzing suite for the Wasm function loader.
#[derive(Parser)]
#[command(name = "harness", version, about, long_about = None)]
#[command(after_help = "Exit codes: 0 success, 1 a crash or hang was found, 2 usage or setup error.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the fuzz targets, one per line.
    List(cli::list::Args),
    /// Replay inputs in-process on the stable toolchain, one line per input.
    Repro(cli::repro::Args),
    /// Show the share of a corpus's inputs reaching each stage and ending each way.
    Stats(cli::stats::Args),
    /// Fuzz one target with campaign defaults and live progress, then triage.
    Run(cli::run::Args),
    /// Fuzz several targets for a time budget, triage, and write the reports.
    Campaign(cli::campaign::Args),
    /// Classify, group, minimize and check the artifacts of a campaign or folder.
    Triage(cli::triage::Args),
    /// Copy a finding's minimized input into corpus/regressions/ for cargo test.
    Promote(cli::promote::Args),
    /// Rewrite a campaign's REPORT.md from its summary.json.
    Report(cli::report::Args),
    /// Replay corpora on a coverage build: HTML, lcov and a per-file summary; check the floor.
    Coverage(cli::coverage::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::List(args) => cli::list::run(&args),
        Command::Repro(args) => cli::repro::run(&args),
        Command::Stats(args) => cli::stats::run(&args),
        Command::Run(args) => cli::run::run(&args),
        Command::Campaign(args) => cli::campaign::run(&args),
        Command::Triage(args) => cli::triage::run(&args),
        Command::Promote(args) => cli::promote::run(&args),
        Command::Report(args) => cli::report::run(&args),
        Command::Coverage(args) => cli::coverage::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}
