//! `harness stats`: the stage, end and label histograms of a corpus.

use std::path::PathBuf;
use std::process::ExitCode;

use harness::replay;
use harness::stats::CorpusStats;

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
pub fn run(args: &Args) -> Result<ExitCode, String> {
    let target = super::target(&args.target)?;
    let inputs = replay::collect_inputs(&args.corpus)?;
    if inputs.is_empty() {
        return Err(format!("no input files in {}", super::display_list(&args.corpus)));
    }
    let mut stats = CorpusStats::default();
    for (done, path) in inputs.iter().enumerate() {
        stats.add(&replay::replay_file(target.run, path, replay::Limits::default())?);
        if (done + 1) % 1000 == 0 {
            eprintln!("  {} / {} inputs", done + 1, inputs.len());
        }
    }
    println!("{}: {}", target.name, stats.render());
    Ok(ExitCode::SUCCESS)
}
