//! What `harness repro --json` prints for each input and triage reads back.

use std::path::Path;

use harness::replay::Verdict;
use serde::{Deserialize, Serialize};

/// What `harness repro --json` prints for one input: how its replay ended,
/// for triage to read (never the text printed for people).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The replayed file.
    pub file: String,
    /// `ran`, `crash`, `hang` or `oom`.
    pub verdict: String,
    /// The panic message (its first line) or what ended the input.
    pub message: String,
    /// `file:line:column` of a panic, if known.
    pub location: Option<String>,
    /// The stage the input reached, if it ran.
    pub stage: Option<String>,
    /// How it ended, if it ran.
    pub end: Option<String>,
}

impl Record {
    /// The record of how replaying `file` ended.
    pub fn of(verdict: &Verdict, file: &Path) -> Record {
        let (verdict, message, location, stage, end) = match verdict {
            Verdict::Ran(report) => {
                ("ran", report.summary(), None, Some(report.outcome.stage.name().to_owned()), Some(report.outcome.end.to_string()))
            }
            Verdict::Crashed { message, location } => ("crash", message.lines().next().unwrap_or_default().to_owned(), location.clone(), None, None),
            Verdict::Hung(limit) => ("hang", format!("still running after {}s", limit.as_secs_f64()), None, None, None),
            Verdict::OutOfMemory(limit) => ("oom", format!("resident memory past {limit} MB"), None, None, None),
        };
        Record { file: file.display().to_string(), verdict: verdict.to_owned(), message, location, stage, end }
    }
}
