//! The campaign driver of the fuzzing suite: the `harness` command for any
//! set of targets ([`main`]), the libFuzzer driver ([`fuzzer`]), campaigns
//! and triage ([`campaign`]), coverage ([`coverage`]), corpus statistics
//! ([`stats`]) and the bench ([`bench`]).
//!
//! A repository with its own embedder builds the same command with a
//! three-line `main` that hands [`main`] its targets:
//!
//! ```ignore
//! fn main() -> std::process::ExitCode {
//!     driver::main(&my_embedder::TARGETS.iter().collect::<Vec<_>>())
//! }
//! ```
//!
//! Folders stand above what they use: the libFuzzer driver ([`fuzzer`])
//! below [`campaign`] and [`coverage`], all of them below the subcommands.

pub mod bench;
pub mod campaign;
mod commands;
pub mod coverage;
pub mod fuzzer;
pub mod record;
pub mod stats;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use contract::{PROFILE_VAR, Profile};
use harness::Target;

/// Counts the host heap while a replayed guest runs, for the host-allocation
/// oracle: every binary built on the driver counts it.
#[global_allocator]
static ALLOCATOR: harness::alloc::Counting = harness::alloc::Counting;

/// Layered fuzzing suite for Wasm function loaders (embedders of wasmtime).
#[derive(Parser)]
#[command(name = "harness", version, about, long_about = None)]
#[command(after_help = "Exit codes: 0 success, 1 a crash, hang or oom was found, 2 usage or setup error.")]
struct Cli {
    /// The configuration every embedder is built with: `fuzzing` (less fuel
    /// and memory, unoptimized code, the embedder's documented Wasm
    /// features) or `production` (what a server runs: default limits,
    /// Cranelift's optimizer, the engine's default Wasm features). Fuzz
    /// targets, replays and coverage runs started from here use it too.
    /// [default: $SUITE_PROFILE, else fuzzing]
    #[arg(long, global = true, value_parser = parse_profile)]
    profile: Option<Profile>,
    #[command(subcommand)]
    command: Command,
}

fn parse_profile(name: &str) -> Result<Profile, String> {
    Profile::from_name(name).ok_or_else(|| format!("{name:?} is not a profile: fuzzing or production"))
}

#[derive(Subcommand)]
enum Command {
    /// List the fuzz targets, one per line, with the embedder each fuzzes.
    List(commands::list::Args),
    /// Replay inputs in-process on the stable toolchain, one line per input.
    Repro(commands::repro::Args),
    /// Show the share of a corpus's inputs reaching each stage and ending each way.
    Stats(commands::stats::Args),
    /// Fuzz one target with campaign defaults and live progress, then triage.
    Run(commands::run::Args),
    /// Fuzz several targets for a time budget, triage, and write the reports.
    Campaign(commands::campaign::Args),
    /// Classify, group, minimize and check the artifacts of a campaign or folder.
    Triage(commands::triage::Args),
    /// Copy a finding's minimized input into its embedder's regressions/ for cargo test.
    Promote(commands::promote::Args),
    /// Rewrite a campaign's REPORT.md from its summary.json.
    Report(commands::report::Args),
    /// Measure each target's exec/s beside the bare work it cannot avoid, per phase; write the table as JSON.
    Bench(commands::bench::Args),
    /// Replay corpora on a coverage build: HTML, lcov and a per-file summary; check the floor.
    Coverage(commands::coverage::Args),
}

/// The `harness` command over `targets` (and `selftest`): parses the
/// command line, runs the subcommand and returns its exit code: 0 success,
/// 1 findings (a crash, hang or oom), 2 usage or setup error.
pub fn main(targets: &[&'static Target]) -> ExitCode {
    commands::register(targets);
    let cli = Cli::parse();
    if let Some(profile) = cli.profile {
        // SAFETY: no other thread runs yet; every embedder is built after this.
        unsafe { std::env::set_var(PROFILE_VAR, profile.name()) };
    }
    if let Err(error) = Profile::current() {
        eprintln!("error: {error}");
        return ExitCode::from(2);
    }
    let result = match cli.command {
        Command::List(args) => commands::list::run(&args),
        Command::Repro(args) => commands::repro::run(&args),
        Command::Stats(args) => commands::stats::run(&args),
        Command::Run(args) => commands::run::run(&args),
        Command::Campaign(args) => commands::campaign::run(&args),
        Command::Triage(args) => commands::triage::run(&args),
        Command::Promote(args) => commands::promote::run(&args),
        Command::Report(args) => commands::report::run(&args),
        Command::Coverage(args) => commands::coverage::run(&args),
        Command::Bench(args) => commands::bench::run(&args),
    };
    match result {
        Ok(code) => code,
        // Output into a closed pipe (`harness repro ... | head -1`) ends quietly.
        Err(error) if commands::is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
