//! Coverage figures per file, read from `llvm-cov export -summary-only`, with
//! the fuzzed embedder's own sources first, then the repository's files;
//! every other dependency is dropped.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// Covered out of total, for lines, regions or functions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// How many were executed at least once.
    pub covered: u64,
    /// How many there are.
    pub count: u64,
}

impl Counts {
    /// Covered share in percent (100 when there is nothing to cover).
    pub fn percent(&self) -> f64 {
        if self.count == 0 { 100.0 } else { self.covered as f64 * 100.0 / self.count as f64 }
    }

    fn add(&mut self, other: Counts) {
        self.covered += other.covered;
        self.count += other.count;
    }
}

/// Lines, regions and functions of one file or a group of files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    /// Source lines with code.
    pub lines: Counts,
    /// Code regions (llvm-cov's finest unit).
    pub regions: Counts,
    /// Functions.
    pub functions: Counts,
}

impl Figures {
    fn add(&mut self, other: &Figures) {
        self.lines.add(other.lines);
        self.regions.add(other.regions);
        self.functions.add(other.functions);
    }
}

/// One source file's figures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileCoverage {
    /// Path relative to the repository (`loader/src/host.rs`), or to the
    /// cargo registry for an embedder's crate (`extism-1.30.0/src/pdk.rs`).
    pub file: String,
    /// Its figures.
    #[serde(flatten)]
    pub figures: Figures,
}

/// One report: a target's corpus, or all targets combined.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportCoverage {
    /// The target, or `combined`.
    pub name: String,
    /// Inputs replayed.
    pub inputs: usize,
    /// The fuzzed embedder's own sources together (`loader/src/`).
    pub embedder: Figures,
    /// Every file reported together.
    pub all: Figures,
    /// Per file, the embedder's first.
    pub files: Vec<FileCoverage>,
}

/// The coverage figures a campaign's `summary.json` carries.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CampaignCoverage {
    /// The fuzzed embedder's own sources, per target and `combined`.
    pub embedder: BTreeMap<String, Figures>,
    /// Every file reported, all targets combined.
    pub all_files: Figures,
    /// The combined HTML report, relative to the campaign folder.
    pub html: String,
}

impl CampaignCoverage {
    /// The headline figures of `reports`, whose combined HTML is at `html`.
    pub fn from_reports(reports: &[ReportCoverage], html: String) -> CampaignCoverage {
        let embedder = reports.iter().map(|report| (report.name.clone(), report.embedder)).collect();
        let all_files = reports.iter().find(|report| report.name == COMBINED).map(|report| report.all).unwrap_or_default();
        CampaignCoverage { embedder, all_files, html }
    }
}

/// The name of the report over all targets.
pub const COMBINED: &str = "combined";

/// The part of `llvm-cov export -summary-only` this reads.
#[derive(Deserialize)]
struct Export {
    data: Vec<ExportData>,
}

#[derive(Deserialize)]
struct ExportData {
    files: Vec<ExportFile>,
}

#[derive(Deserialize)]
struct ExportFile {
    filename: String,
    summary: ExportSummary,
}

#[derive(Deserialize)]
struct ExportSummary {
    lines: Counts,
    regions: Counts,
    functions: Counts,
}

/// Reads an `llvm-cov export -summary-only` JSON text into a report,
/// keeping the files under `repo` and the embedder's own sources (paths
/// holding one of `sources`, such as `loader/src/` or a registry crate's
/// `extism-1.30.0/src/`).
pub fn parse_export(name: &str, inputs: usize, json: &str, repo: &Path, sources: &[&str]) -> Result<ReportCoverage> {
    let export: Export = serde_json::from_str(json).context("unexpected llvm-cov export output")?;
    let own = |file: &str| sources.iter().any(|fragment| file.starts_with(fragment));
    let mut files: Vec<FileCoverage> = export
        .data
        .iter()
        .flat_map(|data| &data.files)
        .filter_map(|file| {
            let relative = match Path::new(&file.filename).strip_prefix(repo) {
                Ok(relative) => relative.to_string_lossy().into_owned(),
                Err(_) => registry_relative(&file.filename).filter(|relative| own(relative))?,
            };
            let figures = Figures { lines: file.summary.lines, regions: file.summary.regions, functions: file.summary.functions };
            Some(FileCoverage { file: relative, figures })
        })
        .collect();
    let group = |file: &str| {
        if own(file) {
            0
        } else if file.starts_with("harness/") {
            1
        } else {
            2
        }
    };
    files.sort_by(|a, b| (group(&a.file), &a.file).cmp(&(group(&b.file), &b.file)));
    let mut embedder = Figures::default();
    let mut all = Figures::default();
    for file in &files {
        if own(&file.file) {
            embedder.add(&file.figures);
        }
        all.add(&file.figures);
    }
    Ok(ReportCoverage { name: name.to_owned(), inputs, embedder, all, files })
}

/// A path inside a crate of the cargo registry, relative to the registry's
/// source folder: `extism-1.30.0/src/pdk.rs`.
fn registry_relative(path: &str) -> Option<String> {
    let (_, inside) = path.split_once("/registry/src/")?;
    let (_, relative) = inside.split_once('/')?;
    Some(relative.to_owned())
}

/// The table printed after a coverage run: the embedder's totals per report,
/// then the files of the combined report.
pub fn table(reports: &[ReportCoverage]) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "{:<44} {:>7} {:>16} {:>16} {:>16}", "embedder coverage", "inputs", "lines", "regions", "functions");
    for report in reports {
        let _ = writeln!(text, "{:<44} {:>7} {}", report.name, report.inputs, row(&report.embedder));
    }
    if let Some(combined) = reports.iter().find(|report| report.name == COMBINED) {
        let _ = writeln!(text, "\n{:<44} {:>7} {:>16} {:>16} {:>16}", "file (combined)", "", "lines", "regions", "functions");
        for file in &combined.files {
            let _ = writeln!(text, "{:<44} {:>7} {}", file.file, "", row(&file.figures));
        }
        let _ = writeln!(text, "{:<44} {:>7} {}", "all files", "", row(&combined.all));
    }
    text
}

fn row(figures: &Figures) -> String {
    let cell = |counts: Counts| format!("{:>6.1}% {:>4}/{:<4}", counts.percent(), counts.covered, counts.count);
    format!("{} {} {}", cell(figures.lines), cell(figures.regions), cell(figures.functions))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPORT: &str = r#"{"data":[{"files":[
        {"filename":"/repo/harness/src/lib.rs","summary":{"lines":{"count":10,"covered":5,"percent":50},"regions":{"count":4,"covered":1},"functions":{"count":2,"covered":1}}},
        {"filename":"/home/u/.cargo/registry/src/index.crates.io-1/wasmtime/lib.rs","summary":{"lines":{"count":1000,"covered":1},"regions":{"count":1,"covered":1},"functions":{"count":1,"covered":1}}},
        {"filename":"/repo/loader/src/lib.rs","summary":{"lines":{"count":30,"covered":27},"regions":{"count":8,"covered":8},"functions":{"count":3,"covered":3}}},
        {"filename":"/repo/loader/src/host.rs","summary":{"lines":{"count":70,"covered":63},"regions":{"count":2,"covered":1},"functions":{"count":1,"covered":0}}}
    ],"totals":{}}],"type":"llvm.coverage.json.export","version":"2.0.1"}"#;

    #[test]
    fn the_embedders_files_come_first_and_other_dependencies_are_dropped() {
        let report = parse_export("raw_bytes", 3, EXPORT, Path::new("/repo"), &["loader/src/"]).unwrap();
        let files: Vec<&str> = report.files.iter().map(|file| file.file.as_str()).collect();
        assert_eq!(files, ["loader/src/host.rs", "loader/src/lib.rs", "harness/src/lib.rs"]);
        assert_eq!(report.embedder.lines, Counts { covered: 90, count: 100 });
        assert_eq!(report.all.lines, Counts { covered: 95, count: 110 });
        assert_eq!(report.embedder.functions, Counts { covered: 3, count: 4 });
    }

    #[test]
    fn an_embedder_in_the_registry_is_kept_and_comes_first() {
        let report = parse_export("extism_raw_bytes", 3, EXPORT, Path::new("/repo"), &["wasmtime/"]).unwrap();
        assert_eq!(report.files[0].file, "wasmtime/lib.rs");
        assert_eq!(report.embedder.lines, Counts { covered: 1, count: 1000 });
    }

    #[test]
    fn the_table_shows_embedder_totals_and_files() {
        let mut combined = parse_export(COMBINED, 3, EXPORT, Path::new("/repo"), &["loader/src/"]).unwrap();
        combined.inputs = 7;
        let text = table(&[combined]);
        assert!(text.contains("90.0%   90/100"), "{text}");
        assert!(text.lines().any(|line| line.starts_with("loader/src/host.rs") && line.contains("90.0%")), "{text}");
        assert!(!text.contains("wasmtime"), "{text}");
    }

    #[test]
    fn output_that_is_not_an_export_is_an_error() {
        assert!(parse_export("x", 0, "{}", Path::new("/repo"), &[]).is_err());
    }
}
