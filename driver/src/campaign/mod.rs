//! Campaigns: fuzz targets for a time budget through cargo-fuzz, keep going
//! past findings, merge and minimize each corpus, triage every finding, and
//! write `summary.json`, `results.sarif` and `REPORT.md`.

pub mod markdown;
pub mod sarif;
pub mod summary;
pub mod triage;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result};

use crate::fuzzer::{Build, FuzzJob, Limits, Status, libfuzzer};
use crate::stats::CorpusStats;
use harness::replay;
use harness::targets::Target;

use summary::{BenchFigures, Summary, TargetSummary};

/// Everything a campaign needs to know.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The repository root (each target's seeds and cargo-fuzz package).
    pub repo: PathBuf,
    /// Targets to fuzz, in order.
    pub targets: Vec<&'static Target>,
    /// Total fuzzing time, split evenly across targets.
    pub time: Duration,
    /// Workers per target (fork mode above 1).
    pub jobs: u32,
    /// The campaign folder.
    pub out: PathBuf,
    /// How the fuzz targets are built.
    pub build: Build,
    /// Per-input time and memory limits.
    pub limits: Limits,
    /// How long to bench each target in-process on its corpus after
    /// fuzzing it ([`crate::bench`]); zero skips the bench.
    pub bench_time: Duration,
    /// libFuzzer seed, for reproducible runs.
    pub seed: Option<u32>,
    /// Extra libFuzzer flags.
    pub extra: Vec<String>,
    /// How triage replays and minimizes.
    pub triage: triage::Settings,
}

/// A campaign folder's layout.
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// The layout under `root`.
    pub fn new(root: &Path) -> Layout {
        Layout { root: root.to_path_buf() }
    }
    /// The target's corpus.
    pub fn corpus(&self, target: &str) -> PathBuf {
        self.root.join("corpus").join(target)
    }
    /// The target's raw libFuzzer artifacts.
    pub fn artifacts(&self, target: &str) -> PathBuf {
        self.root.join("artifacts").join(target)
    }
    /// The folder of triaged finding groups.
    pub fn findings(&self) -> PathBuf {
        self.root.join("findings")
    }
    /// The target's libFuzzer log.
    pub fn log(&self, target: &str) -> PathBuf {
        self.root.join("logs").join(format!("{target}.log"))
    }
    /// The file libFuzzer reads a dictionary named `name` from.
    pub fn dictionary(&self, name: &str) -> PathBuf {
        self.root.join("dictionaries").join(name)
    }
    /// `summary.json`.
    pub fn summary(&self) -> PathBuf {
        self.root.join("summary.json")
    }
}

/// Runs a whole campaign and writes its outputs; returns its summary.
pub fn run(settings: &Settings) -> Result<Summary> {
    let layout = Layout::new(&settings.out);
    std::fs::create_dir_all(settings.out.join("logs")).with_context(|| format!("cannot create {}", settings.out.display()))?;
    let fuzz_dirs: Vec<&str> = settings.targets.iter().map(|target| target.fuzz_dir).collect();
    settings.build.build_all(&fuzz_dirs)?;
    let mut summary = Summary {
        format: 1,
        started: utc_now(),
        budget_secs: settings.time.as_secs(),
        jobs: settings.jobs,
        profile: contract::Profile::current().map_err(anyhow::Error::msg)?.name().to_owned(),
        ..Summary::default()
    };
    let count = u32::try_from(settings.targets.len()).unwrap_or(u32::MAX).max(1);
    let share = settings.time / count;
    for target in &settings.targets {
        let figures = fuzz_target(settings, &layout, target, share)?;
        summary.targets.insert(target.name.to_owned(), figures);
    }
    triage_into(&mut summary, settings, &layout)?;
    write_outputs(&settings.out, &summary)?;
    Ok(summary)
}

/// The target's libFuzzer defaults, then the user's flags, which libFuzzer
/// lets override them (the last of a flag wins).
fn extra_flags(target: &Target, user: &[String]) -> Vec<String> {
    target.libfuzzer_defaults().iter().map(|flag| (*flag).to_owned()).chain(user.iter().cloned()).collect()
}

fn fuzz_target(settings: &Settings, layout: &Layout, target: &'static Target, time: Duration) -> Result<TargetSummary> {
    let corpus = layout.corpus(target.name);
    libfuzzer::recover_corpus(&corpus);
    let count = |dir: &Path| std::fs::read_dir(dir).map(|entries| entries.count()).unwrap_or(0);
    let corpus_before = count(&corpus);
    let seeds: Vec<PathBuf> = [target.inputs(&settings.repo, None)].into_iter().filter(|dir| dir.is_dir()).collect();
    let dictionary = match target.dictionary() {
        Some((name, text)) => {
            let file = layout.dictionary(name);
            let parent = file.parent().unwrap_or(&settings.out);
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
            std::fs::write(&file, text).with_context(|| format!("cannot write {}", file.display()))?;
            Some(file)
        }
        None => None,
    };
    let job = FuzzJob {
        target: target.name.to_owned(),
        fuzz_dir: target.fuzz_dir.to_owned(),
        corpus: corpus.clone(),
        seeds: seeds.clone(),
        artifacts: layout.artifacts(target.name),
        dictionary,
        time,
        jobs: settings.jobs,
        limits: settings.limits,
        seed: settings.seed,
        extra: extra_flags(target, &settings.extra),
        log: layout.log(target.name),
    };
    eprintln!("== {}: fuzzing for {} ({} worker(s))", target.name, display(time), settings.jobs);
    let started = Instant::now();
    let mut last_print = Instant::now();
    let result = libfuzzer::fuzz(&settings.build, &job, |status, findings| {
        if last_print.elapsed() >= Duration::from_secs(10) {
            last_print = Instant::now();
            eprintln!("{}", progress_line(target.name, started.elapsed(), time, status, findings));
        }
    })?;
    if let Some(reason) = &result.stopped_early {
        eprintln!("   {}: stopped early: {reason}", target.name);
    }
    if result.set_aside > 0 {
        eprintln!("   {}: set aside {} seed or corpus input(s) that were findings themselves (triaged below)", target.name, result.set_aside);
    }
    let corpus_fuzzed = count(&corpus);
    eprintln!("   {}: merging and minimizing the corpus ({corpus_fuzzed} files)", target.name);
    let (_, corpus_after) = libfuzzer::merge_corpus(&settings.build, &job)?;
    let stats = corpus_stats(target, &corpus, settings.limits)?;
    let bench = bench_corpus(target, &corpus, settings.bench_time)?;
    let status = result.last_status.unwrap_or_default();
    let mut findings_by_kind = std::collections::BTreeMap::new();
    for kind in &result.findings {
        *findings_by_kind.entry(kind.name().to_owned()).or_insert(0) += 1;
    }
    eprintln!(
        "   {}: {} execs at {:.0} exec/s, cov {}, ft {}, corpus {corpus_before} -> {corpus_fuzzed} -> {corpus_after}, {} finding(s)",
        target.name,
        result.execs,
        result.exec_per_sec(),
        status.cov,
        status.ft,
        result.findings.len()
    );
    Ok(TargetSummary {
        fuzz_secs: result.elapsed.as_secs_f64(),
        execs: result.execs,
        exec_per_sec: result.exec_per_sec(),
        cov: status.cov,
        ft: status.ft,
        peak_rss_mb: result.peak_rss_mb.max(status.rss_mb),
        corpus_before,
        corpus_fuzzed,
        corpus_after,
        stages: stats.stages.iter().map(|(stage, count)| (stage.name().to_owned(), *count)).collect(),
        outcomes: stats.ends,
        findings_by_kind,
        fuzzer_runs: result.runs,
        stopped_early: result.stopped_early,
        set_aside: result.set_aside,
        bench,
    })
}

/// Benches `target` in-process on the files of `corpus` for `time` (none
/// when `time` is zero); a target that cannot be benched is noted, not fatal.
fn bench_corpus(target: &'static Target, corpus: &Path, time: Duration) -> Result<Option<BenchFigures>> {
    if time.is_zero() || target.layer().is_none() {
        return Ok(None);
    }
    let inputs = replay::read_inputs(&[corpus.to_path_buf()])?;
    eprintln!("   {}: benching the layer beside its bare work on the corpus for {}", target.name, display(time));
    match crate::bench::measure_on_thread(target, inputs, time, |_| {}) {
        Ok(measured) => {
            let figures = BenchFigures::of(&measured);
            eprintln!(
                "   {}: bench {:.0} exec/s, bare {:.0} exec/s, costliest phase {}",
                target.name, figures.exec_per_sec, figures.bare_exec_per_sec, figures.costliest_phase
            );
            Ok(Some(figures))
        }
        Err(error) => {
            eprintln!("   {}: no bench: {error}", target.name);
            Ok(None)
        }
    }
}

/// One progress line: elapsed of budget, execs, speed, coverage, corpus, findings.
pub fn progress_line(target: &str, elapsed: Duration, budget: Duration, status: &Status, findings: usize) -> String {
    format!(
        "   [{target} {}/{}] execs {}  exec/s {}  cov {}  ft {}  corpus {}  findings {findings}",
        display(elapsed),
        display(budget),
        status.execs,
        status.exec_per_sec,
        status.cov,
        status.ft,
        status.corpus
    )
}

/// Replays a corpus in-process to count where its inputs end.
fn corpus_stats(target: &'static Target, corpus: &Path, limits: Limits) -> Result<CorpusStats> {
    let mut stats = CorpusStats::default();
    for input in replay::collect_inputs(&[corpus.to_path_buf()])? {
        stats.add(&replay::replay_file(|data| target.run(data), &input, limits)?);
    }
    Ok(stats)
}

/// Triages every target's artifacts into the summary.
pub fn triage_into(summary: &mut Summary, settings: &Settings, layout: &Layout) -> Result<()> {
    summary.findings.clear();
    for target in &settings.targets {
        let artifacts = layout.artifacts(target.name);
        if !artifacts.is_dir() {
            continue;
        }
        eprintln!("== {}: triaging findings", target.name);
        let triaged = triage::triage(target, &artifacts, &layout.findings(), &settings.triage)?;
        for finding in &triaged.findings {
            eprintln!("   {} {}: {}, {}", finding.signature.text(), finding.message, finding.sizes(), finding.reproducibility());
        }
        summary.slow_units.insert(target.name.to_owned(), triaged.slow.len());
        summary.findings.extend(triaged.findings);
    }
    Ok(())
}

/// Writes `summary.json`, `results.sarif` and `REPORT.md` into `out`.
pub fn write_outputs(out: &Path, summary: &Summary) -> Result<()> {
    summary.write(&out.join("summary.json"))?;
    let sarif = serde_json::to_string_pretty(&sarif::sarif(&summary.findings))?;
    std::fs::write(out.join("results.sarif"), sarif).with_context(|| format!("cannot write into {}", out.display()))?;
    write_report(out, summary)
}

/// Writes `REPORT.md` from the summary, comparing with the previous campaign
/// in the same parent folder.
pub fn write_report(out: &Path, summary: &Summary) -> Result<()> {
    let previous = previous_campaign(out, summary);
    let previous_ref = previous.as_ref().map(|(name, summary)| (name.as_str(), summary));
    let text = markdown::report(summary, previous_ref);
    std::fs::write(out.join("REPORT.md"), text).with_context(|| format!("cannot write into {}", out.display()))
}

/// The newest other campaign folder beside `out` (by name; dated names sort
/// by time) over the same targets as `summary`.
fn previous_campaign(out: &Path, summary: &Summary) -> Option<(String, Summary)> {
    let parent = out.parent()?;
    let own = out.file_name()?.to_string_lossy().into_owned();
    let mut names: Vec<String> = std::fs::read_dir(parent)
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| *name < own && parent.join(name).join("summary.json").is_file())
        .collect();
    names.sort();
    names.into_iter().rev().find_map(|name| {
        let before = Summary::read(&parent.join(&name).join("summary.json")).ok()?;
        before.targets.keys().eq(summary.targets.keys()).then_some((name, before))
    })
}

/// The current time, UTC, as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc_now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// A default campaign folder name from a UTC time stamp: `2026-11-22-0104`.
pub fn folder_name(timestamp: &str) -> String {
    timestamp.get(..16).unwrap_or(timestamp).replace('T', "-").replace(':', "")
}

/// A duration for people, in whole seconds: `2m 5s`.
pub fn display(duration: Duration) -> String {
    humantime::format_duration(Duration::from_secs(duration.as_secs())).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_defaults_come_before_the_users_flags() {
        let user = ["-entropic=1".to_owned(), "-max_len=64".to_owned()];
        let selftest = harness::targets::SELFTEST;
        assert_eq!(extra_flags(&selftest, &user), user);
        assert_eq!(harness::targets::Layer::MemoryProbe.libfuzzer_defaults(), ["-entropic=0"]);
    }

    #[test]
    fn the_previous_campaign_is_the_newest_over_the_same_targets() {
        let dir = tempfile::tempdir().unwrap();
        let over = |targets: &[&str]| Summary {
            targets: targets.iter().map(|name| ((*name).to_owned(), TargetSummary::default())).collect(),
            ..Summary::default()
        };
        for (name, targets) in [("2026-01", &["raw_bytes"][..]), ("2026-02", &["extism_raw_bytes"][..])] {
            std::fs::create_dir_all(dir.path().join(name)).unwrap();
            over(targets).write(&dir.path().join(name).join("summary.json")).unwrap();
        }
        let previous = previous_campaign(&dir.path().join("2026-03"), &over(&["raw_bytes"]));
        assert_eq!(previous.map(|(name, _)| name).as_deref(), Some("2026-01"));
        assert!(previous_campaign(&dir.path().join("2026-03"), &over(&["selftest"])).is_none());
    }

    #[test]
    fn timestamps_are_utc_and_folder_names_sort_by_time() {
        let now = utc_now();
        assert!(now.len() == 20 && now.ends_with('Z') && now.as_bytes()[10] == b'T', "{now}");
        assert_eq!(folder_name("2026-11-22T01:04:59Z"), "2026-11-22-0104");
        assert_eq!(display(Duration::from_millis(125_400)), "2m 5s");
    }
}
