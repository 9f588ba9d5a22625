//! Reading libFuzzer's output: status lines (plain and fork mode), findings
//! and the artifacts they were written to, panics, and the final statistics.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The kinds of finding a campaign reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingKind {
    /// The process died: panic (including `oracle:`), abort, signal.
    Crash,
    /// An input ran past the per-input time limit.
    Hang,
    /// The process went past the memory limit.
    Oom,
    /// An input was slow but finished (a warning, not a finding).
    Slow,
}

impl FindingKind {
    /// The kind of an artifact from libFuzzer's file name prefix.
    pub fn from_artifact_name(name: &str) -> Option<FindingKind> {
        let prefix = name.split('-').next()?;
        match prefix {
            "crash" | "leak" => Some(FindingKind::Crash),
            "timeout" => Some(FindingKind::Hang),
            "oom" => Some(FindingKind::Oom),
            "slow" => Some(FindingKind::Slow),
            _ => None,
        }
    }

    /// Lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            FindingKind::Crash => "crash",
            FindingKind::Hang => "hang",
            FindingKind::Oom => "oom",
            FindingKind::Slow => "slow",
        }
    }
}

/// One status line: execs so far, coverage, corpus and speed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// Inputs executed.
    pub execs: u64,
    /// Coverage (`cov:`: edges).
    pub cov: u64,
    /// Features (`ft:`).
    pub ft: u64,
    /// Inputs in the corpus.
    pub corpus: u64,
    /// Executions per second.
    pub exec_per_sec: u64,
    /// Resident memory in MB (not printed in fork mode).
    pub rss_mb: u64,
}

/// What a libFuzzer log said, line by line.
#[derive(Clone, Debug, Default)]
pub struct FuzzerLog {
    /// The latest status line.
    pub last_status: Option<Status>,
    /// Whether the initial corpus was fully loaded (`INITED`) before anything went wrong.
    pub inited: bool,
    /// Whether libFuzzer ran in fork mode.
    pub fork_mode: bool,
    /// Kinds of findings reported, in order.
    pub findings: Vec<FindingKind>,
    /// Artifact files written, in order.
    pub artifacts: Vec<PathBuf>,
    /// Panic locations and messages (`file:line:col`, first message line).
    pub panics: Vec<(String, String)>,
    /// `stat::number_of_executed_units`, if final stats were printed.
    pub total_execs: Option<u64>,
    /// `stat::peak_rss_mb`.
    pub peak_rss_mb: Option<u64>,
    /// Fork mode's running count of ooms, timeouts and crashes.
    pub fork_counts: Option<(u64, u64, u64)>,
    pending_panic: Option<String>,
}

impl FuzzerLog {
    /// Parses a whole log.
    pub fn parse(text: &str) -> FuzzerLog {
        let mut log = FuzzerLog::default();
        for line in text.lines() {
            log.line(line);
        }
        log
    }

    /// Takes in one line of output; returns the status if it was a status line.
    pub fn line(&mut self, line: &str) -> Option<Status> {
        if let Some(location) = self.pending_panic.take() {
            self.panics.push((location, line.trim().to_owned()));
            return None;
        }
        if let Some(rest) = line.strip_prefix('#') {
            return self.status_line(rest);
        }
        if let Some(at) = line.find("panicked at ") {
            let location = line[at + "panicked at ".len()..].trim_end_matches(':').to_owned();
            self.pending_panic = Some(location);
        } else if line.contains("ERROR: libFuzzer: deadly signal")
            || line.contains("ERROR: libFuzzer: fuzz target exited")
            || line.contains("ERROR: AddressSanitizer")
            || line.contains("ERROR: libFuzzer: detected memory leaks")
        {
            self.findings.push(FindingKind::Crash);
        } else if line.contains("ERROR: libFuzzer: timeout after") {
            self.findings.push(FindingKind::Hang);
        } else if line.contains("ERROR: libFuzzer: out-of-memory") {
            self.findings.push(FindingKind::Oom);
        } else if let Some(at) = line.find("Test unit written to ") {
            self.artifacts.push(PathBuf::from(line[at + "Test unit written to ".len()..].trim()));
        } else if line.starts_with("INFO: -fork=") {
            self.fork_mode = true;
        } else if let Some(value) = line.strip_prefix("stat::number_of_executed_units:") {
            self.total_execs = value.trim().parse().ok();
        } else if let Some(value) = line.strip_prefix("stat::peak_rss_mb:") {
            self.peak_rss_mb = value.trim().parse().ok();
        }
        None
    }

    fn status_line(&mut self, rest: &str) -> Option<Status> {
        let mut words = rest.split_whitespace();
        let execs: u64 = words.next()?.trim_end_matches(':').parse().ok()?;
        let words: Vec<&str> = words.collect();
        if words.first() == Some(&"INITED") || rest.contains(": cov:") {
            self.inited = true;
        }
        let value = |key: &str| -> Option<&str> {
            let at = words.iter().position(|word| *word == key)?;
            words.get(at + 1).copied()
        };
        let number = |key: &str| -> u64 {
            value(key).map(|text| text.split('/').next().unwrap_or(text).trim_end_matches("Mb")).and_then(|text| text.parse().ok()).unwrap_or(0)
        };
        if let Some(counts) = value("oom/timeout/crash:") {
            let parts: Vec<u64> = counts.split('/').filter_map(|part| part.parse().ok()).collect();
            if let [ooms, timeouts, crashes] = parts[..] {
                self.fork_counts = Some((ooms, timeouts, crashes));
            }
        }
        let status = Status {
            execs,
            cov: number("cov:"),
            ft: number("ft:"),
            corpus: number("corp:"),
            exec_per_sec: number("exec/s:"),
            rss_mb: number("rss:"),
        };
        self.last_status = Some(status);
        Some(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(name: &str) -> FuzzerLog {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/logs").join(name);
        FuzzerLog::parse(&std::fs::read_to_string(path).unwrap())
    }

    #[test]
    fn a_clean_run_gives_its_final_status() {
        let log = log("clean.log");
        assert!(log.findings.is_empty() && log.artifacts.is_empty());
        let status = log.last_status.unwrap();
        assert_eq!(status, Status { execs: 3557316, cov: 3285, ft: 9047, corpus: 4429, exec_per_sec: 29399, rss_mb: 75 });
        assert!(log.inited);
    }

    #[test]
    fn a_crash_gives_its_panic_and_artifact() {
        let log = log("crash.log");
        assert_eq!(log.findings, [FindingKind::Crash]);
        assert_eq!(log.artifacts, [PathBuf::from("/tmp/st/a/crash-2fc7f1452374b6e341d67717f032abbe0da0f4a6")]);
        assert_eq!(log.panics.len(), 1);
        assert!(log.panics[0].0.ends_with("harness/src/selftest.rs:17:9"), "{:?}", log.panics);
        assert_eq!(log.panics[0].1, "selftest: crash requested by the input");
        assert_eq!(log.total_execs, Some(14));
        assert_eq!(log.peak_rss_mb, Some(152));
    }

    #[test]
    fn a_timeout_is_a_hang() {
        let log = log("timeout.log");
        assert_eq!(log.findings, [FindingKind::Hang]);
        assert!(log.artifacts[0].to_string_lossy().contains("/timeout-"));
    }

    #[test]
    fn an_out_of_memory_is_an_oom() {
        let log = log("oom.log");
        assert_eq!(log.findings, [FindingKind::Oom]);
        assert!(log.artifacts[0].to_string_lossy().contains("/oom-"));
        assert_eq!(log.peak_rss_mb, Some(1446));
    }

    #[test]
    fn fork_mode_status_lines_and_counts_are_read() {
        let log = log("fork.log");
        assert!(log.fork_mode && log.inited);
        let status = log.last_status.unwrap();
        assert!(status.execs > 0 && status.cov > 0, "{status:?}");
        let (ooms, timeouts, crashes) = log.fork_counts.unwrap();
        assert!(ooms > 0 && timeouts > 0 && crashes > 0, "{:?}", log.fork_counts);
    }

    #[test]
    fn artifact_names_give_kinds() {
        assert_eq!(FindingKind::from_artifact_name("crash-00ff"), Some(FindingKind::Crash));
        assert_eq!(FindingKind::from_artifact_name("timeout-00ff"), Some(FindingKind::Hang));
        assert_eq!(FindingKind::from_artifact_name("oom-00ff"), Some(FindingKind::Oom));
        assert_eq!(FindingKind::from_artifact_name("slow-unit-00ff"), Some(FindingKind::Slow));
        assert_eq!(FindingKind::from_artifact_name("README"), None);
    }
}
