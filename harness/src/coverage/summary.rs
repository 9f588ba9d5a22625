//! Coverage figures per file, read from `llvm-cov export -summary-only`, with
//! the loader's own files first and everything outside the repository dropped.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

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
    /// Path relative to the repository (`loader/src/host.rs`).
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
    /// The loader's files together (`loader/src/`).
    pub loader: Figures,
    /// Every file of the repository together.
    pub all: Figures,
    /// Per file, loader first.
    pub files: Vec<FileCoverage>,
}

/// The coverage figures a campaign's `summary.json` carries.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CampaignCoverage {
    /// The loader's figures per target and `combined`.
    pub loader: BTreeMap<String, Figures>,
    /// Every file of the repository, all targets combined.
    pub all_files: Figures,
    /// The combined HTML report, relative to the campaign folder.
    pub html: String,
}

impl CampaignCoverage {
    /// The headline figures of `reports`, whose combined HTML is at `html`.
    pub fn from_reports(reports: &[ReportCoverage], html: String) -> CampaignCoverage {
        let loader = reports.iter().map(|report| (report.name.clone(), report.loader)).collect();
        let all_files = reports.iter().find(|report| report.name == COMBINED).map(|report| report.all).unwrap_or_default();
        CampaignCoverage { loader, all_files, html }
    }
}

/// The name of the report over all targets.
pub const COMBINED: &str = "combined";

/// Where the loader's sources are, relative to the repository.
const LOADER_SOURCES: &str = "loader/src/";

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

/// Reads an `llvm-cov export -summary-only` JSON text into a report, keeping
/// only files under `repo`.
pub fn parse_export(name: &str, inputs: usize, json: &str, repo: &Path) -> Result<ReportCoverage, String> {
    let export: Export = serde_json::from_str(json).map_err(|error| format!("unexpected llvm-cov export output: {error}"))?;
    let mut files: Vec<FileCoverage> = export
        .data
        .iter()
        .flat_map(|data| &data.files)
        .filter_map(|file| {
            let relative = Path::new(&file.filename).strip_prefix(repo).ok()?;
            let figures = Figures { lines: file.summary.lines, regions: file.summary.regions, functions: file.summary.functions };
            Some(FileCoverage { file: relative.to_string_lossy().into_owned(), figures })
        })
        .collect();
    files.sort_by(|a, b| (group_of(&a.file), &a.file).cmp(&(group_of(&b.file), &b.file)));
    let mut loader = Figures::default();
    let mut all = Figures::default();
    for file in &files {
        if file.file.starts_with(LOADER_SOURCES) {
            loader.add(&file.figures);
        }
        all.add(&file.figures);
    }
    Ok(ReportCoverage { name: name.to_owned(), inputs, loader, all, files })
}

/// Sort key putting the loader first, then the harness, then the rest.
fn group_of(file: &str) -> u8 {
    if file.starts_with(LOADER_SOURCES) {
        0
    } else if file.starts_with("harness/") {
        1
    } else {
        2
    }
}

/// The table printed after a coverage run: loader totals per report, then the
/// files of the combined report.
pub fn table(reports: &[ReportCoverage]) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "{:<44} {:>7} {:>16} {:>16} {:>16}", "loader coverage", "inputs", "lines", "regions", "functions");
    for report in reports {
        let _ = writeln!(text, "{:<44} {:>7} {}", report.name, report.inputs, row(&report.loader));
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
        {"filename":"/home/u/.cargo/registry/src/wasmtime/lib.rs","summary":{"lines":{"count":1000,"covered":1},"regions":{"count":1,"covered":1},"functions":{"count":1,"covered":1}}},
        {"filename":"/repo/loader/src/lib.rs","summary":{"lines":{"count":30,"covered":27},"regions":{"count":8,"covered":8},"functions":{"count":3,"covered":3}}},
        {"filename":"/repo/loader/src/host.rs","summary":{"lines":{"count":70,"covered":63},"regions":{"count":2,"covered":1},"functions":{"count":1,"covered":0}}}
    ],"totals":{}}],"type":"llvm.coverage.json.export","version":"2.0.1"}"#;

    #[test]
    fn loader_files_come_first_and_dependencies_are_dropped() {
        let report = parse_export("raw_bytes", 3, EXPORT, Path::new("/repo")).unwrap();
        let files: Vec<&str> = report.files.iter().map(|file| file.file.as_str()).collect();
        assert_eq!(files, ["loader/src/host.rs", "loader/src/lib.rs", "harness/src/lib.rs"]);
        assert_eq!(report.loader.lines, Counts { covered: 90, count: 100 });
        assert_eq!(report.all.lines, Counts { covered: 95, count: 110 });
        assert_eq!(report.loader.functions, Counts { covered: 3, count: 4 });
    }

    #[test]
    fn the_table_shows_loader_totals_and_files() {
        let mut combined = parse_export(COMBINED, 3, EXPORT, Path::new("/repo")).unwrap();
        combined.inputs = 7;
        let text = table(&[combined]);
        assert!(text.contains("90.0%   90/100"), "{text}");
        assert!(text.lines().any(|line| line.starts_with("loader/src/host.rs") && line.contains("90.0%")), "{text}");
        assert!(!text.contains("wasmtime"), "{text}");
    }

    #[test]
    fn output_that_is_not_an_export_is_an_error() {
        assert!(parse_export("x", 0, "{}", Path::new("/repo")).is_err());
    }
}
