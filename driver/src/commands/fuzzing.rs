//! Options shared by `harness run` and `harness campaign`, and turning them
//! into campaign settings.

use std::path::PathBuf;
use std::time::Duration;

use crate::campaign::{self, triage};
use crate::fuzzer::{Build, Limits, Sanitizer};
use anyhow::{Context, Result};
use harness::Target;

/// libFuzzer options with campaign defaults.
#[derive(clap::Args, Clone, Debug)]
pub struct FuzzOptions {
    /// Workers; above 1, libFuzzer's fork mode runs that many processes.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: u32,
    /// Per-input timeout in seconds: an input running longer is a hang.
    #[arg(long, default_value_t = Limits::default().time.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
    /// RSS limit in MB: going past it is an oom.
    #[arg(long, default_value_t = Limits::default().rss_mb, value_parser = clap::value_parser!(u64).range(1..))]
    pub rss_limit_mb: u64,
    /// Sanitizer: none (stable toolchain) or address (needs nightly).
    #[arg(long, value_enum, default_value_t = Sanitizer::None)]
    pub sanitizer: Sanitizer,
    /// libFuzzer's random seed, for reproducible runs.
    #[arg(long)]
    pub seed: Option<u32>,
    /// Cargo target directory of the fuzz builds [default: <fuzz package>/target, or $SUITE_FUZZ_TARGET_DIR].
    #[arg(long)]
    pub target_dir: Option<PathBuf>,
    /// After fuzzing each target, bench it in-process on its corpus for this
    /// long (`harness bench`: the layer's exec/s beside its bare work's), for
    /// the report; 0s skips it.
    #[arg(long, default_value = "10s", value_parser = parse_time_arg)]
    pub bench_time: Duration,
    /// Extra libFuzzer flags, after `--`.
    #[arg(last = true)]
    pub libfuzzer_flags: Vec<String>,
}

impl FuzzOptions {
    /// The fuzz build these options describe.
    pub fn build(&self) -> Build {
        fuzz_build(self.target_dir.clone(), self.sanitizer)
    }

    /// The per-input limits these options set.
    pub fn limits(&self) -> Limits {
        Limits { time: Duration::from_secs(self.timeout), rss_mb: self.rss_limit_mb }
    }

    /// Campaign settings for `targets` over `time` into `out`.
    pub fn settings(&self, targets: Vec<&'static Target>, time: Duration, out: PathBuf) -> Result<campaign::Settings> {
        let harness = std::env::current_exe().context("cannot find the harness binary")?;
        let build = self.build();
        build.check_tools()?;
        Ok(campaign::Settings {
            repo: super::repo_root(),
            targets,
            time,
            jobs: self.jobs,
            out,
            build,
            limits: self.limits(),
            bench_time: self.bench_time,
            seed: self.seed,
            extra: self.libfuzzer_flags.clone(),
            triage: triage_settings(harness, self.limits(), Some(self.build())),
        })
    }
}

/// A duration argument for clap (`10s`, `2m`, `0s`).
fn parse_time_arg(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|error| format!("{text:?} is not a duration such as 10s or 2m: {error}"))
}

/// Triage replays with the fuzzing limits (the hang limit at most 5 s, since
/// a true hang never ends) and minimizes each group for at most two minutes.
pub fn triage_settings(harness: PathBuf, limits: Limits, fuzz_build: Option<Build>) -> triage::Settings {
    let hang_limit = limits.time.clamp(Duration::from_secs(1), Duration::from_secs(5));
    triage::Settings {
        replayer: triage::Replayer { harness, limits: Limits { time: hang_limit, ..limits } },
        replays: 3,
        minimize_time: Duration::from_secs(120),
        fuzz_build,
    }
}

/// The repository's fuzz builds in `target_dir`, else `$SUITE_FUZZ_TARGET_DIR`, else each package's own.
pub fn fuzz_build(target_dir: Option<PathBuf>, sanitizer: Sanitizer) -> Build {
    let target_dir = target_dir.or_else(|| std::env::var_os("SUITE_FUZZ_TARGET_DIR").map(PathBuf::from));
    Build { repo: super::repo_root(), target_dir, sanitizer }
}

/// Parses `--time`: `90s`, `10m`, `8h`, `1h30m`.
pub fn parse_time(text: &str) -> Result<Duration> {
    let time = humantime::parse_duration(text).with_context(|| format!("--time {text}: expected a duration such as 90s, 10m, 8h or 1h30m"))?;
    if time.is_zero() {
        anyhow::bail!("--time {text}: the budget must be more than zero");
    }
    Ok(time)
}

/// A clap parser for a positive number of seconds.
pub fn positive_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds > 0.0 && seconds.is_finite() && seconds < 1e9 => Ok(seconds),
        _ => Err(format!("`{text}` is not a positive number of seconds")),
    }
}
