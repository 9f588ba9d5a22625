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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::List(args) => cli::list::run(&args),
        Command::Repro(args) => cli::repro::run(&args),
        Command::Stats(args) => cli::stats::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}
