//! `harness repro`: replay files through a layer in-process.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use harness::forms::InputKind;
use harness::replay::{self, Verdict};

/// Arguments of `harness repro`.
#[derive(clap::Args)]
pub struct Args {
    /// The target whose layer replays the inputs (see `harness list`).
    target: String,
    /// Input files, or folders whose files are all replayed.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// What the files hold: fuzz inputs, or the structured form the target
    /// builds from one (`harness list` shows each target's), as triage writes
    /// a finding's minimized input.
    #[arg(long, value_enum, default_value_t = InputKind::Fuzz)]
    input_kind: InputKind,
    /// Wall-clock limit per input, in seconds; an input still running then is a hang.
    #[arg(long, default_value_t = replay::DEFAULT_LIMIT.as_secs_f64())]
    timeout: f64,
    /// Resident memory limit of this process, in MB; past it the input is an oom
    /// and the remaining inputs are skipped (the memory cannot be taken back).
    #[arg(long, default_value_t = replay::DEFAULT_RSS_LIMIT_MB)]
    rss_limit_mb: u64,
    /// Also print the module each input built, as WAT.
    #[arg(long)]
    wat: bool,
}

/// Replays every input and prints one line each; exit 1 if any crashed or hung.
pub fn run(args: &Args) -> Result<ExitCode, String> {
    let target = super::target(&args.target)?;
    let limit = Duration::try_from_secs_f64(args.timeout)
        .ok()
        .filter(|limit| !limit.is_zero())
        .ok_or_else(|| format!("--timeout {}: expected a positive number of seconds", args.timeout))?;
    let inputs = replay::collect_inputs(&args.inputs)?;
    if inputs.is_empty() {
        return Err(format!("no input files in {}", super::display_list(&args.inputs)));
    }
    let form = target.form(args.input_kind)?;
    let files = inputs
        .iter()
        .map(|path| {
            let data = std::fs::read(path).map_err(|error| format!("{}: {error}", path.display()))?;
            (form.check)(&data).map_err(|error| format!("{}: {error} (replay it without --input-kind {})", path.display(), form.kind.name()))?;
            Ok(data)
        })
        .collect::<Result<Vec<_>, String>>()?;
    let limits = replay::Limits { time: limit, rss_mb: args.rss_limit_mb };
    let mut findings = 0;
    for (done, (path, data)) in inputs.iter().zip(files).enumerate() {
        let verdict = replay::replay_within(form.run, data, limits);
        println!("{}  {}", path.display(), verdict.summary());
        if verdict.is_finding() {
            findings += 1;
        }
        if matches!(verdict, Verdict::OutOfMemory(_)) {
            println!("stopping: {} inputs not replayed after an oom", inputs.len() - done - 1);
            break;
        }
        if let (true, Verdict::Ran(report)) = (args.wat, &verdict) {
            print_wat(report.module.as_deref().unwrap_or(&std::fs::read(path).unwrap_or_default()));
        }
    }
    println!("{} inputs, {findings} findings", inputs.len());
    Ok(if findings == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn print_wat(module: &[u8]) {
    match wasmprinter::print_bytes(module) {
        Ok(text) => println!("{text}"),
        Err(error) => println!("  (not printable as WAT: {error})"),
    }
}
