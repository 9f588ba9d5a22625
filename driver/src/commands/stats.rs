//! `harness stats`: the stage, end and label histograms of a corpus.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::stats::CorpusStats;
use anyhow::{Result, bail};
use harness::replay::{self, Limits};

use super::say;

/// Arguments of `harness stats`.
#[derive(clap::Args)]
pub struct Args {
    /// The target whose layer replays the corpus (see `harness list`).
    target: String,
    /// Corpus folders or files.
    #[arg(required = true)]
    corpus: Vec<PathBuf>,
}

/// Replays the corpus and prints its histograms; findings are counted, not fatal.
pub fn run(args: &Args) -> Result<ExitCode> {
    let target = super::target(&args.target)?;
    let inputs = replay::collect_inputs(&args.corpus)?;
    if inputs.is_empty() {
        bail!("no input files in {}", super::display_list(&args.corpus));
    }
    let mut stats = CorpusStats::default();
    for (done, path) in inputs.iter().enumerate() {
        stats.add(&replay::replay_file(|data| target.run(data), path, Limits::default())?);
        if (done + 1) % 1000 == 0 {
            eprintln!("  {} / {} inputs", done + 1, inputs.len());
        }
    }
    say(format!("{}: {}", target.name, stats.render()))?;
    Ok(ExitCode::SUCCESS)
}
