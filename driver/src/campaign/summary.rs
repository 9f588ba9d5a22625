//! `summary.json`: everything a campaign measured and found, machine-readable.
//! Its format is documented in `docs/campaigns.md` (section `summary.json`).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::triage::Finding;

/// The whole `summary.json`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Summary {
    /// Format version of this file.
    pub format: u32,
    /// When the campaign started (UTC, RFC 3339).
    pub started: String,
    /// Time budget in seconds, over all targets.
    pub budget_secs: u64,
    /// libFuzzer workers per target.
    pub jobs: u32,
    /// The profile the embedders ran under (`fuzzing` or `production`;
    /// empty in a summary written before profiles existed).
    #[serde(default)]
    pub profile: String,
    /// Per-target figures, by target name.
    pub targets: BTreeMap<String, TargetSummary>,
    /// One entry per deduplicated finding.
    pub findings: Vec<Finding>,
    /// Slow units (warnings), by target.
    pub slow_units: BTreeMap<String, usize>,
    /// The loader's coverage per target and combined, when the campaign ran with `--coverage`.
    pub coverage: Option<crate::coverage::summary::CampaignCoverage>,
}

/// One target's figures.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TargetSummary {
    /// Seconds spent fuzzing.
    pub fuzz_secs: f64,
    /// Inputs executed.
    pub execs: u64,
    /// Average executions per second.
    pub exec_per_sec: f64,
    /// Edge coverage (`cov:`) at the end.
    pub cov: u64,
    /// Features (`ft:`) at the end.
    pub ft: u64,
    /// Peak RSS in MB.
    pub peak_rss_mb: u64,
    /// Corpus files before this campaign.
    pub corpus_before: usize,
    /// Corpus files after fuzzing, before minimizing.
    pub corpus_fuzzed: usize,
    /// Corpus files after merging and minimizing.
    pub corpus_after: usize,
    /// Final corpus inputs by the furthest stage reached.
    pub stages: BTreeMap<String, usize>,
    /// Final corpus inputs by how they ended (ok, trap, out-of-fuel, deadline-exceeded, ...).
    pub outcomes: BTreeMap<String, usize>,
    /// Findings reported by libFuzzer, by kind, before deduplication.
    pub findings_by_kind: BTreeMap<String, usize>,
    /// libFuzzer processes started (restarts after findings).
    pub fuzzer_runs: u32,
    /// Why fuzzing stopped before its budget, if it did.
    pub stopped_early: Option<String>,
    /// Seed and corpus inputs set aside because they were findings themselves.
    #[serde(default)]
    pub set_aside: usize,
    /// The in-process bench of the same build on the final corpus, if run.
    #[serde(default)]
    pub bench: Option<BenchFigures>,
}

/// What `harness bench` measured of a target: the layer beside its bare work.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BenchFigures {
    /// Inputs the bench ran through the layer.
    pub execs: u64,
    /// The layer's executions per second, in-process, without libFuzzer.
    pub exec_per_sec: f64,
    /// The bare work's executions per second on the same inputs.
    pub bare_exec_per_sec: f64,
    /// The phase that took the layer longest.
    pub costliest_phase: String,
}

impl BenchFigures {
    /// The figures of one bench.
    pub fn of(measured: &crate::bench::TargetBench) -> BenchFigures {
        BenchFigures {
            execs: measured.layer.execs,
            exec_per_sec: measured.layer.per_second(),
            bare_exec_per_sec: measured.bare.per_second(),
            costliest_phase: measured.costliest_phase().map(|(name, _)| name.to_owned()).unwrap_or_default(),
        }
    }
}

impl Summary {
    /// Reads a `summary.json`.
    pub fn read(path: &Path) -> Result<Summary> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{} is not a campaign summary", path.display()))
    }

    /// Writes it as pretty JSON.
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self)?;
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
    }
}
