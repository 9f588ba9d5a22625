//! `harness bench`: each target's layer beside the bare work it cannot
//! avoid (see `crate::bench`), on the same inputs, in this process; a
//! table for people and the same figures as JSON.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use crate::bench::{self, TargetBench};
use anyhow::{Context, Result, bail};
use harness::Target;
use harness::replay;
use serde_json::{Value, json};

use super::fuzzing::parse_time;
use super::say;

/// Arguments of `harness bench`.
#[derive(clap::Args)]
pub struct Args {
    /// Targets to bench [default: every embedder's layer targets].
    targets: Vec<String>,
    /// Time per target, e.g. 60s or 2m.
    #[arg(long, default_value = "60s")]
    time: String,
    /// Inputs to generate from the seeds (mutations) and from nothing (random bytes), beside the seeds.
    #[arg(long, default_value_t = 500)]
    generated: usize,
    /// Take the inputs of target T from <corpus>/T (a campaign's corpus folder) instead of its seeds (<embedder>/corpus/T).
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// Where to write the table as JSON [default: bench.json in the current folder].
    #[arg(long, default_value = "bench.json")]
    json: PathBuf,
}

/// Benches every target and prints the table; exit 2 when a target cannot be benched.
pub fn run(args: &Args) -> Result<ExitCode> {
    let time = parse_time(&args.time)?;
    let targets: Vec<&'static Target> = if args.targets.is_empty() {
        super::targets().into_iter().filter(|target| target.layer().is_some()).collect()
    } else {
        args.targets.iter().map(|name| super::target(name)).collect::<Result<_>>()?
    };
    let repo = super::repo_root();
    let mut rows = Vec::new();
    let (profile, commit, machine) = (contract::Profile::current().map_err(anyhow::Error::msg)?.name(), commit(), machine());
    eprintln!("bench: {} target(s), {} each; the layer and its bare work alternate on the same inputs", targets.len(), args.time);
    for target in targets {
        let inputs = inputs_of(target, &target.inputs(&repo, args.corpus.as_deref()), args.generated)?;
        eprintln!("  {}: {} inputs ...", target.name, inputs.len());
        let measured = bench::measure_on_thread(target, inputs, time, |execs| eprint!("\r    {execs} execs")).map_err(anyhow::Error::msg)?;
        eprintln!();
        say(row(target, &measured))?;
        say(format!("    phases, microseconds per input: {}", phases_line(&measured)))?;
        if let Some(first) = measured.set_aside.first() {
            say(format!("    {} input(s) set aside (an oracle or generator panicked), the first: {first}", measured.set_aside.len()))?;
        }
        rows.push(to_json(target, &measured));
        // Written after every target: a later target that takes the process down loses only itself.
        let table = json!({
            "profile": profile,
            "time_per_target_s": time.as_secs_f64(),
            "commit": commit,
            "machine": machine,
            "targets": rows,
        });
        std::fs::write(&args.json, serde_json::to_string_pretty(&table)? + "\n").with_context(|| format!("cannot write {}", args.json.display()))?;
    }
    eprintln!("bench: table written to {}", args.json.display());
    Ok(ExitCode::SUCCESS)
}

/// The repository's commit, if git can tell.
fn commit() -> Option<String> {
    let output = std::process::Command::new("git").arg("-C").arg(super::repo_root()).args(["rev-parse", "--short", "HEAD"]).output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// The processor's model and the number of cores this process may use.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .map_or("unknown processor", |rest| rest.trim_start_matches([' ', '\t', ':']));
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    format!("{model}, {cores} cores")
}

/// The inputs of `target` in `dir` and `generated` inputs made from them.
fn inputs_of(target: &Target, dir: &Path, generated: usize) -> Result<Vec<Vec<u8>>> {
    let seeds = if dir.is_dir() { replay::read_inputs(&[dir.to_path_buf()])? } else { Vec::new() };
    if seeds.is_empty() && generated == 0 {
        bail!("no inputs for `{}`: {} holds none and --generated is 0", target.name, dir.display());
    }
    Ok(bench::inputs(seeds, generated, 1))
}

/// One line of the table.
fn row(target: &Target, measured: &TargetBench) -> String {
    let costliest = measured.costliest_phase().map_or_else(String::new, |(name, share)| format!("{name} {:.0}%", share * 100.0));
    format!(
        "{:<24} {:>7} execs  layer {:>9.1} exec/s  bare {:>9.1} exec/s  bare/layer {:>5.2}x  costliest: {costliest}",
        target.name,
        measured.layer.execs,
        measured.layer.per_second(),
        measured.bare.per_second(),
        measured.slowdown(),
    )
}

fn micros_per_input(measured: &TargetBench, took: Duration) -> f64 {
    took.as_secs_f64() * 1e6 / measured.layer.execs.max(1) as f64
}

fn phases_line(measured: &TargetBench) -> String {
    let mut phases: Vec<_> = measured.phases.iter().collect();
    phases.sort_by_key(|(_, took)| std::cmp::Reverse(**took));
    phases.iter().map(|(name, took)| format!("{name} {:.0}", micros_per_input(measured, **took))).collect::<Vec<_>>().join(", ")
}

fn to_json(target: &Target, measured: &TargetBench) -> Value {
    let phases: serde_json::Map<String, Value> =
        measured.phases.iter().map(|(name, took)| ((*name).to_owned(), json!(micros_per_input(measured, *took)))).collect();
    json!({
        "target": target.name,
        "embedder": target.embedder,
        "inputs": measured.inputs,
        "execs": measured.layer.execs,
        "exec_per_s": measured.layer.per_second(),
        "bare_exec_per_s": measured.bare.per_second(),
        "bare_over_layer": measured.slowdown(),
        "costliest_phase": measured.costliest_phase().map(|(name, _)| name),
        "phase_us_per_input": phases,
        "set_aside": measured.set_aside.len(),
    })
}
