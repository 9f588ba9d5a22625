//! `harness repro`: replay files through a layer in-process.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use harness::forms::InputKind;
use harness::replay::{self, Limits, Verdict};

use super::say;
use crate::record::Record;

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
    #[arg(long, default_value = "fuzz", value_parser = input_kind_parser())]
    input_kind: InputKind,
    /// Wall-clock limit per input, in seconds; an input still running then is a hang.
    #[arg(long, default_value_t = Limits::default().time.as_secs_f64(), value_parser = super::fuzzing::positive_seconds)]
    timeout: f64,
    /// Resident memory limit of this process, in MB; past it the input is an oom
    /// and the remaining inputs are skipped (the memory cannot be taken back).
    #[arg(long, default_value_t = Limits::default().rss_mb, value_parser = clap::value_parser!(u64).range(1..))]
    rss_limit_mb: u64,
    /// Also print the module each input built, as WAT.
    #[arg(long, conflicts_with = "json")]
    wat: bool,
    /// Print one JSON object per input instead of a line for people (what triage reads).
    #[arg(long)]
    json: bool,
    /// Report the embedder's known defects (written up in
    /// `embedders/<embedder>/findings/`) as findings instead of passing over them, as
    /// their reproducers are replayed; the same as setting SUITE_REPORT_KNOWN.
    #[arg(long)]
    report_known: bool,
}

/// Replays every input and prints one line each; exit 1 if any crashed, hung or ran out of memory.
pub fn run(args: &Args) -> Result<ExitCode> {
    if args.report_known {
        // SAFETY: no other thread runs yet; the embedder is built after this.
        unsafe { std::env::set_var(harness::abi::known::REPORT_KNOWN, "1") };
    }
    let target = super::target(&args.target)?;
    target.accepts(args.input_kind).map_err(anyhow::Error::msg)?;
    let inputs = replay::collect_inputs(&args.inputs)?;
    if inputs.is_empty() {
        bail!("no input files in {}", super::display_list(&args.inputs));
    }
    let kind = args.input_kind;
    let files = inputs
        .iter()
        .map(|path| {
            let data = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            if let Err(error) = target.check(kind, &data) {
                bail!("{}: {error} (replay it without --input-kind {})", path.display(), kind.name());
            }
            Ok(data)
        })
        .collect::<Result<Vec<_>>>()?;
    let limits = Limits { time: Duration::from_secs_f64(args.timeout), rss_mb: args.rss_limit_mb };
    let mut findings = 0;
    for (done, (path, data)) in inputs.iter().zip(files).enumerate() {
        let verdict = replay::replay_within(move |data| target.run_as(kind, data), data, limits);
        if args.json {
            say(serde_json::to_string(&Record::of(&verdict, path))?)?;
        } else {
            say(format!("{}  {}", path.display(), verdict.summary()))?;
        }
        if verdict.is_finding() {
            findings += 1;
        }
        if matches!(verdict, Verdict::OutOfMemory(_)) {
            if !args.json {
                say(format!("stopping: {} inputs not replayed after an oom", inputs.len() - done - 1))?;
            }
            break;
        }
        if let (true, Verdict::Ran(report)) = (args.wat, &verdict) {
            print_wat(report.module.as_deref().unwrap_or(&std::fs::read(path).unwrap_or_default()))?;
        }
    }
    if !args.json {
        say(format!("{} inputs, {findings} findings", inputs.len()))?;
    }
    Ok(if findings == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn print_wat(module: &[u8]) -> Result<()> {
    match wasmprinter::print_bytes(module) {
        Ok(text) => say(text),
        Err(error) => say(format!("  (not printable as WAT: {error})")),
    }
}

/// Parses `--input-kind` by [`InputKind::name`], listing the names in `--help`.
fn input_kind_parser() -> impl clap::builder::TypedValueParser<Value = InputKind> {
    use clap::builder::TypedValueParser;
    let names = InputKind::ALL.map(InputKind::name);
    clap::builder::PossibleValuesParser::new(names).try_map(|name| InputKind::from_name(&name).ok_or(format!("{name:?} is not an input kind")))
}
