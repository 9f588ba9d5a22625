//! `REPORT.md`: the campaign report for people, written from `summary.json`.

use std::fmt::Write;

use super::summary::Summary;

/// Renders the report; `previous` is the campaign before it in the same folder, if any.
pub fn report(summary: &Summary, previous: Option<(&str, &Summary)>) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "# Fuzzing campaign report\n");
    let _ = writeln!(
        text,
        "Started {} with a budget of {} over {} target(s), {} worker(s) each{}.\n",
        summary.started,
        super::display(std::time::Duration::from_secs(summary.budget_secs)),
        summary.targets.len(),
        summary.jobs,
        if summary.profile.is_empty() { String::new() } else { format!(", profile {}", summary.profile) }
    );
    let _ = writeln!(text, "## Targets\n");
    let _ = writeln!(text, "| target | time | execs | exec/s | cov | ft | corpus before → fuzzed → minimized | peak RSS | findings (raw) |");
    let _ = writeln!(text, "|---|---:|---:|---:|---:|---:|---|---:|---|");
    for (name, target) in &summary.targets {
        let findings: Vec<String> = target.findings_by_kind.iter().map(|(kind, count)| format!("{count} {kind}")).collect();
        let findings = if findings.is_empty() { "none".to_owned() } else { findings.join(", ") };
        let _ = writeln!(
            text,
            "| `{name}` | {:.0}s | {} | {:.0} | {} | {} | {} → {} → {} | {} MB | {findings} |",
            target.fuzz_secs,
            target.execs,
            target.exec_per_sec,
            target.cov,
            target.ft,
            target.corpus_before,
            target.corpus_fuzzed,
            target.corpus_after,
            target.peak_rss_mb
        );
    }
    let benched: Vec<_> = summary.targets.iter().filter_map(|(name, target)| Some((name, target.bench.as_ref()?, target.exec_per_sec))).collect();
    if !benched.is_empty() {
        let _ = writeln!(
            text,
            "\nThe same build benched in-process on each final corpus (`harness bench`: no libFuzzer; the bare work is what the layer cannot avoid):\n"
        );
        let _ = writeln!(text, "| target | campaign exec/s | bench exec/s | bare exec/s | costliest phase |");
        let _ = writeln!(text, "|---|---:|---:|---:|---|");
        for (name, bench, campaign) in benched {
            let _ = writeln!(
                text,
                "| `{name}` | {campaign:.0} | {:.0} | {:.0} | {} |",
                bench.exec_per_sec, bench.bare_exec_per_sec, bench.costliest_phase
            );
        }
    }
    for (name, target) in summary.targets.iter().filter(|(_, target)| target.set_aside > 0) {
        let _ = writeln!(
            text,
            "\n**{name}:** {} seed or corpus input(s) were findings themselves: set aside (triaged below), fuzzing went on.",
            target.set_aside
        );
    }
    for (name, target) in summary.targets.iter().filter(|(_, target)| target.stopped_early.is_some()) {
        let _ = writeln!(text, "\n**{name} stopped early:** {}", target.stopped_early.as_deref().unwrap_or_default());
    }
    let _ = writeln!(text, "\n## Findings\n");
    if summary.findings.is_empty() {
        let _ = writeln!(text, "No crash, hang or out-of-memory was found.");
    } else {
        let _ = writeln!(text, "| kind | target | where | message | size before → after (form) | reproduced | reproduce |");
        let _ = writeln!(text, "|---|---|---|---|---|---|---|");
        for finding in &summary.findings {
            let _ = writeln!(
                text,
                "| {} | `{}` | `{}` | {} | {} | {} | `{}` |",
                finding.signature.kind.name(),
                finding.target,
                finding.signature.location,
                finding.message.replace('|', "\\|"),
                finding.sizes(),
                finding.reproducibility(),
                finding.reproduce
            );
        }
    }
    let slow: usize = summary.slow_units.values().sum();
    if slow > 0 {
        let _ = writeln!(text, "\nSlow units (warnings, not findings): {slow}.");
    }
    let _ = writeln!(text, "\n## Where the corpus inputs end\n");
    for (name, target) in &summary.targets {
        let total: usize = target.stages.values().sum();
        let _ =
            writeln!(text, "**{name}** ({total} inputs): stages {}; outcomes {}\n", shares(&target.stages, total), shares(&target.outcomes, total));
    }
    if let Some(coverage) = &summary.coverage {
        coverage_table(&mut text, coverage);
    }
    let _ = writeln!(text, "## Since the previous campaign\n");
    match previous {
        None => {
            let _ = writeln!(text, "No earlier campaign in this folder.");
        }
        Some((name, before)) => changes(&mut text, name, before, summary),
    }
    text
}

fn coverage_table(text: &mut String, coverage: &crate::coverage::summary::CampaignCoverage) {
    let _ =
        writeln!(text, "## Coverage of the fuzzed embedder\n\nIts own sources, from this campaign's corpora ([HTML report]({})).\n", coverage.html);
    let _ = writeln!(text, "| corpus | lines | regions | functions |\n|---|---:|---:|---:|");
    let cell = |counts: crate::coverage::summary::Counts| format!("{:.1}% ({}/{})", counts.percent(), counts.covered, counts.count);
    for (name, figures) in &coverage.embedder {
        let _ = writeln!(text, "| {name} | {} | {} | {} |", cell(figures.lines), cell(figures.regions), cell(figures.functions));
    }
    let _ = writeln!(text, "\nAll files reported (the embedder's and the repository's), combined: {} of lines.\n", cell(coverage.all_files.lines));
}

fn shares(counts: &std::collections::BTreeMap<String, usize>, total: usize) -> String {
    let parts: Vec<String> =
        counts.iter().map(|(key, count)| format!("{key} {:.1}%", if total == 0 { 0.0 } else { *count as f64 * 100.0 / total as f64 })).collect();
    if parts.is_empty() { "none".to_owned() } else { parts.join(", ") }
}

fn changes(text: &mut String, name: &str, before: &Summary, now: &Summary) {
    let _ = writeln!(text, "Compared with `{name}`:\n");
    let _ = writeln!(text, "| target | cov | ft | corpus | exec/s |");
    let _ = writeln!(text, "|---|---|---|---|---|");
    for (target, current) in &now.targets {
        match before.targets.get(target) {
            Some(old) => {
                let _ = writeln!(
                    text,
                    "| `{target}` | {} → {} | {} → {} | {} → {} | {:.0} → {:.0} |",
                    old.cov, current.cov, old.ft, current.ft, old.corpus_after, current.corpus_after, old.exec_per_sec, current.exec_per_sec
                );
            }
            None => {
                let _ = writeln!(text, "| `{target}` | new target | | | |");
            }
        }
    }
    let ids = |summary: &Summary| -> std::collections::BTreeSet<String> {
        summary.findings.iter().map(|finding| format!("{} {}", finding.target, finding.signature.text())).collect()
    };
    let (old_ids, new_ids) = (ids(before), ids(now));
    let appeared: Vec<&String> = new_ids.difference(&old_ids).collect();
    let gone: Vec<&String> = old_ids.difference(&new_ids).collect();
    let list = |items: &[&String]| {
        if items.is_empty() { "none".to_owned() } else { items.iter().map(|item| format!("`{item}`")).collect::<Vec<_>>().join(", ") }
    };
    let _ = writeln!(text, "\nNew findings: {}. No longer found: {}.", list(&appeared), list(&gone));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::summary::{BenchFigures, TargetSummary};
    use crate::coverage::summary::{CampaignCoverage, Counts, Figures};

    #[test]
    fn a_campaign_with_coverage_reports_the_loader_per_target_and_combined() {
        let lines = |covered| Figures { lines: Counts { covered, count: 200 }, ..Figures::default() };
        let embedder = [("combined".to_owned(), lines(184)), ("raw_bytes".to_owned(), lines(150))].into_iter().collect();
        let coverage = CampaignCoverage { embedder, all_files: lines(100), html: "coverage/combined/html/index.html".to_owned() };
        let summary = Summary { coverage: Some(coverage), ..Summary::default() };
        let text = report(&summary, None);
        assert!(text.contains("## Coverage of the fuzzed embedder"), "{text}");
        assert!(text.contains("| combined | 92.0% (184/200) |"), "{text}");
        assert!(text.contains("| raw_bytes | 75.0% (150/200) |"), "{text}");
        assert!(text.contains("(coverage/combined/html/index.html)"), "{text}");
        assert!(!report(&Summary::default(), None).contains("Coverage"), "no section without --coverage");
    }

    #[test]
    fn a_benched_target_shows_the_bench_beside_the_campaign_exec_per_second() {
        let bench = BenchFigures { execs: 900, exec_per_sec: 1500.4, bare_exec_per_sec: 2100.0, costliest_phase: "load".to_owned() };
        let target = TargetSummary { exec_per_sec: 410.0, bench: Some(bench), ..TargetSummary::default() };
        let summary = Summary { targets: [("extism_raw_bytes".to_owned(), target)].into_iter().collect(), ..Summary::default() };
        let text = report(&summary, None);
        assert!(text.contains("| `extism_raw_bytes` | 410 | 1500 | 2100 | load |"), "{text}");
        let unbenched = Summary { targets: [("raw_bytes".to_owned(), TargetSummary::default())].into_iter().collect(), ..Summary::default() };
        assert!(!report(&unbenched, None).contains("bench exec/s"), "no bench table without a bench");
    }
}
