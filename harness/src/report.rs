//! What one input of a layer did, for printing and for corpus statistics.

use contract::Outcome;

/// The result of running one input through a layer.
#[derive(Clone, Debug)]
pub struct Report {
    /// How far the input got in the embedder and how it ended.
    pub outcome: Outcome,
    /// Labels a layer attaches for statistics, such as `defect:type-error`
    /// or `call:host.log`; `harness stats` counts them.
    pub labels: Vec<String>,
    /// The module the layer built, when it built one from the input.
    pub module: Option<Vec<u8>>,
}

impl Report {
    /// A report with no labels.
    pub fn new(outcome: Outcome) -> Report {
        Report { outcome, labels: Vec::new(), module: None }
    }

    /// One line for people: stage reached and how it ended.
    pub fn summary(&self) -> String {
        format!("{:<12} {}", self.outcome.stage.name(), self.outcome.end)
    }
}
