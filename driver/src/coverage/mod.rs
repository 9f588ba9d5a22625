//! Coverage reports: `cargo fuzz coverage` replays each target's corpus on a
//! coverage-instrumented build, then llvm-cov turns the profiles into an HTML
//! report, an lcov file and a per-file summary, per target and combined over
//! all targets. Dependency sources are left out of every report (an
//! unfiltered HTML report of one wasmtime target is hundreds of megabytes).

pub mod floor;
pub mod llvm;
pub mod summary;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::fuzzer::Build;
use harness::targets::Target;

pub use llvm::LlvmTools;
pub use summary::{COMBINED, ReportCoverage};

/// Sources the HTML and lcov reports leave out: the standard library, every
/// dependency, and the code build scripts generate (cranelift's is the
/// largest of all).
const DEPENDENCY_SOURCES: &str = r"(/\.cargo/(registry|git)/|/rustc/|/\.rustup/|/library/(std|core|alloc)/|/build/[^/]+/out/)";

/// What the per-file summary leaves out: the same but the cargo registry,
/// where an embedder's own crate lives (`extism-1.30.0/src/`); the summary
/// keeps only the repository's files and the embedder's sources of it.
const SUMMARY_IGNORED: &str = r"(/\.cargo/git/|/rustc/|/\.rustup/|/library/(std|core|alloc)/|/build/[^/]+/out/)";

/// What to measure and where to write it.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The repository root; only its files are reported.
    pub repo: PathBuf,
    /// Targets whose corpora are replayed.
    pub targets: Vec<&'static Target>,
    /// A folder holding one corpus folder per target (`<corpus>/<target>/`),
    /// or `None` for each target's seeds.
    pub corpus: Option<PathBuf>,
    /// Where the reports go.
    pub out: PathBuf,
    /// The fuzz build (its coverage twin is built beside it).
    pub build: Build,
    /// llvm-cov and friends.
    pub llvm: LlvmTools,
}

/// Builds, replays and reports; returns one report per target, then the combined one.
///
/// Writes `<out>/<target>/{html/,lcov.info,coverage.profdata,replay.log}`, the same for
/// `<out>/combined/`, and `<out>/coverage.json` with every report.
pub fn run(settings: &Settings) -> Result<Vec<ReportCoverage>> {
    let mut reports = Vec::new();
    let mut profiles = Vec::new();
    let mut binaries = Vec::new();
    for target in &settings.targets {
        let corpus = target.inputs(&settings.repo, settings.corpus.as_deref());
        let inputs = count_inputs(&corpus)?;
        let out = settings.out.join(target.name);
        create_dir(&out)?;
        let log = out.join("replay.log");
        eprintln!(
            "coverage of {}: building (the first build takes minutes) and replaying {inputs} inputs from {} (log: {})",
            target.name,
            corpus.display(),
            log.display()
        );
        let started = std::time::Instant::now();
        let profile = settings.build.coverage(target.fuzz_dir, target.name, &corpus, &settings.llvm.bin, &log)?;
        eprintln!("coverage of {}: done in {:.0} s", target.name, started.elapsed().as_secs_f64());
        let binary = settings.build.coverage_binary(target.fuzz_dir, target.name);
        let kept = out.join("coverage.profdata");
        std::fs::copy(&profile, &kept).with_context(|| format!("cannot copy {}", profile.display()))?;
        reports.push(report(settings, target.name, inputs, std::slice::from_ref(&binary), &kept, &out, target.sources)?);
        profiles.push(kept);
        binaries.push(binary);
    }
    let out = settings.out.join(COMBINED);
    create_dir(&out)?;
    let combined = out.join("coverage.profdata");
    merge_profiles(&settings.llvm, &profiles, &combined)?;
    let inputs = reports.iter().map(|report| report.inputs).sum();
    let mut sources: Vec<&str> = settings.targets.iter().flat_map(|target| target.sources.iter().copied()).collect();
    sources.dedup();
    reports.push(report(settings, COMBINED, inputs, &binaries, &combined, &out, &sources)?);
    let json = serde_json::to_string_pretty(&reports)?;
    let path = settings.out.join("coverage.json");
    std::fs::write(&path, json).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(reports)
}

/// HTML, lcov and the summary of one profile over `binaries`, with the
/// embedder's own `sources` first.
fn report(
    settings: &Settings,
    name: &str,
    inputs: usize,
    binaries: &[PathBuf],
    profile: &Path,
    out: &Path,
    sources: &[&str],
) -> Result<ReportCoverage> {
    let html = out.join("html");
    let mut show = llvm_cov(settings, "show", binaries, profile, DEPENDENCY_SOURCES);
    show.args(["-format=html", "-show-line-counts-or-regions", "-show-instantiations=false"]);
    show.arg(format!("-project-title={name}")).arg(format!("-output-dir={}", html.display()));
    show.arg(format!("-Xdemangler={}", settings.llvm.demangler.display()));
    capture(show)?;
    let mut lcov = llvm_cov(settings, "export", binaries, profile, DEPENDENCY_SOURCES);
    lcov.arg("-format=lcov");
    let lcov_path = out.join("lcov.info");
    std::fs::write(&lcov_path, capture(lcov)?).with_context(|| format!("cannot write {}", lcov_path.display()))?;
    let mut export = llvm_cov(settings, "export", binaries, profile, SUMMARY_IGNORED);
    export.args(["-format=text", "-summary-only"]);
    let json = capture(export)?;
    summary::parse_export(name, inputs, &String::from_utf8_lossy(&json), &settings.repo, sources)
}

/// `llvm-cov <subcommand> -instr-profile=P BIN [-object BIN]...` without the sources `ignored` matches.
fn llvm_cov(settings: &Settings, subcommand: &str, binaries: &[PathBuf], profile: &Path, ignored: &str) -> Command {
    let mut command = Command::new(settings.llvm.cov());
    command.arg(subcommand).arg(format!("-instr-profile={}", profile.display()));
    command.arg(format!("-ignore-filename-regex={ignored}"));
    for (index, binary) in binaries.iter().enumerate() {
        if index > 0 {
            command.arg("-object");
        }
        command.arg(binary);
    }
    command
}

fn merge_profiles(llvm: &LlvmTools, profiles: &[PathBuf], out: &Path) -> Result<()> {
    let mut merge = Command::new(llvm.profdata());
    merge.args(["merge", "-sparse"]).args(profiles).arg("-o").arg(out);
    capture(merge).map(|_| ())
}

/// Runs a tool and returns its stdout; a failure carries its stderr.
fn capture(mut command: Command) -> Result<Vec<u8>> {
    let program = command.get_program().to_string_lossy().into_owned();
    let output = command.output().with_context(|| format!("cannot run {program}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        bail!("{program} failed ({}): {}", output.status, stderr.lines().take(5).collect::<Vec<_>>().join(" / "));
    }
    Ok(output.stdout)
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))
}

/// The number of input files in a corpus folder; an error names a missing or empty one.
pub fn count_inputs(corpus: &Path) -> Result<usize> {
    let entries = std::fs::read_dir(corpus).with_context(|| format!("corpus folder {}", corpus.display()))?;
    let inputs = entries.filter_map(|entry| entry.ok()).filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_file())).count();
    if inputs == 0 {
        bail!("corpus folder {} has no inputs to replay", corpus.display());
    }
    Ok(inputs)
}
