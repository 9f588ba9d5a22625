//! Options shared by `harness run` and `harness campaign`, and turning them
//! into campaign settings.

use std::path::PathBuf;
use std::time::Duration;

use harness::campaign::libfuzzer::{Build, Sanitizer};
use harness::campaign::{self, duration, triage};

/// libFuzzer options with campaign defaults.
#[derive(clap::Args, Clone, Debug)]
pub struct FuzzOptions {
    /// Workers; above 1, libFuzzer's fork mode runs that many processes.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: u32,
    /// Per-input timeout in seconds: an input running longer is a hang.
    #[arg(long, default_value_t = 10)]
    pub timeout: u32,
    /// RSS limit in MB: going past it is an oom.
    #[arg(long, default_value_t = 2048)]
    pub rss_limit_mb: u32,
    /// Sanitizer: none (stable toolchain) or address (needs nightly).
    #[arg(long, value_enum, default_value_t = Sanitizer::None)]
    pub sanitizer: Sanitizer,
    /// libFuzzer's random seed, for reproducible runs.
    #[arg(long)]
    pub seed: Option<u32>,
    /// Cargo target directory of the fuzz build [default: targets/target, or $SUITE_FUZZ_TARGET_DIR].
    #[arg(long)]
    pub target_dir: Option<PathBuf>,
    /// Extra libFuzzer flags, after `--`.
    #[arg(last = true)]
    pub libfuzzer_flags: Vec<String>,
}

impl FuzzOptions {
    /// The fuzz build these options describe.
    pub fn build(&self) -> Build {
        fuzz_build(self.target_dir.clone(), self.sanitizer)
    }

    /// Campaign settings for `targets` over `time` into `out`.
    pub fn settings(&self, targets: Vec<&'static harness::Target>, time: Duration, out: PathBuf) -> Result<campaign::Settings, String> {
        let harness = std::env::current_exe().map_err(|error| format!("cannot find the harness binary: {error}"))?;
        let build = self.build();
        build.check_tools()?;
        Ok(campaign::Settings {
            repo: super::repo_root(),
            targets,
            time,
            jobs: self.jobs,
            out,
            build,
            timeout_secs: self.timeout,
            rss_limit_mb: self.rss_limit_mb,
            seed: self.seed,
            extra: self.libfuzzer_flags.clone(),
            triage: triage_settings(harness, self.timeout, u64::from(self.rss_limit_mb)),
        })
    }
}

/// Triage replays with the fuzzing limits (the hang limit at most 5 s, since
/// a true hang never ends) and minimizes each group for at most two minutes.
pub fn triage_settings(harness: PathBuf, timeout_secs: u32, rss_limit_mb: u64) -> triage::Settings {
    triage::Settings {
        replayer: triage::Replayer {
            harness,
            hang_limit: Duration::from_secs(u64::from(timeout_secs.clamp(1, 5))),
            rss_limit_mb,
        },
        replays: 3,
        minimize_time: Duration::from_secs(120),
    }
}

/// The repository's fuzz build in `target_dir`, else `$SUITE_FUZZ_TARGET_DIR`, else cargo-fuzz's default.
pub fn fuzz_build(target_dir: Option<PathBuf>, sanitizer: Sanitizer) -> Build {
    let target_dir = target_dir.or_else(|| std::env::var_os("SUITE_FUZZ_TARGET_DIR").map(PathBuf::from));
    Build { fuzz_dir: super::repo_root().join("targets"), target_dir, sanitizer }
}

/// Parses `--time`.
pub fn parse_time(text: &str) -> Result<Duration, String> {
    duration::parse(text).map_err(|error| format!("--time: {error}"))
}
