//! Driving cargo-fuzz and libFuzzer: build the targets, fuzz one target for a
//! time budget (restarting after each finding so a finding never ends the
//! run), and merge-minimize a corpus without ever losing an entry.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::log::{FindingKind, FuzzerLog, Status};
pub use harness::replay::Limits;

/// Where and how the fuzz targets are built: each cargo-fuzz package of the
/// repository (`embedders/<name>/fuzz/`, one per embedder) into one cargo
/// target directory.
#[derive(Clone, Debug)]
pub struct Build {
    /// The repository, which holds the cargo-fuzz packages.
    pub repo: PathBuf,
    /// Cargo target directory of the fuzz builds, if not cargo-fuzz's default.
    pub target_dir: Option<PathBuf>,
    /// `none` (stable) or `address` (nightly).
    pub sanitizer: Sanitizer,
}

/// The sanitizer of a fuzz build.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Sanitizer {
    /// No sanitizer: stable toolchain, as wasmtime's own OSS-Fuzz build.
    None,
    /// AddressSanitizer: needs the nightly toolchain.
    Address,
}

impl Sanitizer {
    /// The name cargo-fuzz's `-s` takes.
    pub fn name(self) -> &'static str {
        match self {
            Sanitizer::None => "none",
            Sanitizer::Address => "address",
        }
    }
}

/// ASan options wasmtime's signal-based traps need.
pub const ASAN_OPTIONS: &str = "allow_user_segv_handler=1:handle_segv=1:handle_sigill=0:handle_sigfpe=1:detect_leaks=0";

impl Build {
    /// `cargo [+nightly] fuzz <subcommand> -s <sanitizer> --fuzz-dir <dir> [--target-dir <dir>]`
    /// for the cargo-fuzz package `fuzz_dir` of the repository.
    fn cargo_fuzz(&self, subcommand: &str, fuzz_dir: &str) -> Command {
        let mut command = Command::new("cargo");
        if self.sanitizer == Sanitizer::Address {
            command.arg("+nightly").env("ASAN_OPTIONS", ASAN_OPTIONS);
        }
        command.args(["fuzz", subcommand, "-s", self.sanitizer.name(), "--fuzz-dir"]).arg(self.repo.join(fuzz_dir));
        command.arg("--target-dir").arg(self.target_dir(fuzz_dir));
        command
    }

    /// The cargo target directory of the package `fuzz_dir`'s fuzz build.
    pub fn target_dir(&self, fuzz_dir: &str) -> PathBuf {
        self.target_dir.clone().unwrap_or_else(|| self.repo.join(fuzz_dir).join("target"))
    }

    /// Checks that cargo-fuzz (and nightly, for ASan) are there; the error says how to get them.
    pub fn check_tools(&self) -> Result<()> {
        let fuzz = Command::new("cargo").args(["fuzz", "--version"]).output();
        if !fuzz.is_ok_and(|output| output.status.success()) {
            bail!("cargo-fuzz is not installed: run scripts/setup.sh (or cargo install cargo-fuzz --locked)");
        }
        if self.sanitizer == Sanitizer::Address {
            let nightly = Command::new("cargo").args(["+nightly", "--version"]).output();
            if !nightly.is_ok_and(|output| output.status.success()) {
                bail!("--sanitizer address needs the nightly toolchain: rustup toolchain install nightly");
            }
        }
        Ok(())
    }

    /// Builds the fuzz targets of each cargo-fuzz package in `fuzz_dirs`
    /// once (cargo-fuzz skips what is up to date).
    pub fn build_all(&self, fuzz_dirs: &[&str]) -> Result<()> {
        self.check_tools()?;
        let mut built: Vec<&str> = Vec::new();
        for fuzz_dir in fuzz_dirs {
            if built.contains(fuzz_dir) {
                continue;
            }
            eprintln!("building the fuzz targets of {fuzz_dir}/ (the first build takes several minutes)");
            let status = self.cargo_fuzz("build", fuzz_dir).status().context("cannot run cargo fuzz build")?;
            if !status.success() {
                bail!("cargo fuzz build of {fuzz_dir}/ failed ({status})");
            }
            built.push(fuzz_dir);
        }
        Ok(())
    }

    /// Replays `input` with the fuzz binary of `target` itself, as libFuzzer
    /// ran it while fuzzing (`cargo fuzz run <target> <input>` with the
    /// per-input limits): triage's second chance for an artifact that an
    /// in-process replay did not reproduce. An artifact the binary writes goes
    /// under `artifact_prefix`. Returns what its log said (findings, panics).
    pub fn replay(&self, fuzz_dir: &str, target: &str, input: &Path, limits: Limits, artifact_prefix: &Path) -> Result<FuzzerLog> {
        let mut command = self.cargo_fuzz("run", fuzz_dir);
        command.arg(target).arg(input).arg("--").args([
            format!("-timeout={}", limits.timeout_secs()),
            format!("-rss_limit_mb={}", limits.rss_mb),
            format!("-artifact_prefix={}", artifact_prefix.display()),
        ]);
        let output = command.output().context("cannot run cargo fuzz run")?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !stderr.contains("Running: ") {
            let last = stderr.lines().rev().find(|line| !line.trim().is_empty()).unwrap_or("no output");
            bail!("the fuzz binary of {target} did not run {}: {last}", input.display());
        }
        let mut log = FuzzerLog::parse(&stderr);
        if !output.status.success() && log.findings.is_empty() {
            // Killed or aborted before libFuzzer could say why: still a crash.
            log.findings.push(FindingKind::Crash);
        }
        Ok(log)
    }

    /// The target folder of the coverage builds of the package `fuzz_dir`:
    /// apart from the fuzz build, since its flags differ and sharing one
    /// folder would rebuild both every time.
    pub fn coverage_target_dir(&self, fuzz_dir: &str) -> PathBuf {
        self.target_dir(fuzz_dir).join("coverage")
    }

    /// The coverage-instrumented binary of `target`, built from the package `fuzz_dir`.
    pub fn coverage_binary(&self, fuzz_dir: &str, target: &str) -> PathBuf {
        self.coverage_target_dir(fuzz_dir).join(TRIPLE).join("release").join(target)
    }

    /// `cargo fuzz coverage`: builds `target` of the package `fuzz_dir` with
    /// coverage instrumentation, replays `corpus` and merges the profiles into
    /// `<fuzz-dir>/coverage/<target>/coverage.profdata`, which it returns. Old
    /// profiles of the target are removed first; the build and replay output
    /// (a few lines per input) goes to `log`.
    pub fn coverage(&self, fuzz_dir: &str, target: &str, corpus: &Path, llvm_bin: &Path, log: &Path) -> Result<PathBuf> {
        let profiles = self.repo.join(fuzz_dir).join("coverage").join(target);
        if profiles.exists() {
            std::fs::remove_dir_all(&profiles).with_context(|| format!("cannot clear {}", profiles.display()))?;
        }
        let output = std::fs::File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
        let errors = output.try_clone().with_context(|| format!("cannot write {}", log.display()))?;
        let mut command = Command::new("cargo");
        command.args(["fuzz", "coverage", "-s", "none", "--fuzz-dir"]).arg(self.repo.join(fuzz_dir));
        command.arg("--target-dir").arg(self.coverage_target_dir(fuzz_dir)).arg("--llvm-path").arg(llvm_bin);
        command.arg(target).arg(corpus).stdout(output).stderr(errors);
        let status = command.status().context("cannot run cargo fuzz coverage")?;
        if !status.success() {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines.get(lines.len().saturating_sub(15)..).unwrap_or_default().join("\n");
            bail!("cargo fuzz coverage {target} failed ({status}); from {}:\n{tail}", log.display());
        }
        Ok(profiles.join("coverage.profdata"))
    }
}

/// The target triple cargo-fuzz builds for.
const TRIPLE: &str = "x86_64-unknown-linux-gnu";

/// One target's fuzzing settings.
#[derive(Clone, Debug)]
pub struct FuzzJob {
    /// The target.
    pub target: String,
    /// The cargo-fuzz package that builds it.
    pub fuzz_dir: String,
    /// Corpus folder new inputs go to.
    pub corpus: PathBuf,
    /// Read-only seed folders.
    pub seeds: Vec<PathBuf>,
    /// Folder artifacts (findings) go to.
    pub artifacts: PathBuf,
    /// Dictionary, if the target has one.
    pub dictionary: Option<PathBuf>,
    /// Fuzzing time.
    pub time: Duration,
    /// Workers: 1 runs libFuzzer directly; more use fork mode.
    pub jobs: u32,
    /// Per-input time and memory limits.
    pub limits: Limits,
    /// libFuzzer seed of the first run, for reproducible short runs (restarts add 1 each).
    pub seed: Option<u32>,
    /// Extra libFuzzer flags, passed through.
    pub extra: Vec<String>,
    /// File the whole libFuzzer output is appended to.
    pub log: PathBuf,
}

/// What fuzzing one target did.
#[derive(Clone, Debug, Default)]
pub struct FuzzResult {
    /// Executions over all restarts.
    pub execs: u64,
    /// Wall-clock time spent fuzzing.
    pub elapsed: Duration,
    /// The last status line of the last run (coverage, corpus).
    pub last_status: Option<Status>,
    /// Peak RSS reported by libFuzzer, in MB.
    pub peak_rss_mb: u64,
    /// Findings reported (by kind, in order).
    pub findings: Vec<FindingKind>,
    /// libFuzzer processes started (1 plus one per restart after a finding).
    pub runs: u32,
    /// Why fuzzing stopped early, if it did.
    pub stopped_early: Option<String>,
    /// Seed and corpus inputs set aside because they were findings themselves.
    pub set_aside: usize,
}

impl FuzzResult {
    /// Average executions per second.
    pub fn exec_per_sec(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 { self.execs as f64 / seconds } else { 0.0 }
    }
}

/// Sets aside every input of the corpus and the seeds with the contents of
/// `artifact`, a finding libFuzzer made while loading them. Corpus copies
/// are removed (the artifact keeps the input); seed folders, which belong
/// to the repository, are replaced in `seeds` by one copy without them,
/// `<corpus>.seeds/` beside the corpus. Returns how many were set aside.
fn set_aside(job: &FuzzJob, artifact: &Path, seeds: &mut Vec<PathBuf>) -> Result<usize> {
    let finding = std::fs::read(artifact).with_context(|| format!("cannot read {}", artifact.display()))?;
    let matches = |file: &Path| std::fs::read(file).is_ok_and(|bytes| bytes == finding);
    let mut count = 0;
    for file in harness::replay::collect_inputs(std::slice::from_ref(&job.corpus))? {
        if matches(&file) {
            std::fs::remove_file(&file).with_context(|| format!("cannot remove {}", file.display()))?;
            count += 1;
        }
    }
    let seed_files = harness::replay::collect_inputs(seeds)?;
    if !seed_files.iter().any(|file| matches(file)) {
        return Ok(count);
    }
    let copy = job.corpus.with_extension("seeds");
    let fresh = copy.with_extension("seeds.new");
    let _ = std::fs::remove_dir_all(&fresh);
    std::fs::create_dir_all(&fresh).with_context(|| format!("cannot create {}", fresh.display()))?;
    for (index, file) in seed_files.iter().enumerate() {
        if matches(file) {
            count += 1;
        } else {
            let name = format!("{index:05}-{}", file.file_name().unwrap_or_default().to_string_lossy());
            std::fs::copy(file, fresh.join(name)).with_context(|| format!("cannot copy {}", file.display()))?;
        }
    }
    let _ = std::fs::remove_dir_all(&copy);
    std::fs::rename(&fresh, &copy).with_context(|| format!("cannot create {}", copy.display()))?;
    *seeds = vec![copy];
    Ok(count)
}

/// Fuzzes `job.target` for `job.time`, restarting libFuzzer after each
/// finding (setting aside a seed or corpus input that is itself one), and
/// calls `progress` on every status line.
pub fn fuzz(build: &Build, job: &FuzzJob, mut progress: impl FnMut(&Status, usize)) -> Result<FuzzResult> {
    for dir in [&job.corpus, &job.artifacts] {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut log_file =
        std::fs::OpenOptions::new().create(true).append(true).open(&job.log).with_context(|| format!("cannot open {}", job.log.display()))?;
    let started = Instant::now();
    let mut result = FuzzResult::default();
    let mut seeds = job.seeds.clone();
    while let Some(remaining) = job.time.checked_sub(started.elapsed()).filter(|left| left.as_secs() >= 2) {
        let mut command = build.cargo_fuzz("run", &job.fuzz_dir);
        let flags = libfuzzer_flags(job, remaining, result.runs);
        command.arg(&job.target).arg(&job.corpus).args(&seeds).arg("--").args(flags);
        command.env(harness::history::DIR_VAR, history_dir(&job.artifacts));
        command.stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = command.spawn().context("cannot run cargo fuzz run")?;
        result.runs += 1;
        let mut log = FuzzerLog::default();
        if let Some(stderr) = child.stderr.take() {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = writeln!(log_file, "{line}");
                if let Some(status) = log.line(&line) {
                    progress(&status, result.findings.len() + log.findings.len());
                }
            }
        }
        let status = child.wait().context("cargo fuzz run")?;
        result.execs += log.total_execs.or(log.last_status.map(|status| status.execs)).unwrap_or(0);
        result.peak_rss_mb = result.peak_rss_mb.max(log.peak_rss_mb.unwrap_or(0));
        result.last_status = log.last_status.or(result.last_status);
        let found = !log.findings.is_empty();
        result.findings.extend(log.findings.iter().copied());
        if !status.success() && !found && log.last_status.is_none() {
            result.stopped_early = Some(format!("cargo fuzz run failed ({status}); see {}", job.log.display()));
            break;
        }
        if found && !log.inited {
            // A seed or corpus input is itself a finding: its artifact keeps
            // it for triage; fuzzing goes on from the rest.
            let set_aside = match log.artifacts.last() {
                Some(artifact) => set_aside(job, artifact, &mut seeds)?,
                None => 0,
            };
            if set_aside == 0 {
                result.stopped_early = Some(
                    "a seed input is itself a finding and could not be set aside; fuzzing this target cannot go on until it is fixed or removed"
                        .to_owned(),
                );
                break;
            }
            result.set_aside += set_aside;
            continue;
        }
        if !found {
            break;
        }
    }
    result.elapsed = started.elapsed();
    Ok(result)
}

/// The folder the fuzzing processes of a job write their
/// [`history`](harness::history) to: hidden in its artifacts folder, so that
/// it is kept with them and never taken for one.
pub fn history_dir(artifacts: &Path) -> PathBuf {
    artifacts.join(".history")
}

/// libFuzzer's flags for run number `run` (0-based) of a job: a fixed seed
/// moves on with each restart, so a restart does not find the same input again.
fn libfuzzer_flags(job: &FuzzJob, remaining: Duration, run: u32) -> Vec<String> {
    let mut flags = vec![
        format!("-max_total_time={}", remaining.as_secs()),
        format!("-timeout={}", job.limits.timeout_secs()),
        format!("-rss_limit_mb={}", job.limits.rss_mb),
        format!("-artifact_prefix={}/", job.artifacts.display()),
        "-print_final_stats=1".to_owned(),
        "-report_slow_units=5".to_owned(),
    ];
    if let Some(dictionary) = &job.dictionary {
        flags.push(format!("-dict={}", dictionary.display()));
    }
    if let Some(seed) = job.seed {
        flags.push(format!("-seed={}", seed.wrapping_add(run)));
    }
    if job.jobs > 1 {
        flags.extend([format!("-fork={}", job.jobs), "-ignore_crashes=1".to_owned(), "-ignore_timeouts=1".to_owned(), "-ignore_ooms=1".to_owned()]);
    }
    flags.extend(job.extra.iter().cloned());
    flags
}

/// Merges `job`'s corpus (and seeds) into a minimal corpus and puts it in
/// place of the corpus, under the job's limits. The old corpus stays until
/// the new one is complete, so an interruption at any point loses nothing.
pub fn merge_corpus(build: &Build, job: &FuzzJob) -> Result<(usize, usize)> {
    let corpus = job.corpus.as_path();
    let count = |dir: &Path| std::fs::read_dir(dir).map(|entries| entries.count()).unwrap_or(0);
    let before = count(corpus);
    let merged = corpus.with_extension("merging");
    let _ = std::fs::remove_dir_all(&merged);
    std::fs::create_dir_all(&merged).with_context(|| format!("cannot create {}", merged.display()))?;
    let log_file =
        std::fs::OpenOptions::new().create(true).append(true).open(&job.log).with_context(|| format!("cannot open {}", job.log.display()))?;
    let status = build
        .cargo_fuzz("run", &job.fuzz_dir)
        .arg(&job.target)
        .arg(&merged)
        .arg(corpus)
        .args(&job.seeds)
        .arg("--")
        .arg("-merge=1")
        .arg(format!("-timeout={}", job.limits.timeout_secs()))
        .arg(format!("-rss_limit_mb={}", job.limits.rss_mb))
        .stdout(Stdio::null())
        .stderr(log_file)
        .status()
        .context("cannot run the corpus merge")?;
    if !status.success() || count(&merged) == 0 {
        let _ = std::fs::remove_dir_all(&merged);
        return Ok((before, before));
    }
    let old = corpus.with_extension("old");
    let _ = std::fs::remove_dir_all(&old);
    std::fs::rename(corpus, &old).with_context(|| format!("cannot move {} aside", corpus.display()))?;
    std::fs::rename(&merged, corpus).with_context(|| format!("cannot move {} into place", merged.display()))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok((before, count(corpus)))
}

/// Puts back a corpus an interrupted merge left aside.
pub fn recover_corpus(corpus: &Path) {
    let old = corpus.with_extension("old");
    if !corpus.exists() && old.exists() {
        let _ = std::fs::rename(&old, corpus);
    }
    let _ = std::fs::remove_dir_all(corpus.with_extension("merging"));
}
