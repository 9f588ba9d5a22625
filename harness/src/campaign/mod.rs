//! Campaigns: fuzz targets for a time budget through cargo-fuzz, keep going
//! past findings, merge and minimize each corpus, triage every finding, and
//! write `summary.json`, `results.sarif` and `REPORT.md`.

pub mod duration;
pub mod fuzzer_log;
pub mod libfuzzer;
pub mod markdown;
pub mod minimize;
pub mod sarif;
pub mod summary;
pub mod triage;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use crate::replay::{self, Limits};
use crate::stats::CorpusStats;
use crate::targets::Target;

use libfuzzer::{Build, FuzzJob};
use summary::{Summary, TargetSummary};

/// Everything a campaign needs to know.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The repository root (seeds, dictionaries, the cargo-fuzz package).
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
    /// Per-input timeout, seconds.
    pub timeout_secs: u32,
    /// RSS limit, MB.
    pub rss_limit_mb: u32,
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
    /// `summary.json`.
    pub fn summary(&self) -> PathBuf {
        self.root.join("summary.json")
    }
}

/// Runs a whole campaign and writes its outputs; returns its summary.
pub fn run(settings: &Settings) -> Result<Summary, String> {
    let layout = Layout::new(&settings.out);
    std::fs::create_dir_all(settings.out.join("logs")).map_err(|error| format!("{}: {error}", settings.out.display()))?;
    settings.build.build_all()?;
    let mut summary = Summary {
        format: 1,
        started: utc_now(),
        budget_secs: settings.time.as_secs(),
        jobs: settings.jobs,
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
    target.libfuzzer_defaults.iter().map(|flag| (*flag).to_owned()).chain(user.iter().cloned()).collect()
}

fn fuzz_target(settings: &Settings, layout: &Layout, target: &Target, time: Duration) -> Result<TargetSummary, String> {
    let corpus = layout.corpus(target.name);
    libfuzzer::recover_corpus(&corpus);
    let count = |dir: &Path| std::fs::read_dir(dir).map(|entries| entries.count()).unwrap_or(0);
    let corpus_before = count(&corpus);
    let seeds: Vec<PathBuf> = [settings.repo.join("corpus").join(target.name)].into_iter().filter(|dir| dir.is_dir()).collect();
    let dictionary = settings.repo.join("targets/dictionaries").join(format!("{}.dict", target.name));
    let job = FuzzJob {
        target: target.name.to_owned(),
        corpus: corpus.clone(),
        seeds: seeds.clone(),
        artifacts: layout.artifacts(target.name),
        dictionary: dictionary.is_file().then_some(dictionary),
        time,
        jobs: settings.jobs,
        timeout_secs: settings.timeout_secs,
        rss_limit_mb: settings.rss_limit_mb,
        seed: settings.seed,
        extra: extra_flags(target, &settings.extra),
        log: layout.log(target.name),
    };
    eprintln!("== {}: fuzzing for {} ({} worker(s))", target.name, duration::display(time), settings.jobs);
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
    let corpus_fuzzed = count(&corpus);
    eprintln!("   {}: merging and minimizing the corpus ({corpus_fuzzed} files)", target.name);
    let (_, corpus_after) = libfuzzer::merge_corpus(&settings.build, target.name, &corpus, &seeds, &layout.log(target.name))?;
    let stats = corpus_stats(target, &corpus)?;
    let status = result.last_status.unwrap_or_default();
    let mut findings_by_kind = std::collections::BTreeMap::new();
    for kind in &result.findings {
        *findings_by_kind.entry(kind.name().to_owned()).or_insert(0) += 1;
    }
    eprintln!(
        "   {}: {} execs at {:.0} exec/s, cov {}, ft {}, corpus {corpus_before} -> {corpus_fuzzed} -> {corpus_after}, {} finding(s)",
        target.name, result.execs, result.exec_per_sec(), status.cov, status.ft, result.findings.len()
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
    })
}

/// One progress line: elapsed of budget, execs, speed, coverage, corpus, findings.
pub fn progress_line(target: &str, elapsed: Duration, budget: Duration, status: &fuzzer_log::Status, findings: usize) -> String {
    format!(
        "   [{target} {}/{}] execs {}  exec/s {}  cov {}  ft {}  corpus {}  findings {findings}",
        duration::display(elapsed),
        duration::display(budget),
        status.execs,
        status.exec_per_sec,
        status.cov,
        status.ft,
        status.corpus
    )
}

/// Replays a corpus in-process to count where its inputs end.
fn corpus_stats(target: &Target, corpus: &Path) -> Result<CorpusStats, String> {
    let mut stats = CorpusStats::default();
    for input in replay::collect_inputs(&[corpus.to_path_buf()])? {
        stats.add(&replay::replay_file(target.run, &input, Limits::default())?);
    }
    Ok(stats)
}

/// Triages every target's artifacts into the summary.
pub fn triage_into(summary: &mut Summary, settings: &Settings, layout: &Layout) -> Result<(), String> {
    summary.findings.clear();
    for target in &settings.targets {
        let artifacts = layout.artifacts(target.name);
        if !artifacts.is_dir() {
            continue;
        }
        eprintln!("== {}: triaging findings", target.name);
        let triaged = triage::triage(target.name, &artifacts, &layout.findings(), &settings.triage)?;
        for finding in &triaged.findings {
            eprintln!(
                "   {} {}: {}, {}",
                finding.signature.text(),
                finding.message,
                finding.sizes(),
                if finding.deterministic { "deterministic" } else { "flaky" }
            );
        }
        summary.slow_units.insert(target.name.to_owned(), triaged.slow.len());
        summary.findings.extend(triaged.findings);
    }
    Ok(())
}

/// Writes `summary.json`, `results.sarif` and `REPORT.md` into `out`.
pub fn write_outputs(out: &Path, summary: &Summary) -> Result<(), String> {
    summary.write(&out.join("summary.json"))?;
    let sarif = serde_json::to_string_pretty(&sarif::sarif(&summary.findings)).map_err(|error| error.to_string())?;
    std::fs::write(out.join("results.sarif"), sarif).map_err(|error| format!("{}: {error}", out.display()))?;
    write_report(out, summary)
}

/// Writes `REPORT.md` from the summary, comparing with the previous campaign
/// in the same parent folder.
pub fn write_report(out: &Path, summary: &Summary) -> Result<(), String> {
    let previous = previous_campaign(out);
    let previous_ref = previous.as_ref().map(|(name, summary)| (name.as_str(), summary));
    let text = markdown::report(summary, previous_ref);
    std::fs::write(out.join("REPORT.md"), text).map_err(|error| format!("{}: {error}", out.display()))
}

/// The newest other campaign folder beside `out` (by name; dated names sort by time).
fn previous_campaign(out: &Path) -> Option<(String, Summary)> {
    let parent = out.parent()?;
    let own = out.file_name()?.to_string_lossy().into_owned();
    let mut names: Vec<String> = std::fs::read_dir(parent)
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| *name < own && parent.join(name).join("summary.json").is_file())
        .collect();
    names.sort();
    let name = names.pop()?;
    let summary = Summary::read(&parent.join(&name).join("summary.json")).ok()?;
    Some((name, summary))
}

/// The current time, UTC, as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc_now() -> String {
    let seconds = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|since| since.as_secs()).unwrap_or(0);
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_date(days);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rest / 3600, rest % 3600 / 60, rest % 60)
}

/// A default campaign folder name from a UTC time stamp: `2026-11-22-0104`.
pub fn folder_name(timestamp: &str) -> String {
    timestamp.get(..16).unwrap_or(timestamp).replace('T', "-").replace(':', "")
}

/// Year, month and day of a count of days since 1970-01-01 (proleptic Gregorian).
fn civil_date(days: u64) -> (u64, u64, u64) {
    let shifted = days + 719_468;
    let era = shifted / 146_097;
    let day_of_era = shifted % 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_defaults_come_before_the_users_flags() {
        let memory_probe = crate::targets::find("memory_probe").unwrap();
        let user = ["-entropic=1".to_owned(), "-max_len=64".to_owned()];
        assert_eq!(extra_flags(memory_probe, &user), ["-entropic=0", "-entropic=1", "-max_len=64"]);
        let raw_bytes = crate::targets::find("raw_bytes").unwrap();
        assert_eq!(extra_flags(raw_bytes, &user), user);
    }

    #[test]
    fn civil_dates_are_right() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(11_016), (2000, 2, 29));
        assert_eq!(civil_date(20_779), (2026, 11, 22));
    }

    #[test]
    fn folder_names_sort_by_time() {
        assert_eq!(folder_name("2026-11-22T01:04:59Z"), "2026-11-22-0104");
    }
}
