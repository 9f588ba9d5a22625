//! Corpus statistics: how far a layer's inputs get and how they end.

use std::collections::BTreeMap;

use contract::Stage;

use harness::replay::Verdict;

/// Counts over the inputs of one corpus.
#[derive(Debug, Default)]
pub struct CorpusStats {
    /// Inputs replayed.
    pub inputs: usize,
    /// Inputs that crashed or hung (findings).
    pub findings: usize,
    /// Inputs by the furthest stage they reached.
    pub stages: BTreeMap<Stage, usize>,
    /// Inputs by how they ended (`ok`, `trap`, `out-of-fuel`, ...).
    pub ends: BTreeMap<String, usize>,
    /// Inputs carrying each label (`defect:...`, `call:...`), counted once per input.
    pub labels: BTreeMap<String, usize>,
}

impl CorpusStats {
    /// Adds one replayed input.
    pub fn add(&mut self, verdict: &Verdict) {
        self.inputs += 1;
        let Verdict::Ran(report) = verdict else {
            self.findings += 1;
            return;
        };
        *self.stages.entry(report.outcome.stage).or_default() += 1;
        *self.ends.entry(report.outcome.end.class().to_owned()).or_default() += 1;
        let mut labels: Vec<&String> = report.labels.iter().collect();
        labels.sort_unstable();
        labels.dedup();
        for label in labels {
            *self.labels.entry(label.clone()).or_default() += 1;
        }
    }

    /// The share of inputs, in percent, whose furthest stage is `at_least` or later.
    pub fn share_reaching(&self, at_least: Stage) -> f64 {
        let reaching: usize = self.stages.range(at_least..).map(|(_, count)| count).sum();
        percent(reaching, self.inputs)
    }

    /// The distinct labels with a given prefix (such as `defect:`).
    pub fn labels_with_prefix(&self, prefix: &str) -> usize {
        self.labels.keys().filter(|label| label.starts_with(prefix)).count()
    }

    /// The tables `harness stats` prints.
    pub fn render(&self) -> String {
        let mut text = format!("{} inputs, {} findings\n\nstage reached      inputs   share\n", self.inputs, self.findings);
        for stage in Stage::ALL {
            let count = self.stages.get(&stage).copied().unwrap_or(0);
            text += &format!("{:<16} {:>8} {:>6.1}%\n", stage.name(), count, percent(count, self.inputs));
        }
        text += "\nend              inputs   share\n";
        for (end, count) in &self.ends {
            text += &format!("{end:<16} {count:>8} {:>6.1}%\n", percent(*count, self.inputs));
        }
        let mut prefixes: Vec<&str> = self.labels.keys().filter_map(|label| label.split_once(':').map(|(prefix, _)| prefix)).collect();
        prefixes.dedup();
        for prefix in prefixes {
            let distinct = self.labels_with_prefix(&format!("{prefix}:"));
            text += &format!("\n{prefix} ({distinct} distinct)        inputs   share\n");
            for (label, count) in self.labels.iter().filter(|(label, _)| label.starts_with(&format!("{prefix}:"))) {
                let name = &label[prefix.len() + 1..];
                text += &format!("{name:<28} {count:>8} {:>6.1}%\n", percent(*count, self.inputs));
            }
        }
        text
    }
}

fn percent(count: usize, total: usize) -> f64 {
    if total == 0 { 0.0 } else { count as f64 * 100.0 / total as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use contract::{End, Outcome, Rejection};
    use harness::report::Report;

    fn ran(stage: Stage, labels: &[&str]) -> Verdict {
        let mut outcome = Outcome::rejected(Rejection { stage, reason: String::new() });
        if stage >= Stage::Execute {
            outcome.end = End::Ok;
        }
        let mut report = Report::new(outcome);
        report.labels = labels.iter().map(|label| (*label).to_owned()).collect();
        Verdict::Ran(Box::new(report))
    }

    #[test]
    fn counts_stages_ends_and_labels_once_per_input() {
        let mut stats = CorpusStats::default();
        stats.add(&ran(Stage::Parse, &[]));
        stats.add(&ran(Stage::Validate, &["defect:type-error", "defect:type-error"]));
        stats.add(&ran(Stage::HostCall, &["call:host.log", "defect:bad-leb"]));
        stats.add(&Verdict::Hung(std::time::Duration::from_secs(1)));
        assert_eq!((stats.inputs, stats.findings), (4, 1));
        assert_eq!(stats.labels["defect:type-error"], 1);
        assert_eq!(stats.labels_with_prefix("defect:"), 2);
        assert_eq!(stats.ends["rejected"], 2);
        assert_eq!(stats.share_reaching(Stage::Validate), 50.0);
        assert_eq!(stats.share_reaching(Stage::Execute), 25.0);
        let table = stats.render();
        assert!(table.contains("validate                1   25.0%"), "{table}");
        assert!(table.contains("defect (2 distinct)"), "{table}");
        assert!(table.contains("host.log"), "{table}");
    }
}
